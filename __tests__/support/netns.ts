import {
  ChildProcess,
  spawn,
  SpawnOptions,
  spawnSync,
  SpawnSyncOptionsWithStringEncoding,
  SpawnSyncReturns,
} from "node:child_process";
import { randomBytes } from "node:crypto";

/*
 * A private network namespace per test file, standing in for the cluster's
 * network: the nodes' real (private) addresses are local inside it, so etcd
 * members listen on the addresses their certificates name, and tests of
 * several helpers on one machine never share a port. Like loopback, traffic
 * inside it leaves from 127.0.0.1 (member certificates name it for that).
 * Made on first use, deleted with everything still running in it when the
 * test file ends (support/setup.ts).
 */

const IP = spawnSync("sh", ["-c", "command -v ip"], { encoding: "utf8" }).stdout.trim();

/** True where namespaces can be made: root, with iproute2's `ip`. */
export function sandboxAvailable(): boolean {
  return process.getuid?.() === 0 && IP !== "";
}

/** What the sandbox needs, for describeWithRequirement. */
export const SANDBOX_REQUIREMENT =
  'root and iproute2\'s `ip` (network namespaces): run as root and install the Debian package "iproute2"';

let current: { readonly name: string; readonly routes: Set<string> } | undefined;

function ip(args: readonly string[]): void {
  const r = spawnSync(IP, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr}`);
}

function namespace(): { readonly name: string; readonly routes: Set<string> } {
  if (!current) {
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
  const pids = spawnSync(IP, ["netns", "pids", name], { encoding: "utf8" }).stdout;
  for (const pid of pids.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  ip(["netns", "del", name]);
}
