import { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ETCD_ENV_FILE,
  ETCD_TLS_FILES,
  parseEnvironmentFile,
  renderEnvironmentFile,
} from "../../lib";
import { ETCD_JOIN_ENV_FILE, ETCD_JOIN_SCRIPT } from "../../lib/render/etcd-units";
import { layFiles, MachineArtifacts, readMachine, relocate, sleep } from "./etcd-harness";
import { spawnInSandbox, spawnSyncInSandbox } from "./netns";

/*
 * Machines of a cluster as the nodes run them, day 2 included: each machine
 * is a folder standing in for its root filesystem, laid from its synthesized
 * Ignition file. Booting a machine does what its units do, in their order:
 * a member runs the generated membership script (`/opt/etcd/etcd-member-join
 * join`), then etcd with the runtime settings the script wrote, then the
 * script's `promote`; a machine that is no member runs `leave`. Replacing a
 * machine is what both targets do: the old one dies (SIGKILL, its folder and
 * data are gone), the new one boots from its (possibly new) Ignition file.
 * Stand-ins: etcdctl from Debian instead of the etcd image's (the script's
 * ETCD_JOIN_ETCDCTL), absolute paths moved into each machine's folder, the
 * network a namespace of the test (support/netns.ts).
 */

interface Machine {
  readonly name: string;
  readonly root: string;
  readonly artifacts: MachineArtifacts;
  env?: Record<string, string>;
  etcd?: ChildProcess;
  promote?: Promise<number | null>;
  log: string;
}

/** Reads an environment file whose values may be double-quoted (systemd's EnvironmentFile). */
function readEnv(text: string): Record<string, string> {
  const env = parseEnvironmentFile(text);
  for (const [k, v] of Object.entries(env)) env[k] = v.replace(/^"(.*)"$/, "$1");
  return env;
}

function running(p?: ChildProcess): boolean {
  return Boolean(p && p.exitCode === null && p.signalCode === null);
}

export class EtcdFleet {
  public readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-fleet-"));
  private readonly machines = new Map<string, Machine>();

  /**
   * Boots a machine from its Ignition file (or the machine's files read from
   * its cloud-config): join, etcd, promote (members) or leave. `delivered`:
   * files the deploy puts on the machine besides its config (the discovery
   * token).
   */
  async boot(
    source: string | MachineArtifacts,
    delivered: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const base = typeof source === "string" ? readMachine(source) : source;
    const extra = Object.fromEntries(
      Object.entries(delivered).map(([p, contents]) => [p, { contents, mode: 0o600 }]),
    );
    const artifacts: MachineArtifacts = { ...base, files: { ...base.files, ...extra } };
    const root = path.join(this.root, artifacts.name);
    fs.rmSync(root, { recursive: true, force: true });
    const at = layFiles(artifacts, root);
    const m: Machine = { name: artifacts.name, root, artifacts, log: "" };
    this.machines.set(m.name, m);
    const join = relocate(readEnv(artifacts.files[ETCD_JOIN_ENV_FILE].contents), at);
    const scriptEnv: Record<string, string> = {
      ...join,
      ETCD_JOIN_ETCDCTL: "etcdctl",
      ETCD_JOIN_TIMEOUT_SECONDS: "120",
    };
    if (!artifacts.files[ETCD_ENV_FILE]) {
      const code = await this.script(m, "leave", scriptEnv);
      if (code !== 0) throw new Error(`${m.name}: leave exited ${code}\n${m.log}`);
      return;
    }
    // The static settings as this machine sees them (paths moved into its folder).
    const staticEnv = relocate(readEnv(artifacts.files[ETCD_ENV_FILE].contents), at);
    fs.writeFileSync(at(ETCD_ENV_FILE), renderEnvironmentFile(Object.entries(staticEnv)));
    fs.mkdirSync(staticEnv.ETCD_DATA_DIR, { recursive: true, mode: 0o700 });
    const env = { ...staticEnv, ...scriptEnv };
    const code = await this.script(m, "join", env);
    if (code !== 0) throw new Error(`${m.name}: join exited ${code}\n${m.log}`);
    m.env = readEnv(fs.readFileSync(join.ETCD_JOIN_RUNTIME_ENV, "utf8"));
    m.etcd = spawnInSandbox("etcd", [], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...m.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      m.log = (m.log + chunk.toString()).slice(-30000);
    };
    m.etcd.stdout?.on("data", keep);
    m.etcd.stderr?.on("data", keep);
    m.promote = this.script(m, "promote", env);
  }

