import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TerraformStack, Testing } from "cdktf";
import { parse } from "yaml";
import {
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  EtcdDiscovery,
  EtcdTls,
  ETCD_ENV_FILE,
  FlatcarChannel,
  OperatingSystem,
  parseEnvironmentDropin,
  parseEnvironmentFile,
  Provisioning,
  RebootStrategy,
} from "../lib";
import { AwsCluster } from "../lib/aws";
import { USER_DATA_LIMIT } from "../lib/aws/plan";
import { fileText, IgnitionConfig, IgnitionUnit } from "../lib/render/ignition";
import {
  applyCloudinitEnvironment,
  checkCloudConfig,
  decodeContent,
} from "./support/cloud-config-schema";
import { ed25519PublicKey } from "./support/keys";
import { StandIns } from "./support/stand-ins";
import { testApp } from "./support/state";
import { synthVagrant, tempOutdir } from "./support/synth";
import { describeWithTool } from "./support/tools";

/*
 * The seed's cloud-config, checked against what Flatcar's coreos-cloudinit
 * accepts (its keys, value types and `valid` patterns, written down from its
 * source in support/cloud-config-schema.ts) after a YAML 1.1 parse, and
 * against the node's Ignition config: the same files (after the platform's
 * `$private_ipv4` substitution, byte for byte), the same units, enabled and
 * started as Ignition's links would, the same update and reboot-lock settings.
 * Stand-in: coreos-cloudinit itself (a Go program) does not run here; its
 * parser is YAML 1.1 and its substitution is ported from its source.
 */

const CC = { provisioning: Provisioning.CLOUD_CONFIG };
const INSTALL = "\n[Install]\nWantedBy=multi-user.target\n";
const PUB = ed25519PublicKey("ops");

function cluster(props: CoreOsClusterProps): CoreOsCluster {
  const app = testApp({ outdir: tempOutdir() });
  const c = new CoreOsCluster(new TerraformStack(app, "s"), "core", { ...CC, ...props });
  app.synth();
  return c;
}

interface CloudConfig {
  hostname: string;
  ssh_authorized_keys?: string[];
  coreos: {
    update: Record<string, string>;
    locksmith?: Record<string, string>;
    units: Array<{
      name: string;
      enable?: boolean;
      command?: string;
      content?: string;
      "drop-ins"?: Array<{ name: string; content: string }>;
    }>;
  };
  write_files: Array<{
    path: string;
    owner: string;
    permissions: string;
    content: string;
    encoding?: string;
  }>;
}

/** The cloud-config as coreos-cloudinit reads it on a machine with this private address. */
function onMachine(text: string, address: string): CloudConfig {
  const applied = applyCloudinitEnvironment(text, {
    $private_ipv4: address,
    $public_ipv4: "203.0.113.9",
  });
  return parse(applied, { version: "1.1" }) as CloudConfig;
}

const LOCKSMITH_ENV: Record<string, string> = {
  endpoint: "LOCKSMITHD_ENDPOINT",
  etcd_cafile: "LOCKSMITHD_ETCD_CAFILE",
  etcd_certfile: "LOCKSMITHD_ETCD_CERTFILE",
  etcd_keyfile: "LOCKSMITHD_ETCD_KEYFILE",
  window_start: "LOCKSMITHD_REBOOT_WINDOW_START",
  window_length: "LOCKSMITHD_REBOOT_WINDOW_LENGTH",
};

