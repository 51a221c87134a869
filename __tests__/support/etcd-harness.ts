import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseEnvironmentDropin } from "../../lib";
import { ETCD_DROPIN } from "../../lib/render/ignition";

/**
 * Runs the etcd members described by synthesized Ignition files as real
 * `etcd` processes on this machine. Each member gets exactly the ETCD_*
 * settings of its drop-in, with two mappings that stand in for separate
 * machines: node addresses become loopback addresses (127.0.<net>.<i+1>) and
 * the data dir becomes a temporary folder.
 */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly env: Readonly<Record<string, string>>;
  process?: ChildProcess;
  log: string;
}

/** Reads the etcd drop-in settings of every member node in the Ignition files. */
export function memberSettingsFromIgnition(files: readonly string[]): Record<string, string>[] {
  const settings: Record<string, string>[] = [];
  for (const file of files) {
    const ign = JSON.parse(fs.readFileSync(file, "utf8"));
    const unit = (ign.systemd?.units ?? []).find(
      (u: { name: string }) => u.name === "etcd-member.service",
    );
    const dropin = unit?.dropins?.find((d: { name: string }) => d.name === ETCD_DROPIN);
    if (dropin) settings.push(parseEnvironmentDropin(dropin.contents));
  }
  return settings;
}

function hostOf(url: string): string {
  return new URL(url).hostname;
}

export class EtcdTestCluster {
  public readonly members: EtcdMember[];
  private readonly dataRoot: string;
  private readonly addressMap = new Map<string, string>();

  /**
   * @param settings per-member ETCD_* settings, as read from the drop-ins
   * @param loopbackNet third octet of the loopback addresses to use (keeps parallel tests apart)
   */
  constructor(settings: readonly Record<string, string>[], loopbackNet: number) {
    this.dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-members-"));
    settings.forEach((s, i) => {
      this.addressMap.set(hostOf(s.ETCD_LISTEN_PEER_URLS), `127.0.${loopbackNet}.${i + 1}`);
    });
    this.members = settings.map((s) => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(s)) env[k] = this.remap(v);
      env.ETCD_DATA_DIR = path.join(this.dataRoot, s.ETCD_NAME);
      return { name: s.ETCD_NAME, clientUrl: env.ETCD_ADVERTISE_CLIENT_URLS, env, log: "" };
    });
  }

  /** Text with each member's node address in URLs replaced by its loopback address. */
  remap(text: string): string {
    return text.replace(/\/\/([0-9.]+):/g, (whole, host: string) =>
      this.addressMap.has(host) ? `//${this.addressMap.get(host)}:` : whole,
    );
  }

  /** Starts the members (all, or those named) with their ETCD_* settings as the only configuration. */
  start(only?: readonly string[]): void {
    for (const m of this.members.filter((x) => !only || only.includes(x.name))) {
      const child = spawn("etcd", [], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...m.env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const keep = (chunk: Buffer) => {
        m.log = (m.log + chunk.toString()).slice(-20000);
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      m.process = child;
    }
  }

  /** etcdctl against the given endpoints; returns exit status and output. */
  etcdctl(endpoints: readonly string[], args: string[], timeoutMs = 8000) {
    const r = spawnSync(
      "etcdctl",
      [`--endpoints=${endpoints.join(",")}`, "--dial-timeout=2s", "--command-timeout=5s", ...args],
      { env: { PATH: process.env.PATH, ETCDCTL_API: "3" }, encoding: "utf8", timeout: timeoutMs },
    );
    return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  }

  /** Endpoints of members still running. */
  liveEndpoints(): string[] {
    return this.members
      .filter((m) => m.process && m.process.exitCode === null && !m.process.killed)
      .map((m) => m.clientUrl);
  }

  /**
   * Polls until every member reports healthy; returns the milliseconds from
   * `since` to that moment. Throws with the members' logs on timeout.
   */
  async waitHealthy(since: number, timeoutMs = 30000): Promise<number> {
    const all = this.members.map((m) => m.clientUrl);
    while (Date.now() - since < timeoutMs) {
      const r = this.etcdctl(all, ["endpoint", "health"], 4000);
      if (r.ok) return Date.now() - since;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`etcd cluster not healthy after ${timeoutMs} ms\n${this.logs()}`);
  }

  /**
   * Retries a write until it succeeds; returns the milliseconds it took.
   * Throws with the members' logs when it does not succeed within the bound.
   */
  async waitWritable(
    endpoints: readonly string[],
    key: string,
    value: string,
    timeoutMs: number,
  ): Promise<number> {
    const since = Date.now();
    let last = "";
    while (Date.now() - since < timeoutMs) {
      const r = this.etcdctl(endpoints, ["--command-timeout=1s", "put", key, value], 4000);
      if (r.ok && r.out.includes("OK")) return Date.now() - since;
      last = r.out;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`no write accepted within ${timeoutMs} ms: ${last}\n${this.logs()}`);
  }

  /** The tail of every member's log, for failure messages. */
  logs(): string {
    return this.members.map((m) => `--- ${m.name}\n${m.log.slice(-2000)}`).join("\n");
  }

  /** SIGKILLs one member, like a node that loses power. */
  async kill(name: string): Promise<void> {
    const m = this.members.find((x) => x.name === name);
    if (!m?.process) throw new Error(`no running member ${name}`);
    const exited = new Promise((res) => m.process?.once("exit", res));
    m.process.kill("SIGKILL");
    await exited;
  }

  /** Stops every member and removes the data folders. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.process && m.process.exitCode === null && m.process.signalCode === null) {
          const exited = new Promise((res) => m.process?.once("exit", res));
          m.process.kill("SIGKILL");
          await exited;
        }
      }),
    );
    fs.rmSync(this.dataRoot, { recursive: true, force: true });
  }
}
