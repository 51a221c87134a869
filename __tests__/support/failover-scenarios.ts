import { ClusterLab, LoadResult, waitFor } from "./cluster-lab";

/*
 * Failure scenarios under load, run against a ClusterLab. Each returns what
 * happened; the tests assert on it and `npm run bench:failover` prints it.
 * Times are ms from the failure (host clock, shared by every namespace).
 */

export interface ScenarioResult {
  readonly scenario: string;
  /** When the failure (or the operation) happened, ms since the epoch. */
  readonly failAt: number;
  /** Failure → the cluster noticed: HAProxy marks the node DOWN, the backup front becomes MASTER, another node's agent starts the service. */
  readonly detectionMs: number;
  /** Failure → clients are served again by the new place (see each scenario). */
  readonly takeoverMs: number;
  /** Requests or connections that failed, of `total`. */
  readonly failed: number;
  readonly total: number;
  /** Failures among requests started after the takeover (must be 0). */
  readonly failedAfterTakeover: number;
  /** Extra facts of the scenario (added latency, connections lost, fencing margin). */
  readonly details: Record<string, number | string>;
  readonly load: LoadResult;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * How long the load keeps going after the cluster reacted, then stops early: long enough
 * to see requests after the takeover succeed, without waiting out the whole duration.
 */
const SETTLE_MS = 3000;
const SERVICE_SETTLE_MS = 5000;
const HTTP_PORT = 80;
const TCP_PORT = 9000;

function summarize(load: LoadResult, failAt: number, takeoverAt: number) {
  const r = load.requests;
  return {
    failed: r.filter((x) => !x[2]).length,
    total: r.length,
    failedAfterTakeover: r.filter((x) => !x[2] && x[0] >= takeoverAt).length,
    // Requests that were on their way when the failure happened.
    inFlight: r.filter((x) => x[0] <= failAt && x[1] > failAt),
  };
}

/**
 * A node machine dies (link down, then everything on it killed) under keep-alive
 * HTTP load and long-lived TCP connections through the front. Takeover: the
 * slowest request that started between the failure and its detection (those
 * sent to the dead node wait retryTimeout or the connect timeout, then go elsewhere).
 */
export async function nodeDies(
  lab: ClusterLab,
  node: string,
  durationMs = 7000,
): Promise<ScenarioResult> {
  const httpLoad = lab.load(
    ["http", lab.vip, HTTP_PORT, 16, durationMs, "/?delay=20", 5000],
    durationMs + 20000,
  );
  const tcpLoad = lab.load(["tcp-long", lab.vip, TCP_PORT, 9, durationMs], durationMs + 20000);
  await sleep(2000);
  const failAt = Date.now();
  lab.fail(node, true);
  // The link is down from here on (taking it down takes a while on a busy machine).
  const downAt = Date.now();
  const detectedAt = await lab.waitServer("be_web", node, /DOWN/, 15000);
  await sleep(SETTLE_MS);
  httpLoad.finish();
  tcpLoad.finish();
  const [load, tcp] = await Promise.all([httpLoad, tcpLoad]);
  const s = summarize(load, failAt, detectedAt);
  // The slowest request that started around the failure, until detection: what the failure cost.
  const around = load.requests.filter((x) => x[0] >= failAt - 100 && x[0] <= detectedAt);
  const slowest = Math.max(0, ...around.map((x) => x[1] - x[0]));
  const normal = load.requests.filter((x) => x[1] < failAt).map((x) => x[1] - x[0]);
  const conns = tcp.connections ?? [];
  return {
    scenario: `node ${node} dies (link down) under HTTP load`,
    failAt,
    detectionMs: detectedAt - failAt,
    takeoverMs: slowest,
    failed: s.failed,
    total: s.total,
    failedAfterTakeover: s.failedAfterTakeover,
    details: {
      linkDownAt: downAt,
      inFlightRequests: s.inFlight.length,
      maxInFlightLatencyMs: Math.max(0, ...s.inFlight.map((x) => x[1] - x[0])),
      medianLatencyBeforeMs: normal.sort((a, b) => a - b)[Math.floor(normal.length / 2)] ?? 0,
      tcpConnections: conns.length,
      tcpOnDeadNode: conns.filter((c) => c.owner === node).length,
      tcpLost: conns.filter((c) => c.failedAt > 0).length,
      tcpLostElsewhere: conns.filter((c) => c.failedAt > 0 && c.owner !== node).length,
      tcpLostAfterMs: Math.max(
        0,
        ...conns.filter((c) => c.failedAt).map((c) => c.failedAt - failAt),
      ),
    },
    load,
  };
}

/** Time a keepalived log line matching `re` arrived from `front`, after `since`. */
async function keepalivedLine(
  lab: ClusterLab,
  front: string,
  re: RegExp,
  since: number,
  timeoutMs: number,
) {
  return waitFor(
    `keepalived on ${front}: ${re}`,
    () =>
      lab.lab.processes
        .filter((p) => p.machine === front && p.child.spawnargs.includes("keepalived"))
        .flatMap((p) => p.lines)
        .find((l) => l.at >= since && re.test(l.text))?.at,
    timeoutMs,
    20,
  );
}

/**
 * The front machine holding the address fails: `machine` = link down and everything
 * killed; `haproxy` = only HAProxy is killed there. Takeover: the first request
 * started after the failure that succeeds.
 */
export async function frontFails(
  lab: ClusterLab,
  how: "machine" | "haproxy",
  durationMs = 8000,
): Promise<ScenarioResult> {
  const holder = await lab.waitVip(10000);
  const other = lab.fronts.find((f) => f.name !== holder)?.name as string;
  const httpLoad = lab.load(
    ["http", lab.vip, HTTP_PORT, 16, durationMs, "/?delay=20", 3000],
    durationMs + 20000,
  );
  // New clients arriving all the time: a request on a new connection every 25 ms.
  const probes = lab.load(["probe", lab.vip, HTTP_PORT, 25, durationMs, 3000], durationMs + 20000);
  await sleep(2000);
  const failAt = Date.now();
  if (how === "machine") lab.fail(holder, true);
  else lab.killHaproxy(holder);
  const detectedAt = await keepalivedLine(lab, other, /Entering MASTER STATE/, failAt, 15000).catch(
    (e) => {
      throw new Error(`${e.message}\n${lab.logs("keepalived")}`);
    },
  );
  await sleep(SETTLE_MS);
  httpLoad.finish();
  probes.finish();
  const [load, probe] = await Promise.all([httpLoad, probes]);
  // Takeover: the first new connection, opened after the failure, that got its answer.
  const okAfter = probe.requests.filter((x) => x[2] && x[0] >= failAt).sort((a, b) => a[1] - b[1]);
  const takeoverAt = okAfter[0]?.[1] ?? Date.now();
  const s = summarize(load, failAt, takeoverAt);
  return {
    scenario:
      how === "machine" ? `front ${holder} holding the address dies` : `HAProxy dies on ${holder}`,
    failAt,
    detectionMs: detectedAt - failAt,
    takeoverMs: takeoverAt - failAt,
    failed: s.failed,
    total: s.total,
    failedAfterTakeover: s.failedAfterTakeover,
    details: {
      newHolder: lab.vipHolder() ?? "none",
      failedInFlight: load.requests.filter((x) => !x[2] && x[0] < failAt).length,
      failedDuringSwitch: load.requests.filter((x) => !x[2] && x[0] >= failAt && x[0] < takeoverAt)
        .length,
      failedOnReusedConnections: load.requests.filter((x) => !x[2] && x[4]).length,
      failedNewConnectionsAfterTakeover: probe.requests.filter((x) => !x[2] && x[0] >= takeoverAt)
        .length,
      newConnections: probe.requests.length,
    },
    load,
  };
}

/**
 * The node running the failover service fails: `dies` (link down, everything killed) or
 * `partition` (link down only: its processes keep running, cut off from the etcd majority).
 * Clients open one short TCP connection after another to the service's listener.
 * Detection: another node's agent starts the service. Takeover: the first exchange
 * answered by the new owner.
 */
export async function serviceNodeFails(
  lab: ClusterLab,
  service: string,
  port: number,
  how: "dies" | "partition",
  durationMs = 20000,
): Promise<ScenarioResult & { owner: string; newOwner: string }> {
  const owner = await waitFor(`${service} running`, () => lab.owner(service), 30000, 200);
  await lab.waitServer(`be_${service}`, owner, /^UP$/, 20000);
  const watcher = lab.watch(
    `/coreos-cluster/core/live/services/${service}/owner`,
    lab.reachableNode([owner]),
  );
  const load = lab.load(["tcp-short", lab.vip, port, durationMs, 1000], durationMs + 20000);
  await sleep(1500);
  const failAt = Date.now();
  lab.fail(owner, how === "dies");
  const started = await waitFor(
    `${service} started on another node`,
    () => lab.unitEvents().find((e) => e.at >= failAt && e.action === "start" && e.node !== owner),
    30000,
    50,
  ).catch((e) => {
    throw new Error(`${e.message}\n${lab.diagnose(service)}`);
  });
  await sleep(SERVICE_SETTLE_MS);
  load.finish();
  const result = await load;
  watcher.child.kill("SIGKILL");
  // The owner key's deletion: etcd ended the lease (or the owner gave the key up).
  const released = watcher.lines.find((l) => l.at >= failAt && l.text === "DELETE")?.at;
  const onNew = result.requests.filter((x) => x[2] && x[3] === started.node && x[0] >= failAt);
  const takeoverAt = onNew.sort((a, b) => a[1] - b[1])[0]?.[1] ?? Date.now();
  const s = summarize(result, failAt, takeoverAt);
  const details: Record<string, number | string> = {
    from: owner,
    to: started.node,
    ownerKeyReleasedMs: released ? released - failAt : "unseen",
    startedMs: started.at - failAt,
  };
  if (how === "partition") {
    const stop = lab
      .unitEvents()
      .find((e) => e.at >= failAt && e.node === owner && e.action === "stop");
    details.oldCopyStoppedMs = stop ? stop.at - failAt : "never";
    details.stoppedBeforeNewStartMs = stop ? started.at - stop.at : "never";
  }
  return {
    scenario:
      how === "dies"
        ? `the service's node ${owner} dies`
        : `a partition isolates the service's node ${owner}`,
    failAt,
    detectionMs: (released ?? started.at) - failAt,
    takeoverMs: takeoverAt - failAt,
    failed: s.failed,
    total: s.total,
    failedAfterTakeover: result.requests.filter((x) => !x[2] && x[0] >= takeoverAt + 1500).length,
    details,
    load: result,
    owner,
    newOwner: started.node,
  };
}

/**
 * An operation (a CLI command) under load on the service's listener: takeover is the first
 * exchange answered by `to` after the command started.
 */
export async function serviceMoves(
  lab: ClusterLab,
  port: number,
  to: string,
  operation: () => Promise<void>,
  durationMs = 12000,
): Promise<ScenarioResult> {
  const load = lab.load(["tcp-short", lab.vip, port, durationMs, 1000], durationMs + 20000);
  await sleep(1500);
  const startAt = Date.now();
  await operation();
  const started = await waitFor(
    `service started on ${to}`,
    () => lab.unitEvents().find((e) => e.at >= startAt && e.action === "start" && e.node === to),
    30000,
    50,
  );
  await sleep(SERVICE_SETTLE_MS);
  load.finish();
  const result = await load;
  const onNew = result.requests.filter((x) => x[2] && x[3] === to && x[0] >= startAt);
  const takeoverAt = onNew.sort((a, b) => a[1] - b[1])[0]?.[1] ?? Date.now();
  const s = summarize(result, startAt, takeoverAt);
  return {
    scenario: `migrate to ${to}`,
    failAt: startAt,
    detectionMs: started.at - startAt,
    takeoverMs: takeoverAt - startAt,
    failed: s.failed,
    total: s.total,
    failedAfterTakeover: result.requests.filter((x) => !x[2] && x[0] >= takeoverAt + 1500).length,
    details: {},
    load: result,
  };
}
