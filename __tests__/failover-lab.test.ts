import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterLab, describeLab, waitFor } from "./support/cluster-lab";
import { frontFails, nodeDies, serviceMoves, serviceNodeFails } from "./support/failover-scenarios";
import { LAB_PORTS, synthLabStack } from "./support/lab-stack";
import { PlannedTimes, plannedTimes, within } from "./support/lab-timing";

/*
 * The synthesized default-like stack run in network namespaces (see cluster-lab.ts):
 * 3 nodes with real etcd members and the failover agents of service "db", 2 front
 * machines with real HAProxy and keepalived, one client. Failures are links going
 * down (and, for a dead machine, everything on it killed), under load from the client.
 * Times are bounded relative to what the generated configuration plans (lab-timing.ts:
 * twice the planned worst case plus a second for the shared machine), and the service's
 * lease from both sides: no new copy before the old one's lease can have ended. The
 * figures come from `npm run bench:failover`. What is asserted exactly: no request lost
 * where none may be, and never two copies of the service.
 */

/** The intervals each node ran the service in, from the agents' unit log; `deadAt` ends a killed copy. */
function copies(lab: ClusterLab, deadAt: Record<string, number> = {}) {
  const open = new Map<string, number>();
  const spans: { node: string; from: number; to: number }[] = [];
  for (const e of lab.unitEvents().filter((x) => x.unit === "db.service")) {
    if (e.action === "start") open.set(e.node, e.at);
    else if (open.has(e.node)) {
      spans.push({ node: e.node, from: open.get(e.node) as number, to: e.at });
      open.delete(e.node);
    }
  }
  for (const [node, from] of open) spans.push({ node, from, to: deadAt[node] ?? Infinity });
  return spans;
}

/** True when no two nodes ran the service at the same time. */
function neverTwoCopies(spans: { node: string; from: number; to: number }[]): boolean {
  return spans.every((a) => spans.every((b) => a === b || a.to <= b.from || b.to <= a.from));
}