const VARIANTS: Array<[string, CoreOsClusterProps]> = [
  [
    "3 members, a client and a standby node, SSH keys",
    { nodeCount: 5, standby: 1, sshPublicKeys: [PUB] },
  ],
  ["staggered reboots", { rebootStrategy: RebootStrategy.STAGGERED }],
  [
    "reboot inside a weekly maintenance window",
    {
      rebootStrategy: RebootStrategy.REBOOT,
      maintenanceWindow: { start: "Sun 03:00", length: Duration.minutes(90) },
    },
  ],
  [
    "etcd lock inside a daily window",
    { maintenanceWindow: { start: "04:30", length: Duration.hours(2) } },
  ],
  ["updates off", { rebootStrategy: RebootStrategy.OFF }],
  ["etcd without TLS, legacy ports", { etcd: { tls: EtcdTls.disabled(), legacyPorts: true } }],
  [
    "a self-hosted discovery service",
    { etcd: { discovery: EtcdDiscovery.selfHosted("http://192.168.56.5:2379") } },
  ],
  ["beta channel, one node", { nodeCount: 1, os: OperatingSystem.flatcar(FlatcarChannel.BETA) }],
  [
    "user units and files with text YAML and the platform must leave alone",
    {
      units: [
        {
          name: "hello.service",
          contents: `[Service]\nExecStart=/bin/echo "$private_ipv4" \\$public_ipv4 \${HOME} '#'${INSTALL}`,
        },
        {
          name: "worker@.service",
          contents: `[Service]\nExecStart=/bin/true %i${INSTALL}DefaultInstance=one\n`,
        },
        { name: "quiet.service", contents: "[Service]\nExecStart=/bin/true\n", enabled: false },
        { name: "docker.service", enabled: true },
        {
          name: "etcd-member.service",
          dropins: [{ name: "30-limits.conf", contents: "[Service]\nLimitNOFILE=65536\n" }],
        },
        {
          name: "locksmithd.service",
          dropins: [{ name: "30-log.conf", contents: "[Service]\nEnvironment=LOG=1\n" }],
        },
      ],
      files: [
        { path: "/etc/app/plain", contents: "a: b\n- c\n# d\n" },
        {
          path: "/etc/app/hostile",
          contents:
            ' "quoted" \\back\\ \u0001\r\n\u2028\ttab $private_ipv4 \\$public_ipv4 é 日本 🙂',
          mode: 0o640,
        },
        { path: "/etc/app/no-newline", contents: "x\ny" },
        { path: "/etc/app/blank-lines", contents: "x\n\n  \n\n" },
        { path: "/etc/app/empty", contents: "" },
      ],
      nodeFiles: { "core-02": [{ path: "/etc/app/role", contents: "leader-ish\n" }] },
    },
  ],
];