  /** Runs the machine's own membership script (bounded by its own deadline and ours). */
  private script(m: Machine, mode: string, env: Record<string, string>): Promise<number | null> {
    const child = spawnInSandbox("bash", [path.join(m.root, ETCD_JOIN_SCRIPT), mode], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (c: Buffer) => (m.log += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (m.log += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    return new Promise((resolve) =>
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      }),
    );
  }

  /** The machine dies and its disk with it (a destroyed VM or instance). */
  async destroy(name: string): Promise<void> {
    const m = this.machines.get(name);
    if (!m) return;
    if (m.etcd && running(m.etcd)) {
      const exited = new Promise((res) => m.etcd?.once("exit", res));
      m.etcd.kill("SIGKILL");
      await exited;
    }
    await m.promote;
    fs.rmSync(m.root, { recursive: true, force: true });
    this.machines.delete(name);
  }

  /** Destroy, then boot from the new Ignition file: how both targets replace a node. */
  async replace(name: string, ignitionFile: string): Promise<void> {
    await this.destroy(name);
    await this.boot(ignitionFile);
  }

  /** Client URLs of the machines that run a member now. */
  endpoints(): string[] {
    return [...this.machines.values()]
      .filter((m) => m.env && running(m.etcd))
      .map((m) => m.env!.ETCD_ADVERTISE_CLIENT_URLS);
  }

  /** TLS flags of a machine's own client certificate (all machines share the CA). */
  clientFlags(name?: string): string[] {
    const m = name ? this.machines.get(name) : [...this.machines.values()][0];
    if (!m) throw new Error("no machine");
    return [
      `--cacert=${path.join(m.root, ETCD_TLS_FILES.ca)}`,
      `--cert=${path.join(m.root, ETCD_TLS_FILES.clientCert)}`,
      `--key=${path.join(m.root, ETCD_TLS_FILES.clientKey)}`,
    ];
  }

  etcdctl(args: string[], endpoints = this.endpoints()) {
    const r = spawnSyncInSandbox(
      "etcdctl",
      [
        `--endpoints=${endpoints.join(",")}`,
        "--dial-timeout=2s",
        "--command-timeout=5s",
        ...this.clientFlags(),
        ...args,
      ],
      { env: { PATH: process.env.PATH, ETCDCTL_API: "3" }, encoding: "utf8", timeout: 10000 },
    );
    return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  }

  /** `member list` as records. */
  members(): Array<{ id: string; status: string; name: string; learner: boolean }> {
    const r = this.etcdctl(["member", "list"]);
    return r.out
      .split("\n")
      .filter((l) => /^[0-9a-f]+, /.test(l))
      .map((l) => l.split(", "))
      .map((f) => ({ id: f[0], status: f[1], name: f[2], learner: f[5] === "true" }));
  }

  /**
   * Waits until etcd's members are exactly `names`, all started and voting,
   * and every one answers healthy. Returns the milliseconds it took.
   */
  async waitMembers(names: readonly string[], timeoutMs = 120_000): Promise<number> {
    const since = Date.now();
    const want = [...names].sort().join(",");
    let last = "";
    while (Date.now() - since < timeoutMs) {
      const list = this.members();
      last = JSON.stringify(list);
      const voting = list.filter((m) => m.status === "started" && !m.learner).map((m) => m.name);
      if (voting.sort().join(",") === want && list.length === names.length) {
        const urls = names.map((n) => this.machines.get(n)?.env?.ETCD_ADVERTISE_CLIENT_URLS);
        if (urls.every(Boolean) && this.etcdctl(["endpoint", "health"], urls as string[]).ok) {
          return Date.now() - since;
        }
      }
      await sleep(200);
    }
    throw new Error(`members not ${want} after ${timeoutMs} ms: ${last}\n${this.logs()}`);
  }

  logs(): string {
    return [...this.machines.values()]
      .map((m) => `--- ${m.name}\n${m.log.slice(-3000)}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    for (const name of [...this.machines.keys()]) await this.destroy(name);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A writer that keeps writing while the cluster changes: a separate process
 * (so the test's own waits do not stall it), one `etcdctl put` after another
 * against every endpoint given, each logged with its outcome and time.
 * Bounded: it stops by itself after `maxSeconds`.
 */
export class Writer {
  private readonly log: string;
  private readonly child: ChildProcess;

  constructor(
    dir: string,
    endpoints: readonly string[],
    tlsFlags: readonly string[],
    maxSeconds = 600,
  ) {
    this.log = path.join(dir, `writer-${Date.now()}.log`);
    const script = `end=$(( $(date +%s) + ${maxSeconds} )); i=0
while [ "$(date +%s)" -lt "$end" ]; do
  i=$((i + 1))
  if etcdctl --endpoints=${endpoints.join(",")} --dial-timeout=1s --command-timeout=2s ${tlsFlags.join(" ")} put writer "$i" >/dev/null 2>&1; then
    echo "ok $(date +%s%3N)"; else echo "fail $(date +%s%3N)"; fi
  sleep 0.05
done >> ${this.log}`;
    this.child = spawnInSandbox("bash", ["-c", script], {
      env: { PATH: process.env.PATH, ETCDCTL_API: "3" },
      stdio: "ignore",
    });
  }

  /** Stops the writer; returns the writes that failed and the longest stretch without a successful write. */
  async stop(): Promise<{ writes: number; failed: number; longestGapMs: number }> {
    const exited = new Promise((res) => this.child.once("exit", res));
    this.child.kill("SIGTERM");
    await exited;
    const lines = fs.readFileSync(this.log, "utf8").trim().split("\n").filter(Boolean);
    let lastOk = -1;
    let longestGapMs = 0;
    let failed = 0;
    for (const line of lines) {
      const [outcome, at] = line.split(" ");
      if (outcome === "ok") {
        if (lastOk >= 0) longestGapMs = Math.max(longestGapMs, Number(at) - lastOk);
        lastOk = Number(at);
      } else {
        failed++;
      }
    }
    return { writes: lines.length, failed, longestGapMs };
  }
}
