import { App, TerraformStack, TerraformVariable, Testing, Token } from "cdktf";
import {
  Balancing,
  ClientAffinity,
  ClusterConfigError,
  ContainerImage,
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  EtcdDiscovery,
  EtcdTls,
  Failback,
  FailoverService,
  FailoverServiceProps,
  FedoraCoreOsStream,
  FlatcarChannel,
  FrontTargets,
  HealthCheck,
  LifecycleResource,
  NlbFront,
  OperatingSystem,
  Provisioning,
  RebootStrategy,
  ServiceHealthCheck,
  TargetGroupProps,
  VagrantCluster,
  VagrantClusterProps,
  VagrantProvider,
} from "../lib";
import {
  AwsCluster,
  AwsClusterProps,
  AwsMachineImage,
  AwsNetwork,
  CpuArchitecture,
  ExistingNetworkOptions,
} from "../lib/aws";
import {
  AppSettings,
  clusterFromSettings,
  DeployTarget,
  frontFromSettings,
  parseAppSettings,
  vagrantFromSettings,
} from "../lib";
import { awsClusterFromSettings } from "../lib/aws";
import { filesUnder } from "./support/files";
import { ed25519PublicKey, keyLine, rsaPublicKey } from "./support/keys";
import { tempOutdir } from "./support/synth";

/*
 * A table of invalid inputs across the cluster, front, Vagrant and AWS props.
 * Each must stop at construct or synth time with a ClusterConfigError whose
 * line names the prop, shows the value and says what is allowed; never a
 * TypeError or a stack frame in the message; and nothing written.
 */

interface Ctx {
  readonly app: App;
  readonly stack: TerraformStack;
  /** The stack's cluster `id`, created with `props` the first time. */
  cluster(props?: CoreOsClusterProps, id?: string): CoreOsCluster;
  front(id?: string): NlbFront;
  /** A front with one HTTP listener "web" over `targets` (default: a new default cluster). */
  frontOver(
    targets?: TargetGroupProps["targets"],
    group?: Partial<TargetGroupProps>,
    clusterProps?: CoreOsClusterProps,
  ): NlbFront;
  vagrant(options?: Partial<VagrantClusterProps>, props?: CoreOsClusterProps): VagrantCluster;
  aws(options?: Partial<AwsClusterProps>, props?: CoreOsClusterProps): AwsCluster;
  /** A number token, as a Terraform variable gives. */
  numberToken(): number;
  stringToken(): string;
}

const AWS_NET: CoreOsClusterProps = {
  networkCidr: "10.42.0.0/16",
  subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"],
  firstHostNumber: 10,
};

function context(app: App): Ctx {
  const stack = new TerraformStack(app, "s");
  let n = 0;
  const ctx: Ctx = {
    app,
    stack,
    cluster: (props = {}, id = "core") =>
      (stack.node.tryFindChild(id) as CoreOsCluster | undefined) ??
      new CoreOsCluster(stack, id, props),
    front: (id = "front") => new NlbFront(stack, id),
    frontOver: (targets, group = {}, clusterProps = {}) => {
      const f = ctx.front();
      f.addListener("web", { port: 80 }).addTargets("web", {
        targets: targets ?? [ctx.cluster(clusterProps)],
        port: 8080,
        ...group,
      });
      return f;
    },
    vagrant: (options = {}, props = {}) =>
      new VagrantCluster(stack, "local", { cluster: ctx.cluster(props), ...options }),
    aws: (options = {}, props = AWS_NET) =>
      new AwsCluster(stack, "aws", { cluster: ctx.cluster(props), ...options }),
    numberToken: () => new TerraformVariable(stack, `n${n++}`, { type: "number" }).numberValue,
    stringToken: () => new TerraformVariable(stack, `s${n++}`, { type: "string" }).stringValue,
  };
  return ctx;
}

/**
 * A cluster synthesized once before (its etcd membership recorded in the test
 * file's state folder), under a name no other case uses: day 2 starts there.
 */
function synthesizedBefore(props: CoreOsClusterProps, id: string): void {
  const app = Testing.app({ outdir: tempOutdir() });
  new CoreOsCluster(new TerraformStack(app, "s"), id, props);
  app.synth();
}

type Case = [
  label: string,
  build: (c: Ctx) => unknown,
  prop: string,
  shown: string,
  allowed: string,
];

const unit = (contents: string) => ({ name: "app.service", contents });
const INSTALL = "\n[Install]\nWantedBy=multi-user.target\n";
const file = (path: string, extra: object = {}) => ({ path, contents: "x", ...extra });
const PUB = ed25519PublicKey();
const [, PUB_B64] = PUB.split(" ");
const bareBlob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519")]);
const tcpCheck = (hc: HealthCheck) => ({ healthCheck: hc });
const frontWith = (c: Ctx, listen: (f: NlbFront) => void) => {
  const f = c.front();
  listen(f);
  return c.vagrant({ front: f });
};

