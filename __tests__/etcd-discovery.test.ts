import { ChildProcess, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CoreOsClusterProps, DISCOVERY_ENV_FILE, EtcdDiscovery, Provisioning } from "../lib";
import { ETCD_TLS_DIR } from "../lib/render/etcd-environment";
import { READY_CHECK_PATH } from "../lib/render/ready-check";
import { discoveryRetireCommand } from "../lib/render/discovery-token";
import { parseEnvironmentFile } from "../lib";
import {
  describeWithEtcd,
  layFiles,
  readCloudConfigMachine,
  relocate,
  sleep,
} from "./support/etcd-harness";
import { EtcdFleet } from "./support/etcd-fleet";
import { sandboxLocal, spawnInSandbox, spawnSyncInSandbox } from "./support/netns";
import { StandIns } from "./support/stand-ins";
import { synthVagrant, tempOutdir } from "./support/synth";
import { TERRAFORM_RELEASE } from "./support/terraform";
import { describeWithTool } from "./support/tools";

/*
 * etcd discovery as the seed used it, without its traps, proven with real
 * tools in a network namespace of this test file (the cluster's /24 is local
 * there):
 * - a discovery service: Debian's etcd with the v2 API (`--enable-v2`);
 * - real Terraform applies the synthesized Vagrant stack: its discovery step
 *   (curl, bounded) makes the token of each cluster generation before any
 *   machine; `vagrant` and VBoxManage are the recording stand-ins (no
 *   hypervisor here), so the test itself boots the machines from what the
 *   Vagrant provisioners would copy in: each node's cloud-config (with
 *   coreos-cloudinit's `$private_ipv4` substitution, ported from its source)
 *   and the token file. Each machine runs its own membership script and
 *   real etcd with exactly those settings (support/etcd-fleet.ts).
 * Not run here: etcd ≥ 3.6's v3 discovery by the members (Debian ships
 * etcd 3.4); the deploy's v3 token is checked against etcd 3.4's v3 API.
 */

/**
 * The cluster's network: the default one (VirtualBox's range, which a Vagrant
 * stack must use), local inside this file's namespace only.
 */
const net = () => {
  sandboxLocal("192.168.56.0/21");
  return {};
};
const SERVICE_ADDRESS = "192.168.56.250";
const SERVICE = `http://${SERVICE_ADDRESS}:2379`;
const NODES = ["core-01", "core-02", "core-03"];
const base = (discovery: EtcdDiscovery): CoreOsClusterProps => ({
  nodeCount: 3,
  provisioning: Provisioning.CLOUD_CONFIG,
  etcd: { discovery },
  ...net(),
});

function sh(args: readonly string[], cwd?: string, env: NodeJS.ProcessEnv = {}, timeout = 60_000) {
  const [cmd, ...rest] = args;
  const r: SpawnSyncReturns<string> = spawnSyncInSandbox(cmd, rest, {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, ...env },
  });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Sets a key through the discovery service's v2 keys API. */
function putV2(url: string, value: string): void {
  const r = sh(["curl", "-sSf", "-X", "PUT", url, "-d", `value=${value}`]);
  if (r.status !== 0) throw new Error(r.out);
}

/** A JSON answer of the discovery service's v2 keys API. */
function v2(pathAndQuery: string): {
  node?: { value?: string; nodes?: Array<{ key: string; value?: string }> };
  errorCode?: number;
} {
  const r = sh(["curl", "-sS", "--max-time", "5", `${SERVICE}/v2/keys/${pathAndQuery}`]);
  return JSON.parse(r.out);
}

