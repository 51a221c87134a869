import {
  ChildProcess,
  spawn,
  SpawnOptions,
  spawnSync,
  SpawnSyncOptionsWithStringEncoding,
  SpawnSyncReturns,
} from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";

/*
 * Network namespaces for tests, two shapes:
 * - the sandbox: one private namespace per test file in which the cluster's
 *   addresses are local (etcd members listen where their certificates say);
 * - the lab (NetnsLab): one namespace per machine on a bridge of its own,
 *   each with an `eth1` at its planned address, so links can go down.
 * Names carry this process's pid, so parallel runs never share one, and the
 * next run removes what a killed run left. Nothing reaches the host's own
 * network: the sandbox has only loopback, the lab's bridge no address.
 */

const IP = spawnSync("sh", ["-c", "command -v ip"], { encoding: "utf8" }).stdout.trim();

/** True where namespaces can be made: root, with iproute2's `ip`. */
export function sandboxAvailable(): boolean {
  return process.getuid?.() === 0 && IP !== "";
}

/** What the sandbox and the lab need, for describeWithRequirement. */
export const SANDBOX_REQUIREMENT =
  'root and iproute2\'s `ip` (network namespaces): run as root and install the Debian package "iproute2"';

export interface ExecResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function ip(args: readonly string[], check = true): ExecResult {
  const r = spawnSync(IP || "ip", args, { encoding: "utf8", timeout: 10_000 });
  if (check && r.status !== 0) {
    throw new Error(`ip ${args.join(" ")} failed: ${r.stderr || r.error?.message}`);
  }
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** SIGKILLs every process inside a namespace, then deletes it. */
function killNamespace(ns: string): void {
  for (const pid of ip(["netns", "pids", ns], false).stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  ip(["netns", "del", ns], false);
}

const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);

// Sandbox: cc-test-<pid>-<hex>. Lab: hfl<pid>x<n>-<machine>, bridge hfl<pid>x<n>b.
const SANDBOX_NAME = /^(cc-test-(\d+)-[0-9a-f]+)/;
const LAB_PREFIX = "hfl";
const LAB_NAME = new RegExp(`^(${LAB_PREFIX}(\\d+)x\\d+-\\S+)`);
const LAB_BRIDGE = new RegExp(`^\\d+: (${LAB_PREFIX}(\\d+)x\\d+b):`);

/** Removes namespaces and bridges of earlier test runs whose process is gone. */
export function removeStaleNamespaces(): void {
  for (const line of ip(["netns", "list"], false).stdout.split("\n")) {
    const m = SANDBOX_NAME.exec(line) ?? LAB_NAME.exec(line);
    if (m && !alive(Number(m[2]))) killNamespace(m[1]);
  }
  for (const line of ip(["-o", "link", "show", "type", "bridge"], false).stdout.split("\n")) {
    const m = LAB_BRIDGE.exec(line);
    if (m && !alive(Number(m[2]))) ip(["link", "del", m[1]], false);
  }
}

// ---------------------------------------------------------------------------
// The sandbox: one namespace per test file, the cluster's addresses local in it.
// Traffic inside it leaves from 127.0.0.1, like loopback (member certificates
// name it for that). Made on first use, deleted with everything still running
// in it when the test file ends (support/setup.ts).

let current: { readonly name: string; readonly routes: Set<string> } | undefined;

function namespace(): { readonly name: string; readonly routes: Set<string> } {
  if (!current) {
    removeStaleNamespaces();
    const name = `cc-test-${process.pid}-${randomBytes(3).toString("hex")}`;
    ip(["netns", "add", name]);
    current = { name, routes: new Set() };
    ip(["-n", name, "link", "set", "lo", "up"]);
  }
  return current;
}

/**
 * Cluster network props for a test: `10.<net>.0.0/24` from host number 1,
 * every address of it local inside the test's namespace.
 */
export function sandboxNetwork(net: number): { networkCidr: string; firstHostNumber: number } {
  const networkCidr = `10.${net}.0.0/24`;
  sandboxLocal(networkCidr);
  return { networkCidr, firstHostNumber: 1 };
}

/**
 * Makes every address of `cidr` local inside the test's namespace (e.g. the
 * default VirtualBox range, which a Vagrant stack must use); the host's own
 * routes are untouched.
 */
export function sandboxLocal(cidr: string): void {
  const ns = namespace();
  if (!ns.routes.has(cidr)) {
    ip(["-n", ns.name, "route", "add", "local", cidr, "dev", "lo", "src", "127.0.0.1"]);
    ns.routes.add(cidr);
  }
}

/** The command line that runs `command` inside the namespace (it must exist by then). */
export function inSandbox(command: string, args: readonly string[]): [string, string[]] {
  if (!current) throw new Error("no sandbox network: call sandboxNetwork() first");
  return [IP, ["netns", "exec", current.name, command, ...args]];
}

/** spawn inside the namespace (`ip netns exec` execs: the child's pid is the command's). */
export function spawnInSandbox(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  const [c, a] = inSandbox(command, args);
  return spawn(c, a, options);
}

/** spawnSync inside the namespace. */
export function spawnSyncInSandbox(
  command: string,
  args: readonly string[],
  options: SpawnSyncOptionsWithStringEncoding,
): SpawnSyncReturns<string> {
  const [c, a] = inSandbox(command, args);
  return spawnSync(c, a, options);
}

/** Kills what still runs in the namespace (only this test file's processes) and deletes it. */
export function closeSandbox(): void {
  if (!current) return;
  const { name } = current;
  current = undefined;
  killNamespace(name);
}

// ---------------------------------------------------------------------------
// The lab: machines as namespaces on one bridge, links that can go down.

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

/**
 * The first lab number of this process that no link or namespace on the host still uses. A
 * counter alone repeats: jest loads this module afresh for each test file of a worker, and the
 * kernel removes an earlier lab's veth links only some time after its namespaces are deleted.
 */
function freeLabId(): string {
  const taken = `${ip(["-o", "link", "show"], false).stdout}\n${ip(["netns", "list"], false).stdout}`;
  for (let n = 0; ; n++) {
    const id = `${LAB_PREFIX}${process.pid}x${n}`;
    if (!new RegExp(`(^|[\\s:])${id}[a-z-]`, "m").test(taken)) return id;
  }
}

export class NetnsLab {
  public readonly id: string;
  public readonly bridge: string;
  public readonly machines = new Map<string, LabMachine>();
  public readonly processes: LabProcess[] = [];

  constructor(private readonly prefixLength: number) {
    removeStaleNamespaces();
    this.id = freeLabId();
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
    const r = spawnSync(IP, ["netns", "exec", this.machine(name).ns, ...command], {
      encoding: "utf8",
      timeout: timeoutMs,
      env: env ?? process.env,
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
  }

  /** Starts a long-running process inside a machine. */
  spawn(name: string, command: string[], env?: NodeJS.ProcessEnv): LabProcess {
    const child = spawn(IP, ["netns", "exec", this.machine(name).ns, ...command], {
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