const CLUSTER: Case[] = [
  ["props null", (c) => c.cluster(null as never), "props", "null", "an object of props"],
  ["props a string", (c) => c.cluster("big" as never), "props", '"big"', "an object of props"],
  ["name uppercase", (c) => c.cluster({ name: "Core" }), "name", '"Core"', "lowercase"],
  ["name empty", (c) => c.cluster({ name: "" }), "name", '""', "1-32 lowercase"],
  ["name ending in -", (c) => c.cluster({ name: "core-" }), "name", '"core-"', "not ending"],
  ["name with ;", (c) => c.cluster({ name: "a;rm -rf" }), "name", '"a;rm -rf"', "lowercase"],
  ["name a number", (c) => c.cluster({ name: 7 as never }), "name", "7", "1-32 lowercase"],
  ["name an array", (c) => c.cluster({ name: ["core"] as never }), "name", '["core"]', "lowercase"],
  ["name 33 long", (c) => c.cluster({ name: "a".repeat(33) }), "name", '"aaaa', "1-32"],
  ["namePrefix _", (c) => c.cluster({ namePrefix: "a_b" }), "namePrefix", '"a_b"', "host name"],
  ["namePrefix ${", (c) => c.cluster({ namePrefix: "${x}" }), "namePrefix", '"${x}"', "host name"],
  ["nodeCount 0", (c) => c.cluster({ nodeCount: 0 }), "nodeCount", "0", "from 1 to 9999"],
  ["nodeCount NaN", (c) => c.cluster({ nodeCount: NaN }), "nodeCount", "NaN", "whole number"],
  ["nodeCount ∞", (c) => c.cluster({ nodeCount: Infinity }), "nodeCount", "Infinity", "whole"],
  ["nodeCount 2.5", (c) => c.cluster({ nodeCount: 2.5 }), "nodeCount", "2.5", "whole number"],
  [
    "nodeCount a token",
    (c) => c.cluster({ nodeCount: c.numberToken() }),
    "nodeCount",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "a token deep in units",
    (c) => c.cluster({ units: [unit(`[Service]\nExecStart=${c.stringToken()}${INSTALL}`)] }),
    "units[0].contents",
    "<unresolved Terraform token>",
    "not a Terraform reference",
  ],
  ["cpus 65", (c) => c.cluster({ cpus: 65 }), "cpus", "65", "from 1 to 64"],
  ["cpus 1.5", (c) => c.cluster({ cpus: 1.5 }), "cpus", "1.5", "whole number"],
  ["memoryMiB 511", (c) => c.cluster({ memoryMiB: 511 }), "memoryMiB", "511", "from 512"],
  [
    "sshPublicKeys a string",
    (c) => c.cluster({ sshPublicKeys: PUB as never }),
    "sshPublicKeys",
    "ssh-ed25519",
    "a list",
  ],
  [
    "ssh key garbage",
    (c) => c.cluster({ sshPublicKeys: ["hello"] }),
    "sshPublicKeys[0]",
    '"hello"',
    "OpenSSH public key line",
  ],
  [
    "ssh bare type and short blob",
    (c) => c.cluster({ sshPublicKeys: [`ssh-ed25519 ${bareBlob.toString("base64")}`] }),
    "sshPublicKeys[0]",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
    "too short for a ssh-ed25519 key",
  ],
  [
    "ssh type not matching the blob",
    (c) => c.cluster({ sshPublicKeys: [`ssh-rsa ${PUB_B64}`] }),
    "sshPublicKeys[0]",
    "ssh-rsa AAAA",
    'holds a "ssh-ed25519" key, but the line says ssh-rsa',
  ],
  [
    "ssh ed25519 of 31 bytes",
    (c) =>
      c.cluster({
        sshPublicKeys: [keyLine("ssh-ed25519", [Buffer.from([0, 0, 0, 31, ...Buffer.alloc(31)])])],
      }),
    "sshPublicKeys[0]",
    "ssh-ed25519",
    "an Ed25519 key of 32 bytes (got 31)",
  ],
  [
    "ssh blob with trailing bytes",
    (c) =>
      c.cluster({
        sshPublicKeys: [
          keyLine("ssh-ed25519", [Buffer.from([0, 0, 0, 32, ...Buffer.alloc(32), 1])]),
        ],
      }),
    "sshPublicKeys[0]",
    "ssh-ed25519",
    "followed by extra bytes",
  ],
  [
    "ssh-dss",
    (c) => c.cluster({ sshPublicKeys: [`ssh-dss ${PUB_B64}`] }),
    "sshPublicKeys[0]",
    "ssh-dss",
    "with type ssh-ed25519, ssh-rsa",
  ],
  [
    "ssh key with a newline",
    (c) => c.cluster({ sshPublicKeys: [`${PUB}\ncommand="x"`] }),
    "sshPublicKeys[0]",
    "ssh-ed25519",
    "on one line without control characters",
  ],
  [
    "ssh key not canonical base64",
    (c) => c.cluster({ sshPublicKeys: [`ssh-ed25519 ${PUB_B64.slice(0, -1)}`] }),
    "sshPublicKeys[0]",
    "ssh-ed25519",
    "not canonical base64",
  ],
  [
    "ssh rsa 512",
    (c) => c.cluster({ sshPublicKeys: [rsaPublicKey(512)] }),
    "sshPublicKeys[0]",
    "ssh-rsa",
    "at least 1024 bits",
  ],
  [
    "ssh private key",
    (c) => c.cluster({ sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"] }),
    "sshPublicKeys[0]",
    "PRIVATE KEY",
    "private keys never",
  ],
  [
    "network 0.0.0.0/0",
    (c) => c.cluster({ networkCidr: "0.0.0.0/0" }),
    "networkCidr",
    '"0.0.0.0/0"',
    'overlaps "this network"',
  ],
  [
    "network loopback",
    (c) => c.cluster({ networkCidr: "127.0.0.0/8" }),
    "networkCidr",
    '"127.0.0.0/8"',
    "loopback",
  ],
  [
    "network multicast",
    (c) => c.cluster({ networkCidr: "224.0.0.0/24" }),
    "networkCidr",
    '"224.0.0.0/24"',
    "multicast",
  ],
  [
    "network link-local",
    (c) => c.cluster({ networkCidr: "169.254.0.0/16" }),
    "networkCidr",
    '"169.254.0.0/16"',
    "link-local",
  ],
  [
    "network reserved",
    (c) => c.cluster({ networkCidr: "240.0.0.0/8" }),
    "networkCidr",
    '"240.0.0.0/8"',
    "reserved",
  ],
  [
    "network 0/1",
    (c) => c.cluster({ networkCidr: "0.0.0.0/1" }),
    "networkCidr",
    '"0.0.0.0/1"',
    "overlaps",
  ],
  [
    "network leading zero",
    (c) => c.cluster({ networkCidr: "010.0.0.0/16" }),
    "networkCidr",
    '"010.0.0.0/16"',
    "no leading zeros",
  ],
  [
    "network 10.00",
    (c) => c.cluster({ networkCidr: "10.00.0.0/16" }),
    "networkCidr",
    '"10.00.0.0/16"',
    "no leading zeros",
  ],
  [
    "prefix leading zero",
    (c) => c.cluster({ networkCidr: "10.0.0.0/08" }),
    "networkCidr",
    '"10.0.0.0/08"',
    "IPv4 CIDR",
  ],
  [
    "prefix 33",
    (c) => c.cluster({ networkCidr: "10.0.0.0/33" }),
    "networkCidr",
    '"10.0.0.0/33"',
    "IPv4 CIDR",
  ],
  [
    "network a number",
    (c) => c.cluster({ networkCidr: 10 as never }),
    "networkCidr",
    "10",
    "IPv4 CIDR",
  ],
  [
    "network host bits",
    (c) => c.cluster({ networkCidr: "10.0.0.1/16" }),
    "networkCidr",
    '"10.0.0.1/16"',
    "10.0.0.0/16",
  ],
  [
    "subnets empty",
    (c) => c.cluster({ ...AWS_NET, subnetCidrs: [] }),
    "subnetCidrs",
    "[]",
    "1-16 IPv4 CIDRs",
  ],
  [
    "subnet leading zero",
    (c) => c.cluster({ ...AWS_NET, subnetCidrs: ["10.42.01.0/24"] }),
    "subnetCidrs[0]",
    '"10.42.01.0/24"',
    "no leading zeros",
  ],
  [
    "subnet outside",
    (c) => c.cluster({ ...AWS_NET, subnetCidrs: ["10.43.1.0/24"] }),
    "subnetCidrs[0]",
    '"10.43.1.0/24"',
    "inside networkCidr",
  ],
  ["firstHostNumber 0", (c) => c.cluster({ firstHostNumber: 0 }), "firstHostNumber", "0", "from 1"],
  [
    "firstHostNumber 1.5",
    (c) => c.cluster({ firstHostNumber: 1.5 }),
    "firstHostNumber",
    "1.5",
    "whole",
  ],
  [
    "standby all",
    (c) => c.cluster({ standby: 3 }),
    "standby",
    "3",
    "at least one node must stay active",
  ],
  ["standby 0.5", (c) => c.cluster({ standby: 0.5 }), "standby", "0.5", "whole number"],
  ["etcd a string", (c) => c.cluster({ etcd: "big" as never }), "etcd", '"big"', "{ members?"],
  [
    "etcd members 2",
    (c) => c.cluster({ etcd: { members: 2 } }),
    "etcd.members",
    "2",
    "an even count",
  ],
  [
    "etcd members 5 of 3",
    (c) => c.cluster({ etcd: { members: 5 } }),
    "etcd.members",
    "5",
    "at most nodeCount (3)",
  ],
  [
    "etcd imageTag ;",
    (c) => c.cluster({ etcd: { imageTag: "v3.5.21;rm" } }),
    "etcd.imageTag",
    '"v3.5.21;rm"',
    "release tag",
  ],
  [
    "etcd token ${",
    (c) => c.cluster({ etcd: { clusterToken: "${x}" } }),
    "etcd.clusterToken",
    '"${x}"',
    "letters, digits",
  ],
  [
    "etcd tls a string",
    (c) => c.cluster({ etcd: { tls: "off" as never } }),
    "etcd.tls",
    '"off"',
    "EtcdTls.generatedCa()",
  ],
  [
    "etcd tls CA not PEM",
    (c) =>
      c.cluster({ etcd: { tls: EtcdTls.fromCa({ certificatePem: "ca", privateKeyPem: "k" }) } }),
    "etcd.tls.certificatePem",
    '"ca"',
    "a PEM X.509 certificate",
  ],
  [
    "etcd image a string",
    (c) => c.cluster({ etcd: { image: "quay.io/coreos/etcd:v3.5.21" as never } }),
    "etcd.image",
    '"quay.io/coreos/etcd:v3.5.21"',
    "ContainerImage.pinned",
  ],
  [
    "etcd image pinned without a digest",
    (c) => c.cluster({ etcd: { image: ContainerImage.pinned("quay.io/coreos/etcd:v3.5.21") } }),
    "etcd.image",
    '"quay.io/coreos/etcd:v3.5.21"',
    "pinned by digest",
  ],
  [
    "etcd image with a shell command",
    (c) => c.cluster({ etcd: { image: ContainerImage.unpinned("etcd:v3 $(reboot)") } }),
    "etcd.image",
    '"etcd:v3 $(reboot)"',
    "an image reference",
  ],
  [
    "etcd members 1 after 3 (loses quorum on the way)",
    (c) => {
      synthesizedBefore({ etcd: { members: 3 } }, "shrunk");
      c.cluster({ nodeCount: 3, etcd: { members: 1 } }, "shrunk");
    },
    "etcd.members",
    "1",
    "shrink to 3 at most",
  ],
  [
    "nodeCount below the members of the last synth",
    (c) => {
      synthesizedBefore({ nodeCount: 5, etcd: { members: 5 } }, "fewer");
      c.cluster({ nodeCount: 3, etcd: { members: 3 } }, "fewer");
    },
    "nodeCount",
    "3",
    "lower etcd.members first and deploy",
  ],
  [
    "members moved to other addresses",
    (c) => {
      synthesizedBefore({}, "moved");
      c.cluster({ firstHostNumber: 150 }, "moved");
    },
    "networkCidr / subnetCidrs / firstHostNumber",
    "core-01 at 192.168.56.150",
    "etcd members cannot move",
  ],
  [
    "etcd token 65",
    (c) => c.cluster({ etcd: { clusterToken: "a".repeat(65) } }),
    "etcd.clusterToken",
    '"aaa',
    "1-64",
  ],
  [
    "provisioning unknown",
    (c) => c.cluster({ provisioning: "yaml" as Provisioning }),
    "provisioning",
    '"yaml"',
    "ignition | cloud-config",
  ],
  [
    "cloud-config on Fedora CoreOS",
    (c) =>
      c.cluster({
        os: OperatingSystem.fedoraCoreOs(),
        provisioning: Provisioning.CLOUD_CONFIG,
      }),
    "provisioning",
    '"cloud-config"',
    "ignition on Fedora CoreOS: it has no cloud-config",
  ],
  [
    "maintenanceWindow a string",
    (c) => c.cluster({ maintenanceWindow: "Sun 03:00" as never }),
    "maintenanceWindow",
    '"Sun 03:00"',
    'start: "Sun 03:00"',
  ],
  [
    "maintenanceWindow start 25:00",
    (c) => c.cluster({ maintenanceWindow: { start: "25:00", length: Duration.hours(1) } }),
    "maintenanceWindow.start",
    '"25:00"',
    '"HH:MM" (24 h, UTC)',
  ],
  [
    "maintenanceWindow start with a long day name",
    (c) => c.cluster({ maintenanceWindow: { start: "Sunday 03:00", length: Duration.hours(1) } }),
    "maintenanceWindow.start",
    '"Sunday 03:00"',
    "Sun Mon Tue",
  ],
  [
    "maintenanceWindow length in seconds",
    (c) => c.cluster({ maintenanceWindow: { start: "03:00", length: Duration.seconds(90) } }),
    "maintenanceWindow.length",
    '"90s"',
    "whole minutes",
  ],
  [
    "maintenanceWindow of 8 days",
    (c) => c.cluster({ maintenanceWindow: { start: "03:00", length: Duration.hours(192) } }),
    "maintenanceWindow.length",
    '"691200s"',
    "7 days",
  ],
  [
    "maintenanceWindow length a number",
    (c) => c.cluster({ maintenanceWindow: { start: "03:00", length: 60 as never } }),
    "maintenanceWindow.length",
    "60",
    "a Duration",
  ],
  [
    "maintenanceWindow with staggered reboots",
    (c) =>
      c.cluster({
        rebootStrategy: RebootStrategy.STAGGERED,
        maintenanceWindow: { start: "03:00", length: Duration.hours(1) },
      }),
    "maintenanceWindow",
    '"03:00"',
    "staggered gives each node its own window",
  ],
  [
    "maintenanceWindow with updates off",
    (c) =>
      c.cluster({
        rebootStrategy: RebootStrategy.OFF,
        maintenanceWindow: { start: "03:00", length: Duration.hours(1) },
      }),
    "maintenanceWindow",
    '"03:00"',
    "off never reboots",
  ],
  [
    "maintenanceWindow on Fedora CoreOS",
    (c) =>
      c.cluster({
        os: OperatingSystem.fedoraCoreOs(),
        rebootStrategy: RebootStrategy.REBOOT,
        maintenanceWindow: { start: "03:00", length: Duration.hours(1) },
      }),
    "maintenanceWindow",
    '"03:00"',
    "no window on Fedora CoreOS",
  ],
  [
    "etcd discovery a string",
    (c) => c.cluster({ etcd: { discovery: "https://discovery.etcd.io/new" as never } }),
    "etcd.discovery",
    '"https://discovery.etcd.io/new"',
    "EtcdDiscovery.staticBootstrap()",
  ],
  [
    "self-hosted discovery over ftp",
    (c) => c.cluster({ etcd: { discovery: EtcdDiscovery.selfHosted("ftp://10.0.0.5:2379") } }),
    "etcd.discovery.url",
    '"ftp://10.0.0.5:2379"',
    "an etcd client URL such as http://10.0.0.5:2379",
  ],
  [
    "self-hosted discovery with a path",
    (c) =>
      c.cluster({ etcd: { discovery: EtcdDiscovery.selfHosted("http://10.0.0.5:2379/v2/keys") } }),
    "etcd.discovery.url",
    '"http://10.0.0.5:2379/v2/keys"',
    "no path",
  ],
  [
    "self-hosted discovery on port 99999",
    (c) => c.cluster({ etcd: { discovery: EtcdDiscovery.selfHosted("http://10.0.0.5:99999") } }),
    "etcd.discovery.url",
    '"http://10.0.0.5:99999"',
    "port 1-65535",
  ],
  [
    "a discovery token with credentials",
    (c) =>
      c.cluster({
        etcd: { discovery: EtcdDiscovery.existingToken("https://u:p@discovery.etcd.io/abc") },
      }),
    "etcd.discovery.url",
    "u:p@",
    "no credentials, query or fragment",
  ],
  [
    "a discovery token with a query",
    (c) =>
      c.cluster({
        etcd: { discovery: EtcdDiscovery.existingToken("https://discovery.etcd.io/new?size=3") },
      }),
    "etcd.discovery.url",
    "new?size=3",
    "no credentials, query or fragment",
  ],
  [
    "v3 discovery without endpoints",
    (c) =>
      c.cluster({ etcd: { imageTag: "v3.6.4", discovery: EtcdDiscovery.v3({ endpoints: [] }) } }),
    "etcd.discovery.endpoints",
    "[]",
    "1-7 etcd client URLs",
  ],
  [
    "v3 discovery with a shell in an endpoint",
    (c) =>
      c.cluster({
        etcd: {
          imageTag: "v3.6.4",
          discovery: EtcdDiscovery.v3({ endpoints: ["http://10.0.0.5:2379;reboot"] }),
        },
      }),
    "etcd.discovery.endpoints[0]",
    "reboot",
    "an etcd client URL",
  ],
  [
    "v3 discovery with etcd 3.5",
    (c) =>
      c.cluster({
        etcd: { discovery: EtcdDiscovery.v3({ endpoints: ["http://10.0.0.5:2379"] }) },
      }),
    "etcd.discovery",
    '"EtcdDiscovery.v3(...)"',
    "v3.6 or later",
  ],
  [
    "v2 discovery with etcd 3.6",
    (c) =>
      c.cluster({
        etcd: { imageTag: "v3.6.4", discovery: EtcdDiscovery.publicService() },
      }),
    "etcd.discovery",
    '"public-service"',
    "etcd 3.6 removed v2 discovery",
  ],
  [
    "etcd legacyPorts a string",
    (c) => c.cluster({ etcd: { legacyPorts: "yes" as never } }),
    "etcd.legacyPorts",
    '"yes"',
    "true | false",
  ],
  [
    "rebootStrategy unknown",
    (c) => c.cluster({ rebootStrategy: "now" as RebootStrategy }),
    "rebootStrategy",
    '"now"',
    "etcd-lock | reboot | off",
  ],
  [
    "etcd-lock on Fedora CoreOS",
    (c) =>
      c.cluster({
        os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.NEXT),
        rebootStrategy: RebootStrategy.ETCD_LOCK,
      }),
    "rebootStrategy",
    '"etcd-lock"',
    "FleetLock",
  ],
  [
    "os a string",
    (c) => c.cluster({ os: "flatcar" as never }),
    "os",
    '"flatcar"',
    "OperatingSystem.flatcar",
  ],
  [
    "units not a list",
    (c) => c.cluster({ units: "a.service" as never }),
    "units",
    '"a.service"',
    "a list of systemd units",
  ],
  ["unit null", (c) => c.cluster({ units: [null as never] }), "units[0]", "null", "a unit { name"],
  [
    "unit without suffix",
    (c) => c.cluster({ units: [{ name: "app", contents: INSTALL }] }),
    "units[0].name",
    '"app"',
    "with its type",
  ],
  [
    "unit name with newline",
    (c) => c.cluster({ units: [{ name: "a\n.service", contents: INSTALL }] }),
    "units[0].name",
    '"a .service"',
    "with its type",
  ],
  [
    "unit name 300 long",
    (c) => c.cluster({ units: [{ name: `${"a".repeat(300)}.service`, contents: INSTALL }] }),
    "units[0].name",
    '"aaaa',
    "at most 255",
  ],
  [
    "unit replacing etcd-member",
    (c) => c.cluster({ units: [{ name: "etcd-member.service", contents: INSTALL }] }),
    "units[0].contents",
    '"etcd-member.service"',
    "only dropins for etcd-member.service",
  ],
  [
    "unit disabling locksmithd",
    (c) => c.cluster({ units: [{ name: "locksmithd.service", enabled: false }] }),
    "units[0].enabled",
    '"locksmithd.service"',
    "only dropins for locksmithd.service",
  ],
  [
    "drop-in the cluster writes",
    (c) =>
      c.cluster({
        units: [
          {
            name: "locksmithd.service",
            dropins: [{ name: "20-etcd-endpoints.conf", contents: "" }],
          },
        ],
      }),
    "units[0].dropins[0].name",
    '"20-etcd-endpoints.conf"',
    "which the cluster writes into locksmithd.service",
  ],
  [
    "a file in etcd's certificate folder",
    (c) => c.cluster({ files: [file("/etc/ssl/etcd/extra.pem")] }),
    "files[0].path",
    '"/etc/ssl/etcd/extra.pem"',
    "outside the folders the cluster writes itself",
  ],
  [
    "duplicate drop-in",
    (c) =>
      c.cluster({
        units: [
          {
            name: "a.service",
            dropins: [
              { name: "x.conf", contents: "" },
              { name: "x.conf", contents: "" },
            ],
          },
        ],
      }),
    "units[0].dropins[1].name",
    '"x.conf"',
    "each drop-in name once",
  ],
  [
    "drop-ins not a list",
    (c) => c.cluster({ units: [{ name: "a.service", dropins: "x" as never }] }),
    "units[0].dropins",
    '"x"',
    "a list",
  ],
  [
    "drop-in .txt",
    (c) =>
      c.cluster({ units: [{ name: "a.service", dropins: [{ name: "x.txt", contents: "" }] }] }),
    "units[0].dropins[0].name",
    '"x.txt"',
    "ending in .conf",
  ],
  [
    "unit with nothing",
    (c) => c.cluster({ units: [{ name: "a.service" }] }),
    "units[0]",
    "a.service",
    "at least one of contents",
  ],
  [
    "unit twice",
    (c) =>
      c.cluster({
        units: [
          { name: "a.service", enabled: true },
          { name: "a.service", enabled: false },
        ],
      }),
    "units[1].name",
    '"a.service"',
    "each unit name once",
  ],
  [
    "unit holding a private key",
    (c) =>
      c.cluster({
        units: [unit(`[Service]\nEnvironment=K=-----BEGIN EC PRIVATE KEY-----${INSTALL}`)],
      }),
    "units[0].contents",
    "PRIVATE KEY",
    "no private keys",
  ],
  [
    "drop-in holding a private key",
    (c) =>
      c.cluster({
        units: [
          {
            name: "a.service",
            dropins: [{ name: "k.conf", contents: "-----BEGIN PRIVATE KEY-----" }],
          },
        ],
      }),
    "units[0].dropins[0].contents",
    "PRIVATE KEY",
    "no private keys",
  ],
  [
    "unit line of 2048 bytes",
    (c) =>
      c.cluster({ units: [unit(`[Service]\nExecStart=/bin/echo ${"x".repeat(2028)}${INSTALL}`)] }),
    "units[0].contents",
    "[Service]",
    "lines of at most 2047 bytes (line 2 has 2048)",
  ],
  [
    "drop-in line too long",
    (c) =>
      c.cluster({
        units: [
          {
            name: "a.service",
            dropins: [{ name: "x.conf", contents: `[Service]\nX=${"é".repeat(1100)}` }],
          },
        ],
      }),
    "units[0].dropins[0].contents",
    "[Service]",
    "lines of at most 2047 bytes",
  ],
  [
    "unit with NUL",
    (c) => c.cluster({ units: [unit(`[Service]\nExecStart=/bin/echo \u0000${INSTALL}`)] }),
    "units[0].contents",
    "[Service]",
    "without control characters",
  ],
  [
    "unit line that is not Key=Value",
    (c) => c.cluster({ units: [unit(`[Service]\nExecStart=/bin/true\nbogus${INSTALL}`)] }),
    "units[0].contents",
    "[Service]",
    'line 3 ("bogus") is inside a section but is neither Key=Value',
  ],
  [
    "unit section header unclosed",
    (c) =>
      c.cluster({
        units: [{ name: "a.service", dropins: [{ name: "x.conf", contents: "[Service\nA=b\n" }] }],
      }),
    "units[0].dropins[0].contents",
    "[Service",
    "neither Key=Value, a comment, a [Section] header",
  ],
  [
    "unit enabled 'yes'",
    (c) => c.cluster({ units: [{ name: "a.service", enabled: "yes" as never }] }),
    "units[0].enabled",
    '"yes"',
    "true | false",
  ],
  [
    "unit enabled without [Install]",
    (c) => c.cluster({ units: [unit("[Service]\nExecStart=/bin/true\n")] }),
    "units[0].contents",
    '"[Service] ExecStart=/bin/true "',
    "an [Install] section with WantedBy= (e.g. WantedBy=multi-user.target), RequiredBy= or Alias=, as the unit is enabled (the default for a unit with contents); or enabled: false",
  ],
  [
    "unit enabled: true without [Install]",
    (c) => c.cluster({ units: [{ ...unit("[Service]\nExecStart=/bin/true\n"), enabled: true }] }),
    "units[0].contents",
    '"[Service] ExecStart=/bin/true "',
    "as the unit is enabled (enabled: true); or enabled: false",
  ],
  [
    "drop-ins not a list of an enabled unit with contents",
    (c) => c.cluster({ units: [{ ...unit(`[Service]${INSTALL}`), dropins: 5 as never }] }),
    "units[0].dropins",
    "5",
    "a list",
  ],
  ["files not a list", (c) => c.cluster({ files: {} as never }), "files", "{}", "a list of files"],
  ["file null", (c) => c.cluster({ files: [null as never] }), "files[0]", "null", "a file { path"],
  [
    "file relative",
    (c) => c.cluster({ files: [file("etc/motd")] }),
    "files[0].path",
    '"etc/motd"',
    "fully simplified",
  ],
  [
    "file //",
    (c) => c.cluster({ files: [file("/etc//motd")] }),
    "files[0].path",
    '"/etc//motd"',
    "fully simplified",
  ],
  [
    "file trailing /",
    (c) => c.cluster({ files: [file("/etc/motd/")] }),
    "files[0].path",
    '"/etc/motd/"',
    "fully simplified",
  ],
  [
    "file /./",
    (c) => c.cluster({ files: [file("/etc/./motd")] }),
    "files[0].path",
    '"/etc/./motd"',
    "fully simplified",
  ],
  [
    "file /..",
    (c) => c.cluster({ files: [file("/etc/../motd")] }),
    "files[0].path",
    '"/etc/../motd"',
    "fully simplified",
  ],
  ["file /", (c) => c.cluster({ files: [file("/")] }), "files[0].path", '"/"', "fully simplified"],
  [
    "file path newline",
    (c) => c.cluster({ files: [file("/etc/a\nb")] }),
    "files[0].path",
    '"/etc/a b"',
    "no control characters",
  ],
  [
    "file path NUL",
    (c) => c.cluster({ files: [file("/etc/a\u0000")] }),
    "files[0].path",
    "/etc/a",
    "no control characters",
  ],
  [
    "file path 256-byte part",
    (c) => c.cluster({ files: [file(`/etc/${"a".repeat(256)}`)] }),
    "files[0].path",
    "/etc/aaa",
    "at most 255 bytes",
  ],
  [
    "file /etc/hostname",
    (c) => c.cluster({ files: [file("/etc/hostname")] }),
    "files[0].path",
    '"/etc/hostname"',
    "the cluster itself writes /etc/hostname",
  ],
  [
    "file where the cluster needs a folder",
    (c) => c.cluster({ files: [file("/etc/flatcar")] }),
    "files[0].path",
    '"/etc/flatcar"',
    "the cluster itself writes /etc/flatcar/update.conf (a file inside /etc/flatcar)",
  ],
  [
    "file where a unit goes",
    (c) =>
      c.cluster({
        units: [unit(`[Service]\nExecStart=/bin/true${INSTALL}`)],
        files: [file("/etc/systemd/system/app.service")],
      }),
    "files[0].path",
    '"/etc/systemd/system/app.service"',
    "units[0] writes /etc/systemd/system/app.service",
  ],
  [
    "file where a drop-in goes",
    (c) =>
      c.cluster({
        units: [{ name: "a.service", dropins: [{ name: "x.conf", contents: "" }] }],
        files: [file("/etc/systemd/system/a.service.d/x.conf")],
      }),
    "files[0].path",
    "a.service.d/x.conf",
    "units[0].dropins[0] writes",
  ],
  [
    "file replacing the etcd unit",
    (c) => c.cluster({ files: [file("/etc/systemd/system/etcd-member.service")] }),
    "files[0].path",
    "etcd-member.service",
    "the cluster's unit etcd-member.service writes",
  ],
  [
    "file and folder at one path",
    (c) => c.cluster({ files: [file("/etc/app"), file("/etc/app/conf")] }),
    "files[1].path",
    '"/etc/app/conf"',
    "files[0] writes /etc/app (a file where /etc/app/conf needs a folder)",
  ],
  [
    "folder then file at one path",
    (c) => c.cluster({ files: [file("/etc/app/conf"), file("/etc/app")] }),
    "files[1].path",
    '"/etc/app"',
    "files[0] writes /etc/app/conf (a file inside /etc/app)",
  ],
  [
    "file twice",
    (c) => c.cluster({ files: [file("/etc/a"), file("/etc/a")] }),
    "files[1].path",
    '"/etc/a"',
    "files[0] writes /etc/a (the same path)",
  ],
  [
    "mode 644 decimal",
    (c) => c.cluster({ files: [file("/etc/a", { mode: 644 })] }),
    "files[0].mode",
    "644",
    "644 is decimal, which is 0o1204; write 0o644",
  ],
  [
    "mode 755 decimal",
    (c) => c.cluster({ files: [file("/etc/a", { mode: 755 })] }),
    "files[0].mode",
    "755",
    "which is 0o1363; write 0o755",
  ],
  [
    "mode 400 decimal",
    (c) => c.cluster({ files: [file("/etc/a", { mode: 400 })] }),
    "files[0].mode",
    "400",
    "which is 0o620; write 0o400",
  ],
  [
    "mode setuid",
    (c) => c.cluster({ files: [file("/etc/a", { mode: 0o4755 })] }),
    "files[0].mode",
    "2541",
    "0o4755 sets setuid/setgid/sticky bits",
  ],
  [
    "mode -1",
    (c) => c.cluster({ files: [file("/etc/a", { mode: -1 })] }),
    "files[0].mode",
    "-1",
    "from 0 to 0o777",
  ],
  [
    "mode '644'",
    (c) => c.cluster({ files: [file("/etc/a", { mode: "644" })] }),
    "files[0].mode",
    '"644"',
    "written in octal",
  ],
  [
    "file private key",
    (c) =>
      c.cluster({ files: [{ path: "/etc/k", contents: "PuTTY-User-Key-File-3: ssh-ed25519" }] }),
    "files[0].contents",
    "PRIVATE KEY",
    "no private keys",
  ],
  [
    "file contents a number",
    (c) => c.cluster({ files: [{ path: "/etc/k", contents: 5 as never }] }),
    "files[0].contents",
    "5",
    "a string",
  ],
  [
    "nodeFiles unknown node",
    (c) => c.cluster({ nodeFiles: { "core-09": [file("/etc/a")] } }),
    "nodeFiles",
    '"core-09"',
    "names of this cluster's nodes",
  ],
  [
    "nodeFiles a list",
    (c) => c.cluster({ nodeFiles: [] as never }),
    "nodeFiles",
    "[]",
    "an object: node name",
  ],
  [
    "nodeFiles over a cluster file",
    (c) => c.cluster({ files: [file("/etc/role")], nodeFiles: { "core-01": [file("/etc/role")] } }),
    'nodeFiles["core-01"][0].path',
    '"/etc/role"',
    "files[0] writes /etc/role",
  ],
  [
    "two clusters of one name in a stack",
    (c) => {
      c.cluster({}, "a");
      c.cluster({ name: "a" }, "b");
    },
    "name",
    '"a"',
    'CoreOsCluster "s/a" is already named a',
  ],
  [
    "OperatingSystem.of unknown",
    () => OperatingSystem.of("coreos"),
    "os.family",
    '"coreos"',
    "flatcar | fedora-coreos",
  ],
];

const FRONT: Case[] = [
  [
    "front props null",
    (c) => new NlbFront(c.stack, "f", null as never),
    "props",
    "null",
    "an object of props",
  ],
  [
    "front name uppercase",
    (c) => new NlbFront(c.stack, "f", { name: "Front" }),
    "name",
    '"Front"',
    "not ending with '-'",
  ],
  [
    "front name ending in -",
    (c) => new NlbFront(c.stack, "f", { name: "web-" }),
    "name",
    '"web-"',
    "not ending with '-' (AWS names may not)",
  ],
  [
    "front name 25 long",
    (c) => new NlbFront(c.stack, "f", { name: "a".repeat(25) }),
    "name",
    '"aaa',
    "1-24",
  ],
  [
    "listener id Web",
    (c) => c.front().addListener("Web", { port: 80 }),
    "id",
    '"Web"',
    "starting with a letter",
  ],
  [
    "listener id web-",
    (c) => c.front().addListener("web-", { port: 80 }),
    "id",
    '"web-"',
    "not ending with '-'",
  ],
  [
    "listener props null",
    (c) => c.front().addListener("web", null as never),
    "props",
    "null",
    "an object of props",
  ],
  [
    "listener port 0",
    (c) => c.front().addListener("web", { port: 0 }),
    "port",
    "0",
    "a port 1-65535",
  ],
  [
    "listener port 65536",
    (c) => c.front().addListener("web", { port: 65536 }),
    "port",
    "65536",
    "a port 1-65535",
  ],
  [
    "listener port 80.5",
    (c) => c.front().addListener("web", { port: 80.5 }),
    "port",
    "80.5",
    "a port 1-65535",
  ],
  [
    "listener port '80'",
    (c) => c.front().addListener("web", { port: "80" as never }),
    "port",
    '"80"',
    "a port 1-65535",
  ],
  [
    "listener port token",
    (c) => c.front().addListener("web", { port: c.numberToken() }),
    "port",
    "<unresolved Terraform token>",
    "a literal value",
  ],
  [
    "listener port twice",
    (c) => {
      const f = c.front();
      f.addListener("a", { port: 80 });
      f.addListener("b", { port: 80 });
    },
    "port",
    "80",
    'a port not used by listener "a"',
  ],
  [
    "listener protocol udp",
    (c) => c.front().addListener("web", { port: 80, protocol: "udp" as never }),
    "protocol",
    '"udp"',
    "tcp | http",
  ],
  [
    "targets props null",
    (c) =>
      c
        .front()
        .addListener("web", { port: 80 })
        .addTargets("web", null as never),
    "props",
    "null",
    "an object of props",
  ],
  ["targets empty", (c) => c.frontOver([]), "targets", "[]", "one or more targets"],
  [
    "targets not a target",
    (c) => c.frontOver([{} as never]),
    "targets[0]",
    "{}",
    "a CoreOsCluster or FrontTargets.host",
  ],
  [
    "target group id ending -",
    (c) =>
      c
        .front()
        .addListener("web", { port: 80 })
        .addTargets("web-", { targets: [c.cluster()], port: 80 }),
    "id",
    '"web-"',
    "not ending with '-'",
  ],
  ["target port 0", (c) => c.frontOver(undefined, { port: 0 }), "port", "0", "a port 1-65535"],
  [
    "host name uppercase",
    (c) => c.frontOver([FrontTargets.host("DB", "10.0.0.5")]),
    "targets[0]",
    '"DB"',
    "member names of 1-63",
  ],
  [
    "host name null",
    (c) => c.frontOver([FrontTargets.host(null as never, "10.0.0.5")]),
    "targets[0]",
    "null",
    "member names",
  ],
  [
    "host address leading zero",
    (c) => c.frontOver([FrontTargets.host("db", "010.0.0.5")]),
    "targets[0]",
    '"010.0.0.5"',
    "no leading zeros",
  ],
  [
    "host address loopback",
    (c) => c.frontOver([FrontTargets.host("db", "127.0.0.1")]),
    "targets[0]",
    '"127.0.0.1"',
    "not loopback",
  ],
  [
    "host address multicast",
    (c) => c.frontOver([FrontTargets.host("db", "239.1.1.1")]),
    "targets[0]",
    '"239.1.1.1"',
    "not multicast",
  ],
  [
    "host address 0.0.0.0",
    (c) => c.frontOver([FrontTargets.host("db", "0.0.0.0")]),
    "targets[0]",
    '"0.0.0.0"',
    "this network",
  ],
  [
    "host address broadcast",
    (c) => c.frontOver([FrontTargets.host("db", "255.255.255.255")]),
    "targets[0]",
    '"255.255.255.255"',
    "broadcast",
  ],
  [
    "host address link-local",
    (c) => c.frontOver([FrontTargets.host("db", "169.254.169.254")]),
    "targets[0]",
    '"169.254.169.254"',
    "link-local",
  ],
  [
    "host address short",
    (c) => c.frontOver([FrontTargets.host("db", "10.0.0")]),
    "targets[0]",
    '"10.0.0"',
    "a unicast IPv4 address",
  ],
  [
    "host standby 'yes'",
    (c) => c.frontOver([FrontTargets.host("db", "10.0.0.5", { standby: "yes" as never })]),
    "targets[0]",
    '"yes"',
    "standby: true | false for member db",
  ],
  [
    "host listed twice",
    (c) => c.frontOver([FrontTargets.host("db", "10.0.0.5"), FrontTargets.host("db", "10.0.0.6")]),
    "targets[1]",
    '"db"',
    "each member once",
  ],
  [
    "only standby hosts",
    (c) => c.frontOver([FrontTargets.host("db", "10.0.0.5", { standby: true })]),
    "targets",
    '"db"',
    "at least one active",
  ],
  [
    "balancing random",
    (c) => c.frontOver(undefined, { balancing: "random" as Balancing }),
    "balancing",
    '"random"',
    "round_robin | least_connections",
  ],
  [
    "affinity sticky",
    (c) => c.frontOver(undefined, { affinity: "sticky" as ClientAffinity }),
    "affinity",
    '"sticky"',
    "none | single | network",
  ],
  [
    "health check a string",
    (c) => c.frontOver(undefined, { healthCheck: "/" as never }),
    "healthCheck",
    '"/"',
    "a health check {",
  ],
  [
    "health protocol icmp",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "icmp" as never })),
    "healthCheck.protocol",
    '"icmp"',
    "tcp | http",
  ],
  [
    "health path relative",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "http" as never, path: "healthz" })),
    "healthCheck.path",
    '"healthz"',
    "an absolute URL path",
  ],
  [
    "health path with #",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "http" as never, path: "/a#b" })),
    "healthCheck.path",
    '"/a#b"',
    "no spaces, quotes, #",
  ],
  [
    "health path with quote",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "http" as never, path: "/a'b" })),
    "healthCheck.path",
    '"/a\'b"',
    "quotes",
  ],
  [
    "health path with $",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "http" as never, path: "/${x}" })),
    "healthCheck.path",
    '"/${x}"',
    "%XX escapes",
  ],
  [
    "health path with space",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "http" as never, path: "/a b" })),
    "healthCheck.path",
    '"/a b"',
    "no spaces",
  ],
  [
    "health path unicode",
    (c) => c.frontOver(undefined, tcpCheck({ protocol: "http" as never, path: "/é" })),
    "healthCheck.path",
    '"/é"',
    "%XX escapes",
  ],
  [
    "health path with TCP",
    (c) => c.frontOver(undefined, tcpCheck({ path: "/x" })),
    "healthCheck.path",
    '"/x"',
    "no path with a TCP health check",
  ],
  [
    "health port 0",
    (c) => c.frontOver(undefined, tcpCheck({ port: 0 })),
    "healthCheck.port",
    "0",
    "a port 1-65535",
  ],
  [
    "interval 50 ms",
    (c) => c.frontOver(undefined, tcpCheck({ interval: Duration.millis(50) })),
    "healthCheck.interval",
    '"50ms"',
    "from 100 ms to 300 s",
  ],
  [
    "interval NaN",
    (c) => c.frontOver(undefined, tcpCheck({ interval: Duration.millis(NaN) })),
    "healthCheck.interval",
    '"NaNms"',
    "whole milliseconds",
  ],
  [
    "interval ∞",
    (c) => c.frontOver(undefined, tcpCheck({ interval: Duration.seconds(Infinity) })),
    "healthCheck.interval",
    '"Infinityms"',
    "whole milliseconds",
  ],
  [
    "interval 150.5 ms",
    (c) => c.frontOver(undefined, tcpCheck({ interval: Duration.millis(150.5) })),
    "healthCheck.interval",
    '"150.5ms"',
    "HAProxy takes whole ms",
  ],
  [
    "interval 0.0005 s",
    (c) => c.frontOver(undefined, tcpCheck({ interval: Duration.seconds(0.1005) })),
    "healthCheck.interval",
    '"100.5ms"',
    "whole milliseconds",
  ],
  [
    "interval a number",
    (c) => c.frontOver(undefined, tcpCheck({ interval: 500 as never })),
    "healthCheck.interval",
    "500",
    "a Duration",
  ],
  [
    "timeout over interval",
    (c) =>
      c.frontOver(
        undefined,
        tcpCheck({ interval: Duration.millis(500), timeout: Duration.seconds(1) }),
      ),
    "healthCheck.timeout",
    '"1s"',
    "at most the interval (500ms)",
  ],
  [
    "healthyThreshold 0",
    (c) => c.frontOver(undefined, tcpCheck({ healthyThreshold: 0 })),
    "healthCheck.healthyThreshold",
    "0",
    "1-10",
  ],
  [
    "unhealthyThreshold 11",
    (c) => c.frontOver(undefined, tcpCheck({ unhealthyThreshold: 11 })),
    "healthCheck.unhealthyThreshold",
    "11",
    "1-10",
  ],
  ["drain null", (c) => c.front().drain(null as never), "drain", "null", "a node"],
  [
    "drain an unknown node",
    (c) => {
      const f = c.frontOver();
      f.drain({ name: "core-09" });
      c.vagrant({ front: f });
    },
    "drain",
    '"core-09"',
    "a member of the front",
  ],
  [
    "drain every active node (standby left)",
    (c) => {
      const cluster = c.cluster({ nodeCount: 3, standby: 1 }, "c2");
      const f = c.frontOver([cluster]);
      f.drain(cluster.nodes[0]);
      f.drain(cluster.nodes[1]);
      f.plan();
    },
    "drain",
    '"core-01,core-02"',
    'at least one active member of "web" not draining',
  ],
  [
    "listener without targets",
    (c) => frontWith(c, (f) => f.addListener("web", { port: 80 })),
    "listeners.web",
    '"no targets"',
    "listener.addTargets",
  ],
  [
    "front without listeners",
    (c) => frontWith(c, () => undefined),
    "listeners",
    '"none"',
    "at least one listener",
  ],
];

