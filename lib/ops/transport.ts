import { spawn } from "node:child_process";
import { shellQuote } from "../render/shell";

/** What a command on a machine gave back. */
export interface ExecResult {
  /** Exit status; `null` when it was killed (timeout). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * How the operations reach the cluster's machines. The commands are the same
 * POSIX shell scripts everywhere (etcdctl, socat to HAProxy's admin socket);
 * only the way to run them differs: `vagrant ssh` for the local Vagrant
 * cluster, `ip netns exec` for the namespace lab; SSH or AWS SSM for EC2
 * implement the same two methods.
 */
export interface MachineTransport {
  /** For messages: "vagrant", "netns", … */
  readonly kind: string;
  /** The machines this transport reaches now (nodes and front machines), by name. */
  machines(): Promise<string[]>;
  /** Runs `script` with /bin/sh as root on `machine`. */
  exec(machine: string, script: string, timeoutMs?: number): Promise<ExecResult>;
}

/** Runs a program; resolves with its output, kills it after `timeoutMs`. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const MACHINE = /^[a-z][a-z0-9-]{0,62}$/;

function checkMachine(machine: string): void {
  if (!MACHINE.test(machine)) throw new Error(`not a machine name: ${JSON.stringify(machine)}`);
}

/** The local Vagrant cluster: `vagrant ssh <machine>` in the stack's Vagrant folder. */
export class VagrantTransport implements MachineTransport {
  public readonly kind = "vagrant";

  constructor(
    private readonly vagrantDir: string,
    private readonly vagrant = "vagrant",
  ) {}

  async machines(): Promise<string[]> {
    const r = await run(this.vagrant, ["status", "--machine-readable"], {
      cwd: this.vagrantDir,
      timeoutMs: 120_000,
    });
    if (r.status !== 0) throw new Error(`vagrant status failed: ${r.stderr.trim()}`);
    // Lines: timestamp,target,type,data — keep machines whose state is "running".
    return r.stdout
      .split("\n")
      .map((l) => l.split(","))
      .filter((f) => f[2] === "state" && f[3] === "running" && MACHINE.test(f[1] ?? ""))
      .map((f) => f[1]);
  }

  exec(machine: string, script: string, timeoutMs = 60_000): Promise<ExecResult> {
    checkMachine(machine);
    return run(this.vagrant, ["ssh", machine, "-c", `sudo sh -c ${shellQuote(script)}`], {
      cwd: this.vagrantDir,
      timeoutMs,
    });
  }
}

/** Machines as network namespaces named `<prefix><machine>` (the namespace lab). */
export class NamespaceTransport implements MachineTransport {
  public readonly kind = "netns";

  constructor(private readonly prefix: string) {}

  async machines(): Promise<string[]> {
    const r = await run("ip", ["netns", "list"], { timeoutMs: 10_000 });
    if (r.status !== 0) throw new Error(`ip netns list failed: ${r.stderr.trim()}`);
    return r.stdout
      .split("\n")
      .map((l) => l.split(" ")[0])
      .filter((n) => n.startsWith(this.prefix))
      .map((n) => n.slice(this.prefix.length))
      .filter((m) => MACHINE.test(m))
      .sort();
  }

  exec(machine: string, script: string, timeoutMs = 30_000): Promise<ExecResult> {
    checkMachine(machine);
    return run("ip", ["netns", "exec", `${this.prefix}${machine}`, "sh", "-c", script], {
      timeoutMs,
    });
  }
}
