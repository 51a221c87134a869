import * as path from "node:path";
import { ETCD_TLS_DIR, ETCD_TLS_FILES } from "../render/etcd-environment";
import { NODE_ETCDCTL_PATH } from "../render/failover-units";
import { FRONT_STATS_SOCKET } from "../render/front-ignition";
import { FRONT_SERVER_STATE_FILE } from "../render/haproxy";
import { shellQuote } from "../render/shell";
import { drainSource, runtimeServers, RuntimeServer, setServerState } from "../front/runtime";
import {
  ClusterDescription,
  drainedInCode,
  frontBindAddresses,
  ServiceSummary,
} from "./cluster-files";
import { ExecResult, MachineTransport } from "./transport";

/** Where the operations find HAProxy on the front machines. */
export interface OperationsOptions {
  /** @default - FRONT_STATS_SOCKET on every front machine */
  readonly haproxySocket?: (front: string) => string;
  /** @default - FRONT_SERVER_STATE_FILE on every front machine */
  readonly serverStateFile?: (front: string) => string;
  /** Where a node keeps etcd's CA and its client certificate and key. @default - ETCD_TLS_DIR */
  readonly etcdTlsDir?: (node: string) => string;
}

export interface NodeStatus {
  readonly name: string;
  readonly address: string;
  readonly etcd: "member" | "client";
  readonly standby: boolean;
  /** Member health: healthy, unhealthy (answers, not healthy) or unreachable; clients: undefined. */
  readonly etcdHealth?: "healthy" | "unhealthy" | "unreachable";
  readonly etcdLeader: boolean;
  /** Taken offline: by the code (front.drain), at runtime (this CLI), both, or not. */
  readonly drained: readonly ("code" | "runtime")[];
  /** HAProxy's status of this node per backend, on the front holding the address. */
  readonly backends: Readonly<Record<string, string>>;
}

export interface FrontStatus {
  readonly name: string;
  readonly reachable: boolean;
  readonly holdsAddress: boolean;
  readonly servers: readonly RuntimeServer[];
  readonly error?: string;
}

export interface ServiceStatus {
  readonly name: string;
  readonly owner?: string;
  readonly state: "running" | "starting" | "offline" | "failed";
  readonly nodes: readonly { name: string; agent: string }[];
  readonly preferredNodes: readonly string[];
  readonly target?: string;
  readonly failed?: string;
  readonly failoversInPeriod: number;
  readonly maxFailovers: number;
}

export interface ClusterEvent {
  readonly at: number;
  readonly service: string;
  readonly node: string;
  readonly text: string;
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly transport: string;
  readonly etcdHealthy: boolean;
  readonly nodes: readonly NodeStatus[];
  readonly fronts: readonly FrontStatus[];
  readonly services: readonly ServiceStatus[];
  /** Newest first. */
  readonly events: readonly ClusterEvent[];
}

/** What an operation did, line by line, and whether all of it worked. */
export interface OperationReport {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FRONT_MACHINE = /^front-\d+$/;
const MARK = "@@coreos-cluster@@";

/** Pairs of `etcdctl get` output lines: key, value. */
function pairs(out: string): Map<string, string> {
  const lines = out.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) map.set(lines[i], lines[i + 1]);
  return map;
}

/**
 * Runtime operations on a deployed cluster, without a redeploy: drain and
 * resume nodes, migrate failover services, take them offline and online, and
 * report the cluster's state. State lives where the cluster keeps it: etcd
 * (runtime drains, services) and HAProxy's runtime API on the front machines.
 */
export class ClusterOperations {
  private readonly live: string;

  constructor(
    public readonly cluster: ClusterDescription,
    private readonly transport: MachineTransport,
    private readonly options: OperationsOptions = {},
  ) {
    this.live = `${cluster.keyPrefix}/live`;
  }

  // ---- etcd -----------------------------------------------------------------------

