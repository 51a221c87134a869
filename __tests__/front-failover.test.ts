import { testApp } from "./support/state";
import * as http from "node:http";
import { TerraformStack } from "cdktf";
import {
  ClientAffinity,
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  FrontPlan,
  FrontProtocol,
  NlbFront,
  TargetGroupProps,
} from "../lib";
import { drainSource, runtimeServers, setServerState } from "../lib/front/runtime";
import {
  FrontTestbed,
  get,
  httpLoad,
  LineClient,
  ServerStat,
  tcpLogEntries,
  waitFor,
} from "./support/front-harness";
import { describeWithTool } from "./support/tools";

/*
 * The generated haproxy.cfg run by real HAProxy in front of real (Node) backend
 * processes on loopback addresses. A "killed" node is SIGKILLed with requests
 * in flight. Proves the front's data-plane behaviour: failover, retries, drain,
 * standby and affinity. Timing figures are measured by `npm run bench:failover`,
 * not asserted here.
 */

const HTTP_PORT = 18080;
const TCP_PORT = 19090;

function plan(
  clusterProps: CoreOsClusterProps,
  group: Partial<TargetGroupProps> = {},
  drain: string[] = [],
): FrontPlan {
  const stack = new TerraformStack(testApp(), "test");
  const cluster = new CoreOsCluster(stack, "core", clusterProps);
  const front = new NlbFront(stack, "front");
  front
    .addListener("http", { port: 8000, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: HTTP_PORT, ...group });
  front
    .addListener("tcp", { port: 9000 })
    .addTargets("raw", { targets: [cluster], port: TCP_PORT });
  for (const d of drain) front.drain(cluster.nodeNamed(d));
  return front.plan("test");
}

const server = (s: ServerStat[], backend: string, name: string) =>
  s.find((x) => x.backend === backend && x.server === name) as ServerStat;

