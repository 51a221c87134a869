import { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ETCD_ENV_FILE, ETCD_TLS_FILES, parseEnvironmentFile } from "../../lib";
import { fileText, IgnitionConfig } from "../../lib/render/ignition";
import { parse } from "yaml";
import { applyCloudinitEnvironment, decodeContent } from "./cloud-config-schema";
import { sandboxAvailable, SANDBOX_REQUIREMENT, spawnInSandbox, spawnSyncInSandbox } from "./netns";
import { describeWithRequirement, describeWithTool } from "./tools";

const ETCDCTL_ENV = () => ({ PATH: process.env.PATH, ETCDCTL_API: "3" });

/** etcdctl's arguments: the endpoints, its timeouts, the client's TLS files, the command. */
function etcdctlArgs(
  endpoints: readonly string[],
  args: readonly string[],
  credentials: ClientCredentials | null,
): string[] {
  const tls = credentials
    ? [
        `--cacert=${credentials.cacert}`,
        ...(credentials.cert ? [`--cert=${credentials.cert}`] : []),
        ...(credentials.key ? [`--key=${credentials.key}`] : []),
      ]
    : [];
  return [
    `--endpoints=${endpoints.join(",")}`,
    "--dial-timeout=2s",
    "--command-timeout=5s",
    ...tls,
    ...args,
  ];
}

/**
 * Runs the etcd members described by synthesized Ignition files as real
 * `etcd` processes on this machine. Each machine's files (its etcd settings,
 * certificates and keys) are laid under a private folder that stands in for
 * its root filesystem; each member gets exactly the ETCD_* settings of its
 * /etc/etcd/etcd.env, with absolute paths moved under that folder. Nothing
 * else changes: clusters under test are synthesized with a network that is
 * local inside the test file's network namespace (see support/netns.ts), so
 * the addresses in the settings and in the certificates are the ones the
 * processes use.
 */

/**
 * `describe` for tests that run real etcd members: etcd and etcdctl (Debian's
 * etcd-server, etcd-client) and a network namespace of the test's own.
 */
export function describeWithEtcd(name: string, body: () => void): void {
  describeWithTool("etcd", "etcd-server", name, () =>
    describeWithTool("etcdctl", "etcd-client", "etcdctl", () =>
      describeWithRequirement(
        sandboxAvailable(),
        "network namespaces",
        SANDBOX_REQUIREMENT,
        "in a network namespace",
        body,
      ),
    ),
  );
}

/** One machine's files, read back from its Ignition config (or its cloud-config). */
export interface MachineArtifacts {
  readonly name: string;
  readonly files: Readonly<Record<string, { readonly contents: string; readonly mode: number }>>;
  /** The Ignition config; undefined for a machine provisioned with cloud-config. */
  readonly ignition?: IgnitionConfig;
}

/**
 * A machine's files as coreos-cloudinit writes them from its cloud-config:
 * the platform's placeholders replaced with the machine's addresses first
 * (`$private_ipv4` → `address`), then `write_files` decoded.
 */
export function readCloudConfigMachine(file: string, address: string): MachineArtifacts {
  const text = applyCloudinitEnvironment(fs.readFileSync(file, "utf8"), {
    $private_ipv4: address,
    $public_ipv4: address,
  });
  const cc = parse(text, { version: "1.1" }) as {
    write_files: Array<{ path: string; content: string; encoding?: string; permissions: string }>;
  };
  const files: Record<string, { contents: string; mode: number }> = {};
  for (const f of cc.write_files) {
    files[f.path] = {
      contents: decodeContent(f.content, f.encoding ?? ""),
      mode: parseInt(f.permissions, 8),
    };
  }
  return { name: path.basename(file, ".yml"), files };
}

/** A machine provisioned with Ignition: its config is there to read. */
export type IgnitionMachine = MachineArtifacts & { readonly ignition: IgnitionConfig };

export function readMachine(ignitionFile: string): IgnitionMachine {
  const ignition: IgnitionConfig = JSON.parse(fs.readFileSync(ignitionFile, "utf8"));
  const files: Record<string, { contents: string; mode: number }> = {};
  for (const f of ignition.storage.files) {
    files[f.path] = { contents: fileText(f), mode: f.mode };
  }
  return { name: path.basename(ignitionFile, ".ign"), files, ignition };
}

/** The etcd settings of every member machine among the Ignition files. */
export function memberSettingsFromIgnition(
  ignitionFiles: readonly string[],
): Record<string, string>[] {
  return ignitionFiles
    .map(readMachine)
    .filter((m) => m.files[ETCD_ENV_FILE])
    .map((m) => parseEnvironmentFile(m.files[ETCD_ENV_FILE].contents));
}

/** Lays a machine's files under `root`; returns a function that maps machine paths to it. */
export function layFiles(machine: MachineArtifacts, root: string): (p: string) => string {
  for (const [file, { contents, mode }] of Object.entries(machine.files)) {
    const target = path.join(root, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, contents, { mode });
    fs.chmodSync(target, mode);
  }
  return (p: string) => path.join(root, p);
}

/** TLS client flags for etcdctl. */
export interface ClientCredentials {
  readonly cacert: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly root: string;
  env: Record<string, string>;
  process?: ChildProcess;
  log: string;
}