describeLab("failover in a lab of network namespaces", () => {
  let lab: ClusterLab;
  let outdir = "";
  let planned: PlannedTimes;
  const deadAt: Record<string, number> = {};

  beforeAll(async () => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), "failover-lab-"));
    const { stackDir, db } = synthLabStack(outdir);
    lab = new ClusterLab({ stackDir, cluster: "core", backendPorts: LAB_PORTS });
    planned = plannedTimes(
      lab.haproxyCfgPath,
      lab.fronts.map((f) => f.keepalivedConf),
      db.timing,
    );
    await lab.start();
    const owner = await waitFor("db running", () => lab.owner("db"), 60000, 200);
    await lab.waitServer("be_db", owner, /^UP$/, 30000);
  }, 180_000);

  afterAll(() => {
    lab?.destroy();
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it("status: the CLI prints nodes, etcd health, the front as HAProxy sees it, services and events", async () => {
    const json = await lab.cli(outdir, ["status", "--json"]);
    expect(json.stderr).toBe("");
    const status = JSON.parse(json.stdout);
    expect(status.etcdHealthy).toBe(true);
    expect(
      status.nodes.map((n: { name: string; etcdHealth: string }) => [n.name, n.etcdHealth]),
    ).toEqual([
      ["core-01", "healthy"],
      ["core-02", "healthy"],
      ["core-03", "healthy"],
    ]);
    const owner = lab.owner("db") as string;
    const row = status.nodes.find((n: { name: string }) => n.name === owner);
    expect(row.backends).toEqual({ be_web: "UP", be_raw: "UP", be_db: "UP" });
    expect(
      status.fronts.map((f: { name: string; holdsAddress: boolean }) => [f.name, f.holdsAddress]),
    ).toEqual([
      ["front-01", lab.vipHolder() === "front-01"],
      ["front-02", lab.vipHolder() === "front-02"],
    ]);
    expect(status.services).toEqual([
      expect.objectContaining({
        name: "db",
        state: "running",
        owner,
        preferredNodes: ["core-01"],
      }),
    ]);
    expect(status.events[0]).toMatchObject({ service: "db", node: owner, text: "started" });
    // The same through the Vagrant transport (vagrant ssh → the machine's namespace), as text.
    const text = await lab.cli(outdir, ["status"], { transport: "vagrant" });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^cluster core \(via vagrant\); etcd healthy$/m);
    // The owner's row: every backend UP there (on a busy machine core-01, though preferred, may
    // not be the first to start the service).
    const address = (row.address as string).replaceAll(".", "\\.");
    expect(text.stdout).toMatch(
      new RegExp(`^${owner} +${address} +healthy.* +active +- +UP +UP +UP$`, "m"),
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `^db +running +${owner} +core-01 +0/2 +core-01:ready core-02:ready core-03:ready$`,
        "m",
      ),
    );
  }, 120_000);

  it("a node dies under HTTP load: no request fails, those in flight wait about retryTimeout; TCP loses only the dead node's connections", async () => {
    const node = ["core-02", "core-03"].find((n) => n !== lab.owner("db")) as string;
    const r = await nodeDies(lab, node);
    expect(r.load.requests.filter((x) => !x[2])).toEqual([]);
    expect(r.total).toBeGreaterThan(200);
    expect(r.detectionMs).toBeLessThan(within(planned.nodeDownMs));
    // In flight to the dead node: retried elsewhere after retryTimeout, not held longer.
    expect(r.takeoverMs).toBeLessThan(within(planned.retryMs));
    expect(r.details.tcpLost).toBe(r.details.tcpOnDeadNode);
    expect(r.details.tcpLostElsewhere).toBe(0);
    // Nothing that started once the node's link was down was answered by the dead node.
    const downAt = r.details.linkDownAt as number;
    expect(downAt).toBeGreaterThanOrEqual(r.failAt);
    expect(r.load.requests.filter((x) => x[3] === node && x[0] > downAt)).toEqual([]);
    await lab.recover(node);
    await lab.waitServer("be_web", node, /^UP$/, 30000);
  }, 120_000);

  it("the front holding the address dies: the other takes over; every new connection after the move succeeds", async () => {
    const before = await lab.waitVip(10000);
    const r = await frontFails(lab, "machine");
    expect(r.details.newHolder).not.toBe(before);
    expect(r.details.newHolder).not.toBe("none");
    expect(r.detectionMs).toBeLessThan(within(planned.frontSilentMs));
    expect(r.takeoverMs).toBeLessThan(within(planned.frontSilentMs));
    // New connections (one every 25 ms) all succeed once one has; only those that were
    // on the dead front, or reused a connection to it, can fail.
    expect(r.details.failedNewConnectionsAfterTakeover).toBe(0);
    expect(r.details.newConnections).toBeGreaterThan(100);
    expect(
      r.load.requests.filter((x) => !x[2] && x[0] >= r.failAt + r.takeoverMs && !x[4]),
    ).toEqual([]);
    await lab.recover(before);
    await lab.waitHaproxy(before);
  }, 120_000);

  it("HAProxy dies on the front holding the address: the other takes over; every new connection after the move succeeds", async () => {
    const before = await lab.waitVip(10000);
    const r = await frontFails(lab, "haproxy");
    expect(r.details.newHolder).not.toBe(before);
    expect(r.takeoverMs).toBeLessThan(within(planned.haproxyDeadMs));
    expect(r.details.failedNewConnectionsAfterTakeover).toBe(0);
    expect(
      r.load.requests.filter((x) => !x[2] && x[0] >= r.failAt + r.takeoverMs && !x[4]),
    ).toEqual([]);
    await lab.startHaproxy(before);
  }, 120_000);

  it("the service's node dies: after its lease another node runs the service, reached through the front", async () => {
    const r = await serviceNodeFails(lab, "db", LAB_PORTS.service, "dies");
    deadAt[r.owner] = r.failAt; // killed with its machine
    expect(r.newOwner).not.toBe(r.owner);
    // etcd ends the lease leaseTtl after the last renewal it accepted (at most one renewal
    // interval before the failure), never earlier; the new copy starts only after that.
    const { leaseTtlMs, renewIntervalMs } = planned.service;
    expect(r.details.ownerKeyReleasedMs as number).toBeGreaterThanOrEqual(
      leaseTtlMs - renewIntervalMs,
    );
    expect(r.details.startedMs as number).toBeGreaterThanOrEqual(leaseTtlMs - renewIntervalMs);
    // Counted from the failure: the lease, plus (when the dead node led etcd) an election,
    // which renews every lease once.
    expect(r.takeoverMs).toBeLessThan(within(leaseTtlMs));
    expect(r.failedAfterTakeover).toBe(0);
    expect(lab.owner("db")).toBe(r.newOwner);
    // Failback is NEVER: the service stays where it is when the preferred node returns.
    await lab.rejoin(r.owner);
    expect(lab.owner("db")).toBe(r.newOwner);
    expect(neverTwoCopies(copies(lab, deadAt))).toBe(true);
  }, 180_000);

  it("a partition isolates the service's node: it stops its copy before another node starts one; healed, one copy stays", async () => {
    const r = await serviceNodeFails(lab, "db", LAB_PORTS.service, "partition");
    expect(r.details.stoppedBeforeNewStartMs).toEqual(expect.any(Number));
    expect(r.details.stoppedBeforeNewStartMs as number).toBeGreaterThan(0);
    // Cut off, the owner tolerates fenceAfter without etcd (counted from its last accepted
    // renewal), then stops its copy within the plan's worst case: before its lease can end.
    const { fenceAfterMs, renewIntervalMs, worstCaseStopMs, leaseTtlMs } = planned.service;
    expect(r.details.oldCopyStoppedMs as number).toBeGreaterThanOrEqual(
      fenceAfterMs - renewIntervalMs,
    );
    expect(r.details.oldCopyStoppedMs as number).toBeLessThanOrEqual(worstCaseStopMs);
    expect(r.details.startedMs as number).toBeGreaterThanOrEqual(leaseTtlMs - renewIntervalMs);
    expect(neverTwoCopies(copies(lab, deadAt))).toBe(true);
    await lab.rejoin(r.owner);
    expect(lab.owner("db")).toBe(r.newOwner);
    expect(neverTwoCopies(copies(lab, deadAt))).toBe(true);
  }, 180_000);

  it("migrate with the CLI under load: the service stops, then starts on the named node", async () => {
    const from = lab.owner("db") as string;
    const to = ["core-01", "core-02", "core-03"].find((n) => n !== from) as string;
    let out = "";
    const r = await serviceMoves(lab, LAB_PORTS.service, to, async () => {
      const cli = await lab.cli(outdir, ["migrate", "db", to]);
      out = `${cli.stdout}${cli.stderr}`;
      expect({ status: cli.status, out }).toEqual({ status: 0, out: expect.any(String) });
    });
    expect(out).toMatch(new RegExp(`^db runs on ${to} \\(\\d+ ms\\)$`, "m"));
    expect(lab.owner("db")).toBe(to);
    expect(r.failedAfterTakeover).toBe(0);
    expect(neverTwoCopies(copies(lab, deadAt))).toBe(true);
  }, 120_000);

  it("drain with the CLI: open requests finish, no new ones, the service moves away; resume brings the node back", async () => {
    const node = lab.owner("db") as string;
    const others = lab.nodes.map((n) => n.name).filter((n) => n !== node);
    const servedElsewhere = async () =>
      (await Promise.all(others.map((n) => lab.sessions("be_web", n)))).reduce(
        (sum, s) => sum + s.total,
        0,
      );
    // 8 clients, each request held 300 ms by the node's server; finish() ends the load.
    const load = lab.load(["http", lab.vip, 80, 8, 60000, "/?delay=300", 10000], 90000);
    await waitFor(
      "requests open on the node",
      async () => (await lab.sessions("be_web", node)).current > 0,
      15000,
      20,
    );
    const drainAt = Date.now();
    const drain = await lab.cli(outdir, ["drain", node]);
    const drained = Date.now();
    expect(drain.status).toBe(0);
    expect(drain.stdout).toContain("front-01: be_web, be_raw, be_db → drain");
    expect(drain.stdout).toContain("front-02: be_web, be_raw, be_db → drain");
    // Until the requests open at the drain have finished and the other nodes have taken two
    // rounds of the 8 clients' requests.
    const elsewhereAtDrain = await servedElsewhere();
    await waitFor(
      "the node's open requests finished, new ones served elsewhere",
      async () =>
        (await lab.sessions("be_web", node)).current === 0 &&
        (await servedElsewhere()) >= elsewhereAtDrain + 16,
      20000,
      50,
    );
    load.finish();
    const result = await load;
    expect(result.requests.filter((x) => !x[2])).toEqual([]);
    // Requests that were on the node finished there; none that started after the drain went there.
    expect(result.requests.some((x) => x[3] === node && x[0] < drainAt && x[1] > drainAt)).toBe(
      true,
    );
    expect(result.requests.filter((x) => x[3] === node && x[0] > drained)).toEqual([]);
    await waitFor(
      "db moved off the drained node",
      () => lab.owner("db") !== node && lab.owner("db"),
      30000,
      200,
    );
    const status = JSON.parse((await lab.cli(outdir, ["status", "--json"])).stdout);
    const n = status.nodes.find((x: { name: string }) => x.name === node);
    expect(n.drained).toEqual(["runtime"]);
    expect(n.backends.be_web).toBe("DRAIN");
    // Back: HAProxy sends it requests again.
    const resume = await lab.cli(outdir, ["resume", node]);
    expect(resume.status).toBe(0);
    await lab.waitServer("be_web", node, /^UP$/, 10000);
    const servedBefore = (await lab.sessions("be_web", node)).total;
    const after = lab.load(["http", lab.vip, 80, 4, 60000, "/", 5000], 90000);
    await waitFor(
      "a request served by the resumed node",
      async () => (await lab.sessions("be_web", node)).total > servedBefore,
      15000,
      50,
    );
    after.finish();
    expect((await after).requests.some((x) => x[3] === node)).toBe(true);
  }, 180_000);

  it("offline and online with the CLI: no node runs the service until it is brought online", async () => {
    const off = await lab.cli(outdir, ["offline", "db"]);
    expect(off.status).toBe(0);
    expect(lab.owner("db")).toBeUndefined();
    expect(lab.ask(LAB_PORTS.service)).toBeUndefined();
    const status = JSON.parse((await lab.cli(outdir, ["status", "--json"])).stdout);
    expect(status.services[0].state).toBe("offline");
    const on = await lab.cli(outdir, ["online", "db"]);
    expect(on.status).toBe(0);
    const owner = lab.owner("db") as string;
    await lab.waitServer("be_db", owner, /^UP$/, 30000);
    expect(lab.ask(LAB_PORTS.service)).toBe(owner);
    expect(neverTwoCopies(copies(lab, deadAt))).toBe(true);
  }, 120_000);
});