/** The discovery service: one etcd 3.4 member serving the v2 keys API, in the namespace. */
class DiscoveryService {
  private process?: ChildProcess;
  public log = "";
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "discovery-service-"));

  async start(): Promise<void> {
    net(); // the namespace, with the service's address local in it
    const peer = `http://${SERVICE_ADDRESS}:2380`;
    this.process = spawnInSandbox(
      "etcd",
      [
        "--name=discovery",
        `--data-dir=${this.dir}/data`,
        "--enable-v2=true",
        `--listen-client-urls=${SERVICE}`,
        `--advertise-client-urls=${SERVICE}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=discovery=${peer}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } },
    );
    const keep = (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20000));
    this.process.stdout?.on("data", keep);
    this.process.stderr?.on("data", keep);
    const since = Date.now();
    while (Date.now() - since < 30_000) {
      if (sh(["curl", "-sf", "--max-time", "2", `${SERVICE}/health`]).status === 0) return;
      await sleep(100);
    }
    throw new Error(`discovery service not up:\n${this.log}`);
  }

  async stop(): Promise<void> {
    if (this.process && this.process.exitCode === null) {
      const exited = new Promise((r) => this.process?.once("exit", r));
      this.process.kill("SIGKILL");
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Terraform working folder of a Vagrant stack; terraform runs inside the namespace. */
function workspace(props: CoreOsClusterProps) {
  const standIns = new StandIns().addVBoxManage().addRecordingVagrant();
  const outdir = tempOutdir();
  const synth = synthVagrant(props, {}, outdir);
  const terraform = (...args: string[]) =>
    sh(
      ["terraform", ...args, "-no-color"],
      synth.stackDir,
      {
        PATH: standIns.path(),
        CHECKPOINT_DISABLE: "1",
        TF_IN_AUTOMATION: "1",
        TF_INPUT: "0",
      },
      180_000,
    );
  return {
    ...synth,
    standIns,
    terraform,
    tokenFile: path.join(synth.vagrantDir, "discovery.env"),
    /** The discovery step's command as Terraform runs it (its Terraform escapes undone). */
    tokenCommand(): string {
      const step = synth.config.resource.terraform_data.vagrant_core_discovery as {
        provisioner: Array<{ "local-exec": { command: string } }>;
      };
      return step.provisioner[0]["local-exec"].command.replace(/([$%])\1\{/g, "$1{");
    },
    cleanup() {
      standIns.cleanup();
      fs.rmSync(outdir, { recursive: true, force: true });
    },
  };
}

/** What the Vagrant provisioners copy into a node: its cloud-config and the token file. */
function nodeFiles(ws: ReturnType<typeof workspace>, name: string) {
  const n = ws.vagrant.plan.nodes.find((x) => x.name === name)!;
  return {
    machine: readCloudConfigMachine(path.join(ws.vagrantDir, n.configFile), n.address),
    delivered: { [DISCOVERY_ENV_FILE]: fs.readFileSync(ws.tokenFile, "utf8") },
  };
}

/** Boots the named machines side by side (each runs its membership script, then etcd). */
async function boot(fleet: EtcdFleet, ws: ReturnType<typeof workspace>, names = NODES) {
  await Promise.all(
    names.map((name) => {
      const { machine, delivered } = nodeFiles(ws, name);
      return fleet.boot(machine, delivered);
    }),
  );
}

/** `systemctl` for the ready check: the cloud-config's units count as enabled (coreos-cloudinit's part). */
const SYSTEMCTL_STAND_IN = fs.mkdtempSync(path.join(os.tmpdir(), "systemctl-"));
fs.writeFileSync(path.join(SYSTEMCTL_STAND_IN, "systemctl"), "#!/bin/sh\nexit 0\n", {
  mode: 0o755,
});

/** Runs a machine's own ready check (from its files under `root`), as `vagrant ssh <node>` would. */
function readyCheck(root: string) {
  const text = fs
    .readFileSync(path.join(root, READY_CHECK_PATH), "utf8")
    .replaceAll(`${ETCD_TLS_DIR}/`, `${root}${ETCD_TLS_DIR}/`)
    .replaceAll(DISCOVERY_ENV_FILE, `${root}${DISCOVERY_ENV_FILE}`);
  const script = path.join(root, "ready.sh");
  fs.writeFileSync(script, text);
  return sh(["sh", script], undefined, { PATH: `${SYSTEMCTL_STAND_IN}:${process.env.PATH}` });
}

/**
 * Runs the synthesized token step as Terraform's local-exec would, in a scratch folder.
 * Without blocking: the step that waits out curl's bound (15 s) runs while the members boot.
 */
async function runStep(discovery: EtcdDiscovery, props: Partial<CoreOsClusterProps> = {}) {
  const ws = workspace({ ...base(discovery), ...props });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "token-step-"));
  const since = Date.now();
  const child = spawnInSandbox("sh", ["-c", ws.tokenCommand()], {
    cwd: dir,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (c: Buffer) => (text += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (text += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  const out = {
    status,
    out: text,
    seconds: (Date.now() - since) / 1000,
    dir,
    written: fs.existsSync(path.join(dir, "discovery.env")),
  };
  ws.cleanup();
  return out;
}

describeWithEtcd("etcd discovery with a fresh token per cluster generation", () => {
  // A service that accepts connections and never answers: the token step against it waits
  // out its bound, started first so that the rest of the file runs meanwhile.
  let silent: ChildProcess | undefined;
  let neverAnswers: ReturnType<typeof runStep>;
  beforeAll(async () => {
    net();
    silent = spawnInSandbox(
      process.execPath,
      ["-e", "require('net').createServer(() => {}).listen(2379, '192.168.56.252')"],
      { stdio: "ignore" },
    );
    await sleep(500);
    neverAnswers = runStep(EtcdDiscovery.selfHosted("http://192.168.56.252:2379"));
    neverAnswers.catch(() => undefined); // its test reports a failure
  });
  afterAll(async () => {
    await neverAnswers?.catch(() => undefined);
    silent?.kill("SIGKILL");
  });

  describeWithTool("terraform", TERRAFORM_RELEASE, "real Terraform makes the tokens", () => {
    jest.setTimeout(300_000);
    const service = new DiscoveryService();
    let ws: ReturnType<typeof workspace>;
    let fleet: EtcdFleet;
    const tokens: string[] = [];
    const tokenUrl = () =>
      /^ETCD_DISCOVERY=(.*)$/m.exec(fs.readFileSync(ws.tokenFile, "utf8"))?.[1] ?? "";

    beforeAll(async () => {
      await service.start();
      ws = workspace(base(EtcdDiscovery.selfHosted(SERVICE)));
      const init = ws.terraform("init");
      if (init.status !== 0) throw new Error(init.out);
      fleet = new EtcdFleet();
    });
    afterAll(async () => {
      await fleet?.stop();
      await service.stop();
      ws?.cleanup();
    });

    it("deploy: the token of the cluster's size exists on the service before any machine is made", () => {
      const apply = ws.terraform("apply", "-auto-approve");
      expect(apply.status).toBe(0);
      expect(apply.out).toContain("etcd discovery: a new token for 3 members");
      expect(fs.statSync(ws.tokenFile).mode & 0o777).toBe(0o600);
      const url = tokenUrl();
      expect(url).toMatch(new RegExp(`^${SERVICE}/v2/keys/_etcd/registry/[0-9a-f]{32}$`));
      tokens.push(url);
      const key = url.slice(`${SERVICE}/v2/keys/`.length);
      expect(v2(`${key}/_config/size`).node?.value).toBe("3");
      // Every machine's step depends on the token step: Terraform made it first.
      const machines = ws.config.resource.terraform_data as Record<
        string,
        { depends_on?: string[] }
      >;
      for (const n of NODES) {
        expect(machines[`vagrant_core_${n}`].depends_on).toContain(
          "terraform_data.vagrant_core_discovery",
        );
      }
      expect(
        ws.standIns
          .takeVagrantCalls()
          .filter((c) => c[0] === "up")
          .map((c) => c[3]),
      ).toEqual(NODES);
    });

    it("the members, from their cloud-config's etcd settings and the token, form one healthy cluster through the service; each counts as up for Vagrant's one-at-a-time bring-up once registered", async () => {
      await boot(fleet, ws, ["core-01"]);
      // core-01 waits in discovery and serves nothing yet: its ready check still lets the deploy go on.
      const since = Date.now();
      let first = readyCheck(path.join(fleet.root, "core-01"));
      while (first.status !== 0 && Date.now() - since < 30_000) {
        await sleep(300);
        first = readyCheck(path.join(fleet.root, "core-01"));
      }
      expect(first).toEqual({ status: 0, out: "core-01: up\n" });
      // A member that has not registered is not up.
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "not-booted-"));
      const { machine, delivered } = nodeFiles(ws, "core-02");
      layFiles(
        {
          ...machine,
          files: {
            ...machine.files,
            [DISCOVERY_ENV_FILE]: { contents: delivered[DISCOVERY_ENV_FILE], mode: 0o600 },
          },
        },
        scratch,
      );
      expect(readyCheck(scratch)).toEqual({
        status: 1,
        out: expect.stringContaining(
          "core-02: etcd member not registered on the discovery token of",
        ),
      });
      fs.rmSync(scratch, { recursive: true, force: true });
      await boot(fleet, ws, ["core-02", "core-03"]);
      const ms = await fleet.waitMembers(NODES, 90_000);
      console.log(`etcd discovery: generation 1 healthy ${ms} ms after the last member booted`);
      const registered = v2(`${tokens[0].slice(`${SERVICE}/v2/keys/`.length)}`).node?.nodes ?? [];
      expect(registered.map((r) => r.value?.split("=")[0]).sort()).toEqual(NODES);
      expect(fleet.etcdctl(["put", "generation", "1"]).ok).toBe(true);
      for (const n of NODES) expect(readyCheck(path.join(fleet.root, n)).out).toBe(`${n}: up\n`);
    });

    it("destroy retires the token; the next deploy gets a new one, and a new cluster forms with it", async () => {
      for (const n of NODES) await fleet.destroy(n);
      const destroy = ws.terraform("destroy", "-auto-approve");
      expect(destroy.status).toBe(0);
      expect(fs.existsSync(ws.tokenFile)).toBe(false);
      expect(v2(tokens[0].slice(`${SERVICE}/v2/keys/`.length)).errorCode).toBe(100); // deleted
      const apply = ws.terraform("apply", "-auto-approve");
      expect(apply.status).toBe(0);
      tokens.push(tokenUrl());
      expect(tokens[1]).not.toBe(tokens[0]);
      await boot(fleet, ws);
      await fleet.waitMembers(NODES, 90_000);
      const got = fleet.etcdctl(["get", "generation", "--print-value-only"]);
      expect(got.ok).toBe(true);
      expect(got.out.trim()).toBe(""); // a new cluster, not the old one's data
    });

    it("a member that meets a spent token exits with etcd's message instead of waiting or turning proxy", async () => {
      // A fourth member's bootstrap settings (what its membership script would start it with)
      // against the second generation's token, which three members have filled.
      const n1 = ws.vagrant.plan.nodes[0];
      const machine = readCloudConfigMachine(
        path.join(ws.vagrantDir, n1.configFile),
        "192.168.56.109",
      );
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "spare-member-"));
      const at = layFiles(machine, root);
      const env: Record<string, string> = {
        ...relocate(parseEnvironmentFile(machine.files["/etc/etcd/etcd.env"].contents), at),
        ETCD_NAME: "spare",
        ETCD_DISCOVERY: tokens[1],
      };
      fs.mkdirSync(env.ETCD_DATA_DIR, { recursive: true, mode: 0o700 });
      const member = spawnInSandbox("etcd", [], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let log = "";
      member.stdout?.on("data", (c: Buffer) => (log += c.toString()));
      member.stderr?.on("data", (c: Buffer) => (log += c.toString()));
      const code = await new Promise<number | null | "running">((resolve) => {
        const timer = setTimeout(() => resolve("running"), 60_000);
        member.once("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      if (code === "running") member.kill("SIGKILL");
      fs.rmSync(root, { recursive: true, force: true });
      expect(code).not.toBe("running");
      expect(code).not.toBe(0);
      expect(log).toMatch(/cluster is full/);
    });
  });

  describe("the deploy's token step fails with a message, never hangs", () => {
    jest.setTimeout(240_000);
    const service = new DiscoveryService();
    beforeAll(() => service.start());
    afterAll(() => service.stop());

    it("a token of another size", async () => {
      const id = "0123456789abcdef0123456789abcdef";
      putV2(`${SERVICE}/v2/keys/_etcd/registry/${id}/_config/size`, "5");
      const r = await runStep(
        EtcdDiscovery.existingToken(`${SERVICE}/v2/keys/_etcd/registry/${id}`),
      );
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("is for 5 members, but the cluster bootstraps 3");
      expect(r.written).toBe(false);
    });

    it("a spent token (members registered on it)", async () => {
      const id = "fedcba9876543210fedcba9876543210";
      const key = `${SERVICE}/v2/keys/_etcd/registry/${id}`;
      putV2(`${key}/_config/size`, "3");
      putV2(`${key}/8e9e05c52164694d`, "core-01=https://192.168.56.101:2380");
      const r = await runStep(EtcdDiscovery.existingToken(key));
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("is spent");
      expect(r.written).toBe(false);
    });

    it("a fresh token of the right size passes", async () => {
      const id = "00112233445566778899aabbccddeeff";
      const key = `${SERVICE}/v2/keys/_etcd/registry/${id}`;
      putV2(`${key}/_config/size`, "3");
      const r = await runStep(EtcdDiscovery.existingToken(key));
      expect(r.out).toContain("a new token for 3 members");
      expect(fs.readFileSync(path.join(r.dir, "discovery.env"), "utf8")).toBe(
        `ETCD_DISCOVERY=${key}\n`,
      );
    });

    it("destroy deletes only a token the deploy made, never one you brought", () => {
      const key = `${SERVICE}/v2/keys/_etcd/registry/0123456789abcdef0123456789abcde0`;
      putV2(`${key}/_config/size`, "3");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retire-"));
      fs.writeFileSync(path.join(dir, "discovery.env"), `ETCD_DISCOVERY=${key}\n`);
      expect(sh(["sh", "-c", discoveryRetireCommand("discovery.env")], dir).status).toBe(0);
      expect(fs.existsSync(path.join(dir, "discovery.env"))).toBe(false);
      expect(v2(`_etcd/registry/0123456789abcdef0123456789abcde0/_config/size`).node?.value).toBe(
        "3",
      );
    });

    it("a self-hosted service that is down", async () => {
      const r = await runStep(EtcdDiscovery.selfHosted("http://192.168.56.251:2379"));
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("no answer from the discovery service http://192.168.56.251:2379");
      expect(r.written).toBe(false);
    });

    it("a service that accepts and never answers: bounded by curl's timeout", async () => {
      const r = await neverAnswers;
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("within 15 s");
      expect(r.seconds).toBeLessThan(100); // the step's own bound is 15 s; this only rules out a hang
    });

    it("the public service out of reach says it is deprecated and what to use instead", async () => {
      const r = await runStep(EtcdDiscovery.publicService());
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("https://discovery.etcd.io/new?size=3");
      expect(r.out).toContain("deprecated and unreliable");
      expect(r.written).toBe(false);
    });

    it("v3 discovery: each run puts a new token's size on the service (etcd's v3 API)", async () => {
      const props = {
        etcd: { imageTag: "v3.6.4", discovery: EtcdDiscovery.v3({ endpoints: [SERVICE] }) },
      };
      const first = await runStep(EtcdDiscovery.v3({ endpoints: [SERVICE] }), props);
      const second = await runStep(EtcdDiscovery.v3({ endpoints: [SERVICE] }), props);
      const env = (d: string) => fs.readFileSync(path.join(d, "discovery.env"), "utf8");
      const id = (d: string) => /^ETCD_DISCOVERY_TOKEN=([0-9a-f]{32})$/m.exec(env(d))?.[1];
      expect(id(first.dir)).toBeDefined();
      expect(id(second.dir)).not.toBe(id(first.dir));
      expect(env(first.dir)).toContain(`ETCD_DISCOVERY_ENDPOINTS=${SERVICE}\n`);
      expect(env(first.dir)).toContain("ETCD_DISCOVERY_INSECURE_TRANSPORT=true\n");
      const size = sh(
        [
          "etcdctl",
          `--endpoints=${SERVICE}`,
          "get",
          `/_etcd/registry/${id(first.dir)}/_config/size`,
          "--print-value-only",
        ],
        undefined,
        { ETCDCTL_API: "3" },
      );
      expect(size.out.trim()).toBe("3");
    });
  });
});
