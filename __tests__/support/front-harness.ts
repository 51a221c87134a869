import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { FrontPlan } from "../../lib";
import { renderHaproxyCfg } from "../../lib/render/haproxy";
import { LAB_BACKEND } from "./lab-scripts";
import { loopbackBlock } from "./loopback";

/*
 * Runs a generated front for real on this machine: one `haproxy` process with
 * the haproxy.cfg rendered from a front plan, and one Node process per target
 * node. Stand-ins for separate machines, and nothing else: node addresses are
 * mapped to loopback addresses (a.b.c.d → 127.<block>.<net>.d, <block> reserved for
 * this process by loopback.ts), the listeners and the monitor URL bind to
 * 127.<block>.<net>.1, and the admin socket and server state file lie in a
 * temporary folder.
 * Every wait is for a condition (the admin socket answering, a new worker after
 * a reload), bounded in time, never a fixed pause.
 */

export interface BackendNode {
  readonly name: string;
  readonly address: string;
  process?: ChildProcess;
}

export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  readonly status: string;
  /** Times the server was selected by the balancer (HAProxy's lbtot). */
  readonly selected: number;
  /** Requests or connections retried after failing on this server (wretr). */
  readonly retries: number;
  /** Sessions open on it now (scur). */
  readonly sessions: number;
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** Responses per node name. */
  byNode: Record<string, number>;
  /** Responses per node name, after `markAt` (ms since start). */
  byNodeAfterMark: Record<string, number>;
  errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FrontTestbed {
  public readonly dir: string;
  public readonly frontAddress: string;
  public readonly nodes: BackendNode[];
  private haproxy?: ChildProcess;
  private haproxyLog = "";
  private readonly addressMap = new Map<string, string>();
  private readonly prefix: string;

  /**
   * @param plan the front plan; every member becomes a backend node
   * @param loopbackNet second-to-last octet of the loopback addresses (keeps parallel tests apart)
   */
  constructor(
    private readonly plan: FrontPlan,
    loopbackNet: number,
    private readonly ports: { http: number; tcp: number },
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "front-"));
    this.prefix = `127.${loopbackBlock()}.${loopbackNet}`;
    this.frontAddress = this.address(1);
    const members = new Map<string, string>();
    for (const l of plan.listeners) {
      for (const m of l.targetGroup.members) members.set(m.name, m.address);
    }
    this.nodes = [...members].map(([name, address]) => {
      const loopback = this.address(Number(address.split(".")[3]));
      this.addressMap.set(address, loopback);
      return { name, address: loopback };
    });
  }

  /** The address of host number `host` in this bed's loopback net (clients, the front, nodes). */
  address(host: number): string {
    return `${this.prefix}.${host}`;
  }

  get socket(): string {
    return path.join(this.dir, "admin.sock");
  }

  get stateFile(): string {
    return path.join(this.dir, "server-state");
  }

  /** The generated haproxy.cfg with addresses mapped to loopback. */
  config(plan: FrontPlan = this.plan): string {
    const text = renderHaproxyCfg(plan, {
      bindAddress: this.frontAddress,
      statsSocket: this.socket,
      monitorPort: this.ports.http + 404,
      serverStateFile: this.stateFile,
    });
    // The monitor URL binds the bed's own address: 127.0.0.1 is shared by every bed and clone.
    // Every connection is logged (the front skips empty ones): tests account for each by its port.
    return text
      .replace("  option dontlognull\n", "")
      .replace(
        `bind 127.0.0.1:${this.ports.http + 404}`,
        `bind ${this.frontAddress}:${this.ports.http + 404}`,
      )
      .replace(/\b(\d+\.\d+\.\d+\.\d+):/g, (whole, a: string) =>
        this.addressMap.has(a) ? `${this.addressMap.get(a)}:` : whole,
      );
  }

  async startNodes(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.startNode(n)));
  }

  private startNode(n: BackendNode): Promise<void> {
    const child = spawn(
      process.execPath,
      ["-e", LAB_BACKEND, n.name, n.address, String(this.ports.http), String(this.ports.tcp)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    n.process = child;
    return new Promise((resolve, reject) => {
      child.stdout?.on("data", (c: Buffer) => {
        if (c.toString().includes("ready")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`backend ${n.name} exited with ${code}`)));
    });
  }

  /** SIGKILL: the node dies as a crashed machine would, with requests in flight. Resolves once it is gone. */
  kill(name: string): Promise<void> {
    const child = this.nodes.find((x) => x.name === name)?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    return gone;
  }

  /** Starts HAProxy (master-worker, as the front machines run it) and waits for the listeners. */
  async startHaproxy(plan: FrontPlan = this.plan): Promise<void> {
    const cfg = path.join(this.dir, "haproxy.cfg");
    fs.writeFileSync(cfg, this.config(plan));
    const child = spawn("haproxy", ["-W", "-db", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
    // Enough for every connection log line of a test's run (~100 bytes each).
    const keep = (c: Buffer) =>
      (this.haproxyLog = (this.haproxyLog + c.toString()).slice(-2_000_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.haproxy = child;
    const deadline = Date.now() + 10000;
    for (const l of plan.listeners) {
      while (!(await canConnect(this.frontAddress, l.port))) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`haproxy did not listen on ${l.port}:\n${this.haproxyLog}`);
        }
        await sleep(50);
      }
    }
    await this.waitUntil((s) => s.every((x) => x.status !== "INI"), 10000);
  }

  /**
   * Writes a new config and reloads HAProxy the way the front's `systemctl reload` does:
   * the servers' runtime states go to the state file, then SIGUSR2. Resolves once a new
   * worker answers on the admin socket with every server out of its initial state.
   */
  async reload(plan: FrontPlan): Promise<void> {
    const before = await this.workerPid();
    fs.writeFileSync(this.stateFile, await adminCommand(this.socket, "show servers state"));
    fs.writeFileSync(path.join(this.dir, "haproxy.cfg"), this.config(plan));
    this.haproxy?.kill("SIGUSR2");
    const deadline = Date.now() + 15000;
    for (;;) {
      const pid = await this.workerPid();
      if (pid !== undefined && pid !== before) {
        const stats = await this.stats().catch(() => []);
        if (stats.length > 0 && stats.every((x) => x.status !== "INI")) return;
      }
      if (Date.now() > deadline || this.haproxy?.exitCode !== null) {
        throw new Error(`haproxy did not reload (worker ${before} → ${pid}):\n${this.haproxyLog}`);
      }
      await sleep(20);
    }
  }

  /** The worker's pid from `show info`; undefined while no worker answers. */
  private async workerPid(): Promise<string | undefined> {
    try {
      return /^Pid: (\d+)/m.exec(await adminCommand(this.socket, "show info"))?.[1];
    } catch {
      return undefined;
    }
  }

  /** Sends one command to the admin socket (HAProxy's runtime API). */
  command(command: string): Promise<string> {
    return adminCommand(this.socket, command);
  }

  get log(): string {
    return this.haproxyLog;
  }

  /** `show stat` over the admin socket; waits (bounded) while the socket is not there yet. */
  async stats(): Promise<ServerStat[]> {
    const deadline = Date.now() + 10000;
    let csv = "";
    for (;;) {
      try {
        csv = await adminCommand(this.socket, "show stat");
        if (csv.startsWith("# ")) break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== "ENOENT" && code !== "ECONNREFUSED") || Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`no answer to show stat: ${csv}`);
      await sleep(20);
    }
    const lines = csv.split("\n").filter(Boolean);
    const header = lines[0].replace(/^# /, "").split(",");
    const col = (name: string) => header.indexOf(name);
    return lines
      .slice(1)
      .map((l) => l.split(","))
      .filter((f) => f[col("svname")] !== "FRONTEND" && f[col("svname")] !== "BACKEND")
      .map((f) => ({
        backend: f[col("pxname")],
        server: f[col("svname")],
        status: f[col("status")].split(" ")[0],
        selected: Number(f[col("lbtot")] || 0),
        retries: Number(f[col("wretr")] || 0),
        sessions: Number(f[col("scur")] || 0),
      }));
  }

  /** Polls `show stat` until `done` holds; returns the ms waited. */
  async waitUntil(done: (s: ServerStat[]) => boolean, timeoutMs: number): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if (done(await this.stats())) return Date.now() - start;
      await sleep(20);
    }
    throw new Error(
      `condition not reached in ${timeoutMs} ms:\n${JSON.stringify(await this.stats())}`,
    );
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) n.process?.kill("SIGKILL");
    if (this.haproxy && this.haproxy.exitCode === null) {
      let timer: NodeJS.Timeout | undefined;
      const exited = new Promise((r) => this.haproxy?.once("exit", r));
      this.haproxy.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      this.haproxy.kill("SIGKILL");
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let out = "";
    s.on("data", (c) => (out += c.toString()));
    s.on("end", () => resolve(out));
    s.on("error", reject);
    s.write(`${command}\n`);
  });
}

