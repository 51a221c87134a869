import { App, TerraformStack, TerraformVariable } from "cdktf";
import { NlbFront } from "../lib/front/front";
import { FrontProtocol } from "../lib/front/options";
import { FrontTargets } from "../lib/front/target";
import { errorOf } from "./support/config-error";

/*
 * NlbFront as users compose it, without synthesizing: names, the order of
 * listeners, one target group per listener, drains, and the freeze once a
 * target has read the front. Each test builds its own small app.
 */

function stack(): TerraformStack {
  return new TerraformStack(new App({ skipValidation: true }), "s");
}

const a = FrontTargets.host("a", "10.0.0.1");
const b = FrontTargets.host("b", "10.0.0.2");

describe("NlbFront", () => {
  it("is named by its id, lowercased, unless a name is given", () => {
    const s = stack();
    expect(new NlbFront(s, "Web").frontName).toBe("web");
    expect(new NlbFront(s, "x", { name: "edge-1" }).frontName).toBe("edge-1");
  });

  it("rejects props that are no object, a bad name and a token name", () => {
    const s = stack();
    const props = errorOf(() => new NlbFront(s, "f1", "web" as never));
    expect(props.subject).toBe('NlbFront "s/f1"');
    expect(props.issues).toEqual([
      { prop: "props", value: "web", allowed: "an object of props (or leave the argument out)" },
    ]);
    expect(errorOf(() => new NlbFront(s, "f2", { name: "Web_1" })).issues[0]).toMatchObject({
      prop: "name",
      value: "Web_1",
    });
    expect(errorOf(() => new NlbFront(s, "f3", { name: 7 as never })).issues[0].prop).toBe("name");
    const v = new TerraformVariable(s, "n", { type: "string" });
    expect(errorOf(() => new NlbFront(s, "f4", { name: v.stringValue })).issues[0].prop).toBe(
      "name",
    );
  });

  it("plans listeners in the order added, each with its target group", () => {
    const front = new NlbFront(stack(), "front");
    const web = front.addListener("web", { port: 80, protocol: FrontProtocol.HTTP });
    web.addTargets("web-tg", { targets: [a, b], port: 8080 });
    front.addListener("db", { port: 5432 }).addTargets("db-tg", { targets: [b], port: 5432 });
    expect(front.listeners.map((l) => [l.listenerName, l.port, l.protocol])).toEqual([
      ["web", 80, "http"],
      ["db", 5432, "tcp"],
    ]);
    expect(web.targetGroup?.plan.members.map((m) => m.name)).toEqual(["a", "b"]);
    const plan = front.plan();
    expect(plan.name).toBe("front");
    expect(plan.listeners.map((l) => [l.name, l.targetGroup.name, l.targetGroup.port])).toEqual([
      ["web", "web-tg", 8080],
      ["db", "db-tg", 5432],
    ]);
    // Read once: the same plan again.
    expect(front.plan()).toBe(plan);
  });

  it("checks a listener against those already added", () => {
    const front = new NlbFront(stack(), "front");
    front.addListener("web", { port: 80 });
    expect(errorOf(() => front.addListener("api", { port: 80 })).issues[0]).toEqual({
      prop: "port",
      value: 80,
      allowed: 'a port not used by listener "web"',
    });
    const v = new TerraformVariable(front, "p", { type: "number" });
    expect(errorOf(() => front.addListener("tok", { port: v.numberValue })).issues[0].prop).toBe(
      "port",
    );
  });

  it("forwards a listener to one target group only", () => {
    const front = new NlbFront(stack(), "front");
    const web = front.addListener("web", { port: 80 });
    web.addTargets("one", { targets: [a], port: 80 });
    expect(() => web.addTargets("two", { targets: [b], port: 80 })).toThrow(
      'listener "web" of NlbFront "s/front" already has targets "one": a network load balancer listener forwards to one target group',
    );
    expect(
      errorOf(() =>
        front.addListener("db", { port: 5432 }).addTargets("Bad", { targets: [a], port: 1 }),
      ).subject,
    ).toBe('target group "Bad" of listener "db" of NlbFront "s/front"');
  });

  it("drains members by name, each once", () => {
    const front = new NlbFront(stack(), "front");
    front.addListener("web", { port: 80 }).addTargets("web", { targets: [a, b], port: 80 });
    front.drain({ name: "a" });
    front.drain({ name: "a" });
    expect(front.plan().draining).toEqual(["a"]);
    const other = new NlbFront(stack(), "front");
    expect(errorOf(() => other.drain("a" as never)).issues[0]).toEqual({
      prop: "drain",
      value: "a",
      allowed: "a node (cluster.nodeNamed(...)) or { name }",
    });
    expect(errorOf(() => other.drain(undefined as never)).issues[0].prop).toBe("drain");
  });

  it("refuses changes once a target has read it, naming the reader", () => {
    const front = new NlbFront(stack(), "front");
    const web = front.addListener("web", { port: 80 });
    web.addTargets("web", { targets: [a], port: 80 });
    front.plan('VagrantCluster "s/local"');
    const after = (what: string) =>
      `NlbFront "s/front": ${what}() after VagrantCluster "s/local" read the front. Add listeners, targets and drains before passing the front to a target.`;
    expect(() => front.addListener("api", { port: 81 })).toThrow(after("addListener"));
    expect(() => front.drain({ name: "a" })).toThrow(after("drain"));
    const api = new NlbFront(stack(), "f2");
    const l = api.addListener("api", { port: 81 });
    l.addTargets("api", { targets: [a], port: 81 });
    api.plan();
    expect(() => api.addListener("x", { port: 82 })).toThrow(
      "addListener() after a target read the front",
    );
  });
});