  /**
   * A shell script running etcdctl on a node as root, with the node's own
   * client certificate when etcd speaks TLS: the agents' copy, a host one, or
   * one from the cluster's etcd image.
   */
  private etcdScript(node: string, args: readonly string[]): string {
    const tls = this.options.etcdTlsDir?.(node) ?? ETCD_TLS_DIR;
    const q = shellQuote;
    const file = (f: string) => q(`${tls}/${path.posix.basename(f)}`);
    const env = this.cluster.etcdTls
      ? ` ETCDCTL_CACERT=${file(ETCD_TLS_FILES.ca)} ETCDCTL_CERT=${file(ETCD_TLS_FILES.clientCert)} ETCDCTL_KEY=${file(ETCD_TLS_FILES.clientKey)}`
      : "";
    const pass = ["API", "ENDPOINTS", "CACERT", "CERT", "KEY"].map((v) => `-e ETCDCTL_${v}`);
    return [
      `export ETCDCTL_API=3 ETCDCTL_ENDPOINTS=${q(this.cluster.etcdEndpoints.join(","))}${env}`,
      `if [ -x ${NODE_ETCDCTL_PATH} ]; then e() { ${NODE_ETCDCTL_PATH} "$@"; }`,
      `elif command -v etcdctl >/dev/null 2>&1; then e() { etcdctl "$@"; }`,
      `else r=$(command -v docker || command -v podman); z=; case $r in *podman) z=,z ;; esac`,
      `  e() { "$r" run --rm --net host --volume ${q(`${tls}:${tls}:ro`)}"$z" ${pass.join(" ")} ${q(this.cluster.etcdImage)} /usr/local/bin/etcdctl "$@"; }; fi`,
      `e --dial-timeout=2s --command-timeout=5s ${args.map(q).join(" ")}`,
    ].join("\n");
  }

