import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ETCD_ENV_FILE, ETCD_TLS_DIR, ETCD_TLS_FILES, parseEnvironmentFile } from "../../lib";
import { run } from "../../lib/ops/transport";
import { layFiles, IgnitionMachine, readMachine, relocate } from "./etcd-harness";
import { LAB_BACKEND, LAB_LOADGEN, LAB_SERVICE, SYSTEMCTL_STANDIN } from "./lab-scripts";
import { ExecResult, LabProcess, NetnsLab, sandboxAvailable } from "./netns";
import { describeWithRequirement } from "./tools";

/*
 * A synthesized cluster run for real, one network namespace per machine at
 * its planned address on one bridge, from the artifacts `cdktf synth` wrote. Each node's
 * Ignition files lie under a folder standing in for its root filesystem (absolute paths in
 * settings moved there, as the etcd tests do):
 *   - etcd members: exactly the ETCD_* settings of each member's /etc/etcd/etcd.env, mutual TLS
 *     with the member certificates synth made (Debian's etcd 3.4 for the image's 3.5; the
 *     settings turn pre-vote on, as 3.5 has it anyway);
 *   - front machines: the generated haproxy.cfg (HAProxy from Debian) and each machine's
 *     keepalived.conf (keepalived from Debian), unchanged but for file paths (admin socket,
 *     server state) moved into a temporary folder; ip_nonlocal_bind as the front's Ignition sets it;
 *   - failover agents: the script and config files of each node's Ignition, run by sh with
 *     Debian's etcdctl and the node's own client certificate; units and drop-ins from the
 *     Ignition too.
 * Stand-ins, for what a namespace cannot run: systemd (SYSTEMCTL_STANDIN runs a unit's
 * ExecStart=), the containers (each node's web service and the failover service's server are
 * Node processes), and the agent's ExecStartPre that copies etcdctl out of the etcd image.
 */

export interface LabOptions {
  /** The synthesized stack folder (cdktf.out/stacks/<stack>). */
  readonly stackDir: string;
  readonly cluster: string;
  /** Ports of each node's web service (HTTP, TCP echo). */
  readonly backendPorts: { readonly http: number; readonly tcp: number };
}

export interface LabNode {
  readonly name: string;
  readonly address: string;
  /** The member's ETCD_* settings, paths moved under `root`; undefined on etcd clients. */
  readonly etcdEnv?: Record<string, string>;
  /** The node's Ignition: its files (text) and units. */
  readonly machine: IgnitionMachine;
  /** The folder standing in for the node's root filesystem. */
  readonly root: string;
  /** Failover services this node runs an agent for: [service name, conf path on the node]. */
  readonly agents: { service: string; conf: string }[];
}

