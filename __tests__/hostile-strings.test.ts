import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TerraformStack, Testing } from "cdktf";
import {
  ClusterConfigError,
  ContainerImage,
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  ETCD_ENV_FILE,
  EtcdDiscovery,
  EtcdTls,
  FailoverService,
  FailoverServiceProps,
  FrontTargets,
  HealthCheckProtocol,
  LifecycleResource,
  NlbFront,
  parseEnvironmentDropin,
  parseEnvironmentFile,
  Provisioning,
  renderEnvironmentDropin,
  ServiceHealthCheck,
  flatcarBoxName,
  flatcarBoxUrl,
  VagrantCluster,
  VagrantClusterProps,
} from "../lib";
import { AwsCluster, AwsClusterProps, AwsMachineImage, AwsNetwork } from "../lib/aws";
import {
  clusterFromSettings,
  frontFromSettings,
  parseAppSettings,
  vagrantFromSettings,
} from "../lib/config";
import { RESERVED_DIRECTORIES, RESERVED_PATHS } from "../lib/cluster/plan";
import { fileText, IgnitionConfig } from "../lib/render/ignition";
import { parse as parseYaml } from "yaml";
import {
  applyCloudinitEnvironment,
  checkCloudConfig,
  decodeContent,
} from "./support/cloud-config-schema";
import { renderHaproxyCfg } from "../lib/render/haproxy";
import { failoverConfPath } from "../lib/render/failover-units";
import { ed25519PublicKey } from "./support/keys";
import { StandIns } from "./support/stand-ins";
// Every value makes a new cluster: its own copy of the test state folder (no membership carried over).
import { sharedStateApps, testApp } from "./support/state";
import { tempOutdir } from "./support/synth";
import { findAwsProviderMirror, runTerraform, writeMirrorCliConfig } from "./support/terraform";
import { startProviderServer } from "./support/provider-server";
import { describeWithRequirement, describeWithTool, hasCommand } from "./support/tools";

/*
 * Every string prop meets a corpus of hostile strings. Each value is either
 * rejected with a ClusterConfigError naming the prop, or it comes out of the
 * real consumer meaning exactly what was given: ignition-validate and the
 * decoded Ignition, haproxy -c and the line HAProxy reads, ruby loading
 * config.rb, sh -n and sh running the Terraform command with a recording
 * vagrant, Terraform itself on the EC2 user data and tags.
 */
const CORPUS: readonly string[] = [
  ";touch pwned",
  ";id>pwned",
  "$(id>pwned)",
  "`id>pwned`",
  "$(touch pwned)",
  "`touch pwned`",
  "a'b",
  'a"b',
  "a\\b",
  "a\nb",
  "a\r\nb",
  "${var.x}",
  "%{ if true }x%{ endif }",
  "#{`touch pwned`}",
  "a\u0000b",
  "é ü 日本 🙂",
  "a b",
  "|| touch pwned",
  "&& touch pwned",
  "-rf",
  "..",
  "../../etc/passwd",
  "%s%n",
  "\u202eevil",
  "",
  " ",
  "a\tb",
  ">pwned",
  "*",
  "~root",
  "$HOME",
  "a#b",
  "\u2028",
];

const label = (h: string) => JSON.stringify(h);

/** Every case's app: one state folder for the file (etcd's CA made once, not per case). */
const caseApp = sharedStateApps();
/**
 * The apps of cases that synthesize into a folder (the Vagrant target): a
 * state folder of their own, as a synth records the cluster's members and
 * addresses (always the default cluster's here).
 */
const synthApp = sharedStateApps();
const INSTALL = "\n[Install]\nWantedBy=multi-user.target\n";

/** A value went in; the outcome is a rejection naming the prop or the value as read back. */
type Outcome = { rejected: true } | { rejected: false; readBack: unknown[] };

function rejectedFor(e: unknown, prop: string): boolean {
  if (!(e instanceof ClusterConfigError)) throw e;
  if (!e.issues.some((i) => i.prop === prop)) {
    throw new Error(`rejected, but not for ${prop}:\n${e.message}`);
  }
  return true;
}

// ---------------------------------------------------------------- cluster props → Ignition

interface ClusterSlot {
  readonly prop: string;
  props(h: string): CoreOsClusterProps;
  /** What the Ignition of the first node says, to compare with `expected(h)`. */
  read(ign: IgnitionConfig): unknown;
  expected(h: string): unknown;
}

const PUB = ed25519PublicKey("");
const fileAt = (ign: IgnitionConfig, p: string) => ign.storage.files.find((f) => f.path === p);
/** A file's text as Ignition writes it (plain or gzip-compressed). */
const textAt = (ign: IgnitionConfig, p: string) => {
  const f = fileAt(ign, p);
  return f ? fileText(f) : "";
};
const etcdEnv = (ign: IgnitionConfig) => parseEnvironmentFile(textAt(ign, ETCD_ENV_FILE));
/** The image etcd-member.service runs. */
const etcdImage = (ign: IgnitionConfig) =>
  / (\S+) \/usr\/local\/bin\/etcd$/m.exec(
    ign.systemd.units.find((u) => u.name === "etcd-member.service")?.contents ?? "",
  )?.[1];
const CLUSTER_PATHS: ReadonlySet<string> = new Set(RESERVED_PATHS);
/** A path the cluster writes itself: a reserved file, or one in etcd's folders. */
const clusterPath = (p: string) =>
  CLUSTER_PATHS.has(p) || RESERVED_DIRECTORIES.some((d) => p.startsWith(d));