const VAGRANT: Case[] = [
  [
    "frontImages a string",
    (c) => c.vagrant({ front: c.frontOver(), frontImages: "haproxy:2.6" as never }),
    "frontImages",
    '"haproxy:2.6"',
    "{ haproxy?, keepalived? }",
  ],
  [
    "front keepalived image with a newline",
    (c) =>
      c.vagrant({
        front: c.frontOver(),
        frontImages: { keepalived: ContainerImage.unpinned("keepalived\nExecStartPre=/bin/sh") },
      }),
    "frontImages.keepalived",
    "keepalived",
    "an image reference",
  ],
  [
    "provider vmware",
    (c) => c.vagrant({ provider: "vmware" as VagrantProvider }),
    "provider",
    '"vmware"',
    "virtualbox | libvirt",
  ],
  [
    "lifecycle other",
    (c) => c.vagrant({ lifecycle: "exec" as LifecycleResource }),
    "lifecycle",
    '"exec"',
    "terraform_data | null_resource",
  ],
  [
    "configRbHints a string",
    (c) => c.vagrant({ configRbHints: "NUM_INSTANCES" as never }),
    "configRbHints",
    '"NUM_INSTANCES"',
    "an object of knob name",
  ],
  [
    "configRbHints for an unknown knob",
    (c) => c.vagrant({ configRbHints: { num_nodes: "NUM_NODES" } }),
    "configRbHints",
    '"num_nodes"',
    "knobs of config.rb: num_instances",
  ],
  [
    "configRbHints with a newline",
    (c) => c.vagrant({ configRbHints: { num_instances: "A\nB" } }),
    "configRbHints.num_instances",
    '"A B"',
    "1-300 characters on one line",
  ],
  [
    "configRbHints empty",
    (c) => c.vagrant({ configRbHints: { vm_cpus: " " } }),
    "configRbHints.vm_cpus",
    '" "',
    "1-300 characters",
  ],
  [
    "Fedora CoreOS on Vagrant",
    (c) => c.vagrant({}, { os: OperatingSystem.fedoraCoreOs() }),
    "cluster.os",
    "fedora",
    "a Flatcar OS",
  ],
  [
    "network outside VirtualBox's",
    (c) => c.vagrant({}, { networkCidr: "10.0.0.0/24" }),
    "cluster.networkCidr",
    '"10.0.0.0/24"',
    "inside 192.168.56.0/21",
  ],
  [
    "boxName with space",
    (c) => c.vagrant({ boxName: "my box" }),
    "boxName",
    '"my box"',
    "letters, digits",
  ],
  [
    "boxName with ;",
    (c) => c.vagrant({ boxName: "box;touch x" }),
    "boxName",
    '"box;touch x"',
    "letters, digits",
  ],
  [
    "boxName with $(",
    (c) => c.vagrant({ boxName: "$(id)" }),
    "boxName",
    '"$(id)"',
    "letters, digits",
  ],
  [
    "boxUrl ftp",
    (c) => c.vagrant({ boxUrl: "ftp://example.com/x.box" }),
    "boxUrl",
    '"ftp://',
    "an http(s):// or file:// URL",
  ],
  [
    "boxUrl with space",
    (c) => c.vagrant({ boxUrl: "https://x/a b.box" }),
    "boxUrl",
    '"https://x/a b.box"',
    "URL",
  ],
  [
    "forwarded guest 0",
    (c) => c.vagrant({ forwardedPorts: [{ guest: 0, host: 8080 }] }),
    "forwardedPorts[0].guest",
    "0",
    "a port 1-65535",
  ],
  [
    "forwarded host 70000",
    (c) => c.vagrant({ forwardedPorts: [{ guest: 80, host: 70000 }] }),
    "forwardedPorts[0].host",
    "70000",
    "a port 1-65535",
  ],
  [
    "shared host with quote",
    (c) => c.vagrant({ sharedFolders: [{ host: 'a"b', guest: "/x" }] }),
    "sharedFolders[0].host",
    '"a\\"b"',
    "without quotes",
  ],
  [
    "shared guest relative",
    (c) => c.vagrant({ sharedFolders: [{ host: ".", guest: "x" }] }),
    "sharedFolders[0].guest",
    '"x"',
    "an absolute guest path",
  ],
  ["gui 'yes'", (c) => c.vagrant({ gui: "yes" as never }), "gui", '"yes"', "true or false"],
  [
    "serialLogging 1",
    (c) => c.vagrant({ serialLogging: 1 as never }),
    "serialLogging",
    "1",
    "true or false",
  ],
  [
    "parallel with VirtualBox",
    (c) => c.vagrant({ parallel: true }),
    "parallel",
    "true",
    "false with VirtualBox",
  ],
  [
    "front address on a node",
    (c) => c.vagrant({ front: c.frontOver(), frontFirstHostNumber: 100 }),
    "frontFirstHostNumber",
    "100",
    "that no node uses",
  ],
  [
    "frontInterface with space",
    (c) => c.vagrant({ front: c.frontOver(), frontInterface: "eth 1" }),
    "frontInterface",
    '"eth 1"',
    "a network interface name",
  ],
  [
    "virtualRouterId 256",
    (c) => c.vagrant({ front: c.frontOver(), virtualRouterId: 256 }),
    "virtualRouterId",
    "256",
    "1-255",
  ],
  [
    "namePrefix front with a front",
    (c) =>
      c.vagrant(
        { front: c.frontOver(undefined, {}, { namePrefix: "front" }) },
        { namePrefix: "front" },
      ),
    "cluster.namePrefix",
    '"front"',
    'other than "front"',
  ],
  [
    "two VagrantClusters over one cluster",
    (c) => {
      const cluster = c.cluster();
      new VagrantCluster(c.stack, "a", { cluster });
      new VagrantCluster(c.stack, "b", { cluster });
    },
    "cluster",
    '"vagrant/core"',
    'VagrantCluster "s/a" writes vagrant/core',
  ],
  [
    "vagrant props null",
    (c) => new VagrantCluster(c.stack, "local", null as never),
    "props",
    "null",
    "an object of VagrantClusterProps with a cluster",
  ],
  [
    "vagrant cluster missing",
    (c) => new VagrantCluster(c.stack, "local", {} as never),
    "cluster",
    "undefined",
    "a CoreOsCluster",
  ],
  [
    "vagrant front not an NlbFront",
    (c) => c.vagrant({ front: { port: 80 } as never }),
    "front",
    '{"port":80}',
    "an NlbFront, or leave it out",
  ],
  [
    "vagrant front over another cluster",
    (c) => {
      const other = c.cluster({ firstHostNumber: 150 }, "other");
      const front = c.front();
      front.addListener("web", { port: 80 }).addTargets("web", { targets: [other], port: 8080 });
      c.vagrant({ front });
    },
    'front (listener "web")',
    'CoreOsCluster \\"s/other\\"',
    'it does not run "s/other"',
  ],
  [
    "boxName starting with -",
    (c) => c.vagrant({ boxName: "-rf", boxUrl: "https://example.com/my.box" }),
    "boxName",
    '"-rf"',
    "starting with a letter or digit",
  ],
  [
    "boxName other than the metadata's",
    (c) => c.vagrant({ boxName: "my-flatcar" }),
    "boxName",
    '"my-flatcar"',
    "the name Flatcar's box metadata declares (set boxUrl for a box of your own)",
  ],
  [
    "forwardedPorts not a list",
    (c) => c.vagrant({ forwardedPorts: { guest: 80, host: 8080 } as never }),
    "forwardedPorts",
    '{"guest":80,"host":8080}',
    "a list of { guest, host }",
  ],
  [
    "forwarded port null",
    (c) => c.vagrant({ forwardedPorts: [null as never] }),
    "forwardedPorts[0].guest",
    "undefined",
    "a port 1-65535",
  ],
  [
    "sharedFolders not a list",
    (c) => c.vagrant({ sharedFolders: "src" as never }),
    "sharedFolders",
    '"src"',
    "a list of { host, guest }",
  ],
  [
    "shared host with newline",
    (c) => c.vagrant({ sharedFolders: [{ host: "src\nx", guest: "/srv" }] }),
    "sharedFolders[0].host",
    '"src x"',
    "without quotes, backslashes or control characters",
  ],
  [
    "shared host with NUL",
    (c) => c.vagrant({ sharedFolders: [{ host: "src\u0000x", guest: "/srv" }] }),
    "sharedFolders[0].host",
    '"src\\u0000x"',
    "control characters",
  ],
  [
    "shared guest with escape",
    (c) => c.vagrant({ sharedFolders: [{ host: "src", guest: "/srv/\u001b[31m" }] }),
    "sharedFolders[0].guest",
    "\\u001b[31m",
    "no control characters",
  ],
  [
    "shared guest with ..",
    (c) => c.vagrant({ sharedFolders: [{ host: "src", guest: "/srv/../etc" }] }),
    "sharedFolders[0].guest",
    '"/srv/../etc"',
    "fully simplified (no ., .., // or trailing /)",
  ],
  [
    "readyTimeout 0 s",
    (c) => c.vagrant({ readyTimeout: Duration.seconds(0) }),
    "readyTimeout",
    '"0s"',
    "a Duration from 1 s to 24 h",
  ],
  [
    "readyTimeout 25 h",
    (c) => c.vagrant({ readyTimeout: Duration.seconds(25 * 3600) }),
    "readyTimeout",
    '"90000s"',
    "a Duration from 1 s to 24 h",
  ],
  [
    "readyTimeout a number",
    (c) => c.vagrant({ readyTimeout: 600 as never }),
    "readyTimeout",
    "600",
    "a Duration from 1 s to 24 h",
  ],
  [
    "frontInterface ..",
    (c) => c.vagrant({ front: c.frontOver(), frontInterface: ".." }),
    "frontInterface",
    '".."',
    "a network interface name",
  ],
  [
    "token in boxName",
    (c) => c.vagrant({ boxName: c.stringToken(), boxUrl: "https://example.com/my.box" }),
    "boxName",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "token in boxUrl",
    (c) => c.vagrant({ boxUrl: c.stringToken() }),
    "boxUrl",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "token in a forwarded port",
    (c) => c.vagrant({ forwardedPorts: [{ guest: c.numberToken(), host: 8080 }] }),
    "forwardedPorts[0].guest",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "token in a shared folder",
    (c) => c.vagrant({ sharedFolders: [{ host: "src", guest: c.stringToken() }] }),
    "sharedFolders[0].guest",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "token in frontInterface",
    (c) => c.vagrant({ front: c.frontOver(), frontInterface: c.stringToken() }),
    "frontInterface",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "token in virtualRouterId",
    (c) => c.vagrant({ front: c.frontOver(), virtualRouterId: c.numberToken() }),
    "virtualRouterId",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
];

const awsFront = (
  c: Ctx,
  group: Partial<TargetGroupProps> = {},
  port = 80,
  options: Partial<AwsClusterProps> = {},
) => {
  const cluster = c.cluster(AWS_NET);
  const front = c.front();
  front
    .addListener("web", { port })
    .addTargets("web", { targets: [cluster], port: 8080, ...group });
  return new AwsCluster(c.stack, "aws", { cluster, front, ...options });
};
const EXISTING = {
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
};
/** Nodes in private subnets (NAT) of an existing network, an internet-facing front. */
const privateFront = (c: Ctx, network: Partial<ExistingNetworkOptions> = {}) =>
  awsFront(c, {}, 80, {
    network: AwsNetwork.existing({ ...EXISTING, ...network }),
    publicAddresses: false,
  });
const manyTags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"]));

const AWS: Case[] = [
  [
    "etcd discovery on AWS",
    (c) =>
      c.aws(
        {},
        { ...AWS_NET, etcd: { discovery: EtcdDiscovery.selfHosted("http://10.42.9.9:2379") } },
      ),
    "cluster.etcd.discovery",
    '"self-hosted"',
    "EtcdDiscovery.staticBootstrap() on AWS",
  ],
  [
    "aws props null",
    (c) => new AwsCluster(c.stack, "aws", null as never),
    "props",
    "null",
    "an object of AwsClusterProps",
  ],
  [
    "aws cluster missing",
    (c) => new AwsCluster(c.stack, "aws", {} as never),
    "cluster",
    "undefined",
    "a CoreOsCluster",
  ],
  [
    "aws cluster not one",
    (c) => new AwsCluster(c.stack, "aws", { cluster: {} as never }),
    "cluster",
    "{}",
    "a CoreOsCluster",
  ],
  ["aws front not one", (c) => c.aws({ front: {} as never }), "front", "{}", "an NlbFront"],
  [
    "aws network a string",
    (c) => c.aws({ network: "vpc" as never }),
    "network",
    '"vpc"',
    "AwsNetwork.create()",
  ],
  [
    "aws create with one subnet",
    (c) => c.aws({}, { ...AWS_NET, subnetCidrs: ["10.42.1.0/24"] }),
    "cluster.subnetCidrs",
    "10.42.1.0/24",
    "two or more subnets",
  ],
  [
    "aws prefix /8",
    (c) =>
      c.aws(
        {},
        {
          networkCidr: "10.0.0.0/8",
          subnetCidrs: ["10.1.0.0/24", "10.2.0.0/24"],
          firstHostNumber: 10,
        },
      ),
    "cluster.networkCidr",
    '"10.0.0.0/8"',
    "from /16 to /28",
  ],
  [
    "aws firstHostNumber 2",
    (c) => c.aws({}, { ...AWS_NET, firstHostNumber: 2 }),
    "cluster.firstHostNumber",
    "2",
    "AWS keeps the first four",
  ],
  [
    "aws zones count",
    (c) => c.aws({ network: AwsNetwork.create({ availabilityZones: ["eu-central-1a"] }) }),
    "network.availabilityZones",
    "eu-central-1a",
    "one zone per subnet (2)",
  ],
  [
    "aws zone bad",
    (c) => c.aws({ network: AwsNetwork.create({ availabilityZones: ["eu-central-1a", "a;b"] }) }),
    "network.availabilityZones[1]",
    '"a;b"',
    "a zone name",
  ],
  [
    "aws zone twice",
    (c) =>
      c.aws({
        network: AwsNetwork.create({ availabilityZones: ["eu-central-1a", "eu-central-1a"] }),
      }),
    "network.availabilityZones[1]",
    '"eu-central-1a"',
    "not used by another subnet",
  ],
  [
    "aws create(null)",
    (c) => c.aws({ network: AwsNetwork.create(null as never), sshAllowedCidrs: ["x"] }),
    "sshAllowedCidrs[0]",
    '"x"',
    "IPv4 CIDR",
  ],
  [
    "aws vpcId bad",
    (c) =>
      c.aws({
        network: AwsNetwork.existing({
          vpcId: "vpc-1",
          subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        }),
      }),
    "network.vpcId",
    '"vpc-1"',
    "a VPC id",
  ],
  [
    "aws existing(null)",
    (c) => c.aws({ network: AwsNetwork.existing(null as never) }),
    "network.vpcId",
    "undefined",
    "a VPC id",
  ],
  [
    "aws subnetIds count",
    (c) =>
      c.aws({
        network: AwsNetwork.existing({
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: ["subnet-0123456789abcdef0"],
        }),
      }),
    "network.subnetIds",
    "subnet-0123456789abcdef0",
    "one subnet id per entry",
  ],
  [
    "aws subnetId ${",
    (c) =>
      c.aws({
        network: AwsNetwork.existing({
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: ["subnet-0123456789abcdef0", "${x}"],
        }),
      }),
    "network.subnetIds[1]",
    '"${x}"',
    "a subnet id",
  ],
  [
    "aws subnetId twice",
    (c) =>
      c.aws({
        network: AwsNetwork.existing({
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"],
        }),
      }),
    "network.subnetIds[1]",
    "subnet-0123456789abcdef0",
    "not listed twice",
  ],
  [
    "aws image a string",
    (c) => c.aws({ image: "ami-0123456789abcdef0" as never }),
    "image",
    '"ami-0123456789abcdef0"',
    "AwsMachineImage.lookup()",
  ],
  [
    "aws ami bad",
    (c) => c.aws({ image: AwsMachineImage.fixed("ami-xyz") }),
    "image",
    '"ami-xyz"',
    "an AMI id",
  ],
  [
    "aws lookup(null)",
    (c) => c.aws({ image: AwsMachineImage.lookup(null as never), instanceType: "t4g.small" }),
    "image.architecture",
    '"x86_64"',
    "arm64 for instance type t4g.small",
  ],
  [
    "aws architecture bad",
    (c) =>
      c.aws({ image: AwsMachineImage.fixed("ami-0123456789abcdef0", "sparc" as CpuArchitecture) }),
    "image.architecture",
    '"sparc"',
    "x86_64 | arm64",
  ],
  [
    "aws instanceType bad",
    (c) => c.aws({ instanceType: "big" }),
    "instanceType",
    '"big"',
    "an EC2 instance type",
  ],
  [
    "aws instanceType ;",
    (c) => c.aws({ instanceType: "t3.small;x" }),
    "instanceType",
    '"t3.small;x"',
    "an EC2 instance type",
  ],
  ["aws rootVolume 4", (c) => c.aws({ rootVolumeGiB: 4 }), "rootVolumeGiB", "4", "from 8 to 16384"],
  [
    "aws rootVolume 8.5",
    (c) => c.aws({ rootVolumeGiB: 8.5 }),
    "rootVolumeGiB",
    "8.5",
    "whole number",
  ],
  [
    "aws ssh not a list",
    (c) => c.aws({ sshAllowedCidrs: "0.0.0.0/0" as never }),
    "sshAllowedCidrs",
    '"0.0.0.0/0"',
    "a list of IPv4 CIDRs",
  ],
  [
    "aws ssh no prefix",
    (c) => c.aws({ sshAllowedCidrs: ["198.51.100.7"] }),
    "sshAllowedCidrs[0]",
    '"198.51.100.7"',
    "IPv4 CIDR",
  ],
  [
    "aws ssh loopback",
    (c) => c.aws({ sshAllowedCidrs: ["127.0.0.0/8"] }),
    "sshAllowedCidrs[0]",
    '"127.0.0.0/8"',
    "not loopback",
  ],
  [
    "aws ssh multicast",
    (c) => c.aws({ sshAllowedCidrs: ["224.0.0.0/4"] }),
    "sshAllowedCidrs[0]",
    '"224.0.0.0/4"',
    "not multicast",
  ],
  [
    "aws ssh leading zero",
    (c) => c.aws({ sshAllowedCidrs: ["198.051.100.0/24"] }),
    "sshAllowedCidrs[0]",
    '"198.051.100.0/24"',
    "no leading zeros",
  ],
  [
    "aws frontAllowed empty",
    (c) => c.aws({ front: c.frontOver(undefined, {}, AWS_NET), frontAllowedCidrs: [] }),
    "frontAllowedCidrs",
    "[]",
    "at least one",
  ],
  [
    "aws publicAddresses 'yes'",
    (c) => c.aws({ publicAddresses: "yes" as never }),
    "publicAddresses",
    '"yes"',
    "true | false",
  ],
  [
    "aws replaceOnImageChange 1",
    (c) => c.aws({ replaceOnImageChange: 1 as never }),
    "replaceOnImageChange",
    "1",
    "true | false",
  ],
  [
    "aws rollingReplacement a string",
    (c) => c.aws({ rollingReplacement: "yes" as never }),
    "rollingReplacement",
    '"yes"',
    "true | false",
  ],
  [
    "aws constructPerResource a number",
    (c) => c.aws({ constructPerResource: 1 as never }),
    "constructPerResource",
    "1",
    "true | false",
  ],
  ["aws region mars", (c) => c.aws({ region: "mars" }), "region", '"mars"', "an AWS region"],
  [
    "aws tag Name",
    (c) => c.aws({ tags: { Name: "prod" } }),
    "tags",
    '"Name"',
    "a key other than Name and coreos-cluster",
  ],
  [
    "aws tag coreos-cluster",
    (c) => c.aws({ tags: { "coreos-cluster": "x" } }),
    "tags",
    '"coreos-cluster"',
    "the cluster sets them per resource",
  ],
  ["aws tag aws:", (c) => c.aws({ tags: { "aws:x": "y" } }), "tags", '"aws:x"', "not aws:"],
  [
    "aws tag key ${",
    (c) => c.aws({ tags: { "${x}": "y" } }),
    "tags",
    '"${x}"',
    "tag keys of 1-128",
  ],
  [
    "aws tag value ${",
    (c) => c.aws({ tags: { team: '${file("/etc/passwd")}' } }),
    "tags.team",
    "${file",
    "at most 256 letters",
  ],
  [
    "aws tag value quote",
    (c) => c.aws({ tags: { team: 'a"b' } }),
    "tags.team",
    '"a\\"b"',
    "what AWS load balancers accept",
  ],
  [
    "aws tag value newline",
    (c) => c.aws({ tags: { team: "a\nb" } }),
    "tags.team",
    '"a b"',
    "letters, digits, spaces",
  ],
  [
    "aws tag value 257",
    (c) => c.aws({ tags: { team: "a".repeat(257) } }),
    "tags.team",
    '"aaa',
    "at most 256",
  ],
  [
    "aws tag value a number",
    (c) => c.aws({ tags: { team: 5 as never } }),
    "tags.team",
    "5",
    "a string",
  ],
  ["aws 49 tags", (c) => c.aws({ tags: manyTags }), "tags", '"49 tags"', "at most 48"],
  ["aws tags a list", (c) => c.aws({ tags: [] as never }), "tags", "[]", "an object of tag key"],
  [
    "aws delay 1.5 s",
    (c) =>
      c.aws({
        front: c.frontOver(undefined, {}, AWS_NET),
        deregistrationDelay: Duration.millis(1500),
      }),
    "deregistrationDelay",
    '"1500ms"',
    "whole seconds",
  ],
  [
    "aws delay 4000 s",
    (c) =>
      c.aws({
        front: c.frontOver(undefined, {}, AWS_NET),
        deregistrationDelay: Duration.seconds(4000),
      }),
    "deregistrationDelay",
    '"4000s"',
    "from 0 s to 3600 s",
  ],
  [
    "aws interval 1 s",
    (c) => awsFront(c, tcpCheck({ interval: Duration.seconds(1) })),
    "front.listeners.web.targets.healthCheck.interval",
    '"1s"',
    "from 5 s to 300 s on AWS",
  ],
  [
    "aws least connections",
    (c) => awsFront(c, { balancing: Balancing.LEAST_CONNECTIONS }),
    "front.listeners.web.targets.balancing",
    '"least_connections"',
    "flow hash",
  ],
  [
    "aws network affinity",
    (c) => awsFront(c, { affinity: ClientAffinity.NETWORK }),
    "front.listeners.web.targets.affinity",
    '"network"',
    "per source IP",
  ],
  [
    "aws target port etcd",
    (c) => awsFront(c, { port: 2379 }),
    "front",
    "2379",
    "other than etcd's",
  ],
  [
    "aws member outside the VPC",
    (c) => {
      const cluster = c.cluster(AWS_NET);
      const front = c.front();
      front
        .addListener("db", { port: 5432 })
        .addTargets("db", { targets: [FrontTargets.host("db", "192.0.2.5")], port: 5432 });
      new AwsCluster(c.stack, "aws", { cluster, front });
    },
    "front.listeners.db.targets (member db)",
    '"192.0.2.5"',
    "inside the VPC 10.42.0.0/16",
  ],
  [
    "aws two targets over one cluster",
    (c) => {
      const cluster = c.cluster(AWS_NET);
      new AwsCluster(c.stack, "a", { cluster });
      new AwsCluster(c.stack, "b", { cluster });
    },
    "cluster",
    'CoreOsCluster \\"s/core\\"',
    'AwsCluster "s/a" already runs it',
  ],
  [
    "aws front over another cluster",
    (c) => {
      const cluster = c.cluster(AWS_NET);
      const other = c.cluster({ ...AWS_NET, firstHostNumber: 50 }, "other");
      const front = c.front();
      front.addListener("web", { port: 80 }).addTargets("web", { targets: [other], port: 8080 });
      new AwsCluster(c.stack, "aws", { cluster, front });
    },
    'front (listener "web")',
    'CoreOsCluster \\"s/other\\"',
    'it does not run "s/other"',
  ],
  [
    "aws existing without publicAddresses",
    (c) => c.aws({ network: AwsNetwork.existing(EXISTING) }),
    "publicAddresses",
    "undefined",
    "AwsNetwork.existing() needs it said",
  ],
  [
    "aws create with publicAddresses false",
    (c) => c.aws({ publicAddresses: false }),
    "publicAddresses",
    "false",
    "true with AwsNetwork.create(): its subnets have no NAT",
  ],
  [
    "aws private nodes, internet-facing front, no load balancer subnets",
    (c) => privateFront(c),
    "network.loadBalancerSubnetIds",
    "undefined",
    "public subnets (routed to an internet gateway) for the internet-facing load balancer",
  ],
  [
    "aws loadBalancerSubnetIds a string",
    (c) => privateFront(c, { loadBalancerSubnetIds: "subnet-0123456789abcdef2" as never }),
    "network.loadBalancerSubnetIds",
    '"subnet-0123456789abcdef2"',
    "a list of subnet ids, one per availability zone",
  ],
  [
    "aws loadBalancerSubnetIds empty",
    (c) => privateFront(c, { loadBalancerSubnetIds: [] }),
    "network.loadBalancerSubnetIds",
    "[]",
    "a list of subnet ids",
  ],
  [
    "aws loadBalancerSubnetIds bad id",
    (c) => privateFront(c, { loadBalancerSubnetIds: ["public-a", "subnet-0123456789abcdef3"] }),
    "network.loadBalancerSubnetIds[0]",
    '"public-a"',
    "a subnet id such as subnet-0123456789abcdef0",
  ],
  [
    "aws loadBalancerSubnetIds twice",
    (c) =>
      privateFront(c, {
        loadBalancerSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef2"],
      }),
    "network.loadBalancerSubnetIds[1]",
    '"subnet-0123456789abcdef2"',
    "a subnet not listed twice",
  ],
  [
    "aws dependsOn names",
    (c) =>
      c.aws({
        network: AwsNetwork.existing({
          ...EXISTING,
          dependsOn: ["aws_route_table_association.public" as never],
        }),
        publicAddresses: true,
      }),
    "network.dependsOn",
    '["aws_route_table_association.public"]',
    "a list of resources, data sources or modules of the stack",
  ],
  [
    "aws dependsOn not a list",
    (c) =>
      c.aws({
        network: AwsNetwork.existing({ ...EXISTING, dependsOn: { fqn: "x" } as never }),
        publicAddresses: true,
      }),
    "network.dependsOn",
    '{"fqn":"x"}',
    "a list of resources",
  ],
  [
    "aws healthCheckInterval 2 s",
    (c) => awsFront(c, {}, 80, { healthCheckInterval: Duration.seconds(2) }),
    "healthCheckInterval",
    '"2s"',
    "whole seconds from 5 s to 300 s on AWS",
  ],
  [
    "aws healthCheckInterval 7.5 s",
    (c) => awsFront(c, {}, 80, { healthCheckInterval: Duration.millis(7500) }),
    "healthCheckInterval",
    '"7500ms"',
    "whole seconds",
  ],
  [
    "aws healthCheckInterval a number",
    (c) => awsFront(c, {}, 80, { healthCheckInterval: 10 as never }),
    "healthCheckInterval",
    "10",
    "a Duration such as Duration.seconds(5)",
  ],
  [
    "aws deregistrationDelay a number",
    (c) => awsFront(c, {}, 80, { deregistrationDelay: 30 as never }),
    "deregistrationDelay",
    "30",
    "a Duration such as Duration.seconds(30)",
  ],
  [
    "aws Flatcar LTS without an image version",
    (c) => c.aws({}, { ...AWS_NET, os: OperatingSystem.flatcar(FlatcarChannel.LTS) }),
    "image.version",
    "undefined",
    "the LTS stream's major version",
  ],
  [
    "aws image version with a wildcard",
    (c) => c.aws({ image: AwsMachineImage.lookup({ version: "4081-*" }) }),
    "image.version",
    '"4081-*"',
    "a release prefix such as 4081 or 4081.3",
  ],
  [
    "aws image version a number",
    (c) => c.aws({ image: AwsMachineImage.lookup({ version: 4081 as never }) }),
    "image.version",
    "4081",
    "a release prefix",
  ],
];

const DB_UNIT = { name: "db.service", contents: "[Service]\nExecStart=/usr/bin/true\n" };
/** A failover service "db" on the stack's cluster (clusterProps the first time). */
const service = (
  c: Ctx,
  props: Partial<FailoverServiceProps> = {},
  clusterProps: CoreOsClusterProps = {},
) =>
  new FailoverService(c.stack, "db", {
    cluster: c.cluster(clusterProps),
    units: [DB_UNIT],
    ...props,
  });
const withCheck = (c: Ctx, hc: ServiceHealthCheck) => service(c, { healthCheck: hc });
const PRIVATE_KEY_TEXT =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----";

const SERVICE: Case[] = [
  [
    "service props null",
    (c) => new FailoverService(c.stack, "db", null as never),
    "props",
    "null",
    "an object of props",
  ],
  [
    "service cluster missing",
    (c) => new FailoverService(c.stack, "db", { units: [DB_UNIT] } as never),
    "cluster",
    "undefined",
    "a CoreOsCluster",
  ],
  [
    "service cluster a plain object",
    (c) => new FailoverService(c.stack, "db", { cluster: { name: "core" }, units: [] } as never),
    "cluster",
    '{"name":"core"}',
    "a CoreOsCluster",
  ],
  ["service name uppercase", (c) => service(c, { name: "DB" }), "name", '"DB"', "1-24 of a-z"],
  ["service name ;", (c) => service(c, { name: "db;reboot" }), "name", '"db;reboot"', "1-24"],
  ["service name 25 long", (c) => service(c, { name: "d".repeat(25) }), "name", '"ddd', "1-24"],
  [
    "service name a token",
    (c) => service(c, { name: c.stringToken() }),
    "name",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "service name whose agent is a cluster unit",
    (c) =>
      service(
        c,
        {},
        {
          units: [
            {
              name: "failover-db.service",
              contents: `[Service]\nExecStart=/usr/bin/true${INSTALL}`,
            },
          ],
        },
      ),
    "name",
    '"db"',
    "agent unit failover-db.service is not one of the cluster's own units",
  ],
  ["service units empty", (c) => service(c, { units: [] }), "units", "[]", "one or more"],
  [
    "service units a string",
    (c) => service(c, { units: "db.service" as never }),
    "units",
    '"db.service"',
    "one or more",
  ],
  [
    "service unit null",
    (c) => service(c, { units: [null as never] }),
    "units[0]",
    "null",
    "a unit { name",
  ],
  [
    "service unit name without type",
    (c) => service(c, { units: [{ name: "db", contents: "[Service]\n" }] }),
    "units[0].name",
    '"db"',
    "a systemd unit name with its type",
  ],
  [
    "service unit name with newline",
    (c) => service(c, { units: [{ name: "db\n.service", contents: "[Service]\n" }] }),
    "units[0].name",
    '"db .service"',
    "a systemd unit name with its type",
  ],
  [
    "service unit name with $(…)",
    (c) => service(c, { units: [{ name: "$(reboot).service" }] }),
    "units[0].name",
    '"$(reboot).service"',
    "A-Z a-z 0-9 : _ . @ -",
  ],
  [
    "service unit etcd-member",
    (c) => service(c, { units: [{ name: "etcd-member.service" }] }),
    "units[0].name",
    '"etcd-member.service"',
    "a unit the cluster and its agents do not configure",
  ],
  [
    "service unit failover-*",
    (c) => service(c, { units: [{ name: "failover-x.service", contents: "[Service]\n" }] }),
    "units[0].name",
    '"failover-x.service"',
    "failover-*",
  ],
  [
    "service unit the cluster has",
    (c) =>
      service(
        c,
        { units: [DB_UNIT] },
        { units: [{ ...DB_UNIT, contents: `${DB_UNIT.contents}${INSTALL}` }] },
      ),
    "units[0].name",
    '"db.service"',
    "not already given to the cluster",
  ],
  [
    "service unit enabled",
    (c) => service(c, { units: [{ ...DB_UNIT, enabled: true }] }),
    "units[0].enabled",
    "true",
    "false or left out",
  ],
  [
    "service unit contents with NUL",
    (c) =>
      service(c, { units: [{ name: "db.service", contents: "[Service]\nExecStart=/x\u0000\n" }] }),
    "units[0].contents",
    "ExecStart",
    "without control characters",
  ],
  [
    "service unit contents unparsable",
    (c) => service(c, { units: [{ name: "db.service", contents: "[Service]\nrm -rf /\n" }] }),
    "units[0].contents",
    "rm -rf",
    "unit text Ignition can parse",
  ],
  [
    "service unit contents with a private key",
    (c) =>
      service(c, {
        units: [{ name: "db.service", contents: `[Service]\n# ${PRIVATE_KEY_TEXT}\n` }],
      }),
    "units[0].contents",
    "-----BEGIN … PRIVATE KEY-----",
    "no private keys",
  ],
  [
    "service unit contents a number",
    (c) => service(c, { units: [{ name: "db.service", contents: 7 as never }] }),
    "units[0].contents",
    "7",
    "a string",
  ],
  [
    "service unit contents a token",
    (c) => service(c, { units: [{ name: "db.service", contents: c.stringToken() }] }),
    "units[0].contents",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "service drop-in named like the agent's",
    (c) =>
      service(c, {
        units: [{ ...DB_UNIT, dropins: [{ name: "50-failover.conf", contents: "[Unit]\n" }] }],
      }),
    "units[0].dropins[0].name",
    '"50-failover.conf"',
    "other than 50-failover.conf",
  ],
  [
    "service drop-in name with /",
    (c) =>
      service(c, {
        units: [{ ...DB_UNIT, dropins: [{ name: "../x.conf", contents: "[Unit]\n" }] }],
      }),
    "units[0].dropins[0].name",
    '"../x.conf"',
    "ending in .conf",
  ],
  [
    "service drop-ins an object",
    (c) => service(c, { units: [{ ...DB_UNIT, dropins: { name: "x.conf" } as never }] }),
    "units[0].dropins",
    '{"name":"x.conf"}',
    "a list of { name, contents }",
  ],
  [
    "service nodes not of the cluster",
    (c) => service(c, { nodes: [{ name: "core-09" }] }),
    "nodes[0]",
    '"core-09"',
    "a node of the cluster: core-01, core-02, core-03",
  ],
  [
    "service nodes a string",
    (c) => service(c, { nodes: "core-01" as never }),
    "nodes",
    '"core-01"',
    "a list of the cluster's nodes",
  ],
  ["service nodes empty", (c) => service(c, { nodes: [] }), "nodes", '"none"', "at least one node"],
  [
    "service preferred node it may not run on",
    (c) => service(c, { nodes: [{ name: "core-01" }], preferredNodes: [{ name: "core-02" }] }),
    "preferredNodes",
    '"core-02"',
    "nodes that may run the service: core-01",
  ],
  [
    "service failback a string",
    (c) => service(c, { failback: "never" as never }),
    "failback",
    '"never"',
    "Failback.NEVER, Failback.IMMEDIATE or Failback.between",
  ],
  [
    "service failback without preferred nodes",
    (c) => service(c, { failback: Failback.IMMEDIATE }),
    "failback",
    '"immediate"',
    "Failback.NEVER without preferredNodes",
  ],
  [
    "service failback hour 24",
    (c) => service(c, { preferredNodes: [{ name: "core-01" }], failback: Failback.between(3, 24) }),
    "failback.endHour",
    "24",
    "an hour of the day, 0-23",
  ],
  [
    "service maxFailovers 1.5",
    (c) => service(c, { maxFailovers: 1.5 }),
    "maxFailovers",
    "1.5",
    "a whole number from 0 to 100",
  ],
  [
    "service restartAttempts -1",
    (c) => service(c, { restartAttempts: -1 }),
    "restartAttempts",
    "-1",
    "a whole number from 0 to 10",
  ],
  [
    "service failoverPeriod a number",
    (c) => service(c, { failoverPeriod: 3600 as never }),
    "failoverPeriod",
    "3600",
    "a Duration from 60s to 2592000s",
  ],
  [
    "service restartPeriod 10 s",
    (c) => service(c, { restartPeriod: Duration.seconds(10) }),
    "restartPeriod",
    '"10s"',
    "from 60s to 86400s",
  ],
  [
    "service leaseTtl 8.5 s",
    (c) => service(c, { leaseTtl: Duration.millis(8500) }),
    "leaseTtl",
    '"8500ms"',
    "whole seconds",
  ],
  [
    "service leaseTtl shorter than the stop needs",
    (c) => service(c, { leaseTtl: Duration.seconds(6), stopTimeout: Duration.seconds(5) }),
    "leaseTtl",
    '"6000ms"',
    "at least 10000ms with stopTimeout 5000ms",
  ],
  [
    "service stopTimeout 2 min",
    (c) => service(c, { stopTimeout: Duration.minutes(2) }),
    "stopTimeout",
    '"120s"',
    "from 1s to 60s",
  ],
  [
    "service healthCheck a plain object",
    (c) => service(c, { healthCheck: { port: 5432 } as never }),
    "healthCheck",
    '{"port":5432}',
    "ServiceHealthCheck.tcp(port)",
  ],
  [
    "service check port 0",
    (c) => withCheck(c, ServiceHealthCheck.tcp(0)),
    "healthCheck.port",
    "0",
    "a port 1-65535",
  ],
  [
    "service check path with a space",
    (c) => withCheck(c, ServiceHealthCheck.http(8080, "/health check")),
    "healthCheck.path",
    '"/health check"',
    "an absolute URL path of printable ASCII without spaces",
  ],
  [
    "service check path with a newline",
    (c) => withCheck(c, ServiceHealthCheck.http(8080, "/ok\nHost: evil")),
    "healthCheck.path",
    '"/ok Host: evil"',
    "without spaces",
  ],
  [
    "service check command with a newline",
    (c) => withCheck(c, ServiceHealthCheck.command("pg_isready\nrm -rf /")),
    "healthCheck.command",
    '"pg_isready rm -rf /"',
    "one line of shell, 1-1024 printable ASCII characters",
  ],
  [
    "service check command empty",
    (c) => withCheck(c, ServiceHealthCheck.command("  ")),
    "healthCheck.command",
    '" "',
    "one line of shell",
  ],
  [
    "service check command 1025 long",
    (c) => withCheck(c, ServiceHealthCheck.command("x".repeat(1025))),
    "healthCheck.command",
    '"xxx',
    "1-1024",
  ],
  [
    "service check command with Unicode",
    (c) => withCheck(c, ServiceHealthCheck.command("test “ok”")),
    "healthCheck.command",
    '"test “ok”"',
    "printable ASCII",
  ],
  [
    "service check command a token",
    (c) => withCheck(c, ServiceHealthCheck.command(c.stringToken())),
    "healthCheck.command",
    "<unresolved Terraform token>",
    "a literal value known at synth time",
  ],
  [
    "service check timeout not below interval",
    (c) =>
      withCheck(
        c,
        ServiceHealthCheck.tcp(5432, {
          interval: Duration.seconds(1),
          timeout: Duration.seconds(1),
        }),
      ),
    "healthCheck.timeout",
    '"1000ms"',
    "shorter than the interval (1000ms)",
  ],
  [
    "service check failures 0",
    (c) => withCheck(c, ServiceHealthCheck.tcp(5432, { failures: 0 })),
    "healthCheck.failures",
    "0",
    "a whole number from 1 to 10",
  ],
  [
    "service listener front a string",
    (c) => service(c, { listener: { front: "front" as never, port: 5432 } }),
    "listener.front",
    '"front"',
    "an NlbFront",
  ],
];

/** The settings of the default app with `change` merged in, built as main.ts builds them. */
function fromSettings(c: Ctx, change: unknown, env: Record<string, string> = {}): void {
  const base = { nodeCount: 3, front: { listeners: [HTTP_LISTENER] } };
  const value = typeof change === "object" && change !== null ? { ...base, ...change } : change;
  const s: AppSettings = parseAppSettings(value, env);
  const cluster = clusterFromSettings(c.stack, "core", s);
  const front = frontFromSettings(c.stack, "front", s, cluster);
  if (s.target === DeployTarget.AWS) {
    awsClusterFromSettings(c.stack, "aws", s, { cluster, front });
  } else {
    vagrantFromSettings(c.stack, "local", s, { cluster, front });
  }
}
const HTTP_LISTENER = { name: "http", port: 80, protocol: "http", targets: { port: 8080 } };
const settingsFrontWith = (listener: object, extra: object = {}) => ({
  front: { listeners: [{ ...HTTP_LISTENER, ...listener }], ...extra },
});

/** cdktf.json's settings and the environment: each issue names the key or the variable. */
const SETTINGS: Case[] = [
  ["a key nobody knows", (c) => fromSettings(c, { nodes: 5 }), "nodes", "5", "a known key"],
  [
    "a key in the wrong case",
    (c) => fromSettings(c, { etcd: { Members: 3 } }),
    "etcd.Members",
    "3",
    'did you mean "members"?',
  ],
  [
    "settings not an object",
    (c) => fromSettings(c, "3 nodes"),
    "settings",
    '"3 nodes"',
    "an object with the keys target, name",
  ],
  [
    "nodeCount as text",
    (c) => fromSettings(c, { nodeCount: "3" }),
    "nodeCount",
    '"3"',
    "a whole number",
  ],
  [
    "os as text",
    (c) => fromSettings(c, { os: "flatcar" }),
    "os",
    '"flatcar"',
    "an object with the keys family, channel",
  ],
  [
    "os.family unknown",
    (c) => fromSettings(c, { os: { family: "coreos" } }),
    "os.family",
    '"coreos"',
    "flatcar | fedora-coreos",
  ],
  [
    "os.channel a number",
    (c) => fromSettings(c, { os: { channel: 5 } }),
    "os.channel",
    "5",
    "a channel name",
  ],
  [
    "etcd.members even",
    (c) => fromSettings(c, { etcd: { members: 2 } }),
    "etcd.members",
    "2",
    "1, 3, 5, 7",
  ],
  [
    "standby all nodes",
    (c) => fromSettings(c, { standby: 3 }),
    "standby",
    "3",
    "at least one node must stay active",
  ],
  [
    "sshPublicKeys a line, not a list",
    (c) => fromSettings(c, { sshPublicKeys: "ssh-ed25519 AAAA" }),
    "sshPublicKeys",
    '"ssh-ed25519 AAAA"',
    "a list",
  ],
  [
    "networkCidr /33",
    (c) => fromSettings(c, { networkCidr: "10.0.0.0/33" }),
    "networkCidr",
    '"10.0.0.0/33"',
    "an IPv4 CIDR such as",
  ],
  [
    "front as text",
    (c) => fromSettings(c, { front: "yes" }),
    "front",
    '"yes"',
    "an object with the keys name, listeners, drain",
  ],
  [
    "front without listeners",
    (c) => fromSettings(c, { front: {} }),
    "front.listeners",
    "undefined",
    '"front": false for none',
  ],
  [
    "a listener without targets",
    (c) => fromSettings(c, settingsFrontWith({ targets: undefined })),
    "front.listeners[0].targets",
    "undefined",
    "the listener's targets",
  ],
  [
    "a listener protocol",
    (c) => fromSettings(c, settingsFrontWith({ protocol: "udp" })),
    "front.listeners[0].protocol",
    '"udp"',
    "tcp | http",
  ],
  [
    "a listener name",
    (c) => fromSettings(c, settingsFrontWith({ name: "HTTP" })),
    "front.listeners[0].name",
    '"HTTP"',
    "1-24 of a-z 0-9 -",
  ],
  [
    "a health-check interval without unit",
    (c) =>
      fromSettings(
        c,
        settingsFrontWith({ targets: { port: 8080, healthCheck: { interval: 500 } } }),
      ),
    "front.listeners[0].targets.healthCheck.interval",
    "500",
    'a duration such as "500ms"',
  ],
  [
    "a target port",
    (c) => fromSettings(c, settingsFrontWith({ targets: { port: 0 } })),
    "front.listeners[0].targets.port",
    "0",
    "a port 1-65535",
  ],
  [
    "drain as text",
    (c) => fromSettings(c, settingsFrontWith({}, { drain: "core-02" })),
    "front.drain",
    '"core-02"',
    "a list of node names",
  ],
  [
    "drain every active node",
    (c) => fromSettings(c, settingsFrontWith({}, { drain: ["core-01", "core-02", "core-03"] })),
    "front.drain",
    '"core-01,core-02,core-03"',
    "at least one active member",
  ],
  [
    "vagrant.gui as text",
    (c) => fromSettings(c, { vagrant: { gui: "yes" } }),
    "vagrant.gui",
    '"yes"',
    "true or false",
  ],
  [
    "vagrant.forwardedPorts without host",
    (c) => fromSettings(c, { vagrant: { forwardedPorts: [{ guest: 80 }] } }),
    "vagrant.forwardedPorts[0].host",
    "undefined",
    "a port 1-65535",
  ],
  [
    "vagrant.readyTimeout in words",
    (c) => fromSettings(c, { vagrant: { readyTimeout: "forever" } }),
    "vagrant.readyTimeout",
    '"forever"',
    "a duration such as",
  ],
  [
    "vagrant.readyTimeout too long",
    (c) => fromSettings(c, { vagrant: { readyTimeout: "25h" } }),
    "vagrant.readyTimeout",
    '"90000s"',
    "a Duration from 1 s to 24 h",
  ],
  [
    "vagrant.virtualRouterId 300",
    (c) => fromSettings(c, { vagrant: { virtualRouterId: 300 } }),
    "vagrant.virtualRouterId",
    "300",
    "a whole number 1-255",
  ],
  [
    "target docker",
    (c) => fromSettings(c, { target: "docker" }),
    "target",
    '"docker"',
    "vagrant | aws",
  ],
  [
    "aws.instanceType",
    (c) => fromSettings(c, { target: "aws", aws: { instanceType: "huge" } }),
    "aws.instanceType",
    '"huge"',
    "an EC2 instance type",
  ],
  [
    "aws.image with amiId and version",
    (c) =>
      fromSettings(c, {
        target: "aws",
        aws: { image: { amiId: "ami-0123456789abcdef0", version: "4081" } },
      }),
    "aws.image.version",
    '"4081"',
    "no version with a fixed amiId",
  ],
  [
    "aws.rootVolumeGiB",
    (c) => fromSettings(c, { target: "aws", aws: { rootVolumeGiB: 4 } }),
    "aws.rootVolumeGiB",
    "4",
    "8",
  ],
  [
    "env NUM_INSTANCES 3.5",
    (c) => fromSettings(c, {}, { NUM_INSTANCES: "3.5" }),
    "NUM_INSTANCES (environment, nodeCount)",
    '"3.5"',
    "a whole number such as 5",
  ],
  [
    "env VM_CPUS 100",
    (c) => fromSettings(c, {}, { VM_CPUS: "100" }),
    "VM_CPUS (environment, cpus)",
    '"100"',
    "a whole number from 1 to 64",
  ],
  [
    "env VM_GUI on",
    (c) => fromSettings(c, {}, { VM_GUI: "on" }),
    "VM_GUI (environment, vagrant.gui)",
    '"on"',
    "true or false",
  ],
  [
    "env COREOS_CLUSTER_OS windows",
    (c) => fromSettings(c, {}, { COREOS_CLUSTER_OS: "windows" }),
    "COREOS_CLUSTER_OS (environment, os.family)",
    '"windows"',
    "flatcar | fedora-coreos",
  ],
  [
    "env COREOS_CLUSTER_ETCD_MEMBERS 0",
    (c) => fromSettings(c, {}, { COREOS_CLUSTER_ETCD_MEMBERS: "0" }),
    "COREOS_CLUSTER_ETCD_MEMBERS (environment, etcd.members)",
    '"0"',
    "1, 3, 5, 7",
  ],
  [
    "env INSTANCE_NAME_PREFIX in capitals",
    (c) => fromSettings(c, {}, { INSTANCE_NAME_PREFIX: "Core" }),
    "INSTANCE_NAME_PREFIX (environment, namePrefix)",
    '"Core"',
    "lowercase letters",
  ],
  [
    "env UPDATE_CHANNEL with a space",
    (c) => fromSettings(c, {}, { UPDATE_CHANNEL: "stable " }),
    "UPDATE_CHANNEL (environment, os.channel)",
    '"stable "',
    "stable | beta | alpha | lts",
  ],
  [
    "env COREOS_CLUSTER_STANDBY -1",
    (c) => fromSettings(c, {}, { COREOS_CLUSTER_STANDBY: "-1" }),
    "COREOS_CLUSTER_STANDBY (environment, standby)",
    '"-1"',
    "a whole number such as 5",
  ],
];

const TABLE: Array<[string, ...Case]> = [
  ...CLUSTER.map((c): [string, ...Case] => ["cluster", ...c]),
  ...FRONT.map((c): [string, ...Case] => ["front", ...c]),
  ...VAGRANT.map((c): [string, ...Case] => ["vagrant", ...c]),
  ...AWS.map((c): [string, ...Case] => ["aws", ...c]),
  ...SERVICE.map((c): [string, ...Case] => ["service", ...c]),
  ...SETTINGS.map((c): [string, ...Case] => ["settings", ...c]),
];

describe(`${TABLE.length} invalid inputs: prop, value and what is allowed; nothing written`, () => {
  it("has at least 150 cases", () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(150);
    console.log(
      `invalid-input table: ${TABLE.length} cases (cluster ${CLUSTER.length}, front ${FRONT.length}, vagrant ${VAGRANT.length}, aws ${AWS.length}, service ${SERVICE.length}, settings ${SETTINGS.length})`,
    );
  });

  it.each(TABLE)("%s: %s", (_kind, _label, build, prop, shown, allowed) => {
    const outdir = tempOutdir();
    const app = Testing.app({ outdir });
    let error: unknown;
    try {
      build(context(app));
      app.synth();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterConfigError);
    expect(error).not.toBeInstanceOf(TypeError);
    const message = (error as Error).message;
    const line = message.split("\n").find((l) => l.startsWith(`  - ${prop}: got `));
    if (!line) throw new Error(`no line for ${prop} in:\n${message}`);
    const [got, allowedPart] = line.slice(`  - ${prop}: got `.length).split("; allowed: ");
    expect(got).toContain(shown);
    expect(allowedPart).toContain(allowed);
    expect(message).not.toMatch(/\bat \S+ \(|TypeError|Cannot read/);
    expect(filesUnder(outdir)).toEqual([]);
  });
});

describe("values that are fine are not caught by the same checks", () => {
  it.each([
    ["a real RSA key", { sshPublicKeys: [rsaPublicKey(3072)] }],
    [
      "a key with a comment of spaces and unicode",
      { sshPublicKeys: [ed25519PublicKey("ops team ü")] },
    ],
    [
      "a unit line of 2047 bytes",
      { units: [unit(`[Service]\nExecStart=/bin/echo ${"x".repeat(2027)}${INSTALL}`)] },
    ],
    ["mode 0o644 written as 420", { files: [file("/etc/a", { mode: 420 })] }],
    ["mode 0o777 written as 511", { files: [file("/etc/b", { mode: 0o775 })] }],
    [
      "a drop-in for etcd-member",
      {
        units: [
          {
            name: "etcd-member.service",
            dropins: [{ name: "30-limits.conf", contents: "[Service]\nLimitNOFILE=65536\n" }],
          },
        ],
      },
    ],
    [
      "a unit file in another unit's folder",
      { files: [file("/etc/systemd/system/x.service.d/y.conf")] },
    ],
    ["a public network", { networkCidr: "198.51.100.0/24", firstHostNumber: 10 }],
    [
      "cloud-config, a weekly window, legacy ports, a self-hosted discovery service",
      {
        provisioning: Provisioning.CLOUD_CONFIG,
        maintenanceWindow: { start: "sat 23:59", length: Duration.minutes(1) },
        etcd: {
          legacyPorts: true,
          discovery: EtcdDiscovery.selfHosted("https://disco.example:2379"),
        },
      },
    ],
    [
      "a discovery token of the public service; v3 discovery with etcd 3.6",
      {
        etcd: {
          discovery: EtcdDiscovery.existingToken(
            "https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579cbf573de",
          ),
        },
      },
    ],
    [
      "v3 discovery with etcd 3.6",
      {
        etcd: {
          imageTag: "v3.6.4",
          discovery: EtcdDiscovery.v3({
            endpoints: ["https://a.example:2379", "http://10.0.0.5:2379"],
          }),
        },
      },
    ],
  ] as Array<[string, CoreOsClusterProps]>)("%s", (_l, props) => {
    const app = Testing.app({ outdir: tempOutdir() });
    const stack = new TerraformStack(app, "s");
    expect(() => new CoreOsCluster(stack, "core", props)).not.toThrow();
  });

  it("a literal where a token is allowed passes, a token too (AWS ids)", () => {
    const app = Testing.app({ outdir: tempOutdir() });
    const c = context(app);
    expect(() =>
      c.aws({
        network: AwsNetwork.existing({
          vpcId: c.stringToken(),
          subnetIds: [c.stringToken(), "subnet-0123456789abcdef0"],
          loadBalancerSubnetIds: [c.stringToken(), "subnet-0123456789abcdef2"],
        }),
        publicAddresses: false,
        image: AwsMachineImage.lookup({ version: c.stringToken() }),
        rootVolumeGiB: Token.asNumber(c.numberToken()),
        tags: { team: c.stringToken() },
      }),
    ).not.toThrow();
  });
});