export interface LabFront {
  readonly name: string;
  readonly address: string;
  readonly keepalivedConf: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it gives a value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ""}`);
}

/** One command to HAProxy's runtime API over its unix socket. */
export function haproxyCommand(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let out = "";
    const timer = setTimeout(() => s.destroy(new Error(`${command}: no answer`)), timeoutMs);
    s.on("data", (c) => (out += c.toString()));
    s.on("end", () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.write(`${command}\n`);
  });
}

export class ClusterLab {
  public readonly lab: NetnsLab;
  public readonly work: string;
  public readonly nodes: LabNode[];
  public readonly fronts: LabFront[];
  public readonly vip: string;
  public readonly client = "client";
  public readonly haproxyCfgPath: string;
  /** start/stop lines of the units the agents ran: "<ms> <node> start|stop <unit>". */
  public readonly unitLog: string;
  private readonly running = new Map<string, LabProcess[]>();
  private loads = 0;

  constructor(private readonly options: LabOptions) {
    const clusterDir = path.join(options.stackDir, "clusters", options.cluster);
    const summary = JSON.parse(fs.readFileSync(path.join(clusterDir, "cluster.json"), "utf8"));
    const vagrantDir = path.join(options.stackDir, "vagrant", options.cluster);
    this.haproxyCfgPath = path.join(vagrantDir, "front", "haproxy.cfg");
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-lab-"));
    this.unitLog = path.join(this.work, "units.log");
    fs.writeFileSync(this.unitLog, "");
    fs.writeFileSync(path.join(this.work, "systemctl"), SYSTEMCTL_STANDIN, { mode: 0o755 });
    fs.writeFileSync(path.join(this.work, "service.js"), LAB_SERVICE);

    this.nodes = summary.nodes.map((n: { name: string; address: string; ignition: string }) => {
      const machine = readMachine(path.join(clusterDir, n.ignition));
      const root = path.join(this.work, n.name, "root");
      const agents = machine.ignition.systemd.units
        .filter((u) => /^failover-.+\.service$/.test(u.name) && u.contents)
        .map((u) => ({
          service: u.name.replace(/^failover-|\.service$/g, ""),
          conf: (/^ExecStart=\S+ (\S+)$/m.exec(u.contents as string) ?? [])[1] as string,
        }));
      const env = machine.files[ETCD_ENV_FILE];
      return {
        name: n.name,
        address: n.address,
        etcdEnv: env
          ? relocate(parseEnvironmentFile(env.contents), (p) => path.join(root, p))
          : undefined,
        machine,
        root,
        agents,
      };
    });
    this.fronts = fs
      .readdirSync(path.join(vagrantDir, "front"))
      .filter((f) => f.endsWith("-keepalived.conf"))
      .sort()
      .map((f) => {
        const conf = fs.readFileSync(path.join(vagrantDir, "front", f), "utf8");
        return {
          name: f.replace("-keepalived.conf", ""),
          address: (/unicast_src_ip (\S+)/.exec(conf) ?? [])[1] as string,
          keepalivedConf: conf,
        };
      });
    const vipLine = /virtual_ipaddress \{\s*(\S+)\/(\d+)/.exec(this.fronts[0].keepalivedConf);
    if (!vipLine) throw new Error("no virtual address in the keepalived config");
    this.vip = vipLine[1];
    this.lab = new NetnsLab(Number(vipLine[2]));
  }

  /** Machines, then etcd, web services, fronts and agents; resolves when all are ready. */
  async start(): Promise<void> {
    for (const n of this.nodes) this.installNode(n.name);
    for (const n of this.nodes) this.lab.addMachine(n.name, n.address);
    for (const f of this.fronts) this.lab.addMachine(f.name, f.address);
    const last = this.nodes[this.nodes.length - 1].address.split(".");
    this.lab.addMachine(this.client, [...last.slice(0, 3), "250"].join("."));
    for (const n of this.nodes) this.startEtcd(n.name);
    await this.waitEtcdHealthy(60000);
    await Promise.all(this.nodes.map((n) => this.startBackend(n.name)));
    for (const f of this.fronts) await this.startFront(f.name);
    await this.waitVip(30000);
    for (const n of this.nodes) this.startAgents(n.name);
  }

  private track(machine: string, p: LabProcess): LabProcess {
    this.running.set(machine, [...(this.running.get(machine) ?? []), p]);
    return p;
  }

  node(name: string): LabNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  // ---- etcd ---------------------------------------------------------------

  startEtcd(name: string): void {
    const env = this.node(name).etcdEnv;
    if (!env) return;
    fs.mkdirSync(env.ETCD_DATA_DIR, { recursive: true, mode: 0o700 });
    // A member that restarts with its data rejoins; ETCD_INITIAL_* are ignored then.
    this.track(name, this.lab.spawn(name, ["etcd"], { PATH: process.env.PATH, ...env }));
  }

  get etcdEndpoints(): string[] {
    return this.nodes
      .filter((n) => n.etcdEnv)
      .map((n) => n.etcdEnv?.ETCD_ADVERTISE_CLIENT_URLS as string);
  }

  /** Where a node's etcd CA and client certificate lie in the lab. */
  tlsDir(node: string): string {
    return path.join(this.node(node).root, ETCD_TLS_DIR);
  }

  /** etcdctl's TLS flags with `node`'s own client certificate (etcd refuses clients without one). */
  etcdctlFlags(node: string): string[] {
    const at = (f: string) => path.join(this.node(node).root, f);
    return [
      `--endpoints=${this.etcdEndpoints.join(",")}`,
      `--cacert=${at(ETCD_TLS_FILES.ca)}`,
      `--cert=${at(ETCD_TLS_FILES.clientCert)}`,
      `--key=${at(ETCD_TLS_FILES.clientKey)}`,
    ];
  }

  /** Debian's etcdctl inside a node's namespace, with its certificate, against every member. */
  etcdctl(args: string[], from = this.nodes[0].name, timeoutMs = 8000): ExecResult {
    return this.lab.exec(
      from,
      ["etcdctl", ...this.etcdctlFlags(from), "--dial-timeout=1s", "--command-timeout=3s", ...args],
      timeoutMs,
      { PATH: process.env.PATH, ETCDCTL_API: "3" },
    );
  }

  async waitEtcdHealthy(timeoutMs: number, from = this.nodes[0].name): Promise<void> {
    await waitFor(
      "etcd cluster healthy",
      () => this.etcdctl(["endpoint", "health"], from).status === 0,
      timeoutMs,
      200,
    ).catch((e) => {
      throw new Error(`${e.message}\n${this.logs("etcd")}`);
    });
  }

  // ---- web service on every node -------------------------------------------

  async startBackend(name: string): Promise<void> {
    const n = this.node(name);
    const { http, tcp } = this.options.backendPorts;
    const p = this.track(
      name,
      this.lab.spawn(name, [
        process.execPath,
        "-e",
        LAB_BACKEND,
        n.name,
        n.address,
        String(http),
        String(tcp),
      ]),
    );
    await waitFor(`web service on ${name}`, () => p.log.includes("ready"), 20000);
  }

  // ---- front machines --------------------------------------------------------

  frontDir(name: string): string {
    return path.join(this.work, name);
  }

  adminSocket(front: string): string {
    return path.join(this.frontDir(front), "run", "admin.sock");
  }

  /** The generated haproxy.cfg with the admin socket and state file moved into the lab's folder. */
  haproxyConfig(front: string, text = fs.readFileSync(this.haproxyCfgPath, "utf8")): string {
    const dir = this.frontDir(front);
    return text
      .replaceAll("/run/haproxy/", `${dir}/run/`)
      .replaceAll("/var/lib/haproxy/", `${dir}/lib/`);
  }

  async startFront(name: string): Promise<void> {
    const dir = this.frontDir(name);
    for (const d of ["run", "lib"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), this.haproxyConfig(name));
    const sysctl = this.lab.exec(name, ["sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"]);
    if (sysctl.status !== 0) throw new Error(`sysctl on ${name}: ${sysctl.stderr}`);
    await this.startHaproxy(name);
    const f = this.fronts.find((x) => x.name === name) as LabFront;
    fs.writeFileSync(path.join(dir, "keepalived.conf"), f.keepalivedConf);
    this.track(
      name,
      this.lab.spawn(name, [
        "keepalived",
        "--dont-fork",
        "--log-console",
        "--log-detail",
        "--use-file",
        path.join(dir, "keepalived.conf"),
        `--pid=${dir}/keepalived.pid`,
        `--vrrp_pid=${dir}/vrrp.pid`,
        `--checkers_pid=${dir}/checkers.pid`,
      ]),
    );
  }

  async startHaproxy(name: string): Promise<void> {
    const cfg = path.join(this.frontDir(name), "haproxy.cfg");
    const haproxy = this.track(name, this.lab.spawn(name, ["haproxy", "-W", "-db", "-f", cfg]));
    await this.waitHaproxy(name, haproxy);
  }

  /** SIGKILLs HAProxy (master and workers) on a front machine; keepalived keeps running. */
  killHaproxy(name: string): void {
    for (const p of this.running.get(name) ?? []) {
      if (p.child.spawnargs.includes("haproxy")) p.child.kill("SIGKILL");
    }
    for (const pid of this.lab.pids(name)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "haproxy") {
          process.kill(pid, "SIGKILL");
        }
      } catch {
        // gone already
      }
    }
  }

  /** Ready = the admin socket answers and every server has left its initial state. */
  async waitHaproxy(name: string, p?: LabProcess, timeoutMs = 20000): Promise<void> {
    await waitFor(
      `HAProxy on ${name}`,
      async () => {
        if (p && p.child.exitCode !== null) throw new Error(`haproxy exited:\n${p.log}`);
        const stat = await haproxyCommand(this.adminSocket(name), "show stat");
        return stat.includes("svname") && !/,INI/.test(stat);
      },
      timeoutMs,
    ).catch((e) => {
      throw new Error(`${e.message}\n${p?.log ?? ""}`);
    });
  }

  haproxy(front: string, command: string): Promise<string> {
    return haproxyCommand(this.adminSocket(front), command);
  }

  /** The `show stat` row of `backend/server` on a front, split into its CSV fields. */
  private async serverStat(
    front: string,
    backend: string,
    server: string,
  ): Promise<string[] | undefined> {
    const stat = await this.haproxy(front, "show stat");
    return stat
      .split("\n")
      .find((l) => l.startsWith(`${backend},${server},`))
      ?.split(",");
  }

  /**
   * Sessions of `backend/server` as the live fronts' HAProxy count them: open now (`scur`)
   * and since start (`stot`; one per HTTP request), summed over the fronts.
   */
  async sessions(backend: string, server: string): Promise<{ current: number; total: number }> {
    let current = 0;
    let total = 0;
    for (const f of this.fronts.filter(
      (x) => this.lab.machines.has(x.name) && !this.down.has(x.name),
    )) {
      const fields = await this.serverStat(f.name, backend, server);
      if (!fields) throw new Error(`no ${backend}/${server} in HAProxy's stats on ${f.name}`);
      current += Number(fields[4]);
      total += Number(fields[7]);
    }
    return { current, total };
  }

  /** The front machine that holds the virtual address now, if any. */
  vipHolder(): string | undefined {
    return this.fronts.find((f) => {
      // A dead machine answers nobody, whatever addresses its namespace still lists.
      if (!this.lab.machines.has(f.name) || this.down.has(f.name)) return false;
      const r = this.lab.exec(f.name, ["ip", "-o", "addr", "show", "dev", "eth1"], 5000);
      return r.stdout.includes(` ${this.vip}/`);
    })?.name;
  }

  async waitVip(timeoutMs: number): Promise<string> {
    return waitFor(
      "a front holding the virtual address",
      () => this.vipHolder(),
      timeoutMs,
      100,
    ).catch((e) => {
      throw new Error(`${e.message}\n${this.logs("keepalived")}`);
    });
  }

  /** Polls HAProxy on the front holding the address until `backend/server` has a status matching `status`. */
  async waitServer(
    backend: string,
    server: string,
    status: RegExp,
    timeoutMs: number,
  ): Promise<number> {
    const front = this.vipHolder() ?? this.fronts[0].name;
    await waitFor(
      `${backend}/${server} ${status} on ${front}`,
      async () => {
        const fields = await this.serverStat(front, backend, server);
        return fields !== undefined && status.test(fields[17]);
      },
      timeoutMs,
      20,
    );
    return Date.now();
  }

  /**
   * A `vagrant` and a `sudo` for the Vagrant transport in the lab: `vagrant status
   * --machine-readable` lists the lab's machines, `vagrant ssh M -c CMD` runs CMD in M's
   * namespace. Returns the folder to put first on PATH.
   */
  vagrantStandIn(): string {
    const dir = path.join(this.work, "vagrant-bin");
    fs.mkdirSync(dir, { recursive: true });
    const prefix = `${this.lab.id}-`;
    fs.writeFileSync(
      path.join(dir, "vagrant"),
      `#!/bin/sh
case "$1" in
  status) for m in ${[...this.lab.machines.keys()].join(" ")}; do echo "0,$m,state,running"; done ;;
  ssh) [ "$3" = -c ] || exit 2; exec ip netns exec "${prefix}$2" sh -c "$4" ;;
  *) echo "vagrant stand-in: $1 not supported" >&2; exit 2 ;;
esac
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(dir, "sudo"), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
    return dir;
  }

  /** Runs the operations CLI (lib/cli/main.ts) against the lab; resolves with its output. */
  cli(
    outdir: string,
    args: string[],
    options: { transport?: "netns" | "vagrant"; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const transport =
      options.transport === "vagrant"
        ? ["--transport", "vagrant"]
        : ["--transport", "netns", "--netns-prefix", `${this.lab.id}-`];
    // The project's app runner: cached JavaScript, no TypeScript loaded per command.
    const argv = [
      "-r",
      "./scripts/ts-register.cjs",
      path.join(__dirname, "..", "..", "lib", "cli", "main.ts"),
      ...args,
      "--outdir",
      outdir,
      ...transport,
      "--haproxy-socket",
      path.join(this.work, "{machine}", "run", "admin.sock"),
      "--server-state",
      path.join(this.work, "{machine}", "lib", "server-state"),
      "--etcd-tls-dir",
      path.join(this.work, "{machine}", "root", ETCD_TLS_DIR),
    ];
    const env = {
      ...process.env,
      PATH:
        options.transport === "vagrant"
          ? `${this.vagrantStandIn()}:${process.env.PATH}`
          : process.env.PATH,
    };
    return run(process.execPath, argv, {
      env,
      cwd: path.join(__dirname, "..", ".."),
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  }

  /**
   * Runs `etcdctl watch` on `from` and records when each line arrives: when etcd
   * deleted or created a key, as the cluster saw it.
   */
  watch(key: string, from: string): LabProcess {
    return this.lab.spawn(from, ["etcdctl", ...this.etcdctlFlags(from), "watch", "--prefix", key], {
      PATH: process.env.PATH,
      ETCDCTL_API: "3",
    });
  }

  // ---- failover agents -----------------------------------------------------------

  /**
   * Lays the node's Ignition files under its root folder (keys 0600 as Ignition writes them),
   * its units and drop-ins under <work>/<node>/units. The agents' configs name etcd's
   * certificate files: their paths move under the root, like every other path of the lab.
   */
  private installNode(name: string): void {
    const n = this.node(name);
    layFiles(n.machine, n.root);
    for (const a of n.agents) {
      const conf = path.join(n.root, a.conf);
      const text = fs.readFileSync(conf, "utf8");
      fs.writeFileSync(conf, text.replaceAll(`'${ETCD_TLS_DIR}/`, `'${n.root}${ETCD_TLS_DIR}/`));
    }
    const units = path.join(this.work, name, "units");
    fs.mkdirSync(units, { recursive: true });
    for (const u of n.machine.ignition.systemd.units) {
      if (u.contents) fs.writeFileSync(path.join(units, u.name), u.contents);
      for (const d of u.dropins ?? []) {
        fs.mkdirSync(path.join(units, `${u.name}.d`), { recursive: true });
        fs.writeFileSync(path.join(units, `${u.name}.d`, d.name), d.contents);
      }
    }
  }

  startAgents(name: string): void {
    const n = this.node(name);
    if (n.agents.length === 0) return;
    const root = n.root;
    for (const a of n.agents) {
      const run = path.join(this.work, name, "run", a.service);
      fs.mkdirSync(run, { recursive: true });
      this.track(
        name,
        this.lab.spawn(
          name,
          ["sh", path.join(root, "opt/coreos-cluster/failover-agent"), path.join(root, a.conf)],
          {
            PATH: `${this.work}:${process.env.PATH}`,
            FAILOVER_NODE: name,
            FAILOVER_ETCDCTL: "etcdctl",
            FAILOVER_SYSTEMCTL: path.join(this.work, "systemctl"),
            FAILOVER_RUNDIR: run,
            LAB_UNITS: path.join(this.work, name, "units"),
            LAB_RUN: run,
            LAB_LOG: this.unitLog,
            // The stand-in for the service's container: the lab's service.js.
            LAB_SERVICE_JS: path.join(this.work, "service.js"),
          },
        ),
      );
    }
  }

  /** Stops a node's agents as systemd stops a unit (SIGTERM); resolves when they have exited. */
  async stopAgents(name: string): Promise<void> {
    const agents = (this.running.get(name) ?? []).filter((p) =>
      p.child.spawnargs.some((a) => a.endsWith("failover-agent")),
    );
    await Promise.all(
      agents.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null) return resolve();
            const timer = setTimeout(() => p.child.kill("SIGKILL"), 30000);
            p.child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            p.child.kill("SIGTERM");
          }),
      ),
    );
    this.running.set(
      name,
      (this.running.get(name) ?? []).filter((p) => !agents.includes(p)),
    );
  }

  /** The events the agents recorded in etcd, oldest first: "<node> <text>". */
  events(service: string): string[] {
    const r = this.etcdctl(
      ["get", "--prefix", `/coreos-cluster/${this.options.cluster}/events/${service}/`],
      this.reachableNode(),
    );
    const lines = r.stdout.split("\n");
    const out: string[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const stamp = lines[i].split("/").pop() as string; // <ms>-<node>
      out.push(`${stamp.slice(stamp.indexOf("-") + 1)} ${lines[i + 1]}`);
    }
    return out;
  }

  /** Lines of the unit log: which node started or stopped which unit, when. */
  unitEvents(): { at: number; node: string; action: string; unit: string }[] {
    return fs
      .readFileSync(this.unitLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [at, node, action, unit] = l.split(" ");
        return { at: Number(at), node, action, unit };
      });
  }

  /** Where the service runs according to etcd (the owner key). */
  owner(service: string): string | undefined {
    const r = this.etcdctl(
      [
        "get",
        "--print-value-only",
        `/coreos-cluster/${this.options.cluster}/live/services/${service}/owner`,
      ],
      this.reachableNode(),
    );
    return r.status === 0 ? r.stdout.trim() || undefined : undefined;
  }

  /** A node whose link is up, to run etcdctl from. */
  reachableNode(exclude: readonly string[] = []): string {
    const n = this.nodes.find((x) => !exclude.includes(x.name) && !this.down.has(x.name));
    if (!n) throw new Error("no reachable node");
    return n.name;
  }

  // ---- failures and recovery -----------------------------------------------------------

  private readonly down = new Set<string>();

  /** The machine's link goes down; with `kill`, everything on it dies too (a dead machine). */
  fail(name: string, kill: boolean): void {
    this.lab.linkDown(name);
    this.down.add(name);
    if (kill) {
      this.lab.killAll(name);
      this.running.set(name, []);
    }
  }

  /** Link up again; a machine that died boots: its processes start again. */
  async recover(name: string): Promise<void> {
    const booting = (this.running.get(name) ?? []).length === 0;
    if (booting) this.lab.resetAddresses(name);
    this.lab.linkUp(name);
    this.down.delete(name);
    if (!booting) return;
    if (this.fronts.some((f) => f.name === name)) {
      await this.startFront(name);
      return;
    }
    // A machine boots with an empty /run: nothing of the copies it ran before is left.
    fs.rmSync(path.join(this.work, name, "run"), { recursive: true, force: true });
    this.startEtcd(name);
    await this.startBackend(name);
    this.startAgents(name);
  }

  /** A node comes back (`recover`), and waits until etcd is healthy and its agents hold a session again. */
  async rejoin(name: string): Promise<void> {
    await this.recover(name);
    await this.waitEtcdHealthy(30000);
    for (const a of this.node(name).agents) {
      const key = `/coreos-cluster/${this.options.cluster}/live/services/${a.service}/agents/${name}`;
      await waitFor(
        `agent of ${a.service} on ${name} back`,
        () =>
          this.etcdctl(["get", "--print-value-only", key], this.reachableNode()).stdout.trim() ===
          "ready",
        60000,
        200,
      );
    }
  }

  isDown(name: string): boolean {
    return this.down.has(name);
  }

  // ---- client ----------------------------------------------------------------------------

  /**
   * Runs the load generator in the client machine; resolves with its results. `finish()`
   * ends it early: nothing new starts, what is open completes, the results are written.
   */
  load(args: (string | number)[], timeoutMs: number): LoadRun {
    const out = path.join(this.work, `load-${this.loads++}.json`);
    const p = this.lab.spawn(this.client, [
      process.execPath,
      "-e",
      LAB_LOADGEN,
      out,
      ...args.map(String),
    ]);
    const result = new Promise<LoadResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        p.child.kill("SIGKILL");
        reject(new Error(`load ${args.join(" ")} did not finish in ${timeoutMs} ms:\n${p.log}`));
      }, timeoutMs);
      p.child.on("exit", () => {
        clearTimeout(timer);
        if (!fs.existsSync(out))
          reject(new Error(`load ${args.join(" ")} gave no result:\n${p.log}`));
        else resolve(JSON.parse(fs.readFileSync(out, "utf8")));
      });
    });
    return Object.assign(result, { finish: () => void p.child.kill("SIGUSR2") });
  }

  /** One short TCP exchange from the client: the answering node, or undefined. */
  ask(port: number): string | undefined {
    const r = this.lab.exec(
      this.client,
      [
        process.execPath,
        "-e",
        `const s=require("net").connect(${port},"${this.vip}");let b="";s.setTimeout(2000,()=>process.exit(1));s.on("data",c=>{b+=c;if(b.includes("\\n")){console.log(b.split(":")[0]);process.exit(0)}});s.on("error",()=>process.exit(1));s.write("ping\\n");`,
      ],
      5000,
    );
    return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  }

  /** What the agents and etcd say about a service, for failure messages. */
  diagnose(service: string): string {
    let owner = "?";
    let events: string[] = [];
    try {
      owner = this.owner(service) ?? "none";
      events = this.events(service).slice(-12);
    } catch (e) {
      owner = String(e);
    }
    const agents = this.lab.processes
      .filter((p) => p.child.spawnargs.some((a) => a.endsWith("failover-agent")))
      .map((p) => `--- agent on ${p.machine}\n${p.log.split("\n").slice(-8).join("\n")}`);
    return [`owner: ${owner}`, "events:", ...events, ...agents].join("\n");
  }

  logs(filter?: string): string {
    return this.lab.processes
      .filter((p) => p.machine !== this.client)
      .filter((p) => !filter || (p.child.spawnargs ?? []).some((a) => a.includes(filter)))
      .map(
        (p) =>
          `--- ${p.machine}: ${(p.child.spawnargs ?? []).slice(3, 5).join(" ")}\n${p.log.slice(-3000)}`,
      )
      .join("\n");
  }

  destroy(): void {
    this.lab.destroy();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

/** A running load: its results, and a way to end it early. */
export type LoadRun = Promise<LoadResult> & { finish(): void };

/** What the client's load generator reports. */
export interface LoadResult {
  /** [start ms, end ms, ok 1/0, node or error, socket reused 1/0] */
  readonly requests: [number, number, number, string, number][];
  readonly connections?: { owner: string; failedAt: number; error: string }[];
  readonly error?: string;
}

/**
 * `describe` for a lab test: runs where namespaces can be made and the lab's tools are
 * installed; otherwise fails on CI and skips loudly elsewhere, naming what is missing.
 */
export function describeLab(name: string, body: () => void): void {
  const missing = labTools();
  describeWithRequirement(
    sandboxAvailable() && missing.length === 0,
    "network namespaces and the lab's tools",
    sandboxAvailable()
      ? `missing ${missing.join(", ")}: apt-get install etcd-server etcd-client haproxy keepalived wget curl socat`
      : "the namespace lab needs root (ip netns, veth, bridge)",
    name,
    body,
  );
}

/** True when the lab can run here: root, iproute2, and the tools it starts. */
export function labTools(): string[] {
  return [
    "ip",
    "etcd",
    "etcdctl",
    "haproxy",
    "keepalived",
    "wget",
    "curl",
    "socat",
    "setsid",
  ].filter((c) => spawnSync("sh", ["-c", `command -v ${c}`], { stdio: "ignore" }).status !== 0);
}