describe.each(VARIANTS)("cloud-config of %s", (_label, props) => {
  const c = cluster(props);

  it("is what coreos-cloudinit accepts: YAML 1.1, known keys, right types, valid values", () => {
    for (const n of c.nodes) {
      expect(n.provisioning).toBe(Provisioning.CLOUD_CONFIG);
      expect(n.config.startsWith("#cloud-config\n")).toBe(true);
      expect(checkCloudConfig(n.config).findings).toEqual([]);
    }
  });

  it("writes the files of the node's Ignition config, byte for byte once $private_ipv4 is the node's address", () => {
    for (const n of c.nodes) {
      const ign = JSON.parse(n.ignition) as IgnitionConfig;
      const cc = onMachine(n.config, n.address);
      const written = Object.fromEntries(
        cc.write_files.map((f) => [
          f.path,
          {
            contents: decodeContent(f.content, f.encoding ?? ""),
            mode: parseInt(f.permissions, 8),
            owner: f.owner,
          },
        ]),
      );
      const expected = Object.fromEntries(
        ign.storage.files
          .filter((f) => !["/etc/hostname", "/etc/flatcar/update.conf"].includes(f.path))
          .map((f) => [f.path, { contents: fileText(f), mode: f.mode, owner: "root" }]),
      );
      expect(written).toEqual(expected);
      expect(cc.hostname).toBe(n.name);
      expect(cc.ssh_authorized_keys ?? []).toEqual(ign.passwd.users[0].sshAuthorizedKeys ?? []);
    }
  });

  it("names the node's own etcd address only as $private_ipv4, which the platform substitutes", () => {
    for (const n of c.nodes.filter((x) => x.etcdMember)) {
      const raw = parse(n.config, { version: "1.1" }) as CloudConfig;
      const env = parseEnvironmentFile(
        raw.write_files.find((f) => f.path === ETCD_ENV_FILE)!.content,
      );
      for (const k of [
        "ETCD_LISTEN_PEER_URLS",
        "ETCD_LISTEN_CLIENT_URLS",
        "ETCD_INITIAL_ADVERTISE_PEER_URLS",
        "ETCD_ADVERTISE_CLIENT_URLS",
      ]) {
        expect(env[k]).toMatch(/^https?:\/\/\$private_ipv4:\d+(,https?:\/\/\$private_ipv4:\d+)*$/);
      }
    }
  });

  it("keeps private keys 0600 and root's", () => {
    for (const n of c.nodes) {
      const raw = parse(n.config, { version: "1.1" }) as CloudConfig;
      for (const f of raw.write_files.filter((x) => x.path.endsWith(".key"))) {
        expect([f.permissions, f.owner]).toEqual(["0600", "root"]);
      }
    }
  });

  it("has the units of the Ignition config, enabled as Ignition enables them, boot units started", () => {
    for (const n of c.nodes) {
      const ign = JSON.parse(n.ignition) as IgnitionConfig;
      const cc = onMachine(n.config, n.address);
      const byName = new Map(cc.coreos.units.map((u) => [u.name, u]));
      const links = (ign.storage.links ?? []).map((l) => path.basename(l.path));
      for (const u of ign.systemd.units) {
        const dropins = (u.dropins ?? []).filter(
          (d) => !(u.name === "locksmithd.service" && d.name === "20-etcd-endpoints.conf"),
        );
        const got = byName.get(u.name);
        if (u.contents === undefined && u.enabled === undefined && dropins.length === 0) {
          expect(got).toBeUndefined();
          continue;
        }
        expect(got?.content).toEqual(u.contents);
        expect(got?.enable === true).toBe(u.enabled === true);
        expect(got?.["drop-ins"] ?? []).toEqual(
          dropins.map((d) => ({ name: d.name, content: d.contents })),
        );
        // Ignition's links say which units a boot target starts: cloud-init starts those now.
        const bootTarget = (ign.storage.links ?? []).some(
          (l) =>
            /\.target\.(wants|requires)\//.test(l.path) && l.path.endsWith(`/${startedName(u)}`),
        );
        const started = cc.coreos.units.some(
          (x) => x.name === startedName(u) && x.command === "start",
        );
        expect(started).toBe(bootTarget && u.enabled === true);
      }
      expect(links.length).toBeGreaterThan(0);
    }
  });

  it("sets the update group, reboot strategy and locksmithd's settings as Ignition does", () => {
    for (const n of c.nodes) {
      const ign = JSON.parse(n.ignition) as IgnitionConfig;
      const cc = onMachine(n.config, n.address);
      const update = parseEnvironmentFile(
        fileText(ign.storage.files.find((f) => f.path === "/etc/flatcar/update.conf")!),
      );
      expect(cc.coreos.update).toEqual({
        group: update.GROUP,
        "reboot-strategy": update.REBOOT_STRATEGY,
      });
      const dropin = ign.systemd.units
        .find((u) => u.name === "locksmithd.service")
        ?.dropins?.find((d) => d.name === "20-etcd-endpoints.conf");
      const expected = dropin ? parseEnvironmentDropin(dropin.contents) : undefined;
      const got = cc.coreos.locksmith
        ? Object.fromEntries(
            Object.entries(cc.coreos.locksmith).map(([k, v]) => [LOCKSMITH_ENV[k], v]),
          )
        : undefined;
      expect(got).toEqual(expected);
    }
  });
});

/** The name a boot target starts: a template's default instance. */
function startedName(u: IgnitionUnit): string {
  const instance = /DefaultInstance=(\S+)/.exec(u.contents ?? "")?.[1];
  return instance && u.name.includes("@.") ? u.name.replace("@.", `@${instance}.`) : u.name;
}