/** One HTTP GET; resolves to the answering node's name. */
export function get(
  agent: http.Agent,
  host: string,
  port: number,
  pathAndQuery = "/",
  localAddress?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host, port, path: pathAndQuery, agent, localAddress, timeout: 10000 },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`)),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/**
 * `concurrency` clients send GETs back to back until `stop()` is called.
 * Each response names the node that answered it.
 */
export function httpLoad(
  host: string,
  port: number,
  concurrency: number,
  pathAndQuery = "/",
): { stop: () => Promise<LoadResult>; mark: () => void; progress: () => LoadResult } {
  const result: LoadResult = { ok: 0, failed: 0, byNode: {}, byNodeAfterMark: {}, errors: [] };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let running = true;
  let marked = false;
  const worker = async () => {
    while (running) {
      try {
        const node = await get(agent, host, port, pathAndQuery);
        result.ok++;
        result.byNode[node] = (result.byNode[node] ?? 0) + 1;
        if (marked) result.byNodeAfterMark[node] = (result.byNodeAfterMark[node] ?? 0) + 1;
      } catch (e) {
        result.failed++;
        if (result.errors.length < 20) result.errors.push((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    mark: () => {
      marked = true;
    },
    /** The counts so far (live: they go on changing until stop()). */
    progress: () => result,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return result;
    },
  };
}

/** Polls `done` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

/** A TCP client connection that sends a line and reads the echo ("<node>:<line>"). */
export class LineClient {
  private readonly socket: net.Socket;
  private buffer = "";
  private waiting?: { resolve: (l: string) => void; reject: (e: Error) => void };
  private closed?: Error;

  private readonly port?: number;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.port = socket.localPort;
    socket.on("data", (c) => {
      this.buffer += c.toString();
      const i = this.buffer.indexOf("\n");
      if (i >= 0 && this.waiting) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.waiting.resolve(line);
        this.waiting = undefined;
      }
    });
    const fail = (e: Error) => {
      this.closed = e;
      this.waiting?.reject(e);
      this.waiting = undefined;
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  static connect(host: string, port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      s.once("connect", () => resolve(new LineClient(s)));
      s.once("error", reject);
    });
  }

  /** The client's port (kept once closed): HAProxy's log names the connection by it. */
  get localPort(): number | undefined {
    return this.port;
  }

  /** Sends a line; resolves to the answering node's name. */
  ask(line: string, timeoutMs = 5000): Promise<string> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      this.waiting = {
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l.split(":")[0]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A TCP connection as HAProxy's `option tcplog` line tells it. */
export interface TcpLogEntry {
  readonly clientPort: number;
  readonly server: string;
  /** Termination state, e.g. "--" (normal), "D-" (killed: its server was marked down). */
  readonly termination: string;
  /** Connection retries; redispatched to another server when it starts with "+". */
  readonly retries: string;
}

/** The tcplog lines of `frontend` in HAProxy's log, by client port. */
export function tcpLogEntries(log: string, frontend: string): Map<number, TcpLogEntry> {
  const entries = new Map<number, TcpLogEntry>();
  const line = new RegExp(
    `^\\S+:(\\d+) \\[[^\\]]+\\] ${frontend} \\S+/(\\S+) \\S+ \\d+ (\\S+) \\d+/\\d+/\\d+/\\d+/(\\S+) `,
    "gm",
  );
  for (const m of log.matchAll(line)) {
    entries.set(Number(m[1]), {
      clientPort: Number(m[1]),
      server: m[2],
      termination: m[3],
      retries: m[4],
    });
  }
  return entries;
}