const CLUSTER_SLOTS: readonly ClusterSlot[] = [
  {
    prop: "name",
    props: (h) => ({ name: h, etcd: { clusterToken: "t" } }),
    read: () => undefined,
    expected: () => "never accepted",
  },
  {
    prop: "namePrefix",
    props: (h) => ({ namePrefix: h }),
    read: (ign) => textAt(ign, "/etc/hostname"),
    expected: (h) => `${h}-01\n`,
  },
  {
    prop: "etcd.clusterToken",
    props: (h) => ({ etcd: { clusterToken: h } }),
    read: (ign) => etcdEnv(ign).ETCD_INITIAL_CLUSTER_TOKEN,
    expected: (h) => h,
  },
  {
    prop: "etcd.imageTag",
    props: (h) => ({ etcd: { imageTag: h } }),
    read: etcdImage,
    expected: (h) => `quay.io/coreos/etcd:${h}`,
  },
  {
    prop: "etcd.image",
    props: (h) => ({ etcd: { image: ContainerImage.unpinned(`quay.io/coreos/etcd:${h}`) } }),
    read: etcdImage,
    expected: (h) => `quay.io/coreos/etcd:${h}`,
  },
  {
    prop: "etcd.tls.certificatePem",
    props: (h) => ({ etcd: { tls: EtcdTls.fromCa({ certificatePem: h, privateKeyPem: h }) } }),
    read: () => undefined,
    expected: () => "never accepted",
  },
  {
    prop: "networkCidr",
    props: (h) => ({ networkCidr: h }),
    read: () => undefined,
    expected: () => "never accepted",
  },
  {
    prop: "sshPublicKeys[0]",
    props: (h) => ({ sshPublicKeys: [`${PUB} ${h}`] }),
    read: (ign) => ign.passwd.users[0].sshAuthorizedKeys?.[0],
    expected: (h) => `${PUB} ${h}`.trim(),
  },
  {
    prop: "units[0].name",
    props: (h) => ({ units: [{ name: `${h}.service`, contents: `[Service]${INSTALL}` }] }),
    read: (ign) => ign.systemd.units[ign.systemd.units.length - 1].name,
    expected: (h) => `${h}.service`,
  },
  {
    prop: "units[0].contents",
    props: (h) => ({
      units: [{ name: "app.service", contents: `[Service]\nExecStart=/bin/echo ${h}${INSTALL}` }],
    }),
    read: (ign) => ign.systemd.units.find((u) => u.name === "app.service")?.contents,
    expected: (h) => `[Service]\nExecStart=/bin/echo ${h}${INSTALL}`,
  },
  {
    prop: "units[0].dropins[0].contents",
    props: (h) => ({
      units: [
        { name: "app.service", dropins: [{ name: "x.conf", contents: `[Service]\nX=${h}` }] },
      ],
    }),
    read: (ign) => ign.systemd.units.find((u) => u.name === "app.service")?.dropins?.[0].contents,
    expected: (h) => `[Service]\nX=${h}`,
  },
  {
    prop: "units[0].dropins[0].name",
    props: (h) => ({
      units: [{ name: "app.service", dropins: [{ name: `${h}.conf`, contents: "" }] }],
    }),
    read: (ign) => ign.systemd.units.find((u) => u.name === "app.service")?.dropins?.[0].name,
    expected: (h) => `${h}.conf`,
  },
  {
    prop: "files[0].path",
    props: (h) => ({ files: [{ path: `/opt/${h}`, contents: "x" }] }),
    // Every file but the cluster's own (hostname, update config, ready check, …).
    read: (ign) => ign.storage.files.map((f) => f.path).filter((p) => !clusterPath(p)),
    expected: (h) => [`/opt/${h}`],
  },
  {
    prop: "files[0].contents",
    props: (h) => ({ files: [{ path: "/opt/x", contents: h }] }),
    read: (ign) => textAt(ign, "/opt/x"),
    expected: (h) => h,
  },
  {
    prop: "maintenanceWindow.start",
    props: (h) => ({ maintenanceWindow: { start: h, length: Duration.hours(1) } }),
    read: (ign) =>
      parseEnvironmentDropin(
        ign.systemd.units.find((u) => u.name === "locksmithd.service")?.dropins?.[0].contents ?? "",
      ).LOCKSMITHD_REBOOT_WINDOW_START,
    expected: (h) => h,
  },
];

function clusterOutcome(slot: ClusterSlot, h: string): Outcome & { ignition?: string } {
  const stack = new TerraformStack(caseApp(), "s");
  try {
    const cluster = new CoreOsCluster(stack, "core", slot.props(h));
    const ignition = cluster.nodes[0].ignition;
    return { rejected: false, readBack: [slot.read(JSON.parse(ignition))], ignition };
  } catch (e) {
    rejectedFor(e, slot.prop);
    return { rejected: true };
  }
}