describeWithTool("haproxy", "haproxy", "the front with real HAProxy", () => {
  jest.setTimeout(60_000);
  let bed: FrontTestbed | undefined;
  afterEach(async () => {
    await bed?.stop();
    bed = undefined;
  });

  async function start(p: FrontPlan, net: number): Promise<FrontTestbed> {
    bed = new FrontTestbed(p, net, { http: HTTP_PORT, tcp: TCP_PORT });
    await bed.startNodes();
    await bed.startHaproxy();
    await bed.waitUntil((s) => s.filter((x) => x.status === "UP").length >= 3, 10000);
    return bed;
  }

  it("HTTP: a node killed under load costs zero failed requests and gets no more traffic", async () => {
    const b = await start(plan({ nodeCount: 3 }), 61);
    // 20 ms per request keeps requests in flight on every node when one dies.
    const load = httpLoad(b.frontAddress, 8000, 24, "/?delay=20");
    const nodes = ["core-01", "core-02", "core-03"];
    // Under way on every node before one dies (a condition, not a pause: the machine may be busy).
    await waitFor(() => nodes.every((n) => (load.progress().byNode[n] ?? 0) >= 20), 20000, "load");
    await b.kill("core-02");
    await b.waitUntil((s) => server(s, "be_web", "core-02").status === "DOWN", 10000);
    const atDetection = server(await b.stats(), "be_web", "core-02").selected;
    load.mark();
    const afterMark = (n: string) => load.progress().byNodeAfterMark[n] ?? 0;
    await waitFor(
      () => afterMark("core-01") > 50 && afterMark("core-03") > 50,
      20000,
      "load after",
    );
    const r = await load.stop();
    const after = server(await b.stats(), "be_web", "core-02").selected;

    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    expect(r.ok).toBeGreaterThan(500);
    expect(after).toBe(atDetection); // the balancer picked the dead node no more
    expect(r.byNodeAfterMark["core-02"]).toBeUndefined();
    expect(r.byNodeAfterMark["core-01"]).toBeGreaterThan(50);
    expect(r.byNodeAfterMark["core-03"]).toBeGreaterThan(50);
    // Requests that were on core-02 when it died were retried on another node, not lost.
    expect(server(await b.stats(), "be_web", "core-02").retries).toBeGreaterThan(0);
  });

  it("TCP: only the connections on the killed node fail; new connections all succeed once it is marked down", async () => {
    const b = await start(plan({ nodeCount: 3 }), 62);
    const clients = await Promise.all(
      Array.from({ length: 9 }, () => LineClient.connect(b.frontAddress, 9000)),
    );
    const owner = await Promise.all(clients.map((c, i) => c.ask(`hello ${i}`)));
    expect(new Set(owner)).toEqual(new Set(["core-01", "core-02", "core-03"]));

    // Short connections keep arriving while core-02 dies and is detected.
    // One at a time, so at most one of them is in flight on core-02 when it dies.
    let shortOk = 0;
    let shortOkAfterDetection = 0;
    let detected = false;
    const failed: { port?: number; error: string; afterDetection: boolean }[] = [];
    let running = true;
    const shortLoop = (async () => {
      while (running) {
        const afterDetection = detected;
        let c: LineClient | undefined;
        try {
          c = await LineClient.connect(b.frontAddress, 9000);
          await c.ask("short");
          c.close();
          shortOk++;
          if (detected) shortOkAfterDetection++;
        } catch (e) {
          failed.push({ port: c?.localPort, error: (e as Error).message, afterDetection });
        }
      }
    })();
    await waitFor(() => shortOk >= 10, 20000, "short connections before the kill");
    await b.kill("core-02");
    await b.waitUntil((s) => server(s, "be_raw", "core-02").status === "DOWN", 10000);
    detected = true;
    await waitFor(() => shortOkAfterDetection >= 20, 20000, "short connections after detection");
    running = false;
    await shortLoop;

    const outcome = await Promise.all(
      clients.map((c) =>
        c.ask("still there?").then(
          () => "ok",
          () => "failed",
        ),
      ),
    );
    clients.forEach((c) => c.close());
    const failedOwners = owner.filter((_, i) => outcome[i] === "failed");
    expect(failedOwners.length).toBeGreaterThan(0);
    expect(new Set(failedOwners)).toEqual(new Set(["core-02"]));
    expect(owner.filter((o) => o === "core-02").length).toBe(failedOwners.length);
    // Every short connection that failed, as HAProxy's log tells it: one established to
    // core-02 (in flight when it died, or accepted while it was dying), or HAProxy's (2.6)
    // exception: a connection whose first try hit core-02 after its death and that was
    // redispatched to another node stays counted on core-02, and is closed with core-02's
    // sessions when core-02 is marked down (HAProxy's DOWN message counts it among the
    // sessions it closes). Connections are opened one at a time, so at most one is open when
    // core-02 is marked down. None opened after the detection fails.
    expect(failed.filter((f) => f.afterDetection)).toEqual([]);
    const log = tcpLogEntries(b.log, "fe_tcp");
    const entries = failed.map((f) => ({
      ...f,
      log: f.port === undefined ? undefined : log.get(f.port),
    }));
    const onDeadNode = entries.filter((f) => f.log?.server === "core-02" && f.log.retries === "0");
    // Closed when core-02 was marked down: logged "D" after a redispatch, or not logged at all
    // (`option dontlognull`: nothing had passed yet). HAProxy counts them in its DOWN message.
    const closedAtMarkdown = entries.filter(
      (f) =>
        (f.port !== undefined && !f.log) ||
        (f.log !== undefined &&
          f.log.server !== "core-02" &&
          f.log.termination.startsWith("D") &&
          f.log.retries.startsWith("+")),
    );
    expect(entries.filter((f) => !onDeadNode.includes(f) && !closedAtMarkdown.includes(f))).toEqual(
      [],
    );
    const down = /Server be_raw\/core-02 is DOWN, .* (\d+) sessions active/.exec(b.log);
    expect(closedAtMarkdown.length).toBeLessThanOrEqual(Math.min(1, Number(down?.[1] ?? 0)));
    expect(shortOk).toBeGreaterThanOrEqual(30);
  });

  it("drain: an open request on the drained node finishes, new ones go elsewhere", async () => {
    // 3 s requests: above the default retryTimeout (1.5 s), which would retry them elsewhere.
    const slowGroup = { retryTimeout: Duration.seconds(10) };
    const b = await start(plan({ nodeCount: 3 }, slowGroup), 63);
    const agent = new http.Agent({ keepAlive: false });
    // Three slow requests: round robin puts one on each node.
    const ended = new Map<string, number>();
    const slow = [1, 2, 3].map(() =>
      get(agent, b.frontAddress, 8000, "/?delay=3000").then((node) => {
        ended.set(node, Date.now());
        return node;
      }),
    );
    await b.waitUntil(
      (s) => s.filter((x) => x.backend === "be_web" && x.sessions === 1).length === 3,
      10000,
    );
    await b.reload(plan({ nodeCount: 3 }, slowGroup, ["core-02"]));
    const reloaded = Date.now();
    const fresh: string[] = [];
    for (let i = 0; i < 30; i++) fresh.push(await get(agent, b.frontAddress, 8000));
    expect((await Promise.all(slow)).sort()).toEqual(["core-01", "core-02", "core-03"]);
    // The drained node's request was still open when the new worker took over, and finished there.
    expect(ended.get("core-02")).toBeGreaterThan(reloaded);
    expect(fresh).not.toContain("core-02");
    expect(new Set(fresh)).toEqual(new Set(["core-01", "core-03"]));
    expect(server(await b.stats(), "be_web", "core-02").status).toBe("MAINT");
    agent.destroy();
  });

  it("runtime drain (the CLI's): survives reloads and adds up with the code's drain; ready undoes only itself", async () => {
    const b = await start(plan({ nodeCount: 3 }), 66);
    const web = async (name: string) => {
      const all = runtimeServers(
        await b.command("show stat"),
        await b.command("show servers state"),
      );
      return all.find((x) => x.backend === "be_web" && x.server === name) as (typeof all)[number];
    };
    expect(await b.command(setServerState("be_web", "core-01", "drain"))).toBe("\n");
    // A deploy that drains core-02 in the code reloads HAProxy: core-01 stays drained.
    await b.reload(plan({ nodeCount: 3 }, {}, ["core-02"]));
    expect([(await web("core-01")).status, drainSource(await web("core-01"))]).toEqual([
      "DRAIN",
      "runtime",
    ]);
    expect([(await web("core-02")).status, drainSource(await web("core-02"))]).toEqual([
      "MAINT",
      "code",
    ]);
    const agent = new http.Agent({ keepAlive: false });
    const answers = new Set<string>();
    for (let i = 0; i < 20; i++) answers.add(await get(agent, b.frontAddress, 8000));
    expect(answers).toEqual(new Set(["core-03"]));
    // The code's drain removed and deployed: core-02 is back, the runtime drain of core-01 stays.
    await b.reload(plan({ nodeCount: 3 }));
    await b.waitUntil((s) => server(s, "be_web", "core-02").status === "UP", 10000);
    expect(drainSource(await web("core-01"))).toBe("runtime");
    // The CLI's resume: core-01 takes traffic again.
    await b.command(setServerState("be_web", "core-01", "ready"));
    expect([(await web("core-01")).status, drainSource(await web("core-01"))]).toEqual([
      "UP",
      undefined,
    ]);
    const after = new Set<string>();
    for (let i = 0; i < 20; i++) after.add(await get(agent, b.frontAddress, 8000));
    expect(after).toEqual(new Set(["core-01", "core-02", "core-03"]));
    agent.destroy();
  });

  it("standby (N+I): the standby node gets traffic only while an active node is down", async () => {
    const b = await start(plan({ nodeCount: 4, standby: 1 }), 64);
    await b.waitUntil((s) => server(s, "be_web_standby", "core-04").status === "UP", 10000);
    const agent = new http.Agent({ keepAlive: false });
    const before: string[] = [];
    for (let i = 0; i < 30; i++) before.push(await get(agent, b.frontAddress, 8000));
    expect(new Set(before)).toEqual(new Set(["core-01", "core-02", "core-03"]));

    await b.kill("core-02");
    await b.waitUntil((s) => server(s, "be_web", "core-02").status === "DOWN", 10000);
    const during: string[] = [];
    for (let i = 0; i < 30; i++) during.push(await get(agent, b.frontAddress, 8000));
    expect(new Set(during)).toEqual(new Set(["core-01", "core-03", "core-04"]));
    agent.destroy();
  });

  it("affinity SINGLE: one client address stays on one node", async () => {
    const b = await start(plan({ nodeCount: 3 }, { affinity: ClientAffinity.SINGLE }), 65);
    for (const client of [201, 202, 203].map((h) => b.address(h))) {
      const agent = new http.Agent({ keepAlive: false });
      const seen = new Set<string>();
      for (let i = 0; i < 15; i++) {
        seen.add(await get(agent, b.frontAddress, 8000, "/", client));
      }
      agent.destroy();
      expect(seen.size).toBe(1);
    }
    // Without affinity the same client is spread over all nodes.
    await b.reload(plan({ nodeCount: 3 }));
    const agent = new http.Agent({ keepAlive: false });
    const seen = new Set<string>();
    for (let i = 0; i < 15; i++)
      seen.add(await get(agent, b.frontAddress, 8000, "/", b.address(201)));
    agent.destroy();
    expect(seen.size).toBe(3);
  });
});