describe("the cloud-config check is real", () => {
  const good = cluster({}).nodes[0].config;
  it.each([
    [
      "the seed's coreos.etcd2 (deprecated on Flatcar)",
      "coreos:\n  etcd2:\n    name: x\n",
      "deprecated key",
    ],
    ["an unknown key", "coreos:\n  updates:\n    group: stable\n", "unrecognized key"],
    [
      "a string where a bool goes",
      'coreos:\n  units:\n    - name: a\n      enable: "true"\n',
      "incorrect type",
    ],
    [
      "an invalid reboot strategy",
      'coreos:\n  update:\n    reboot-strategy: "lock"\n',
      "invalid value",
    ],
    ["a file under /usr", 'write_files:\n  - path: "/usr/x"\n    content: ""\n', "read-only"],
    [
      "undecodable content",
      'write_files:\n  - path: "/x"\n    encoding: "base64"\n    content: "!!"\n',
      "base64",
    ],
  ])("finds %s", (_l, extra, message) => {
    const findings = checkCloudConfig(`#cloud-config\n${extra}`).findings;
    expect(findings.map((f) => f.message).join("\n")).toContain(message);
    expect(checkCloudConfig(good).findings).toEqual([]);
  });

  it("and the header", () => {
    expect(checkCloudConfig("hostname: x\n").findings[0].message).toContain("#cloud-config");
  });
});