export class EtcdTestCluster {
  public readonly members: EtcdMember[] = [];
  /** The first machine's own client credentials (as its etcdctl profile names them). */
  public readonly client: ClientCredentials;
  public readonly root: string;

  constructor(ignitionFiles: readonly string[]) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-members-"));
    const machines = ignitionFiles.map(readMachine);
    for (const m of machines) {
      const root = path.join(this.root, m.name);
      const at = layFiles(m, root);
      if (!m.files[ETCD_ENV_FILE]) continue;
      const env = relocate(parseEnvironmentFile(m.files[ETCD_ENV_FILE].contents), at);
      fs.mkdirSync(env.ETCD_DATA_DIR, { recursive: true, mode: 0o700 });
      this.members.push({
        name: env.ETCD_NAME,
        clientUrl: env.ETCD_ADVERTISE_CLIENT_URLS,
        peerUrl: env.ETCD_INITIAL_ADVERTISE_PEER_URLS,
        root,
        env,
        log: "",
      });
    }
    const first = path.join(this.root, machines[0].name);
    this.client = {
      cacert: path.join(first, ETCD_TLS_FILES.ca),
      cert: path.join(first, ETCD_TLS_FILES.clientCert),
      key: path.join(first, ETCD_TLS_FILES.clientKey),
    };
  }

  /** Starts every member (or the named ones) with its ETCD_* settings as the only configuration. */
  start(names?: readonly string[]): void {
    for (const m of this.members) {
      if (names && !names.includes(m.name)) continue;
      this.startMember(m, m.env);
    }
  }

  /** Starts one member with the given settings. */
  startMember(m: EtcdMember, env: Record<string, string>): void {
    const child = spawnInSandbox("etcd", [], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      m.log = (m.log + chunk.toString()).slice(-20000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    m.process = child;
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  /** etcdctl against the given endpoints, as the first machine's profile sets it up unless told otherwise. */
  etcdctl(
    endpoints: readonly string[],
    args: string[],
    timeoutMs = 8000,
    credentials: ClientCredentials | null = this.client,
  ) {
    const r = spawnSyncInSandbox("etcdctl", etcdctlArgs(endpoints, args, credentials), {
      env: ETCDCTL_ENV(),
      encoding: "utf8",
      timeout: timeoutMs,
    });
    return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  }

  /**
   * The same, without blocking: several calls that each wait out etcdctl's
   * command timeout (a refused client retries until then) run side by side.
   */
  etcdctlAsync(
    endpoints: readonly string[],
    args: string[],
    timeoutMs = 8000,
    credentials: ClientCredentials | null = this.client,
  ): Promise<{ ok: boolean; out: string }> {
    const child = spawnInSandbox("etcdctl", etcdctlArgs(endpoints, args, credentials), {
      env: ETCDCTL_ENV(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    return new Promise((resolve) =>
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ ok: code === 0, out });
      }),
    );
  }

  /** Endpoints of members still running. */
  liveEndpoints(): string[] {
    return this.members.filter((m) => isRunning(m)).map((m) => m.clientUrl);
  }

  /**
   * Polls until every listed member (all by default) reports healthy; returns
   * the milliseconds from `since`. Throws with the members' logs on timeout.
   */
  async waitHealthy(since: number, timeoutMs = 30000, names?: readonly string[]): Promise<number> {
    const urls = this.members
      .filter((m) => !names || names.includes(m.name))
      .map((m) => m.clientUrl);
    while (Date.now() - since < timeoutMs) {
      const r = this.etcdctl(urls, ["endpoint", "health"], 4000);
      if (r.ok) return Date.now() - since;
      await sleep(100);
    }
    throw new Error(`etcd cluster not healthy after ${timeoutMs} ms\n${this.logs()}`);
  }

  /** Retries a write until it succeeds; returns the milliseconds it took. */
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
      await sleep(100);
    }
    throw new Error(`no write accepted within ${timeoutMs} ms: ${last}\n${this.logs()}`);
  }

  /** The tail of every member's log, for failure messages. */
  logs(): string {
    return this.members.map((m) => `--- ${m.name}\n${m.log.slice(-2000)}`).join("\n");
  }

  /** SIGKILLs one member, like a node that loses power. */
  async kill(name: string): Promise<void> {
    const m = this.member(name);
    if (!m.process || !isRunning(m)) throw new Error(`no running member ${name}`);
    const exited = new Promise((res) => m.process?.once("exit", res));
    m.process.kill("SIGKILL");
    await exited;
  }

  /** Waits (bounded) for a member's process to exit; returns its exit code or undefined. */
  async waitExit(name: string, timeoutMs: number): Promise<number | null | undefined> {
    const m = this.member(name);
    const since = Date.now();
    while (Date.now() - since < timeoutMs) {
      if (m.process && !isRunning(m)) return m.process.exitCode;
      await sleep(100);
    }
    return undefined;
  }

  /** Stops every member and removes the machines' folders. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.process && isRunning(m)) {
          const exited = new Promise((res) => m.process?.once("exit", res));
          m.process.kill("SIGKILL");
          await exited;
        }
      }),
    );
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

function isRunning(m: EtcdMember): boolean {
  return Boolean(m.process && m.process.exitCode === null && m.process.signalCode === null);
}

/** Moves every absolute path in the settings under the machine's folder. */
export function relocate(
  env: Record<string, string>,
  at: (p: string) => string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = v.startsWith("/") ? at(v) : v;
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