describeWithTool("ignition-validate", "ignition", "hostile strings in cluster props", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-ign-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const counts = { rejected: 0, accepted: 0 };
  afterAll(() => console.log(`hostile strings, cluster props: ${JSON.stringify(counts)}`));

  const cases = CLUSTER_SLOTS.flatMap((s) => CORPUS.map((h) => [s.prop, label(h), s, h] as const));
  it.each(cases)("%s = %s", (_p, _l, slot, h) => {
    const out = clusterOutcome(slot, h);
    if (out.rejected) {
      counts.rejected++;
      return;
    }
    counts.accepted++;
    expect(out.readBack).toEqual([slot.expected(h)]);
    const file = path.join(dir, "node.ign");
    fs.writeFileSync(file, out.ignition as string);
    const r = spawnSync("ignition-validate", [file], { encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });
});

// ---------------------------------------------------------------- failover service props → agent config

interface ServiceSlot {
  readonly prop: string;
  props(h: string): Omit<FailoverServiceProps, "cluster">;
  /** What the node's Ignition and the agent's config (as sh reads it) say. */
  read(ign: IgnitionConfig, conf: Record<string, string>): unknown;
  expected(h: string): unknown;
}

const DB = { name: "db.service", contents: "[Service]\nExecStart=/usr/bin/true\n" };
const unitOf = (ign: IgnitionConfig, name: string) =>
  ign.systemd.units.find((u) => u.name === name);

const SERVICE_SLOTS: readonly ServiceSlot[] = [
  {
    prop: "name",
    props: (h) => ({ name: h, units: [DB] }),
    read: (_i, conf) => conf.SERVICE,
    expected: (h) => h,
  },
  {
    prop: "units[0].name",
    props: (h) => ({ units: [{ name: `${h}.service`, contents: DB.contents }] }),
    read: (ign, conf) => [conf.UNITS, unitOf(ign, `${conf.UNITS}`)?.enabled],
    expected: (h) => [`${h}.service`, false],
  },
  {
    prop: "units[0].contents",
    props: (h) => ({
      units: [{ name: "db.service", contents: `[Service]\nExecStart=/bin/echo ${h}\n` }],
    }),
    read: (ign) => unitOf(ign, "db.service")?.contents,
    expected: (h) => `[Service]\nExecStart=/bin/echo ${h}\n`,
  },
  {
    prop: "units[0].dropins[0].name",
    props: (h) => ({ units: [{ ...DB, dropins: [{ name: `${h}.conf`, contents: "" }] }] }),
    read: (ign) => unitOf(ign, "db.service")?.dropins?.[0].name,
    expected: (h) => `${h}.conf`,
  },
  {
    prop: "units[0].dropins[0].contents",
    props: (h) => ({
      units: [{ ...DB, dropins: [{ name: "x.conf", contents: `[Service]\nX=${h}` }] }],
    }),
    read: (ign) => unitOf(ign, "db.service")?.dropins?.[0].contents,
    expected: (h) => `[Service]\nX=${h}`,
  },
  {
    prop: "healthCheck.command",
    props: (h) => ({ units: [DB], healthCheck: ServiceHealthCheck.command(`test -e /run/${h}`) }),
    read: (_i, conf) => conf.CHECK_COMMAND,
    expected: (h) => `test -e /run/${h}`,
  },
  {
    prop: "healthCheck.path",
    props: (h) => ({ units: [DB], healthCheck: ServiceHealthCheck.http(8080, `/${h}`) }),
    read: (_i, conf) => conf.CHECK_PATH,
    expected: (h) => `/${h}`,
  },
];

/**
 * Sources the agent's config as the agent does (`. conf` in sh), in an empty
 * folder: the settings it defines, and whatever the sourcing left behind.
 */
function sourceAgentConf(text: string): { conf: Record<string, string>; left: string[] } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-conf-"));
  try {
    fs.writeFileSync(path.join(cwd, ".conf"), text);
    const names = ["SERVICE", "UNITS", "CHECK_COMMAND", "CHECK_PATH"];
    const read = names.map((n) => `"$${n}"`).join(" ");
    const r = spawnSync("sh", ["-c", `. ./.conf; printf '%s\\0' ${read}`], {
      cwd,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
      timeout: 10000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    const values = r.stdout.split("\0");
    const conf = Object.fromEntries(names.map((n, i) => [n, values[i]]));
    return { conf, left: fs.readdirSync(cwd).filter((f) => f !== ".conf") };
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

describeWithTool(
  "ignition-validate",
  "ignition",
  "hostile strings in failover service props",
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-svc-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const counts = { rejected: 0, accepted: 0 };
    afterAll(() =>
      console.log(`hostile strings, failover service props: ${JSON.stringify(counts)}`),
    );

    const cases = SERVICE_SLOTS.flatMap((s) =>
      CORPUS.map((h) => [s.prop, label(h), s, h] as const),
    );
    it.each(cases)("%s = %s", (_p, _l, slot, h) => {
      const stack = new TerraformStack(caseApp(), "s");
      let ignition: string;
      let service: FailoverService;
      try {
        const cluster = new CoreOsCluster(stack, "core");
        service = new FailoverService(stack, "db", { cluster, ...slot.props(h) });
        ignition = cluster.nodes[0].ignition;
      } catch (e) {
        rejectedFor(e, slot.prop);
        counts.rejected++;
        return;
      }
      counts.accepted++;
      const ign = JSON.parse(ignition) as IgnitionConfig;
      const { conf, left } = sourceAgentConf(textAt(ign, failoverConfPath(service.serviceName)));
      expect(left).toEqual([]);
      expect(slot.read(ign, conf)).toEqual(slot.expected(h));
      const file = path.join(dir, "node.ign");
      fs.writeFileSync(file, ignition);
      const r = spawnSync("ignition-validate", [file], { encoding: "utf8" });
      expect(`${r.stdout}${r.stderr}`).toBe("");
      expect(r.status).toBe(0);
    });
  },
);

// ---------------------------------------------------------------- cluster props → cloud-config

/**
 * The node as coreos-cloudinit would make it from its cloud-config (YAML 1.1
 * after the platform's substitution), in the shape of an Ignition config so
 * the same slots read it: files, units, the host name, SSH keys, locksmithd.
 */
function cloudConfigAsIgnition(text: string, address: string): IgnitionConfig {
  const cc = parseYaml(applyCloudinitEnvironment(text, { $private_ipv4: address }), {
    version: "1.1",
  }) as {
    hostname: string;
    ssh_authorized_keys?: string[];
    coreos: {
      locksmith?: Record<string, string>;
      units: Array<{
        name: string;
        enable?: boolean;
        content?: string;
        "drop-ins"?: Array<{ name: string; content: string }>;
      }>;
    };
    write_files: Array<{ path: string; content: string; encoding?: string; permissions: string }>;
  };
  const file = (path: string, contents: string, mode: number) => ({
    path,
    mode,
    overwrite: true,
    contents: { source: `data:,${encodeURIComponent(contents)}` },
  });
  const locksmith = cc.coreos.locksmith
    ? [
        {
          name: "locksmithd.service",
          dropins: [
            {
              name: "20-etcd-endpoints.conf",
              contents: renderEnvironmentDropin(
                Object.entries(cc.coreos.locksmith).map(([k, v]) => [
                  k === "window_start"
                    ? "LOCKSMITHD_REBOOT_WINDOW_START"
                    : `LOCKSMITHD_${k.toUpperCase()}`,
                  v,
                ]),
              ),
            },
          ],
        },
      ]
    : [];
  return {
    ignition: { version: "3.3.0" },
    passwd: {
      users: [
        {
          name: "core",
          ...(cc.ssh_authorized_keys ? { sshAuthorizedKeys: cc.ssh_authorized_keys } : {}),
        },
      ],
    },
    storage: {
      files: [
        file("/etc/hostname", `${cc.hostname}\n`, 0o644),
        ...cc.write_files.map((f) =>
          file(f.path, decodeContent(f.content, f.encoding ?? ""), parseInt(f.permissions, 8)),
        ),
      ],
    },
    systemd: {
      // locksmithd first: Ignition lists the cluster's units before the user's.
      units: [
        ...locksmith,
        ...cc.coreos.units.map((u) => ({
          name: u.name,
          ...(u.content !== undefined ? { contents: u.content } : {}),
          ...(u.enable ? { enabled: true } : {}),
          ...(u["drop-ins"]
            ? { dropins: u["drop-ins"].map((d) => ({ name: d.name, contents: d.content })) }
            : {}),
        })),
      ],
    },
  };
}

describe("hostile strings in cluster props, as cloud-config", () => {
  const counts = { rejected: 0, accepted: 0 };
  afterAll(() =>
    console.log(`hostile strings, cluster props as cloud-config: ${JSON.stringify(counts)}`),
  );
  const cases = CLUSTER_SLOTS.flatMap((s) => CORPUS.map((h) => [s.prop, label(h), s, h] as const));
  it.each(cases)("%s = %s", (_p, _l, slot, h) => {
    const stack = new TerraformStack(caseApp(), "s");
    let node: CoreOsCluster["nodes"][number];
    try {
      const cluster = new CoreOsCluster(stack, "core", {
        ...slot.props(h),
        provisioning: Provisioning.CLOUD_CONFIG,
      });
      node = cluster.nodes[0];
    } catch (e) {
      rejectedFor(e, slot.prop);
      counts.rejected++;
      return;
    }
    counts.accepted++;
    expect(checkCloudConfig(node.config).findings).toEqual([]);
    expect([slot.read(cloudConfigAsIgnition(node.config, node.address))]).toEqual([
      slot.expected(h),
    ]);
  });
});

// ---------------------------------------------------------------- discovery URLs → the token step

describe("hostile strings in discovery URLs reach the deploy's token step as one literal value", () => {
  const slots = [
    {
      prop: "etcd.discovery.url",
      discovery: (h: string) => EtcdDiscovery.selfHosted(`http://${h}`),
      value: (h: string) => `http://${h}`,
    },
    {
      prop: "etcd.discovery.url",
      discovery: (h: string) => EtcdDiscovery.existingToken(`https://discovery.example/${h}`),
      value: (h: string) => `https://discovery.example/${h}`,
    },
  ];
  const cases = slots.flatMap((s, i) =>
    CORPUS.map((h) => [`${s.prop} (${i})`, label(h), s, h] as const),
  );
  it.each(cases)("%s = %s", (_p, _l, slot, h) => {
    const app = caseApp();
    const stack = new TerraformStack(app, "s");
    let config: {
      resource: Record<
        string,
        Record<string, { provisioner: Array<{ "local-exec": { command: string } }> }>
      >;
    };
    try {
      const cluster = new CoreOsCluster(stack, "core", { etcd: { discovery: slot.discovery(h) } });
      new VagrantCluster(stack, "local", { cluster });
      config = JSON.parse(Testing.synth(stack));
    } catch (e) {
      rejectedFor(e, slot.prop);
      return;
    }
    const command = terraformLiteral(
      config.resource.terraform_data.vagrant_core_discovery.provisioner[0]["local-exec"].command,
    ) as string;
    expect(spawnSync("sh", ["-n", "-c", command]).status).toBe(0);
    // The settings the step starts with, as the shell reads them (the rest would reach the network).
    const head = command.slice(0, command.indexOf("set -u"));
    const r = spawnSync("sh", ["-c", `${head}printf '%s' "$endpoint"`], { encoding: "utf8" });
    expect(r.stdout).toBe(slot.value(h));
  });
});

// ---------------------------------------------------------------- front props → haproxy.cfg

interface FrontSlot {
  readonly prop: string;
  build(stack: TerraformStack, h: string): NlbFront;
  /** The haproxy.cfg line that carries the value, and how it must read. */
  line(h: string): string;
}

const FRONT_SLOTS: readonly FrontSlot[] = [
  {
    prop: "healthCheck.path",
    build: (stack, h) => {
      const f = new NlbFront(stack, "front");
      f.addListener("web", { port: 80 }).addTargets("web", {
        targets: [FrontTargets.host("db", "10.0.0.5")],
        port: 8080,
        healthCheck: { protocol: HealthCheckProtocol.HTTP, path: `/${h}` },
      });
      return f;
    },
    line: (h) => `  option httpchk GET /${h}`,
  },
  {
    prop: "name",
    build: (stack, h) => {
      const f = new NlbFront(stack, "front", { name: h });
      f.addListener("web", { port: 80 }).addTargets("web", {
        targets: [FrontTargets.host("db", "10.0.0.5")],
        port: 8080,
      });
      return f;
    },
    line: (h) => `# haproxy.cfg — generated by coreos-cluster-cdktf from front "${h}".`,
  },
  {
    prop: "id",
    build: (stack, h) => {
      const f = new NlbFront(stack, "front");
      f.addListener(h, { port: 80 });
      return f;
    },
    line: (h) => `frontend fe_${h}`,
  },
  {
    prop: "targets[0]",
    build: (stack, h) => {
      const f = new NlbFront(stack, "front");
      f.addListener("web", { port: 80 }).addTargets("web", {
        targets: [FrontTargets.host(h, "10.0.0.5")],
        port: 8080,
      });
      return f;
    },
    line: (h) => `  server ${h} 10.0.0.5:8080 check port 8080`,
  },
  {
    prop: "targets[0]",
    build: (stack, h) => {
      const f = new NlbFront(stack, "front");
      f.addListener("web", { port: 80 }).addTargets("web", {
        targets: [FrontTargets.host("db", h)],
        port: 8080,
      });
      return f;
    },
    line: (h) => `  server db ${h}:8080 check port 8080`,
  },
];

describeWithTool("haproxy", "haproxy", "hostile strings in front props", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-haproxy-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases = FRONT_SLOTS.flatMap((s, i) =>
    CORPUS.map((h) => [`${s.prop} (${i})`, label(h), s, h] as const),
  );
  it.each(cases)("%s = %s", (_p, _l, slot, h) => {
    const stack = new TerraformStack(caseApp(), "s");
    let cfg: string;
    try {
      const front = slot.build(stack, h);
      cfg = renderHaproxyCfg(front.plan(), {
        bindAddress: "127.0.0.1",
        statsSocket: path.join(dir, "admin.sock"),
        monitorPort: 8404,
      });
    } catch (e) {
      rejectedFor(e, slot.prop.replace(/ \(\d+\)$/, ""));
      return;
    }
    expect(cfg.split("\n")).toContain(slot.line(h));
    const file = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(file, cfg);
    const r = spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8", timeout: 30000 });
    expect({ status: r.status, out: r.stderr }).toMatchObject({ status: 0 });
  });
});

// ---------------------------------------------------------------- Vagrant props → config.rb, shell

/** The text Terraform runs for a template string; undefined when it would interpolate. */
function terraformLiteral(template: string): string | undefined {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const two = template.slice(i, i + 3);
    if (two === "$${" || two === "%%{") {
      out += `${two[0]}{`;
      i += 2;
    } else if (/^[$%]\{/.test(template.slice(i, i + 2))) {
      return undefined;
    } else {
      out += template[i];
    }
  }
  return out;
}

/**
 * Runs a shell command as Terraform's local-exec would (`sh -c`, in the
 * Vagrant folder), in an empty folder with the recording `vagrant` and a
 * VBoxManage stand-in first on PATH; returns each call's exact arguments and
 * what the command left in the folder.
 */
function runWithRecordingVagrant(command: string): { calls: string[][]; left: string[] } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-sh-"));
  const standIns = new StandIns().addVBoxManage().addRecordingVagrant();
  try {
    expect(spawnSync("sh", ["-n", "-c", command]).status).toBe(0);
    const r = spawnSync("sh", ["-c", command], {
      cwd,
      env: { ...process.env, PATH: `${standIns.bin}:/usr/bin:/bin` },
      encoding: "utf8",
      timeout: 10000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    return { calls: standIns.takeVagrantCalls(), left: fs.readdirSync(cwd) };
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
    standIns.cleanup();
  }
}

interface VagrantSlot {
  readonly prop: string;
  options(h: string): Partial<VagrantClusterProps>;
  /** config.rb knob that carries the value, and what it must hold. */
  readonly knob: string;
  expected(h: string): unknown;
  /** Also check the box step's shell command. */
  readonly shell?: boolean;
}

/** A box of the user's own: any name is allowed with it (Flatcar's metadata declares its own). */
const OWN_BOX = "https://example.com/own.box";

const VAGRANT_SLOTS: readonly VagrantSlot[] = [
  {
    prop: "boxName",
    options: (h) => ({ boxName: h, boxUrl: OWN_BOX }),
    knob: "$box_name",
    expected: (h) => h,
    shell: true,
  },
  {
    prop: "boxUrl",
    options: (h) => ({ boxUrl: `https://example.com/${h}` }),
    knob: "$box_url",
    expected: (h) => `https://example.com/${h}`,
    shell: true,
  },
  {
    prop: "sharedFolders[0].host",
    options: (h) => ({ sharedFolders: [{ host: h, guest: "/srv" }] }),
    knob: "$shared_folders",
    expected: (h) => ({ [h]: "/srv" }),
  },
  {
    prop: "sharedFolders[0].guest",
    options: (h) => ({ sharedFolders: [{ host: "src", guest: `/srv/${h}` }] }),
    knob: "$shared_folders",
    expected: (h) => ({ src: `/srv/${h}` }),
  },
];

describeWithTool("ruby", "ruby", "hostile strings in Vagrant props", () => {
  const cases = VAGRANT_SLOTS.flatMap((s) => CORPUS.map((h) => [s.prop, label(h), s, h] as const));
  const flatcarName = flatcarBoxName("stable");
  const flatcarUrl = flatcarBoxUrl("stable");

  it.each(cases)("%s = %s", (_p, _l, slot, h) => {
    const app = synthApp({ outdir: tempOutdir() });
    const stack = new TerraformStack(app, "s");
    let vagrantDir: string;
    try {
      const cluster = new CoreOsCluster(stack, "core");
      const v = new VagrantCluster(stack, "local", {
        cluster,
        lifecycle: LifecycleResource.TERRAFORM_DATA,
        ...slot.options(h),
      });
      app.synth();
      vagrantDir = path.join(app.outdir, "stacks", "s", v.directory);
    } catch (e) {
      rejectedFor(e, slot.prop);
      return;
    }
    const configRb = path.join(vagrantDir, "config.rb");
    expect(spawnSync("ruby", ["-c", configRb], { encoding: "utf8" }).status).toBe(0);
    const dump = spawnSync(
      "ruby",
      ["-rjson", "-e", `load ARGV[0]; STDOUT.write(JSON.generate(${slot.knob}))`, configRb],
      { encoding: "utf8" },
    );
    expect(JSON.parse(dump.stdout)).toEqual(slot.expected(h));
    if (!slot.shell) return;
    // The box step as Terraform runs it: `vagrant box list`, then `vagrant box add` with the
    // name and URL as single arguments; nothing else runs, nothing is left behind.
    const config = JSON.parse(fs.readFileSync(path.join(vagrantDir, "../../cdk.tf.json"), "utf8"));
    const template: string =
      config.resource.terraform_data.vagrant_core_box.provisioner[0]["local-exec"].command;
    const command = terraformLiteral(template);
    expect(command).toBeDefined();
    const { calls, left } = runWithRecordingVagrant(command as string);
    const name = slot.prop === "boxName" ? h : flatcarName;
    const url = slot.prop === "boxUrl" ? `https://example.com/${h}` : OWN_BOX;
    expect(calls).toEqual([
      ["box", "list"],
      ["box", "add", "--name", name, "--provider", "virtualbox", url],
    ]);
    expect(left).toEqual([]);
  });

  it("the default box step adds Flatcar's box metadata under the name it declares", () => {
    const app = synthApp({ outdir: tempOutdir() });
    const stack = new TerraformStack(app, "s");
    new VagrantCluster(stack, "local", { cluster: new CoreOsCluster(stack, "core") });
    const config = JSON.parse(Testing.synth(stack));
    const template: string =
      config.resource.terraform_data.vagrant_core_box.provisioner[0]["local-exec"].command;
    const { calls } = runWithRecordingVagrant(terraformLiteral(template) as string);
    expect(calls).toEqual([
      ["box", "list"],
      ["box", "add", "--name", flatcarName, "--provider", "virtualbox", flatcarUrl],
    ]);
  });
});

describeWithTool("ruby", "ruby", "hostile strings in config.rb hints", () => {
  it.each(CORPUS.map((h) => [label(h), h]))("configRbHints.num_instances = %s", (_l, h) => {
    const app = synthApp({ outdir: tempOutdir() });
    const stack = new TerraformStack(app, "s");
    let vagrantDir: string;
    try {
      const v = new VagrantCluster(stack, "local", {
        cluster: new CoreOsCluster(stack, "core"),
        configRbHints: { num_instances: h },
      });
      app.synth();
      vagrantDir = path.join(app.outdir, "stacks", "s", v.directory);
    } catch (e) {
      rejectedFor(e, "configRbHints.num_instances");
      return;
    }
    const vagrantfile = path.join(vagrantDir, "Vagrantfile");
    expect(spawnSync("ruby", ["-c", vagrantfile], { encoding: "utf8" }).status).toBe(0);
    // The checks' table as Ruby reads it: the hint is one string, exactly as given.
    const text = fs.readFileSync(vagrantfile, "utf8");
    const table = text.slice(text.indexOf("\n[\n") + 1, text.indexOf("].each do |knob"));
    const dump = spawnSync(
      "ruby",
      ["-rjson", "-e", `STDOUT.write(JSON.generate((${table}]).map { |row| row[3] }))`],
      { encoding: "utf8" },
    );
    expect(JSON.parse(dump.stdout)[0]).toBe(h);
  });
});

/**
 * The front machines' interface reaches keepalived.conf (`interface <name>`,
 * `dev <name>`). An accepted name must be read by keepalived as exactly that
 * one name: `keepalived -t` reports it back as an interface that does not
 * exist here, and nothing else.
 */
describeWithTool("keepalived", "keepalived", "hostile strings in the front interface", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-keepalived-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(CORPUS.map((h) => [label(h), h]))("frontInterface = %s", (_l, h) => {
    const stack = new TerraformStack(caseApp(), "s");
    let conf: string;
    try {
      const cluster = new CoreOsCluster(stack, "core");
      const front = new NlbFront(stack, "front");
      front.addListener("web", { port: 80 }).addTargets("web", { targets: [cluster], port: 8080 });
      const v = new VagrantCluster(stack, "local", { cluster, front, frontInterface: h });
      conf = v.plan.front?.machines[0].keepalivedConf as string;
    } catch (e) {
      rejectedFor(e, "frontInterface");
      return;
    }
    const file = path.join(dir, "keepalived.conf");
    fs.writeFileSync(file, conf);
    const r = spawnSync("keepalived", ["-t", "-f", file], { encoding: "utf8", timeout: 30000 });
    const lines = `${r.stdout}${r.stderr}`.split("\n").filter(Boolean);
    expect(lines).toContainEqual(
      expect.stringContaining(`WARNING - interface ${h} for vrrp_instance front doesn't exist`),
    );
    const other = lines.filter(
      (l) =>
        !l.includes(`interface ${h} for vrrp_instance front doesn't exist`) &&
        !l.includes(`interface ${h} for ip address 192.168.56.10/21 doesn't exist`) &&
        l !== "Non-existent interface specified in configuration",
    );
    expect(other).toEqual([]);
  });
});

// ---------------------------------------------------------------- AWS props → Terraform

interface AwsSlot {
  readonly prop: string;
  options(h: string): Partial<AwsClusterProps>;
}

/** An existing network whose ids are fine; each slot puts the hostile string in one place. */
const EXISTING = {
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
};

const AWS_SLOTS: readonly AwsSlot[] = [
  { prop: "instanceType", options: (h) => ({ instanceType: h }) },
  { prop: "region", options: (h) => ({ region: h }) },
  { prop: "image", options: (h) => ({ image: AwsMachineImage.fixed(h) }) },
  { prop: "image.version", options: (h) => ({ image: AwsMachineImage.lookup({ version: h }) }) },
  {
    prop: "network.vpcId",
    options: (h) => ({
      network: AwsNetwork.existing({ ...EXISTING, vpcId: h }),
      publicAddresses: true,
    }),
  },
  {
    prop: "network.subnetIds[0]",
    options: (h) => ({
      network: AwsNetwork.existing({ ...EXISTING, subnetIds: [h, "subnet-0123456789abcdef1"] }),
      publicAddresses: true,
    }),
  },
  {
    prop: "network.loadBalancerSubnetIds[0]",
    options: (h) => ({
      network: AwsNetwork.existing({
        ...EXISTING,
        loadBalancerSubnetIds: [h, "subnet-0123456789abcdef3"],
      }),
      publicAddresses: false,
    }),
  },
  {
    prop: "network.availabilityZones[0]",
    options: (h) => ({ network: AwsNetwork.create({ availabilityZones: [h, "eu-central-1b"] }) }),
  },
  { prop: "sshAllowedCidrs[0]", options: (h) => ({ sshAllowedCidrs: [h] }) },
  { prop: "tags", options: (h) => ({ tags: { [h]: "v" } }) },
  { prop: "tags.team", options: (h) => ({ tags: { team: h } }) },
];

const AWS_NET: CoreOsClusterProps = {
  networkCidr: "10.42.0.0/16",
  subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"],
  firstHostNumber: 10,
};

/** An HCL string literal of `text` (JSON escapes, template sequences doubled). */
const hclString = (text: string) => JSON.stringify(text).replace(/([$%])\{/g, "$1$1{");

const mirror = hasCommand("terraform") ? findAwsProviderMirror() : undefined;

describe("hostile strings in AWS props are rejected, or kept for Terraform", () => {
  const accepted: Array<{ prop: string; h: string }> = [];
  const cases = AWS_SLOTS.flatMap((s) => CORPUS.map((h) => [s.prop, label(h), s, h] as const));
  it.each(cases)("%s = %s", (_p, _l, slot, h) => {
    const stack = new TerraformStack(caseApp(), "s");
    try {
      new AwsCluster(stack, "aws", {
        cluster: new CoreOsCluster(stack, "core", AWS_NET),
        ...slot.options(h),
      });
    } catch (e) {
      rejectedFor(e, slot.prop);
      return;
    }
    // Only tag keys and values may carry such text; Terraform reads them back below.
    expect(["tags", "tags.team"]).toContain(slot.prop);
    accepted.push({ prop: slot.prop, h });
  });

  describeWithRequirement(
    mirror !== undefined,
    "terraform and the hashicorp/aws mirror",
    "terraform or an offline mirror of hashicorp/aws is missing (see __tests__/aws-terraform.test.ts)",
    "Terraform reads every hostile file content and accepted tag value as given",
    () => {
      it("terraform validate, then a mocked plan asserts user data and tags", async () => {
        const outdir = tempOutdir();
        // One hashicorp/aws process for validate and test (see startProviderServer).
        const provider = await startProviderServer(mirror as string, "hashicorp/aws", outdir);
        const app = testApp({ outdir });
        const stack = new TerraformStack(app, "hostile");
        const files = CORPUS.map((h, i) => ({ path: `/opt/h${i}`, contents: h }));
        const tagValues = accepted.filter((a) => a.prop === "tags.team").map((a) => a.h);
        const tagKeys = accepted.filter((a) => a.prop === "tags").map((a) => a.h);
        const cluster = new CoreOsCluster(stack, "core", { ...AWS_NET, files });
        new AwsCluster(stack, "aws", {
          cluster,
          tags: Object.fromEntries([
            ...tagValues.map((v, i) => [`t${i}`, v]),
            ...tagKeys.map((k) => [k, "key"]),
          ]),
        });
        app.synth();
        const stackDir = path.join(outdir, "stacks", "hostile");
        const testsDir = path.join(stackDir, "tests");
        fs.mkdirSync(path.join(testsDir, "mocks"), { recursive: true });
        fs.copyFileSync(
          path.join(__dirname, "terraform", "mocks", "aws.tfmock.hcl"),
          path.join(testsDir, "mocks", "aws.tfmock.hcl"),
        );
        const asserts = [
          `  assert {\n    condition     = jsondecode(aws_instance.core_core-01.user_data) == jsondecode(file("clusters/core/ignition/core-01.ign"))\n    error_message = "user data differs from the node's Ignition"\n  }`,
          ...tagValues.map(
            (v, i) =>
              `  assert {\n    condition     = aws_instance.core_core-01.tags["t${i}"] == ${hclString(v)}\n    error_message = "tag t${i} differs"\n  }`,
          ),
          ...tagKeys.map(
            (k, i) =>
              `  assert {\n    condition     = aws_instance.core_core-01.tags[${hclString(k)}] == "key"\n    error_message = "tag key ${i} differs"\n  }`,
          ),
        ];
        fs.writeFileSync(
          path.join(testsDir, "hostile.tftest.hcl"),
          `mock_provider "aws" {\n  source = "./tests/mocks"\n}\n\nrun "hostile" {\n  command = plan\n\n${asserts.join("\n")}\n}\n`,
        );
        const env = { TF_CLI_CONFIG_FILE: writeMirrorCliConfig(outdir, mirror as string) };
        try {
          for (const args of [
            ["init", "-no-color"],
            ["validate", "-no-color"],
            ["test", "-no-color"],
          ]) {
            // init installs the provider from the mirror; the others use the running one.
            const r = runTerraform(
              args,
              stackDir,
              args[0] === "init" ? env : { ...env, ...provider.env },
            );
            expect({ args, status: r.status, output: r.status === 0 ? "" : r.output }).toEqual({
              args,
              status: 0,
              output: "",
            });
          }
        } finally {
          await provider.stop();
        }
        console.log(
          `hostile strings through Terraform: ${CORPUS.length} file contents, ${tagValues.length} tag values, ${tagKeys.length} tag keys`,
        );
        fs.rmSync(outdir, { recursive: true, force: true });
      });
    },
  );
});

// ---------------------------------------------------------------- settings and environment

/** What the settings built, to read a value back from. */
interface FromSettings {
  readonly target: string;
  readonly cluster: CoreOsCluster;
  readonly front?: NlbFront;
  readonly vagrant: VagrantCluster;
}

interface SettingsSlot {
  /** The settings key, or the environment variable, the value goes to. */
  readonly at: string;
  /** The settings object (and environment) carrying `h`. */
  settings(h: string): { value: object; env?: Record<string, string> };
  /** The prop an issue about it names. */
  readonly prop: string | ((h: string) => string);
  /** What the built constructs hold, to compare with `h`. */
  read(built: FromSettings, h: string): unknown;
  /** An environment variable: an empty one counts as unset. */
  readonly env?: boolean;
}

const LISTENER = { name: "http", port: 80, protocol: "http", targets: { port: 8080 } };
const key = (k: string, prop = k) => ({ prop, at: k });
const env = (name: string, k: string) => ({
  env: true,
  at: name,
  prop: `${name} (environment, ${k})`,
  settings: (h: string) => ({ value: {}, env: { [name]: h } }),
});

const SETTINGS_SLOTS: readonly SettingsSlot[] = [
  { at: "a key", prop: (h) => h, settings: (h) => ({ value: { [h]: 1 } }), read: () => "never" },
  { ...key("name"), settings: (h) => ({ value: { name: h } }), read: (b) => b.cluster.clusterName },
  {
    ...key("namePrefix"),
    settings: (h) => ({ value: { namePrefix: h } }),
    read: (b) => b.cluster.plan.namePrefix,
  },
  {
    ...key("os.channel"),
    settings: (h) => ({ value: { os: { channel: h } } }),
    read: (b) => b.cluster.os.channel,
  },
  {
    ...key("os.family"),
    settings: (h) => ({ value: { os: { family: h } } }),
    read: (b) => b.cluster.os.family,
  },
  { ...key("target"), settings: (h) => ({ value: { target: h } }), read: (b) => b.target },
  {
    ...key("etcd.clusterToken"),
    settings: (h) => ({ value: { etcd: { clusterToken: h } } }),
    read: (b) => b.cluster.plan.etcd.clusterToken,
  },
  {
    ...key("etcd.imageTag"),
    settings: (h) => ({ value: { etcd: { imageTag: h } } }),
    read: (b) => b.cluster.plan.etcd.imageTag,
  },
  {
    ...key("sshPublicKeys[0]"),
    settings: (h) => ({ value: { sshPublicKeys: [h] } }),
    read: (b) => b.cluster.plan.sshPublicKeys[0],
  },
  {
    ...key("networkCidr"),
    settings: (h) => ({ value: { networkCidr: h } }),
    read: (b) => b.cluster.plan.network.cidr,
  },
  {
    ...key("front.name"),
    settings: (h) => ({ value: { front: { name: h, listeners: [LISTENER] } } }),
    read: (b) => b.front?.frontName,
  },
  {
    ...key("front.listeners[0].name"),
    settings: (h) => ({ value: { front: { listeners: [{ ...LISTENER, name: h }] } } }),
    read: (b) => b.front?.listeners[0].listenerName,
  },
  {
    ...key("front.listeners[0].targets.healthCheck.path"),
    settings: (h) => ({
      value: {
        front: { listeners: [{ ...LISTENER, targets: { port: 8080, healthCheck: { path: h } } }] },
      },
    }),
    read: (b) => b.front?.plan().listeners[0].targetGroup.healthCheck.path,
  },
  {
    ...key("front.drain"),
    settings: (h) => ({ value: { front: { listeners: [LISTENER], drain: [h] } } }),
    read: (b) => b.front?.plan().draining[0],
  },
  {
    ...key("vagrant.boxName"),
    settings: (h) => ({ value: { vagrant: { boxName: h, boxUrl: "https://example.com/a.box" } } }),
    read: (b) => b.vagrant.plan.boxName,
  },
  {
    ...key("vagrant.boxUrl"),
    settings: (h) => ({ value: { vagrant: { boxUrl: h } } }),
    read: (b) => b.vagrant.plan.boxUrl,
  },
  {
    ...key("vagrant.frontInterface"),
    settings: (h) => ({
      value: { front: { listeners: [LISTENER] }, vagrant: { frontInterface: h } },
    }),
    read: (b, h) =>
      b.vagrant.plan.front?.machines[0].keepalivedConf?.includes(`interface ${h}\n`) && h,
  },
  {
    ...key("vagrant.readyTimeout"),
    settings: (h) => ({ value: { vagrant: { readyTimeout: h } } }),
    read: () => "never",
  },
  { ...env("NUM_INSTANCES", "nodeCount"), read: () => "never" },
  { ...env("VM_GUI", "vagrant.gui"), read: () => "never" },
  { ...env("INSTANCE_NAME_PREFIX", "namePrefix"), read: (b) => b.cluster.plan.namePrefix },
  { ...env("UPDATE_CHANNEL", "os.channel"), read: (b) => b.cluster.os.channel },
  { ...env("COREOS_CLUSTER_OS", "os.family"), read: (b) => b.cluster.os.family },
  { ...env("COREOS_CLUSTER_TARGET", "target"), read: (b) => b.target },
];

describe("hostile strings in settings (cdktf.json) and environment variables", () => {
  // Rejected with a ClusterConfigError naming the key or the variable, or carried unchanged into
  // the constructs the app builds (whose props meet the corpus above, with the real consumers).
  const cases = SETTINGS_SLOTS.flatMap((slot) =>
    CORPUS.map((h) => [slot.at, label(h), slot, h] as const),
  );

  it.each(cases)("%s = %s", (_at, _l, slot, h) => {
    const stack = new TerraformStack(caseApp(), "s");
    const { value, env: vars = {} } = slot.settings(h);
    let built: FromSettings;
    try {
      const settings = parseAppSettings(value, vars);
      if (slot.env && h === "") {
        // An empty variable counts as unset.
        expect(settings.fromEnvironment).toEqual({});
        return;
      }
      const cluster = clusterFromSettings(stack, "core", settings);
      const front = frontFromSettings(stack, "front", settings, cluster);
      const vagrant =
        settings.target === "aws"
          ? new VagrantCluster(stack, "local", { cluster, front })
          : vagrantFromSettings(stack, "local", settings, { cluster, front });
      built = { target: settings.target, cluster, front, vagrant };
    } catch (e) {
      rejectedFor(e, typeof slot.prop === "string" ? slot.prop : slot.prop(h));
      expect((e as Error).message).toMatch(/^Invalid settings for cdktf\.json/);
      return;
    }
    expect(slot.read(built, h)).toEqual(h);
  });
});