  /** etcdctl on the first node where it succeeds; throws when it fails everywhere. */
  async etcdctl(args: readonly string[]): Promise<string> {
    const errors: string[] = [];
    for (const r of await this.etcdAttempts(args, (x) => x.status === 0)) {
      if (r.status === 0) return r.stdout;
      errors.push(`${r.node}: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
    }
    throw new Error(
      `etcdctl ${args.join(" ")} failed on every reachable node (${this.transport.kind}): ${errors.join("; ") || "no node reachable"}`,
    );
  }

  /** Runs etcdctl on node after node until `enough` holds; every attempt, in order. */
  private async etcdAttempts(
    args: readonly string[],
    enough: (r: ExecResult) => boolean,
  ): Promise<(ExecResult & { node: string })[]> {
    const up = new Set(await this.transport.machines());
    const attempts: (ExecResult & { node: string })[] = [];
    for (const n of this.cluster.nodes.filter((x) => up.has(x.name))) {
      const r = await this.transport.exec(n.name, this.etcdScript(n.name, args), 30_000);
      attempts.push({ ...r, node: n.name });
      if (enough(r)) break;
    }
    return attempts;
  }

  private async liveState(): Promise<Map<string, string>> {
    return pairs(await this.etcdctl(["get", "--prefix", `${this.live}/`]));
  }

  // ---- HAProxy on the front machines ------------------------------------------------------

  async fronts(): Promise<string[]> {
    return (await this.transport.machines()).filter((m) => FRONT_MACHINE.test(m));
  }

  private socket(front: string): string {
    return this.options.haproxySocket?.(front) ?? FRONT_STATS_SOCKET;
  }

  private stateFile(front: string): string {
    return this.options.serverStateFile?.(front) ?? FRONT_SERVER_STATE_FILE;
  }

  private haproxyScript(front: string, commands: readonly string[]): string {
    const sock = shellQuote(`unix-connect:${this.socket(front)}`);
    return commands
      .map((c) => `printf '%s\\n' ${shellQuote(c)} | socat stdio ${sock}; echo ${MARK}`)
      .join("\n");
  }

  /** HAProxy's view on one front machine, and whether it holds the front's address. */
  async frontStatus(front: string): Promise<FrontStatus> {
    const script = `${this.haproxyScript(front, ["show stat", "show servers state"])}\nip -o -4 addr show`;
    const r = await this.transport.exec(front, script, 30_000);
    const [stat, state, addrs] = r.stdout.split(`${MARK}\n`);
    try {
      if (r.status !== 0 && !stat) throw new Error(r.stderr.trim());
      const bind = frontBindAddresses(this.cluster.haproxyCfg);
      return {
        name: front,
        reachable: true,
        holdsAddress: bind.some((a) => (addrs ?? "").includes(` ${a}/`)),
        servers: runtimeServers(stat, state),
      };
    } catch (e) {
      return { name: front, reachable: false, holdsAddress: false, servers: [], error: String(e) };
    }
  }

  /**
   * Sets `node` to `state` in every backend of every front machine, then saves
   * the servers' states to the file HAProxy reads after a reload or restart.
   */
  private async setOnFronts(node: string, state: "drain" | "ready"): Promise<string[]> {
    const lines: string[] = [];
    for (const front of await this.fronts()) {
      const view = await this.frontStatus(front);
      if (!view.reachable) {
        lines.push(`${front}: unreachable (${view.error}); run the command again when it is back`);
        continue;
      }
      const targets = view.servers.filter(
        (s) => s.server === node && !(state === "ready" && drainSource(s) === "code"),
      );
      const commands = targets.map((s) => setServerState(s.backend, s.server, state));
      const file = shellQuote(this.stateFile(front));
      const script = [
        this.haproxyScript(front, commands),
        `printf 'show servers state\\n' | socat stdio ${shellQuote(`unix-connect:${this.socket(front)}`)} > ${file}.new && mv ${file}.new ${file}`,
      ].join("\n");
      const r = await this.transport.exec(front, script, 30_000);
      const answers = r.stdout
        .split(`${MARK}\n`)
        .map((a) => a.trim())
        .filter(Boolean);
      if (r.status !== 0 || answers.length > 0) {
        lines.push(`${front}: HAProxy answered: ${answers.join("; ") || r.stderr.trim()}`);
      } else {
        lines.push(
          `${front}: ${targets.map((s) => s.backend).join(", ") || "no backend"} → ${state}`,
        );
      }
    }
    return lines;
  }

  // ---- operations ------------------------------------------------------------------------

  private node(name: string) {
    const n = this.cluster.nodes.find((x) => x.name === name);
    if (!n) {
      throw new Error(
        `cluster ${this.cluster.name} has no node ${JSON.stringify(name)}; nodes: ${this.cluster.nodes.map((x) => x.name).join(", ")}`,
      );
    }
    return n;
  }

  private service(name: string): ServiceSummary {
    const s = this.cluster.services.find((x) => x.name === name);
    if (!s) {
      const known = this.cluster.services.map((x) => x.name).join(", ") || "none";
      throw new Error(
        `cluster ${this.cluster.name} has no failover service ${JSON.stringify(name)}; services: ${known}`,
      );
    }
    return s;
  }

  /**
   * Takes a node offline: its open connections finish, it gets no new ones
   * (HAProxy `state drain` on every front), and failover services move away.
   * Recorded in etcd, kept by HAProxy across reloads; `resume` undoes it.
   */
  async drain(nodeName: string): Promise<OperationReport> {
    const node = this.node(nodeName);
    const by = `${new Date().toISOString()} coreos-cluster-cdktf`;
    await this.etcdctl(["put", `${this.live}/nodes/${node.name}/drain`, by]);
    const lines = [
      `${node.name}: drained in etcd (${by}); its failover services move to other nodes`,
    ];
    lines.push(...(await this.setOnFronts(node.name, "drain")));
    return { ok: !lines.some((l) => /unreachable|answered/.test(l)), lines };
  }

  /** Brings a node drained at runtime back. A drain in the code (front.drain) stays. */
  async resume(nodeName: string): Promise<OperationReport> {
    const node = this.node(nodeName);
    await this.etcdctl(["del", `${this.live}/nodes/${node.name}/drain`]);
    const lines = [`${node.name}: runtime drain removed from etcd`];
    lines.push(...(await this.setOnFronts(node.name, "ready")));
    if (drainedInCode(this.cluster.haproxyCfg).includes(node.name)) {
      lines.push(
        `${node.name} stays drained on the front: front.drain(cluster.nodeNamed("${node.name}")) is in the code; remove it and deploy`,
      );
    }
    return { ok: !lines.some((l) => /unreachable|answered/.test(l)), lines };
  }

  private async waitOwner(
    service: string,
    done: (owner: string | undefined) => boolean,
    waitMs: number,
  ): Promise<{ owner?: string; ms: number; ok: boolean }> {
    const start = Date.now();
    const key = `${this.live}/services/${service}/owner`;
    let owner: string | undefined;
    do {
      owner = (await this.etcdctl(["get", "--print-value-only", key])).trim() || undefined;
      if (done(owner)) return { owner, ms: Date.now() - start, ok: true };
      await sleep(500);
    } while (Date.now() - start < waitMs);
    return { owner, ms: Date.now() - start, ok: false };
  }

  /** Moves a failover service to `node`: its units stop where they run, then start there. */
  async migrate(serviceName: string, nodeName: string, waitMs = 60_000): Promise<OperationReport> {
    const s = this.service(serviceName);
    const node = this.node(nodeName);
    if (!s.nodes.includes(node.name)) {
      throw new Error(`${node.name} may not run ${s.name}: its nodes are ${s.nodes.join(", ")}`);
    }
    const live = await this.liveState();
    const svc = `${this.live}/services/${s.name}`;
    if (live.get(`${svc}/admin`) === "offline") {
      throw new Error(`${s.name} is offline: bring it online first (online ${s.name})`);
    }
    if (!live.has(`${svc}/agents/${node.name}`)) {
      throw new Error(
        `no agent of ${s.name} runs on ${node.name} (node down, or failover-${s.name}.service stopped)`,
      );
    }
    if (live.has(`${this.live}/nodes/${node.name}/drain`)) {
      throw new Error(`${node.name} is drained: resume it first (resume ${node.name})`);
    }
    if (live.get(`${svc}/owner`) === node.name) {
      return { ok: true, lines: [`${s.name} already runs on ${node.name}`] };
    }
    await this.etcdctl(["put", `${svc}/target`, node.name]);
    const r = await this.waitOwner(s.name, (o) => o === node.name, waitMs);
    return {
      ok: r.ok,
      lines: [
        r.ok
          ? `${s.name} runs on ${node.name} (${r.ms} ms)`
          : `${s.name} did not reach ${node.name} within ${waitMs} ms (owner: ${r.owner ?? "none"})`,
      ],
    };
  }

  /** Takes a failover service offline: its units stop and no node starts them until `online`. */
  async offline(serviceName: string, waitMs = 60_000): Promise<OperationReport> {
    const s = this.service(serviceName);
    await this.etcdctl(["put", `${this.live}/services/${s.name}/admin`, "offline"]);
    const r = await this.waitOwner(s.name, (o) => o === undefined, waitMs);
    return {
      ok: r.ok,
      lines: [
        r.ok
          ? `${s.name} is offline (${r.ms} ms)`
          : `${s.name} still runs on ${r.owner} after ${waitMs} ms`,
      ],
    };
  }

  /** Brings a failover service online, also after it failed too often (resets its failover count). */
  async online(serviceName: string, waitMs = 60_000): Promise<OperationReport> {
    const s = this.service(serviceName);
    const svc = `${this.live}/services/${s.name}`;
    // The count first: an agent that sees "failed" gone must not count the old failovers too (it
    // would mark the service failed again before the count went). Agents read all keys at once.
    for (const k of ["failovers", "failed", "admin"]) await this.etcdctl(["del", `${svc}/${k}`]);
    const r = await this.waitOwner(s.name, (o) => o !== undefined, waitMs);
    return {
      ok: r.ok,
      lines: [
        r.ok
          ? `${s.name} runs on ${r.owner} (${r.ms} ms)`
          : `${s.name} did not start within ${waitMs} ms`,
      ],
    };
  }

  // ---- status ------------------------------------------------------------------------------

  /** Each member's health and the leader; a member down leaves the others' answers intact. */
  private async etcdHealth(): Promise<{ health: Map<string, boolean>; leader?: string }> {
    const health = new Map<string, boolean>();
    let leader: string | undefined;
    const json = <T>(args: string[]): Promise<T[]> =>
      this.etcdAttempts(args, (r) => r.stdout.trim().startsWith("[")).then((rs) => {
        const out = rs.map((r) => r.stdout.trim()).find((o) => o.startsWith("["));
        return out ? (JSON.parse(out) as T[]) : [];
      });
    for (const h of await json<{ endpoint: string; health: boolean }>([
      "endpoint",
      "health",
      "-w",
      "json",
    ])) {
      health.set(h.endpoint, h.health);
    }
    const statuses = await json<{
      Endpoint: string;
      Status: { header: { member_id: number }; leader: number };
    }>(["endpoint", "status", "-w", "json"]);
    for (const s of statuses) {
      if (s.Status.header.member_id === s.Status.leader) leader = s.Endpoint;
    }
    return { health, leader };
  }

  async status(): Promise<ClusterStatus> {
    const [live, eventsOut, etcd, fronts] = await Promise.all([
      this.liveState().catch(() => new Map<string, string>()),
      this.etcdctl([
        "get",
        "--prefix",
        `${this.cluster.keyPrefix}/events/`,
        "--sort-by=KEY",
        "--order=DESCEND",
        "--limit=15",
      ]).catch(() => ""),
      this.etcdHealth(),
      this.fronts().then((fs) => Promise.all(fs.map((f) => this.frontStatus(f)))),
    ]);
    const codeDrains = drainedInCode(this.cluster.haproxyCfg);
    const view = fronts.find((f) => f.holdsAddress) ?? fronts.find((f) => f.reachable);
    const nodes: NodeStatus[] = this.cluster.nodes.map((n) => {
      const endpoint = this.cluster.etcdEndpoints.find((e) => e.includes(`//${n.address}:`));
      const backends: Record<string, string> = {};
      for (const s of view?.servers.filter((x) => x.server === n.name) ?? []) {
        backends[s.backend] = s.status;
      }
      const drained: ("code" | "runtime")[] = [];
      if (codeDrains.includes(n.name)) drained.push("code");
      if (live.has(`${this.live}/nodes/${n.name}/drain`)) drained.push("runtime");
      const health = endpoint ? etcd.health.get(endpoint) : undefined;
      return {
        name: n.name,
        address: n.address,
        etcd: n.etcdMember ? "member" : "client",
        standby: n.standby,
        ...(n.etcdMember
          ? { etcdHealth: health === undefined ? "unreachable" : health ? "healthy" : "unhealthy" }
          : {}),
        etcdLeader: endpoint !== undefined && endpoint === etcd.leader,
        drained,
        backends,
      } as NodeStatus;
    });
    const services: ServiceStatus[] = this.cluster.services.map((s) => {
      const svc = `${this.live}/services/${s.name}`;
      const owner = live.get(`${svc}/owner`);
      const failed = live.get(`${svc}/failed`);
      const now = Date.now() / 1000;
      const recent = (live.get(`${svc}/failovers`) ?? "")
        .split(" ")
        .filter((t) => t && now - Number(t) < s.failoverPeriodSeconds).length;
      return {
        name: s.name,
        ...(owner ? { owner } : {}),
        state: failed
          ? "failed"
          : live.get(`${svc}/admin`) === "offline"
            ? "offline"
            : owner
              ? "running"
              : "starting",
        nodes: s.nodes.map((n) => ({ name: n, agent: live.get(`${svc}/agents/${n}`) ?? "absent" })),
        preferredNodes: s.preferredNodes,
        ...(live.get(`${svc}/target`) ? { target: live.get(`${svc}/target`) } : {}),
        ...(failed ? { failed } : {}),
        failoversInPeriod: recent,
        maxFailovers: s.maxFailovers,
      };
    });
    const events: ClusterEvent[] = [...pairs(eventsOut)].map(([key, text]) => {
      const [service, stamp] = key.slice(`${this.cluster.keyPrefix}/events/`.length).split("/");
      const dash = (stamp ?? "").indexOf("-");
      return {
        at: Number(stamp?.slice(0, dash)),
        node: stamp?.slice(dash + 1) ?? "",
        service: service ?? "",
        text,
      };
    });
    return {
      cluster: this.cluster.name,
      transport: this.transport.kind,
      etcdHealthy:
        nodes.filter((n) => n.etcd === "member").filter((n) => n.etcdHealth === "healthy").length >
        this.cluster.nodes.filter((n) => n.etcdMember).length / 2,
      nodes,
      fronts,
      services,
      events,
    };
  }
}
