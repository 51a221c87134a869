import { IssueCollector, PropIssue } from "../lib/core/errors";
import { Duration } from "../lib/core/duration";
import { LITERAL_REQUIRED, TOKEN_VALUE } from "../lib/core/validate";
import {
  Balancing,
  ClientAffinity,
  FrontProtocol,
  HealthCheckProtocol,
  TargetGroupProps,
} from "../lib/front/options";
import {
  checkFrontRunsCluster,
  FRONT_NAME,
  FrontPlan,
  isWhole,
  planFront,
  planListenerProps,
  planTargetGroup,
  TargetGroupPlan,
} from "../lib/front/plan";
import { FrontMember, FrontTargets, IFrontTarget } from "../lib/front/target";
import { errorOf } from "./support/config-error";

/*
 * The front model without a stack: listeners (names, ports, protocols),
 * target groups (members in order, standby last, health checks with their
 * limits) and the cross-checks of a whole front (drain, unique ids). Each bad
 * value gives one issue naming the prop, showing the value, saying what is allowed.
 */

const WHERE = 'listener "web" of NlbFront "s/front"';

function issueOf(fn: () => unknown): PropIssue {
  const { issues } = errorOf(fn);
  expect(issues.map((i) => i.prop)).toHaveLength(1);
  return issues[0];
}

const members = (...list: FrontMember[]): IFrontTarget => ({ frontMembers: () => list });
const host = (name: string, n: number, standby = false) =>
  FrontTargets.host(name, `10.0.0.${n}`, { standby });

function group(props: Partial<TargetGroupProps> = {}, protocol = FrontProtocol.TCP) {
  return planTargetGroup(
    "web",
    protocol,
    { targets: [host("a", 1)], port: 8080, ...props } as TargetGroupProps,
    WHERE,
  );
}