describe("cloud-config on the targets", () => {
  it("Vagrant: each node's cloud-config next to the Vagrantfile (0600), copied to the path Flatcar's user-config.target watches", () => {
    const { vagrantDir, vagrant } = synthVagrant(CC);
    expect(fs.existsSync(path.join(vagrantDir, "ignition"))).toBe(false);
    for (const n of vagrant.plan.nodes) {
      const file = path.join(vagrantDir, "cloud-config", `${n.name}.yml`);
      expect(fs.readFileSync(file, "utf8")).toBe(n.config);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
    const vagrantfile = fs.readFileSync(path.join(vagrantDir, "Vagrantfile"), "utf8");
    expect(vagrantfile).toContain("/var/lib/flatcar-install/user_data");
    expect(vagrantfile).toContain('systemctl start "$unit"');
    expect(vagrantfile).toContain("user-cloudinit@var-lib-flatcar\\x2dinstall-user_data.service");
  });

  it("Vagrant: switching the provisioning replaces every node (its inputs change)", () => {
    const ign = synthVagrant({}).vagrant.plan.nodes.map((n) => n.inputsHash);
    const cc = synthVagrant(CC).vagrant.plan.nodes.map((n) => n.inputsHash);
    ign.forEach((h, i) => expect(cc[i]).not.toBe(h));
  });

  it("AWS: the cloud-config is the EC2 user data, within its 16 KiB; legacy ports open between the nodes only", () => {
    const stack = new TerraformStack(testApp(), "aws");
    const c = new CoreOsCluster(stack, "core", {
      ...CC,
      nodeCount: 4,
      networkCidr: "10.42.0.0/16",
      subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"],
      firstHostNumber: 10,
      sshPublicKeys: [PUB],
      etcd: { legacyPorts: true },
    });
    const aws = new AwsCluster(stack, "aws", { cluster: c });
    const config = JSON.parse(Testing.synth(stack)) as {
      resource: Record<string, Record<string, Record<string, unknown>>>;
    };
    for (const n of c.nodes) {
      // Terraform reads the node's cloud-config from its file (as written: see aws.test.ts).
      expect(config.resource.aws_instance[`core_${n.name}`].user_data).toBe(
        `\${file("\${path.module}/clusters/core/aws-user-data/${n.name}.yml")}`,
      );
      expect(aws.plan.nodes[n.index].userData).toBe(n.config);
      expect(Buffer.byteLength(n.config)).toBeLessThan(USER_DATA_LIMIT);
    }
    const ingress = Object.values(config.resource.aws_vpc_security_group_ingress_rule);
    const etcdPorts = ingress
      .filter((r) => String(r.description).startsWith("etcd"))
      .map((r) => r.from_port)
      .sort();
    expect(etcdPorts).toEqual([2379, 2380, 4001, 7001]);
    for (const r of ingress.filter((x) => [4001, 7001].includes(x.from_port as number))) {
      expect(r.cidr_ipv4).toBeUndefined();
      expect(String(r.referenced_security_group_id)).toContain("aws_security_group.core_nodes");
    }
  });
});

describeWithTool("vagrant", "vagrant", "config.rb keeps its promise (vagrant validate)", () => {
  const standIns = new StandIns().addVBoxManage();
  afterAll(() => standIns.cleanup());
  const validate = (dir: string) => {
    const r = spawnSync("vagrant", ["validate"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60000,
      env: { ...process.env, PATH: standIns.path() },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const noStackTrace = (out: string) => {
    expect(out).not.toMatch(/\.rb:\d+:in `|^\s+from \/|Traceback|\(eval\)/m);
  };

  it("a cloud-config cluster's Vagrantfile passes with VirtualBox settings checked", () => {
    const { vagrantDir } = synthVagrant(CC, {
      configRbHints: { num_instances: "NUM_INSTANCES=<n>" },
    });
    expect(validate(vagrantDir)).toEqual({
      status: 0,
      out: expect.stringContaining("validated successfully"),
    });
  });

  it.each([
    [
      "$num_instances = 3",
      "$num_instances = 5",
      "$num_instances is 5",
      "synthesized with 3",
      "NUM_INSTANCES=<n>",
    ],
    [
      '$update_channel = "stable"',
      '$update_channel = "beta"',
      '$update_channel is "beta"',
      'synthesized with "stable"',
      "os (OperatingSystem.flatcar",
    ],
    [
      "$vm_memory = 1024",
      "$vm_memory = 4096",
      "$vm_memory is 4096",
      "synthesized with 1024",
      "memoryMiB of CoreOsCluster",
    ],
    [
      "$vm_cpus = 1",
      "$vm_cpus = 2",
      "$vm_cpus is 2",
      "synthesized with 1",
      "cpus of CoreOsCluster",
    ],
    [
      '$instance_name_prefix = "core"',
      '$instance_name_prefix = "node"',
      '$instance_name_prefix is "node"',
      'synthesized with "core"',
      "namePrefix of CoreOsCluster",
    ],
  ])(
    "an edited %s stops vagrant with the knob, both values and how to change it; no stack trace",
    (good, bad, edited, synthesized, hint) => {
      const { vagrantDir } = synthVagrant(CC, {
        configRbHints: { num_instances: "NUM_INSTANCES=<n>" },
      });
      const file = path.join(vagrantDir, "config.rb");
      const text = fs.readFileSync(file, "utf8");
      expect(text).toContain(good);
      fs.writeFileSync(file, text.replace(good, bad));
      const r = validate(vagrantDir);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain(`config.rb: ${edited}, but this cluster was ${synthesized}`);
      expect(r.out).toContain(hint);
      expect(r.out).toContain("npm run synth");
      noStackTrace(r.out);
    },
  );

  it.each([
    ["a Ruby syntax error", (t: string) => `${t}\n$vm_memory = \n`, "SyntaxError"],
    ["a call to nothing", (t: string) => `${t}\nfoo(1)\n`, "NoMethodError"],
    ["a deleted file", () => undefined, "config.rb is missing"],
  ])("%s in config.rb gives a message, not a stack trace", (_l, edit, message) => {
    const { vagrantDir } = synthVagrant(CC);
    const file = path.join(vagrantDir, "config.rb");
    const next = edit(fs.readFileSync(file, "utf8"));
    if (next === undefined) fs.rmSync(file);
    else fs.writeFileSync(file, next);
    const r = validate(vagrantDir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(message);
    expect(r.out).toContain("npm run synth");
    noStackTrace(r.out);
  });
});
