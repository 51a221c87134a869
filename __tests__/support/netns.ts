import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";

/*
 * Machines as Linux network namespaces on one bridge: each machine gets a
 * namespace of its own with an `eth1` at its planned address, so generated
 * configs run unchanged. Names carry this process's pid (hfl<pid>…), so runs
 * in parallel never share a bridge, and leftovers of a run that was killed
 * are found and removed by the next one. Traffic stays on the lab's bridge,
 * which has no address: nothing reaches or leaves the host's own network.
 */

const PREFIX = "hfl";

export interface ExecResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface LabMachine {
  readonly name: string;
  readonly address: string;
  /** Network namespace name. */
  readonly ns: string;
  /** The host end of the machine's link, on the bridge. */
  readonly hostLink: string;
}

export interface LabProcess {
  readonly machine: string;
  readonly child: ChildProcess;
  /** The last 50 kB of stdout and stderr. */
  log: string;
  /** Log lines with the time (ms since epoch) they arrived. */
  readonly lines: { readonly at: number; readonly text: string }[];
}

function ip(args: string[], check = true): ExecResult {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10000 });
  if (check && r.status !== 0) {
    throw new Error(`ip ${args.join(" ")} failed: ${r.stderr || r.error?.message}`);
  }
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);

/** Removes namespaces and bridges of earlier runs whose process is gone. */
export function removeStaleLabs(): void {
  for (const line of ip(["netns", "list"], false).stdout.split("\n")) {
    const m = new RegExp(`^(${PREFIX}(\\d+)x\\d+-\\S+)`).exec(line);
    if (m && !alive(Number(m[2]))) killNamespace(m[1]);
  }
  for (const line of ip(["-o", "link", "show", "type", "bridge"], false).stdout.split("\n")) {
    const m = new RegExp(`^\\d+: (${PREFIX}(\\d+)x\\d+b):`).exec(line);
    if (m && !alive(Number(m[2]))) ip(["link", "del", m[1]], false);
  }
}

function killNamespace(ns: string): void {
  const pids = ip(["netns", "pids", ns], false).stdout.split(/\s+/).filter(Boolean);
  for (const p of pids) {
    try {
      process.kill(Number(p), "SIGKILL");
    } catch {
      // already gone
    }
  }
  ip(["netns", "del", ns], false);
}

let labCount = 0;

export class NetnsLab {
  public readonly id: string;
  public readonly bridge: string;
  public readonly machines = new Map<string, LabMachine>();
  public readonly processes: LabProcess[] = [];

  constructor(private readonly prefixLength: number) {
    removeStaleLabs();
    this.id = `${PREFIX}${process.pid}x${labCount++}`;
    this.bridge = `${this.id}b`;
    if (this.bridge.length > 15) throw new Error(`bridge name too long: ${this.bridge}`);
    ip(["link", "add", this.bridge, "type", "bridge"]);
    ip(["link", "set", this.bridge, "up"]);
  }

  /** A machine: namespace, link to the bridge, `eth1` at `address`, loopback up. */
  addMachine(name: string, address: string): LabMachine {
    const ns = `${this.id}-${name}`;
    const hostLink = `${this.id}v${this.machines.size}`;
    const peer = `${this.id}p${this.machines.size}`;
    if (hostLink.length > 15) throw new Error(`link name too long: ${hostLink}`);
    ip(["netns", "add", ns]);
    const machine = { name, address, ns, hostLink };
    this.machines.set(name, machine);
    ip(["link", "add", hostLink, "type", "veth", "peer", "name", peer]);
    ip(["link", "set", peer, "netns", ns]);
    ip(["-n", ns, "link", "set", peer, "name", "eth1"]);
    ip(["-n", ns, "addr", "add", `${address}/${this.prefixLength}`, "dev", "eth1"]);
    ip(["-n", ns, "link", "set", "eth1", "up"]);
    ip(["-n", ns, "link", "set", "lo", "up"]);
    ip(["link", "set", hostLink, "master", this.bridge, "up"]);
    return machine;
  }

  machine(name: string): LabMachine {
    const m = this.machines.get(name);
    if (!m) throw new Error(`no lab machine ${name}`);
    return m;
  }

  /** Runs a command inside a machine and waits for it (bounded). */
  exec(name: string, command: string[], timeoutMs = 15000, env?: NodeJS.ProcessEnv): ExecResult {
    const r = spawnSync("ip", ["netns", "exec", this.machine(name).ns, ...command], {
      encoding: "utf8",
      timeout: timeoutMs,
      env: env ?? process.env,
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
  }

  /** Starts a long-running process inside a machine. */
  spawn(name: string, command: string[], env?: NodeJS.ProcessEnv): LabProcess {
    const child = spawn("ip", ["netns", "exec", this.machine(name).ns, ...command], {
      stdio: ["ignore", "pipe", "pipe"],
      env: env ?? process.env,
    });
    const p: LabProcess = { machine: name, child, log: "", lines: [] };
    // Whole lines only: a chunk of output may end in the middle of one.
    const partial = { stdout: "", stderr: "" };
    const keep = (stream: "stdout" | "stderr") => (c: Buffer) => {
      const text = c.toString();
      p.log = (p.log + text).slice(-50000);
      const at = Date.now();
      const lines = (partial[stream] + text).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const line of lines.filter(Boolean)) {
        if (p.lines.length < 20000) p.lines.push({ at, text: line });
      }
    };
    child.stdout?.on("data", keep("stdout"));
    child.stderr?.on("data", keep("stderr"));
    child.on("error", (e) => keep("stderr")(Buffer.from(`spawn error: ${e.message}\n`)));
    this.processes.push(p);
    return p;
  }

  /** The machine's link goes down: no packet in or out, as when a machine's network or power is lost. */
  linkDown(name: string): void {
    ip(["link", "set", this.machine(name).hostLink, "down"]);
  }

  /** Back to the machine's own address only, as after a reboot (a virtual address it held is gone). */
  resetAddresses(name: string): void {
    const m = this.machine(name);
    ip(["-n", m.ns, "addr", "flush", "dev", "eth1"]);
    ip(["-n", m.ns, "addr", "add", `${m.address}/${this.prefixLength}`, "dev", "eth1"]);
  }

  linkUp(name: string): void {
    ip(["link", "set", this.machine(name).hostLink, "up"]);
  }

  /** Every process inside the machine. */
  pids(name: string): number[] {
    const out = ip(["netns", "pids", this.machine(name).ns], false).stdout;
    return out.split(/\s+/).filter(Boolean).map(Number);
  }

  /** SIGKILLs every process inside the machine (what a dead machine runs no more). */
  killAll(name: string): void {
    for (const pid of this.pids(name)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** Kills every process and removes every namespace, link and the bridge. Safe to call twice. */
  destroy(): void {
    for (const m of this.machines.values()) killNamespace(m.ns);
    for (const p of this.processes) p.child.kill("SIGKILL");
    this.machines.clear();
    ip(["link", "del", this.bridge], false);
  }
}

/** True when this process may create network namespaces (root, iproute2 present). */
export function canCreateNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("ip", ["netns", "list"], { stdio: "ignore" }).status === 0;
}
