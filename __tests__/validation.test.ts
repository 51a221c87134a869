import { testApp } from "./support/state";
import { TerraformStack } from "cdktf";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ClusterConfigError,
  CoreOsCluster,
  CoreOsClusterProps,
  OperatingSystem,
  planCluster,
  RebootStrategy,
} from "../lib";

const ctx = { id: "core", path: "stack/core" };
const PUB =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkB0V0mI0tWlX3f8e6c9j0Hc0mQ5m2R9bW7rPjX3y1Q ops@example";

function issuesOf(props: CoreOsClusterProps) {
  try {
    planCluster(props, ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterConfigError);
    return { error: e as ClusterConfigError, message: (e as Error).message };
  }
  throw new Error(`props were accepted: ${JSON.stringify(props)}`);
}

// prop given, the prop named in the error, the value shown, words of the allowed set.
const BAD: Array<[string, CoreOsClusterProps, string, string, string]> = [
  ["nodeCount 0", { nodeCount: 0 }, "nodeCount", "0", "from 1 to 9999"],
  ["nodeCount 2.5", { nodeCount: 2.5 }, "nodeCount", "2.5", "whole number"],
  ["nodeCount string", { nodeCount: "3" as unknown as number }, "nodeCount", '"3"', "whole number"],
  ["nodeCount 10000", { nodeCount: 10000 }, "nodeCount", "10000", "to 9999"],
  [
    "nodeCount past the network",
    { nodeCount: 200, networkCidr: "10.0.0.0/24" },
    "nodeCount",
    "200",
    "widen networkCidr",
  ],
  [
    "subnet outside the network",
    { networkCidr: "10.0.0.0/16", subnetCidrs: ["10.0.1.0/24", "10.1.0.0/24"] },
    "subnetCidrs[1]",
    '"10.1.0.0/24"',
    "inside networkCidr 10.0.0.0/16",
  ],
  [
    "overlapping subnets",
    { networkCidr: "10.0.0.0/16", subnetCidrs: ["10.0.0.0/23", "10.0.1.0/24"] },
    "subnetCidrs[1]",
    '"10.0.1.0/24"',
    "overlaps no other",
  ],
  [
    "subnet not a network address",
    { networkCidr: "10.0.0.0/16", subnetCidrs: ["10.0.1.7/24"] },
    "subnetCidrs[0]",
    '"10.0.1.7/24"',
    "10.0.1.0/24",
  ],
  [
    "nodes past the subnets",
    { nodeCount: 400, networkCidr: "10.0.0.0/16", subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"] },
    "nodeCount",
    "400",
    "at most 308 nodes",
  ],
  ["name uppercase", { name: "Core" }, "name", '"Core"', "lowercase"],
  [
    "namePrefix with space",
    { namePrefix: "my node" },
    "namePrefix",
    '"my node"',
    "host name prefix",
  ],
  ["cpus 0", { cpus: 0 }, "cpus", "0", "from 1 to 64"],
  ["memoryMiB 128", { memoryMiB: 128 }, "memoryMiB", "128", "from 512 to 262144"],
  [
    "sshPublicKeys garbage",
    { sshPublicKeys: ["hello"] },
    "sshPublicKeys[0]",
    '"hello"',
    "OpenSSH public key",
  ],
  [
    "sshPublicKeys private key",
    { sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----\nabc"] },
    "sshPublicKeys[0]",
    "PRIVATE KEY",
    "private keys never",
  ],
  [
    "networkCidr not a CIDR",
    { networkCidr: "192.168.56.0" },
    "networkCidr",
    '"192.168.56.0"',
    "IPv4 CIDR",
  ],
  [
    "networkCidr host bits",
    { networkCidr: "192.168.56.7/21" },
    "networkCidr",
    '"192.168.56.7/21"',
    "192.168.56.0/21",
  ],
  [
    "networkCidr octet > 255",
    { networkCidr: "300.1.1.0/24" },
    "networkCidr",
    '"300.1.1.0/24"',
    "IPv4 CIDR",
  ],
  ["firstHostNumber 0", { firstHostNumber: 0 }, "firstHostNumber", "0", "whole number from 1"],
  [
    "etcd.members even",
    { nodeCount: 5, etcd: { members: 4 } },
    "etcd.members",
    "4",
    "1, 3, 5, 7 (an even count",
  ],
  ["etcd.members 9", { nodeCount: 9, etcd: { members: 9 } }, "etcd.members", "9", "1, 3, 5, 7"],
  [
    "etcd.members > nodes",
    { nodeCount: 3, etcd: { members: 5 } },
    "etcd.members",
    "5",
    "at most nodeCount (3)",
  ],
  ["etcd.imageTag", { etcd: { imageTag: "latest" } }, "etcd.imageTag", '"latest"', "v3.5.21"],
  [
    "etcd.clusterToken",
    { etcd: { clusterToken: "a b" } },
    "etcd.clusterToken",
    '"a b"',
    "letters, digits",
  ],
  ["standby all", { nodeCount: 3, standby: 3 }, "standby", "3", "from 0 to 2"],
  ["standby negative", { standby: -1 }, "standby", "-1", "at least one node must stay active"],
  [
    "rebootStrategy unknown",
    { rebootStrategy: "yes" as RebootStrategy },
    "rebootStrategy",
    '"yes"',
    "etcd-lock | reboot | off | staggered",
  ],
  [
    "etcd-lock on FCOS",
    { os: OperatingSystem.fedoraCoreOs(), rebootStrategy: RebootStrategy.ETCD_LOCK },
    "rebootStrategy",
    '"etcd-lock"',
    "staggered gives each node its own reboot window",
  ],
  [
    "os not an OperatingSystem",
    { os: "flatcar" as unknown as OperatingSystem },
    "os",
    '"flatcar"',
    "OperatingSystem.flatcar",
  ],
  [
    "unit without suffix",
    { units: [{ name: "hello", contents: "x" }] },
    "units[0].name",
    '"hello"',
    "hello.service",
  ],
  [
    "unit replacing etcd",
    { units: [{ name: "etcd-member.service", contents: "x" }] },
    "units[0].contents",
    '"etcd-member.service"',
    "only dropins for etcd-member.service",
  ],
  [
    "unit with nothing",
    { units: [{ name: "a.service" }] },
    "units[0]",
    "a.service",
    "at least one of contents",
  ],
  [
    "duplicate unit",
    {
      units: [
        { name: "a.service", contents: "x" },
        { name: "a.service", contents: "y" },
      ],
    },
    "units[1].name",
    '"a.service"',
    "each unit name once",
  ],
  [
    "enabled unit that says nowhere to start",
    { units: [{ name: "a.service", contents: "[Service]\nExecStart=/bin/true\n" }] },
    "units[0].contents",
    '"[Service] ExecStart=/bin/true "',
    "an [Install] section with WantedBy=",
  ],
  [
    "enabled unit with Also=",
    {
      units: [
        {
          name: "a.service",
          contents:
            "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlso=b.service\n",
        },
      ],
    },
    "units[0].contents",
    '"Also=b.service"',
    "list those units in units themselves",
  ],
  [
    "enabled template unit",
    {
      units: [
        {
          name: "worker@.service",
          contents: "[Service]\nExecStart=/bin/echo %i\n[Install]\nWantedBy=multi-user.target\n",
        },
      ],
    },
    "units[0].name",
    '"worker@.service"',
    "an instance name",
  ],
  [
    "dropin name",
    { units: [{ name: "a.service", dropins: [{ name: "x.txt", contents: "" }] }] },
    "units[0].dropins[0].name",
    '"x.txt"',
    ".conf",
  ],
  [
    "relative file",
    { files: [{ path: "etc/motd", contents: "hi" }] },
    "files[0].path",
    '"etc/motd"',
    "an absolute, fully simplified file path",
  ],
  [
    "dot-dot file",
    { files: [{ path: "/etc/../root/x", contents: "hi" }] },
    "files[0].path",
    '"/etc/../root/x"',
    "no ., .., // or trailing /",
  ],
  [
    "reserved file",
    { files: [{ path: "/etc/hostname", contents: "x" }] },
    "files[0].path",
    '"/etc/hostname"',
    "the cluster itself writes /etc/hostname",
  ],
  [
    "file mode",
    { files: [{ path: "/etc/x", contents: "x", mode: 0o17777 }] },
    "files[0].mode",
    "8191",
    "0 to 0o777",
  ],
  [
    "file contents with a lone surrogate",
    { files: [{ path: "/etc/x", contents: "a\ud800b" }] },
    "files[0].contents",
    "a",
    "character 2 is half of a UTF-16 surrogate pair",
  ],
  [
    "unit contents with a lone surrogate",
    { units: [{ name: "x.service", contents: "[Unit]\nDescription=\udc00\n" }] },
    "units[0].contents",
    "Unit",
    "character 20 is half of a UTF-16 surrogate pair",
  ],
  [
    "private key file",
    { files: [{ path: "/etc/key", contents: "-----BEGIN RSA PRIVATE KEY-----\nx" }] },
    "files[0].contents",
    "PRIVATE KEY",
    "no private keys",
  ],
];

describe("bad input is rejected with the prop, the value and what is allowed", () => {
  it.each(BAD)("%s", (_label, props, prop, shown, allowed) => {
    const { error, message } = issuesOf(props);
    const issue = error.issues.find((i) => i.prop === prop);
    expect(issue).toBeDefined();
    const line = message.split("\n").find((l) => l.startsWith(`  - ${prop}:`));
    expect(line).toBeDefined();
    expect(line).toContain(shown);
    expect(line).toContain(allowed);
    expect(message).not.toMatch(/\bat \S+ \(/); // no stack frames in the message
  });

  it("reports every bad prop at once", () => {
    const { error } = issuesOf({ nodeCount: 0, cpus: 0, memoryMiB: 1 });
    expect(error.issues.map((i) => i.prop)).toEqual(["nodeCount", "cpus", "memoryMiB"]);
  });

  it("accepts a valid key and trims it", () => {
    expect(planCluster({ sshPublicKeys: [` ${PUB}\n`] }, ctx).sshPublicKeys).toEqual([PUB]);
  });

  it("rejects an unknown channel from plain strings", () => {
    expect(() => OperatingSystem.of("flatcar", "testing")).toThrow(
      /os\.channel: got "testing"; allowed: for flatcar: stable \| beta \| alpha \| lts/,
    );
    expect(() => OperatingSystem.of("coreos", "stable")).toThrow(
      /os\.family: got "coreos"; allowed: flatcar \| fedora-coreos/,
    );
  });
});

describe("a rejected cluster writes nothing", () => {
  it("throws while the construct is built, before synthesis starts", () => {
    const app = testApp();
    const stack = new TerraformStack(app, "bad");
    expect(() => new CoreOsCluster(stack, "core", { nodeCount: 4, etcd: { members: 4 } })).toThrow(
      ClusterConfigError,
    );
    expect(() => new CoreOsCluster(stack, "core2", { nodeCount: 4, etcd: { members: 4 } })).toThrow(
      /Invalid props for CoreOsCluster "bad\/core2":\n {2}- etcd\.members: got 4/,
    );
    const outdir = app.outdir;
    expect(fs.existsSync(path.join(outdir, "stacks", "bad", "clusters"))).toBe(false);
  });
});