describe("front names", () => {
  it("are 1-24 of a-z 0-9 -, starting with a letter, not ending with '-'", () => {
    for (const ok of ["a", "web-1", `a${"b".repeat(23)}`]) expect(FRONT_NAME.test(ok)).toBe(true);
    for (const bad of ["", "1a", "a-", "A", "a_b", `a${"b".repeat(24)}`]) {
      expect(FRONT_NAME.test(bad)).toBe(false);
    }
  });

  it("isWhole takes whole numbers within both bounds", () => {
    expect([1, 5, 10].map((v) => isWhole(v, 1, 10))).toEqual([true, true, true]);
    expect([0, 11, 1.5, "3", NaN].map((v) => isWhole(v, 1, 10))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe("planListenerProps", () => {
  const plan = (id: string, props: unknown, existing: { name: string; port: number }[] = []) =>
    planListenerProps(id, props as never, existing, "s/front");

  it("resolves a TCP listener by default and keeps name and port", () => {
    expect(plan("web", { port: 80 })).toEqual({
      name: "web",
      port: 80,
      protocol: FrontProtocol.TCP,
    });
    expect(plan("api", { port: 65535, protocol: FrontProtocol.HTTP })).toEqual({
      name: "api",
      port: 65535,
      protocol: FrontProtocol.HTTP,
    });
    expect(plan("one", { port: 1 }).port).toBe(1);
  });

  it("names the listener and front in the error", () => {
    expect(errorOf(() => plan("web", { port: 0 })).subject).toBe(WHERE);
  });

  it("rejects bad ids, ports and protocols", () => {
    expect(issueOf(() => plan("Web", { port: 80 }))).toMatchObject({ prop: "id", value: "Web" });
    for (const bad of [0, 65536, 80.5, "80"]) {
      expect(issueOf(() => plan("web", { port: bad }))).toEqual({
        prop: "port",
        value: bad,
        allowed: "a port 1-65535",
      });
    }
    expect(issueOf(() => plan("web", { port: 80, protocol: "udp" }))).toEqual({
      prop: "protocol",
      value: "udp",
      allowed: "tcp | http",
    });
  });

  it("takes each listener name and port once per front", () => {
    const existing = [{ name: "web", port: 80 }];
    expect(issueOf(() => plan("web", { port: 81 }, existing))).toEqual({
      prop: "id",
      value: "web",
      allowed: "a name not used by another listener",
    });
    expect(issueOf(() => plan("api", { port: 80 }, existing))).toEqual({
      prop: "port",
      value: 80,
      allowed: 'a port not used by listener "web"',
    });
    expect(plan("api", { port: 81 }, existing).port).toBe(81);
  });

  it("rejects props that are no object, and tokens", () => {
    expect(issueOf(() => plan("web", undefined))).toMatchObject({ prop: "props" });
    expect(issueOf(() => plan("web", "80"))).toMatchObject({ prop: "props", value: "80" });
    const isToken = (v: unknown) => v === 1e9;
    expect(issueOf(() => planListenerProps("web", { port: 1e9 }, [], "s/front", isToken))).toEqual({
      prop: "port",
      value: TOKEN_VALUE,
      allowed: LITERAL_REQUIRED,
    });
  });
});

describe("planTargetGroup members", () => {
  it("orders active members first, then standby ones, each as given", () => {
    const g = group({
      targets: [
        members(
          { name: "s1", address: "10.0.0.1", standby: true },
          { name: "a1", address: "10.0.0.2", standby: false },
        ),
        host("s2", 3, true),
        host("a2", 4),
      ],
    });
    expect(g.members.map((m) => m.name)).toEqual(["a1", "a2", "s1", "s2"]);
    expect(g.members.map((m) => m.draining)).toEqual([false, false, false, false]);
    expect(g.members[0]).toMatchObject({ address: "10.0.0.2", standby: false });
    expect(g.activeCount).toBe(2);
  });

  it("keeps the group's name, port and defaults", () => {
    const g = group();
    expect(g).toMatchObject({
      name: "web",
      port: 8080,
      balancing: Balancing.ROUND_ROBIN,
      affinity: ClientAffinity.NONE,
    });
    expect("retryTimeout" in g).toBe(false);
    expect(
      group({ balancing: Balancing.LEAST_CONNECTIONS, affinity: ClientAffinity.SINGLE }),
    ).toMatchObject({ balancing: Balancing.LEAST_CONNECTIONS, affinity: ClientAffinity.SINGLE });
  });

  it("needs targets, each a target, and one active member", () => {
    for (const bad of [undefined, [], "a"]) {
      const i = issueOf(() => group({ targets: bad as never }));
      expect(i).toMatchObject({ prop: "targets", value: bad });
      expect(i.allowed).toMatch(/^one or more targets/);
    }
    expect(issueOf(() => group({ targets: [host("a", 1), {} as IFrontTarget] }))).toMatchObject({
      prop: "targets[1]",
      allowed: "a CoreOsCluster or FrontTargets.host(...)",
    });
    expect(issueOf(() => group({ targets: [host("a", 1, true), host("b", 2, true)] }))).toEqual({
      prop: "targets",
      value: "a,b",
      allowed: "at least one active (not standby) member",
    });
  });

  it("checks each member's name, uniqueness, address and standby flag", () => {
    const one = (m: Partial<FrontMember>) =>
      issueOf(() =>
        group({
          targets: [
            host("a", 1),
            members({ name: "b", address: "10.0.0.2", standby: false, ...m }),
          ],
        }),
      );
    expect(one({ name: "B" })).toMatchObject({ prop: "targets[1]", value: "B" });
    expect(one({ name: `b${"c".repeat(63)}` }).allowed).toMatch(/^member names of 1-63/);
    expect(one({ name: "a" })).toEqual({
      prop: "targets[1]",
      value: "a",
      allowed: "each member once: this name is already a member",
    });
    const addr = one({ address: "10.0.0.02" });
    expect(addr).toMatchObject({ prop: "targets[1]", value: "10.0.0.02" });
    expect(addr.allowed).toMatch(/ for member b$/);
    expect(one({ standby: "no" as never })).toEqual({
      prop: "targets[1]",
      value: "no",
      allowed: "standby: true | false for member b",
    });
    const longest = `b${"c".repeat(62)}`;
    expect(
      group({ targets: [members({ name: longest, address: "10.0.0.9", standby: false })] })
        .members[0].name,
    ).toBe(longest);
  });

  it("rejects bad ids, ports, balancing and affinity, naming the group", () => {
    const e = errorOf(() =>
      planTargetGroup("Web", FrontProtocol.TCP, { targets: [host("a", 1)], port: 0 }, WHERE),
    );
    expect(e.subject).toBe(`target group "Web" of ${WHERE}`);
    expect(e.issues.map((i) => i.prop)).toEqual(["id", "port", "healthCheck.port"]);
    expect(errorOf(() => group({ port: 65536 })).issues[0]).toEqual({
      prop: "port",
      value: 65536,
      allowed: "a port 1-65535",
    });
    expect(group({ port: 65535 }).port).toBe(65535);
    expect(group({ port: 1 }).port).toBe(1);
    expect(issueOf(() => group({ balancing: "random" as never }))).toEqual({
      prop: "balancing",
      value: "random",
      allowed: "round_robin | least_connections",
    });
    expect(issueOf(() => group({ affinity: "sticky" as never }))).toEqual({
      prop: "affinity",
      value: "sticky",
      allowed: "none | single | network",
    });
  });

  it("lets targets hold tokens-free objects only, but never looks into targets for tokens", () => {
    const isToken = (v: unknown) => v === 1e9;
    expect(
      issueOf(() =>
        planTargetGroup(
          "web",
          FrontProtocol.TCP,
          { targets: [host("a", 1)], port: 1e9 },
          WHERE,
          isToken,
        ),
      ),
    ).toEqual({ prop: "port", value: TOKEN_VALUE, allowed: LITERAL_REQUIRED });
    const odd = {
      frontMembers: () => [{ name: "a", address: "10.0.0.1", standby: false }],
      n: 1e9,
    };
    expect(() =>
      planTargetGroup("web", FrontProtocol.TCP, { targets: [odd], port: 80 }, WHERE, isToken),
    ).not.toThrow();
    expect(issueOf(() => planTargetGroup("web", FrontProtocol.TCP, [] as never, WHERE)).prop).toBe(
      "props",
    );
  });
});

describe("planTargetGroup retry timeout", () => {
  it("is for HTTP listeners only, from 100 ms to 10 minutes", () => {
    expect(group({ retryTimeout: Duration.seconds(2) }, FrontProtocol.HTTP).retryTimeout).toEqual(
      Duration.seconds(2),
    );
    for (const ok of [Duration.millis(100), Duration.minutes(10)]) {
      expect(group({ retryTimeout: ok }, FrontProtocol.HTTP).retryTimeout).toBe(ok);
    }
    expect(issueOf(() => group({ retryTimeout: Duration.seconds(2) }))).toEqual({
      prop: "retryTimeout",
      value: "2s",
      allowed: "left out on TCP listeners (HTTP requests only)",
    });
    expect(issueOf(() => group({ retryTimeout: 2000 as never })).value).toBe(2000);
    for (const bad of [Duration.millis(99), Duration.millis(600_001)]) {
      expect(issueOf(() => group({ retryTimeout: bad }, FrontProtocol.HTTP))).toEqual({
        prop: "retryTimeout",
        value: bad.toString(),
        allowed: "a Duration of whole milliseconds from 100 ms to 10 minutes",
      });
    }
    expect(issueOf(() => group({ retryTimeout: 5 as never }, FrontProtocol.HTTP)).value).toBe(5);
  });
});

describe("health checks", () => {
  const check = (healthCheck: unknown, protocol = FrontProtocol.TCP) =>
    group({ healthCheck: healthCheck as never }, protocol).healthCheck;
  const checkIssue = (healthCheck: unknown, protocol = FrontProtocol.TCP) =>
    issueOf(() => group({ healthCheck: healthCheck as never }, protocol));

  it("probes TCP on the target port behind a TCP listener, HTTP / behind an HTTP one", () => {
    expect(check(undefined)).toEqual({
      protocol: HealthCheckProtocol.TCP,
      path: undefined,
      port: 8080,
      interval: undefined,
      timeout: undefined,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
    });
    expect(check(undefined, FrontProtocol.HTTP)).toMatchObject({
      protocol: HealthCheckProtocol.HTTP,
      path: "/",
    });
    expect(check({ protocol: HealthCheckProtocol.HTTP, path: "/healthz?full=1" })).toMatchObject({
      protocol: "http",
      path: "/healthz?full=1",
    });
    expect(check({ protocol: HealthCheckProtocol.TCP }, FrontProtocol.HTTP).path).toBeUndefined();
  });

  it("keeps a given port, timing and thresholds", () => {
    const interval = Duration.seconds(5);
    const timeout = Duration.seconds(5);
    expect(
      check({ port: 9000, interval, timeout, healthyThreshold: 10, unhealthyThreshold: 1 }),
    ).toMatchObject({ port: 9000, interval, timeout, healthyThreshold: 10, unhealthyThreshold: 1 });
  });

  it("rejects a health check that is no object, and an unknown protocol", () => {
    expect(checkIssue("tcp")).toMatchObject({ prop: "healthCheck", value: "tcp" });
    expect(checkIssue({ protocol: "udp" })).toEqual({
      prop: "healthCheck.protocol",
      value: "udp",
      allowed: "tcp | http",
    });
  });

  it("takes URL path characters only in an HTTP path, at most 1024 of them", () => {
    const http = (path: unknown) => ({ protocol: HealthCheckProtocol.HTTP, path });
    for (const ok of [
      "/",
      "/a-b._~!&()*+,;=:@/c",
      "/x%2Fy",
      "/h?a=1&b=/c?d",
      `/${"a".repeat(1023)}`,
    ]) {
      expect(check(http(ok)).path).toBe(ok);
    }
    for (const bad of [
      "healthz",
      "/a b",
      '/a"b',
      "/a#b",
      "/a$b",
      "/a\\b",
      "/%zz",
      "/%2",
      "/a?%g0",
      "/a\n",
      `/${"a".repeat(1024)}`,
      5,
    ]) {
      const i = checkIssue(http(bad));
      expect(i).toMatchObject({ prop: "healthCheck.path", value: bad });
      expect(i.allowed).toMatch(/^an absolute URL path of at most 1024 characters/);
    }
    expect(checkIssue({ path: "/health" })).toEqual({
      prop: "healthCheck.path",
      value: "/health",
      allowed: "no path with a TCP health check",
    });
  });

  it("takes ports 1-65535, durations from 100 ms to 300 s, thresholds 1-10", () => {
    for (const bad of [0, 65536, 1.5]) {
      expect(checkIssue({ port: bad })).toEqual({
        prop: "healthCheck.port",
        value: bad,
        allowed: "a port 1-65535",
      });
    }
    expect(check({ port: 1 }).port).toBe(1);
    expect(check({ port: 65535 }).port).toBe(65535);
    for (const key of ["interval", "timeout"]) {
      for (const ok of [Duration.millis(100), Duration.seconds(300)]) {
        const other = key === "interval" ? {} : { interval: Duration.seconds(300) };
        expect(check({ ...other, [key]: ok })[key as "interval"]).toBe(ok);
      }
      for (const bad of [Duration.millis(99), Duration.millis(300_001), Duration.millis(150.5)]) {
        expect(checkIssue({ [key]: bad })).toEqual({
          prop: `healthCheck.${key}`,
          value: bad.toString(),
          allowed: "a Duration of whole milliseconds from 100 ms to 300 s (HAProxy takes whole ms)",
        });
      }
      expect(checkIssue({ [key]: 500 })).toMatchObject({ prop: `healthCheck.${key}`, value: 500 });
    }
    for (const key of ["healthyThreshold", "unhealthyThreshold"]) {
      for (const bad of [0, 11, 2.5]) {
        expect(checkIssue({ [key]: bad })).toEqual({
          prop: `healthCheck.${key}`,
          value: bad,
          allowed: "a whole number 1-10",
        });
      }
    }
  });

  it("needs a timeout of at most the interval", () => {
    expect(checkIssue({ interval: Duration.seconds(1), timeout: Duration.millis(1001) })).toEqual({
      prop: "healthCheck.timeout",
      value: "1001ms",
      allowed: "at most the interval (1s)",
    });
    const same = check({ interval: Duration.seconds(1), timeout: Duration.seconds(1) });
    expect(same.timeout?.toMilliseconds()).toBe(1000);
    // An out-of-range value is reported once, not compared as well.
    expect(
      errorOf(() =>
        group({ healthCheck: { interval: Duration.millis(50), timeout: Duration.seconds(1) } }),
      ).issues.map((i) => i.prop),
    ).toEqual(["healthCheck.interval"]);
    expect(
      errorOf(() =>
        group({ healthCheck: { interval: Duration.seconds(1), timeout: Duration.seconds(400) } }),
      ).issues.map((i) => i.prop),
    ).toEqual(["healthCheck.timeout"]);
  });
});

describe("planFront", () => {
  const tg = (name: string, ...list: [string, boolean][]): TargetGroupPlan =>
    planTargetGroup(
      name,
      FrontProtocol.TCP,
      { targets: list.map(([n, standby], i) => host(n, i + 1, standby)), port: 8080 },
      WHERE,
    );
  const listener = (name: string, port: number, targetGroup?: TargetGroupPlan) => ({
    name,
    port,
    protocol: FrontProtocol.TCP,
    ...(targetGroup ? { targetGroup } : {}),
  });

  it("marks draining members in every listener and keeps the rest", () => {
    const p = planFront(
      "front",
      [
        listener("web", 80, tg("web", ["a", false], ["b", false])),
        listener("api", 81, tg("api", ["b", false], ["c", false])),
      ],
      ["b"],
      "s/front",
    );
    expect(p.name).toBe("front");
    expect(p.draining).toEqual(["b"]);
    expect(p.listeners.map((l) => [l.name, l.port, l.protocol, l.targetGroup.name])).toEqual([
      ["web", 80, "tcp", "web"],
      ["api", 81, "tcp", "api"],
    ]);
    expect(
      p.listeners.map((l) => l.targetGroup.members.map((m) => `${m.name}:${m.draining}`)),
    ).toEqual([
      ["a:false", "b:true"],
      ["b:true", "c:false"],
    ]);
  });

  it("needs a listener, and targets on each", () => {
    const none = errorOf(() => planFront("front", [], [], "s/front"));
    expect(none.subject).toBe('NlbFront "s/front"');
    expect(none.issues[0]).toEqual({
      prop: "listeners",
      value: "none",
      allowed: "at least one listener: front.addListener(id, { port })",
    });
    expect(issueOf(() => planFront("front", [listener("web", 80)], [], "s/front"))).toEqual({
      prop: "listeners.web",
      value: "no targets",
      allowed: "targets: listener.addTargets(id, { targets, port })",
    });
  });

  it("takes each target group id once per front", () => {
    expect(
      issueOf(() =>
        planFront(
          "front",
          [listener("web", 80, tg("g", ["a", false])), listener("api", 81, tg("g", ["a", false]))],
          [],
          "s/front",
        ),
      ),
    ).toEqual({
      prop: "targetGroups",
      value: "g",
      allowed: "a target group id used once per front",
    });
  });

  it("drains members of the front only", () => {
    expect(
      issueOf(() =>
        planFront(
          "front",
          [listener("web", 80, tg("web", ["a", false], ["b", false]))],
          ["x"],
          "s/front",
        ),
      ),
    ).toEqual({ prop: "drain", value: "x", allowed: "a member of the front: a, b" });
    expect(errorOf(() => planFront("front", [], ["x"], "s/front")).issues[1]).toEqual({
      prop: "drain",
      value: "x",
      allowed: "a member of the front: none",
    });
  });

  it("keeps one active member of each group out of the drain; standby ones do not count", () => {
    const i = issueOf(() =>
      planFront(
        "front",
        [listener("web", 80, tg("web", ["a", false], ["b", false], ["s", true]))],
        ["a", "b"],
        "s/front",
      ),
    );
    expect(i).toMatchObject({ prop: "drain", value: "a,b" });
    expect(i.allowed).toMatch(/^at least one active member of "web" not draining/);
    expect(() =>
      planFront(
        "front",
        [listener("web", 80, tg("web", ["a", false], ["b", false], ["s", true]))],
        ["a", "s"],
        "s/front",
      ),
    ).not.toThrow();
  });
});

describe("checkFrontRunsCluster", () => {
  const front = (...list: FrontMember[]): FrontPlan =>
    planFront(
      "front",
      [
        {
          name: "web",
          port: 80,
          protocol: FrontProtocol.TCP,
          targetGroup: group({ targets: [members(...list)] }),
        },
      ],
      [],
      "s/front",
    );

  it("reports each other cluster once per listener; hosts and own nodes pass", () => {
    const issues = new IssueCollector();
    checkFrontRunsCluster(
      issues,
      front(
        { name: "a", address: "10.0.0.1", standby: false, cluster: "s/core" },
        { name: "b", address: "10.0.0.2", standby: false, cluster: "s/other" },
        { name: "c", address: "10.0.0.3", standby: false, cluster: "s/other" },
        { name: "h", address: "10.0.0.4", standby: false },
      ),
      { path: "s/core" },
    );
    expect(issues.issues).toEqual([
      {
        prop: 'front (listener "web")',
        value: 'targets of CoreOsCluster "s/other"',
        allowed:
          'targets of the cluster this target runs (CoreOsCluster "s/core") or FrontTargets.host(...): it does not run "s/other"\'s nodes',
      },
    ]);
    const clean = new IssueCollector();
    checkFrontRunsCluster(
      clean,
      front({ name: "a", address: "10.0.0.1", standby: false, cluster: "s/core" }),
      { path: "s/core" },
    );
    expect(clean.issues).toEqual([]);
  });
});

describe("odd shapes are reported, never a TypeError", () => {
  it("a null target, a null member, props left out", () => {
    expect(issueOf(() => group({ targets: [host("a", 1), null as never] }))).toMatchObject({
      prop: "targets[1]",
      value: null,
    });
    expect(issueOf(() => group({ targets: [host("a", 1), members(null as never)] }))).toMatchObject(
      {
        prop: "targets[1]",
        value: undefined,
      },
    );
    expect(issueOf(() => planListenerProps("web", undefined as never, [], "s/front"))).toEqual({
      prop: "props",
      value: undefined,
      allowed: "an object of props",
    });
    expect(
      issueOf(() => planTargetGroup("web", FrontProtocol.TCP, null as never, WHERE)),
    ).toMatchObject({
      prop: "props",
      value: null,
      allowed: "an object of props (or leave the argument out)",
    });
  });
});

describe("input only a JavaScript caller can give", () => {
  it("an id that is no string, even one that reads as a name", () => {
    const id = ["web"] as never;
    expect(issueOf(() => planListenerProps(id, { port: 80 }, [], "s/front"))).toMatchObject({
      prop: "id",
      allowed:
        "1-24 of a-z 0-9 -, starting with a letter and not ending with '-' (AWS names may not)",
    });
    expect(
      issueOf(() =>
        planTargetGroup(id, FrontProtocol.TCP, { targets: [host("a", 1)], port: 80 }, WHERE),
      ).prop,
    ).toBe("id");
  });

  it("names the listener or group when the props are no object", () => {
    expect(errorOf(() => planListenerProps("web", 5 as never, [], "s/front")).subject).toBe(WHERE);
    expect(errorOf(() => planTargetGroup("tg", FrontProtocol.TCP, 5 as never, WHERE)).subject).toBe(
      `target group "tg" of ${WHERE}`,
    );
  });

  it("a member without a name, a health path that is no string", () => {
    expect(
      issueOf(() =>
        group({
          targets: [host("a", 1), members({ address: "10.0.0.2", standby: false } as never)],
        }),
      ),
    ).toMatchObject({ prop: "targets[1]", value: undefined });
    expect(
      issueOf(() =>
        group({ healthCheck: { protocol: HealthCheckProtocol.HTTP, path: ["/x"] as never } }),
      ),
    ).toMatchObject({ prop: "healthCheck.path" });
    expect(issueOf(() => group({ healthCheck: 5 as never }))).toEqual({
      prop: "healthCheck",
      value: 5,
      allowed: "a health check { protocol?, path?, port?, … }",
    });
  });

  it("only invalid targets: their issues, not also 'no active member'", () => {
    expect(issueOf(() => group({ targets: [{} as IFrontTarget] })).prop).toBe("targets[0]");
  });
});

describe("more of the model", () => {
  it("counts active members, not standby ones", () => {
    expect(group({ targets: [host("a", 1), host("b", 2), host("s", 3, true)] }).activeCount).toBe(
      2,
    );
  });

  it("reads health paths strictly: whole path, %XX escapes in the query too", () => {
    const http = (path: string) => ({ protocol: HealthCheckProtocol.HTTP, path });
    expect(group({ healthCheck: http("/h?a=%41&b=%7e") }).healthCheck.path).toBe("/h?a=%41&b=%7e");
    for (const bad of ["a/health", "/h?a=%2", "/h?a=%zz"]) {
      expect(issueOf(() => group({ healthCheck: http(bad) })).prop).toBe("healthCheck.path");
    }
  });

  it("reports listeners without targets once each", () => {
    const l = (name: string, port: number) => ({ name, port, protocol: FrontProtocol.TCP });
    expect(
      errorOf(() => planFront("front", [l("web", 80), l("api", 81)], ["x"], "s/front")).issues,
    ).toEqual([
      {
        prop: "listeners.web",
        value: "no targets",
        allowed: "targets: listener.addTargets(id, { targets, port })",
      },
      {
        prop: "listeners.api",
        value: "no targets",
        allowed: "targets: listener.addTargets(id, { targets, port })",
      },
      { prop: "drain", value: "x", allowed: "a member of the front: none" },
    ]);
  });
});
