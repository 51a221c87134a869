import { randomBytes } from "node:crypto";
import { testApp } from "./support/state";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { App, TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import {
  Balancing,
  ClientAffinity,
  ClusterConfigError,
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  FedoraCoreOsStream,
  FlatcarChannel,
  FrontProtocol,
  FrontTargets,
  LifecycleResource,
  NlbFront,
  OperatingSystem,
  TargetGroupProps,
  VagrantCluster,
} from "../lib";
import {
  AwsCluster,
  AwsClusterProps,
  AwsMachineImage,
  AwsNetwork,
  CpuArchitecture,
} from "../lib/aws";
import { AWS_HEALTH_CHECK_INTERVAL, USER_DATA_LIMIT } from "../lib/aws/plan";
import { IgnitionConfig } from "../lib/render/ignition";
import { CoreOsAwsStack } from "../main";
import { fileAttribute, tempOutdir } from "./support/synth";
import { describeWithTool } from "./support/tools";

type Block = Record<string, unknown>;
interface Config {
  resource: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
  provider?: Record<string, Block[]>;
}

const CLUSTER: CoreOsClusterProps = {
  nodeCount: 4,
  standby: 1,
  networkCidr: "10.0.0.0/16",
  subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
  firstHostNumber: 10,
};

interface Built {
  readonly stack: TerraformStack;
  readonly cluster: CoreOsCluster;
  readonly aws: AwsCluster;
  readonly config: Config;
  readonly json: string;
}

/** A stack with a cluster, optionally a front, and an AwsCluster; synthesized in memory. */
function build(
  options: {
    cluster?: CoreOsClusterProps;
    aws?: Partial<AwsClusterProps>;
    front?: (front: NlbFront, cluster: CoreOsCluster) => void;
    before?: (stack: TerraformStack) => void;
  } = {},
): Built {
  const app = testApp();
  const stack = new TerraformStack(app, "test");
  options.before?.(stack);
  const cluster = new CoreOsCluster(stack, "core", options.cluster ?? CLUSTER);
  let front: NlbFront | undefined;
  if (options.front) {
    front = new NlbFront(stack, "front");
    options.front(front, cluster);
  }
  const aws = new AwsCluster(stack, "aws", { cluster, front, ...options.aws });
  const json = Testing.synth(stack);
  return { stack, cluster, aws, config: JSON.parse(json), json };
}

/** A stack with a cluster and an AwsCluster, synthesized into a folder as `cdktf synth` does. */
function synthToFolder(props: CoreOsClusterProps = CLUSTER) {
  const outdir = tempOutdir();
  const app = testApp({ outdir });
  const stack = new TerraformStack(app, "files");
  const aws = new AwsCluster(stack, "aws", { cluster: new CoreOsCluster(stack, "core", props) });
  app.synth();
  const stackDir = path.join(outdir, "stacks", "files");
  const config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as Config;
  return {
    aws,
    stackDir,
    config,
    remove: () => fs.rmSync(outdir, { recursive: true, force: true }),
  };
}

const web = (front: NlbFront, cluster: CoreOsCluster, props: Partial<TargetGroupProps> = {}) =>
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: 8080, ...props });

function invalid(fn: () => unknown): ClusterConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ClusterConfigError) return e;
    throw e;
  }
  throw new Error("expected a ClusterConfigError");
}

const resources = (c: Config, type: string) => c.resource[type] ?? {};

const EXISTING_OPTIONS = {
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0000000000000000a", "subnet-0000000000000000b"],
};
const EXISTING = AwsNetwork.existing(EXISTING_OPTIONS);

/** What Terraform makes of a string from literalTerraformString: `$${` and `%%{` undone. */

describe("AwsCluster nodes", () => {
  const { config, cluster, aws } = build();
  const instances = resources(config, "aws_instance");

  it("creates one instance per node at its planned address, alternating subnets", () => {
    expect(Object.keys(instances)).toEqual([
      "core_core-01",
      "core_core-02",
      "core_core-03",
      "core_core-04",
    ]);
    expect(Object.values(instances).map((i) => [i.private_ip, i.subnet_id])).toEqual([
      ["10.0.1.10", "${aws_subnet.core_subnet_0.id}"],
      ["10.0.2.10", "${aws_subnet.core_subnet_1.id}"],
      ["10.0.1.11", "${aws_subnet.core_subnet_0.id}"],
      ["10.0.2.11", "${aws_subnet.core_subnet_1.id}"],
    ]);
  });

  it("passes each node's Ignition as user data: Terraform reads it from the node's file", () => {
    aws.plan.nodes.forEach((n, i) => {
      const node = cluster.nodes[i];
      expect(instances[`core_${n.name}`].user_data).toBe(
        `\${file("\${path.module}/clusters/core/aws-user-data/${n.name}.ign")}`,
      );
      expect(n.userDataFile).toBe(`aws-user-data/${n.name}.ign`);
      expect(JSON.parse(n.userData)).toEqual(JSON.parse(node.ignition));
    });
  });

  it("writes each node's user data at synth, readable by its owner only (it holds the node's etcd key)", () => {
    const { aws: a, stackDir, config, remove } = synthToFolder();
    for (const n of a.plan.nodes) {
      const file = path.join(stackDir, "clusters/core", n.userDataFile);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const text = fileAttribute(
        stackDir,
        config.resource.aws_instance[`core_${n.name}`].user_data,
      );
      expect(text).toBe(n.userData);
      expect(text).toContain("-----BEGIN");
    }
    // The keys stay in the files: none in the configuration.
    expect(JSON.stringify(config)).not.toContain("PRIVATE KEY");
    remove();
  });

  it("fits each node's Ignition, etcd keys, ready check and membership script included, into EC2's user data: scripts travel gzipped", () => {
    for (const n of aws.plan.nodes) {
      const ignition = JSON.parse(cluster.nodeNamed(n.name).ignition) as IgnitionConfig;
      const gzipped = ignition.storage.files.filter((f) => f.contents.compression === "gzip");
      expect(gzipped.map((f) => f.path)).toEqual(
        expect.arrayContaining(["/opt/etcd/etcd-member-join", "/opt/bin/coreos-cluster-ready"]),
      );
      expect(Buffer.byteLength(n.userData)).toBeLessThan(USER_DATA_LIMIT);
    }
  });

  it("leaves ${ and %{ of unit files to systemd: file() reads the text verbatim, no template", () => {
    const unit = {
      name: "env.service",
      contents:
        "[Service]\nExecStart=/bin/echo ${HOME} %{x}\n[Install]\nWantedBy=multi-user.target\n",
    };
    const fcos = build({
      cluster: { ...CLUSTER, os: OperatingSystem.fedoraCoreOs(), units: [unit] },
    });
    expect(fcos.cluster.nodes[0].ignition).toContain("${HOME} %{x}");
    expect(fcos.aws.plan.nodes[0].userData).toContain("${HOME} %{x}");
    // The configuration holds no unit text that Terraform would read as a template.
    expect(fcos.json).not.toContain("HOME");
  });

  it("hardens the machines: IMDSv2, encrypted gp3 root volume, no key pair", () => {
    const i = instances["core_core-01"];
    expect(i.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required" });
    expect(i.root_block_device).toEqual({
      volume_type: "gp3",
      volume_size: 20,
      encrypted: true,
      delete_on_termination: true,
    });
    expect(i.key_name).toBeUndefined();
    expect(i.instance_type).toBe("t3.small");
    expect(i.user_data_replace_on_change).toBe(true);
  });

  it("ignores AMI changes unless replaceOnImageChange is set", () => {
    expect(instances["core_core-01"].lifecycle).toEqual({ ignore_changes: ["ami"] });
    const replacing = build({ aws: { replaceOnImageChange: true } });
    expect(resources(replacing.config, "aws_instance")["core_core-01"].lifecycle).toBeUndefined();
  });

  it("exposes nodes, etcd endpoints, VPC and groups as typed attributes", () => {
    expect(aws.nodes.map((n) => [n.name, n.privateAddress, n.standby])).toEqual([
      ["core-01", "10.0.1.10", false],
      ["core-02", "10.0.2.10", false],
      ["core-03", "10.0.1.11", false],
      ["core-04", "10.0.2.11", true],
    ]);
    expect(aws.etcdEndpoints).toEqual(cluster.etcdEndpoints);
    expect(aws.subnetIds).toHaveLength(2);
    expect(aws.loadBalancerDnsName).toBeUndefined();
    expect(resources(config, "aws_lb")).toEqual({});
  });
});

describe("AwsCluster network", () => {
  it("creates a VPC with the cluster's CIDR, a subnet per subnetCidr in distinct zones, and a route out", () => {
    const { config } = build();
    expect(resources(config, "aws_vpc").core_vpc.cidr_block).toBe("10.0.0.0/16");
    const subnets = resources(config, "aws_subnet");
    expect(Object.values(subnets).map((s) => [s.cidr_block, s.availability_zone])).toEqual([
      ["10.0.1.0/24", "${element(data.aws_availability_zones.core_zones.names, 0)}"],
      ["10.0.2.0/24", "${element(data.aws_availability_zones.core_zones.names, 1)}"],
    ]);
    expect(resources(config, "aws_route_table").core_public.route).toEqual([
      expect.objectContaining({
        cidr_block: "0.0.0.0/0",
        gateway_id: "${aws_internet_gateway.core_gateway.id}",
      }),
    ]);
    expect(Object.keys(resources(config, "aws_route_table_association"))).toHaveLength(2);
    expect(resources(config, "aws_instance")["core_core-01"].associate_public_ip_address).toBe(
      true,
    );
  });

  it("reserves each node's address explicitly in its subnet before nodes and load balancer", () => {
    const { config, aws } = build({ front: (f, c) => web(f, c) });
    const reservations = resources(config, "aws_ec2_subnet_cidr_reservation");
    expect(
      Object.entries(reservations).map(([k, r]) => [
        k,
        r.subnet_id,
        r.cidr_block,
        r.reservation_type,
      ]),
    ).toEqual([
      ["core_reserved_core-01", "${aws_subnet.core_subnet_0.id}", "10.0.1.10/32", "explicit"],
      ["core_reserved_core-02", "${aws_subnet.core_subnet_1.id}", "10.0.2.10/32", "explicit"],
      ["core_reserved_core-03", "${aws_subnet.core_subnet_0.id}", "10.0.1.11/32", "explicit"],
      ["core_reserved_core-04", "${aws_subnet.core_subnet_1.id}", "10.0.2.11/32", "explicit"],
    ]);
    expect(resources(config, "aws_instance")["core_core-03"].depends_on).toEqual([
      "aws_route_table_association.core_public_0",
      "aws_route_table_association.core_public_1",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-03",
    ]);
    expect(resources(config, "aws_lb").core_front.depends_on).toEqual(
      expect.arrayContaining(
        Object.keys(reservations).map((k) => `aws_ec2_subnet_cidr_reservation.${k}`),
      ),
    );
    expect(aws.addressReservations).toHaveLength(4);
  });

  it("refuses nodes without public addresses in a created network: it has no NAT", () => {
    const e = invalid(() => build({ aws: { publicAddresses: false } }));
    expect(e.message).toContain(
      "publicAddresses: got false; allowed: true with AwsNetwork.create(): its subnets have no NAT",
    );
  });

  it("has no default for publicAddresses with an existing network: the routes decide", () => {
    const e = invalid(() => build({ aws: { network: EXISTING } }));
    expect(e.issues.map((i) => i.prop)).toEqual(["publicAddresses"]);
    expect(e.message).toContain(
      "publicAddresses: got undefined; allowed: true (the subnets route 0.0.0.0/0 to an internet gateway) | false (they route it through NAT)",
    );
  });

  it("wants public subnets apart for an internet-facing load balancer over nodes behind NAT", () => {
    const e = invalid(() =>
      build({ aws: { network: EXISTING, publicAddresses: false }, front: (f, c) => web(f, c) }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual(["network.loadBalancerSubnetIds"]);
    const internal = build({
      aws: { network: EXISTING, publicAddresses: false, internetFacing: false },
      front: (f, c) => web(f, c),
    });
    expect(resources(internal.config, "aws_lb").core_front.internal).toBe(true);
  });

  it("uses given availability zones without a lookup", () => {
    const { config } = build({
      aws: { network: AwsNetwork.create({ availabilityZones: ["eu-west-1a", "eu-west-1c"] }) },
    });
    expect(config.data?.aws_availability_zones).toBeUndefined();
    expect(resources(config, "aws_subnet").core_subnet_1.availability_zone).toBe("eu-west-1c");
  });

  it("puts the cluster into an existing VPC, checking each subnet's CIDR at plan time", () => {
    const { config, aws } = build({
      aws: { network: EXISTING, publicAddresses: false },
    });
    expect(resources(config, "aws_vpc")).toEqual({});
    expect(resources(config, "aws_subnet")).toEqual({});
    const subnet = config.data?.aws_subnet?.core_subnet_1 as Block;
    expect(subnet.id).toBe("subnet-0000000000000000b");
    expect(JSON.stringify(subnet.lifecycle)).toContain('self.cidr_block == \\"10.0.2.0/24\\"');
    expect(aws.vpcId).toBe("vpc-0123456789abcdef0");
    expect(resources(config, "aws_instance")["core_core-01"].associate_public_ip_address).toBe(
      false,
    );
  });

  it("checks each existing subnet's route out at plan time, against its own or the main route table", () => {
    const routes = (publicAddresses: boolean) => {
      const { config } = build({ aws: { network: EXISTING, publicAddresses } });
      return config;
    };
    const nat = routes(false);
    const table = nat.data?.aws_route_table?.core_subnet_1_routes as Block;
    expect(table.route_table_id).toBe(
      "${element(concat(data.aws_route_tables.core_subnet_1_route_tables.ids, [data.aws_route_table.core_main_routes.id]), 0)}",
    );
    expect(nat.data?.aws_route_tables?.core_subnet_1_route_tables).toMatchObject({
      vpc_id: "vpc-0123456789abcdef0",
      filter: [{ name: "association.subnet-id", values: ["${data.aws_subnet.core_subnet_1.id}"] }],
    });
    expect(nat.data?.aws_route_table?.core_main_routes).toMatchObject({
      filter: [{ name: "association.main", values: ["true"] }],
    });
    const [natCheck] = (table.lifecycle as { postcondition: Block[] }).postcondition;
    expect(natCheck.condition).toContain("r.nat_gateway_id");
    expect(natCheck.error_message).toMatch(
      /^subnet \$\{data\.aws_subnet\.core_subnet_1\.id\} \(subnetCidrs\[1\] of cluster core\) has no default route \(0\.0\.0\.0\/0\) through a NAT gateway/,
    );
    const igw = routes(true).data?.aws_route_table?.core_subnet_1_routes as Block;
    const [igwCheck] = (igw.lifecycle as { postcondition: Block[] }).postcondition;
    expect(igwCheck.condition).toContain('"igw-"');
    expect(igwCheck.condition).not.toContain("nat_gateway_id");
    // The nodes wait for the checks.
    expect(resources(nat, "aws_instance")["core_core-02"].depends_on).toEqual(
      expect.arrayContaining([
        "data.aws_route_table.core_subnet_0_routes",
        "data.aws_route_table.core_subnet_1_routes",
      ]),
    );
  });

  it("waits for what the surrounding stack builds the network with (dependsOn)", () => {
    const stack = new TerraformStack(Testing.app(), "composed");
    const association = new RouteTableAssociation(stack, "public", {
      subnetId: "subnet-0000000000000000a",
      routeTableId: "rtb-0123456789abcdef0",
    });
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    const front = new NlbFront(stack, "front");
    web(front, cluster);
    new AwsCluster(stack, "aws", {
      cluster,
      front,
      network: AwsNetwork.existing({ ...EXISTING_OPTIONS, dependsOn: [association] }),
      publicAddresses: true,
    });
    const config = JSON.parse(Testing.synth(stack)) as Config;
    const waiting = [
      resources(config, "aws_instance")["core_core-01"],
      resources(config, "aws_lb").core_front,
      config.data?.aws_route_tables?.core_subnet_0_route_tables as Block,
      config.data?.aws_route_table?.core_subnet_0_routes as Block,
      config.data?.aws_route_table?.core_main_routes as Block,
    ];
    for (const w of waiting) expect(w.depends_on).toContain("aws_route_table_association.public");
    // The subnets themselves are read without waiting: a read deferred to apply would replace the nodes.
    expect(config.data?.aws_subnet?.core_subnet_0.depends_on).toBeUndefined();
  });

  it("puts the load balancer into its own subnets when given, checking they cover the nodes' zones", () => {
    const { config } = build({
      aws: {
        network: AwsNetwork.existing({
          ...EXISTING_OPTIONS,
          loadBalancerSubnetIds: ["subnet-00000000000000a01", "subnet-00000000000000b01"],
        }),
        publicAddresses: false,
      },
      front: (f, c) => web(f, c),
    });
    const lb = resources(config, "aws_lb").core_front;
    expect(lb.subnets).toEqual([
      "${data.aws_subnet.core_lb_subnet_0.id}",
      "${data.aws_subnet.core_lb_subnet_1.id}",
    ]);
    const messages = (lb.lifecycle as { precondition: Block[] }).precondition.map(
      (p) => p.error_message,
    );
    expect(messages).toEqual([
      expect.stringContaining("must lie in distinct availability zones"),
      expect.stringContaining("must cover every availability zone with nodes"),
    ]);
    const lbCheck = config.data?.aws_route_table?.core_lb_subnet_1_routes as Block;
    expect(JSON.stringify(lbCheck.lifecycle)).toContain(
      "an internet-facing Network Load Balancer needs public subnets",
    );
    expect(lb.depends_on).toEqual(
      expect.arrayContaining(["data.aws_route_table.core_lb_subnet_1_routes"]),
    );
    expect(lb.depends_on).not.toContain("data.aws_route_table.core_subnet_0_routes");
  });

  it("takes VPC and subnet references from the surrounding stack (composition)", () => {
    const app = testApp();
    const stack = new CoreOsAwsStack(app, "coreos-aws");
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(resources(config, "aws_security_group").core_nodes.vpc_id).toBe("${aws_vpc.vpc.id}");
    expect(config.data?.aws_subnet?.core_subnet_2.id).toBe("${aws_subnet.subnet-2.id}");
    expect(stack.aws.nodes.map((n) => n.privateAddress)).toEqual([
      "10.42.1.10",
      "10.42.2.10",
      "10.42.3.10",
    ]);
  });
});

describe("AwsCluster machine image", () => {
  const lookup = (c: Config) => c.data?.aws_ami?.core_image as Block;

  it("looks up the newest Flatcar AMI of the cluster's channel from Flatcar's account", () => {
    const { config: c } = build({
      cluster: { ...CLUSTER, os: OperatingSystem.flatcar(FlatcarChannel.BETA) },
    });
    expect(lookup(c)).toMatchObject({
      most_recent: true,
      owners: ["075585003325"],
      filter: expect.arrayContaining([
        { name: "name", values: ["Flatcar-beta-*"] },
        { name: "architecture", values: ["x86_64"] },
      ]),
    });
    expect(resources(c, "aws_instance")["core_core-01"].ami).toBe("${data.aws_ami.core_image.id}");
  });

  it("looks up Fedora CoreOS by stream from the Fedora account", () => {
    const { config: c } = build({
      cluster: { ...CLUSTER, os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.TESTING) },
    });
    expect(lookup(c)).toMatchObject({
      owners: ["125523088429"],
      filter: expect.arrayContaining([
        { name: "description", values: ["Fedora CoreOS testing *"] },
      ]),
    });
  });

  it("looks up Flatcar LTS only within the stream the user names: two streams overlap", () => {
    const lts = { ...CLUSTER, os: OperatingSystem.flatcar(FlatcarChannel.LTS) };
    const e = invalid(() => build({ cluster: lts }));
    expect(e.issues.map((i) => i.prop)).toEqual(["image.version"]);
    expect(e.message).toContain(
      'image.version: got undefined; allowed: the LTS stream\'s major version, e.g. AwsMachineImage.lookup({ version: "4081" })',
    );
    const { config: c } = build({
      cluster: lts,
      aws: { image: AwsMachineImage.lookup({ version: "4081" }) },
    });
    expect(lookup(c).filter).toContainEqual({ name: "name", values: ["Flatcar-lts-4081.*"] });
    const fcos = build({
      cluster: { ...CLUSTER, os: OperatingSystem.fedoraCoreOs() },
      aws: { image: AwsMachineImage.lookup({ version: "42" }) },
    });
    expect(lookup(fcos.config).filter).toContainEqual({
      name: "name",
      values: ["fedora-coreos-42.*"],
    });
    const bad = invalid(() =>
      build({ aws: { image: AwsMachineImage.lookup({ version: "4081-*" }) } }),
    );
    expect(bad.message).toContain(
      'image.version: got "4081-*"; allowed: a release prefix such as 4081 or 4081.3',
    );
  });

  it("uses a fixed AMI without a lookup", () => {
    const { config: c } = build({ aws: { image: AwsMachineImage.fixed("ami-0123456789abcdef0") } });
    expect(c.data?.aws_ami).toBeUndefined();
    expect(resources(c, "aws_instance")["core_core-01"].ami).toBe("ami-0123456789abcdef0");
  });

  it("matches the architecture to Graviton instance types", () => {
    const e = invalid(() => build({ aws: { instanceType: "t4g.small" } }));
    expect(e.message).toContain(
      'image.architecture: got "x86_64"; allowed: arm64 for instance type t4g.small',
    );
    const { config: c } = build({
      aws: {
        instanceType: "t4g.small",
        image: AwsMachineImage.lookup({ architecture: CpuArchitecture.ARM64 }),
      },
    });
    expect(lookup(c).filter).toContainEqual({ name: "architecture", values: ["arm64"] });
  });
});

describe("AwsCluster security groups", () => {
  const { config } = build({ front: (f, c) => web(f, c) });
  const ingress = Object.entries(resources(config, "aws_vpc_security_group_ingress_rule"));

  it("opens nothing to the world but the front's listener", () => {
    const world = ingress.filter(([, r]) => r.cidr_ipv4 === "0.0.0.0/0");
    expect(world.map(([name, r]) => [name, r.from_port, r.security_group_id])).toEqual([
      ["core_front_http_0", 80, "${aws_security_group.core_front.id}"],
    ]);
  });

  it("lets etcd in only from the nodes' own group, and no SSH by default", () => {
    const etcd = ingress.filter(([, r]) => r.from_port === 2379 || r.from_port === 2380);
    expect(etcd).toHaveLength(2);
    for (const [, r] of etcd) {
      expect(r.referenced_security_group_id).toBe("${aws_security_group.core_nodes.id}");
      expect(r.cidr_ipv4).toBeUndefined();
    }
    expect(ingress.filter(([, r]) => r.from_port === 22)).toEqual([]);
  });

  it("lets the target port in only from the load balancer's group", () => {
    const fromFront = ingress.filter(([, r]) => r.from_port === 8080);
    expect(fromFront.map(([, r]) => r.referenced_security_group_id)).toEqual([
      "${aws_security_group.core_front.id}",
    ]);
  });

  it("has exactly these rules: TCP only, one port each, sources as listed; out only to the nodes from the front", () => {
    const { config: c } = build({
      aws: { sshAllowedCidrs: ["198.51.100.0/24"] },
      front: (f, cl) => web(f, cl),
    });
    const rule = (r: Record<string, unknown>) => [
      r.security_group_id,
      r.ip_protocol,
      r.from_port,
      r.to_port,
      r.cidr_ipv4 ?? r.referenced_security_group_id,
    ];
    const rules = (type: string) =>
      Object.fromEntries(
        Object.entries(resources(c, type)).map(([name, r]) => [
          name,
          rule(r as Record<string, unknown>),
        ]),
      );
    const nodes = "${aws_security_group.core_nodes.id}";
    const front = "${aws_security_group.core_front.id}";
    expect(rules("aws_vpc_security_group_ingress_rule")).toEqual({
      core_etcd_2379: [nodes, "tcp", 2379, 2379, nodes],
      core_etcd_2380: [nodes, "tcp", 2380, 2380, nodes],
      core_ssh_0: [nodes, "tcp", 22, 22, "198.51.100.0/24"],
      core_front_http_0: [front, "tcp", 80, 80, "0.0.0.0/0"],
      core_from_front_8080: [nodes, "tcp", 8080, 8080, front],
    });
    expect(rules("aws_vpc_security_group_egress_rule")).toEqual({
      core_nodes_egress: [nodes, "-1", undefined, undefined, "0.0.0.0/0"],
      core_front_to_nodes_8080: [front, "tcp", 8080, 8080, nodes],
    });
    const groups = resources(c, "aws_security_group");
    expect(Object.keys(groups).sort()).toEqual(["core_front", "core_nodes"]);
    expect(groups.core_nodes.name).toBe("core-nodes");
    expect(groups.core_front.name).toBe("core-front");
    expect(groups.core_front.vpc_id).toBe(groups.core_nodes.vpc_id);
  });

  it("opens SSH to the given CIDRs only", () => {
    const { config: c } = build({
      aws: { sshAllowedCidrs: ["198.51.100.0/24", "203.0.113.7/32"] },
    });
    const ssh = Object.values(resources(c, "aws_vpc_security_group_ingress_rule")).filter(
      (r) => r.from_port === 22,
    );
    expect(ssh.map((r) => r.cidr_ipv4)).toEqual(["198.51.100.0/24", "203.0.113.7/32"]);
  });
});

describe("AwsCluster front (Network Load Balancer)", () => {
  const { config, aws } = build({
    front: (f, c) => {
      web(f, c);
      f.addListener("raw", { port: 9000 }).addTargets("raw", {
        targets: [c],
        port: 9000,
        affinity: ClientAffinity.SINGLE,
        healthCheck: { interval: Duration.seconds(30), timeout: Duration.seconds(10) },
      });
      f.drain(c.nodeNamed("core-02"));
    },
  });

  it("is an internet-facing, cross-zone NLB over the cluster's subnets behind its own group", () => {
    expect(resources(config, "aws_lb").core_front).toMatchObject({
      name: "core-front",
      load_balancer_type: "network",
      internal: false,
      enable_cross_zone_load_balancing: true,
      subnets: ["${aws_subnet.core_subnet_0.id}", "${aws_subnet.core_subnet_1.id}"],
      security_groups: ["${aws_security_group.core_front.id}"],
    });
    expect(aws.loadBalancerDnsName).toMatch(/TOKEN/);
  });

  it("has one TCP listener per front listener", () => {
    const listeners = resources(config, "aws_lb_listener");
    expect(Object.values(listeners).map((l) => [l.port, l.protocol])).toEqual([
      [80, "TCP"],
      [9000, "TCP"],
    ]);
  });

  it("checks health at AWS's floor unless told otherwise: every 5 s, out after 2 failures", () => {
    const groups = resources(config, "aws_lb_target_group");
    expect(AWS_HEALTH_CHECK_INTERVAL.toSeconds()).toBe(5);
    expect(groups.core_front_web.health_check).toEqual({
      enabled: true,
      protocol: "HTTP",
      path: "/",
      matcher: "200-399",
      port: "8080",
      interval: 5,
      timeout: 4,
      healthy_threshold: 2,
      unhealthy_threshold: 2,
    });
    expect(groups.core_front_raw.health_check).toMatchObject({
      protocol: "TCP",
      interval: 30,
      timeout: 10,
    });
    expect(groups.core_front_web.deregistration_delay).toBe("30");
    expect(groups.core_front_raw.stickiness).toEqual({ type: "source_ip", enabled: true });
    expect(groups.core_front_web.stickiness).toBeUndefined();
  });

  it("checks more gently on request, with AWS's own timeouts kept below the interval", () => {
    const gentle = build({
      aws: { healthCheckInterval: Duration.seconds(30) },
      front: (f, c) => {
        web(f, c);
        f.addListener("raw", { port: 9000 }).addTargets("raw", { targets: [c], port: 9000 });
      },
    });
    const groups = resources(gentle.config, "aws_lb_target_group");
    expect(groups.core_front_web.health_check).toMatchObject({ interval: 30, timeout: 6 });
    expect(groups.core_front_raw.health_check).toMatchObject({ interval: 30, timeout: 10 });
    const e = invalid(() =>
      build({ aws: { healthCheckInterval: Duration.seconds(2) }, front: (f, c) => web(f, c) }),
    );
    expect(e.message).toContain(
      'healthCheckInterval: got "2s"; allowed: whole seconds from 5 s to 300 s on AWS',
    );
  });

  it("makes target groups replaceable: a unique name from a prefix, created before the old one goes", () => {
    const groups = resources(config, "aws_lb_target_group");
    expect(groups.core_front_web).toMatchObject({
      name_prefix: "web-",
      lifecycle: { create_before_destroy: true },
      tags: expect.objectContaining({ Name: "core-web" }),
    });
    expect(groups.core_front_web.name).toBeUndefined();
    // The listener moves to a replacement group once its targets are registered.
    expect(resources(config, "aws_lb_listener").core_front_web?.depends_on).toBeUndefined();
    expect(resources(config, "aws_lb_listener").core_front_http.depends_on).toEqual([
      "aws_lb_target_group_attachment.core_web_core-01",
      "aws_lb_target_group_attachment.core_web_core-03",
    ]);
  });

  it("deregisters a node before it is replaced or resized, and registers it again after", () => {
    const attachment = resources(config, "aws_lb_target_group_attachment")["core_web_core-01"];
    expect(attachment.lifecycle).toEqual({
      replace_triggered_by: [
        "aws_instance.core_core-01.id",
        "aws_instance.core_core-01.instance_type",
      ],
    });
    expect(attachment.depends_on).toEqual(["aws_instance.core_core-01"]);
    // Not create-before-destroy: it would force the node to be, and a second instance cannot take its address.
    expect(JSON.stringify(resources(config, "aws_instance"))).not.toContain(
      "create_before_destroy",
    );
  });

  it("registers only active, non-drained nodes", () => {
    const attachments = resources(config, "aws_lb_target_group_attachment");
    expect(Object.keys(attachments).sort()).toEqual([
      "core_raw_core-01",
      "core_raw_core-03",
      "core_web_core-01",
      "core_web_core-03",
    ]);
    expect(attachments["core_web_core-03"]).toMatchObject({
      target_id: "10.0.1.11",
      port: 8080,
      depends_on: ["aws_instance.core_core-03"],
    });
  });

  it("keeps long names within AWS's 32 characters", () => {
    const { config: c } = build({
      cluster: { ...CLUSTER, name: "a-cluster-with-a-long-long-name" },
      front: (f, cl) =>
        f
          .addListener("http", { port: 80 })
          .addTargets("a-long-target-group-name", { targets: [cl], port: 8080 }),
    });
    for (const r of Object.values(resources(c, "aws_lb"))) {
      expect((r.name as string).length).toBeLessThanOrEqual(32);
    }
    for (const r of Object.values(resources(c, "aws_lb_target_group"))) {
      expect(r.name_prefix).toBe("a-lon-");
      expect((r.tags as Record<string, string>).Name.length).toBeLessThanOrEqual(32);
    }
  });
});

describe("AwsCluster provider", () => {
  it("adds one default AWS provider with the given region", () => {
    const { config } = build({ aws: { region: "eu-central-1" } });
    expect(config.provider?.aws).toEqual([{ region: "eu-central-1" }]);
  });

  it("reuses the stack's AWS provider and refuses a region it cannot apply", () => {
    const before = (stack: TerraformStack) =>
      new AwsProvider(stack, "mine", { region: "us-east-2" });
    const { config } = build({ before });
    expect(config.provider?.aws).toEqual([{ region: "us-east-2" }]);
    const e = invalid(() => build({ before, aws: { region: "eu-central-1" } }));
    expect(e.message).toContain(
      'region: got "eu-central-1"; allowed: no region: the stack already has an AWS provider',
    );
  });

  it("puts two clusters into one stack with one provider", () => {
    const app = testApp();
    const stack = new TerraformStack(app, "two");
    for (const name of ["blue", "green"]) {
      const cluster = new CoreOsCluster(stack, name, { ...CLUSTER, nodeCount: 2, standby: 0 });
      new AwsCluster(stack, `${name}-aws`, { cluster });
    }
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(config.provider?.aws).toHaveLength(1);
    expect(Object.keys(resources(config, "aws_instance"))).toEqual([
      "blue_core-01",
      "blue_core-02",
      "green_core-01",
      "green_core-02",
    ]);
  });
});

describe("AwsCluster bad input: clear errors at synth time", () => {
  it("lists every bad prop at once, with the value and what is allowed", () => {
    const e = invalid(() =>
      build({
        aws: {
          instanceType: "huge",
          rootVolumeGiB: 2,
          sshAllowedCidrs: ["10.0.0.1/8"],
          image: AwsMachineImage.fixed("ubuntu"),
          region: "Europe",
        },
      }),
    );
    expect(e.message).toMatch(/^Invalid props for AwsCluster "test\/aws":/);
    expect(e.issues.map((i) => i.prop)).toEqual([
      "image",
      "instanceType",
      "rootVolumeGiB",
      "sshAllowedCidrs[0]",
      "region",
    ]);
    expect(e.message).toContain(
      'instanceType: got "huge"; allowed: an EC2 instance type such as t3.small',
    );
    expect(e.message).toContain("rootVolumeGiB: got 2; allowed: a whole number from 8 to 16384");
    expect(e.message).toContain(
      'sshAllowedCidrs[0]: got "10.0.0.1/8"; allowed: a network address without host bits, e.g. 10.0.0.0/8',
    );
  });

  it("needs two subnets in distinct zones to create a network", () => {
    const e = invalid(() => build({ cluster: { nodeCount: 3, networkCidr: "10.0.0.0/16" } }));
    expect(e.message).toContain(
      'cluster.subnetCidrs: got ["10.0.0.0/16"]; allowed: two or more subnets',
    );
  });

  it("rejects the default VirtualBox network's layout where AWS cannot follow", () => {
    const e = invalid(() => build({ cluster: { ...CLUSTER, firstHostNumber: 2 } }));
    expect(e.message).toContain(
      "cluster.firstHostNumber: got 2; allowed: 4 or more: AWS keeps the first four addresses",
    );
  });

  it("wants one existing subnet per subnetCidr, with ids that look like ids", () => {
    const e = invalid(() =>
      build({
        aws: {
          network: AwsNetwork.existing({
            vpcId: "my-vpc",
            subnetIds: ["subnet-0000000000000000a"],
          }),
          publicAddresses: false,
        },
      }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual(["network.vpcId", "network.subnetIds"]);
    const lb = invalid(() =>
      build({
        aws: {
          network: AwsNetwork.existing({
            ...EXISTING_OPTIONS,
            loadBalancerSubnetIds: [
              "public-a",
              "subnet-00000000000000b01",
              "subnet-00000000000000b01",
            ],
            dependsOn: ["aws_route_table_association.public" as never],
          }),
          publicAddresses: true,
        },
      }),
    );
    expect(lb.issues.map((i) => [i.prop, i.value])).toEqual([
      ["network.loadBalancerSubnetIds[0]", "public-a"],
      ["network.loadBalancerSubnetIds[2]", "subnet-00000000000000b01"],
      ["network.dependsOn", ["aws_route_table_association.public"]],
    ]);
  });

  it("rejects what an AWS NLB cannot do, naming the listener", () => {
    const e = invalid(() =>
      build({
        front: (f, c) =>
          web(f, c, {
            balancing: Balancing.LEAST_CONNECTIONS,
            affinity: ClientAffinity.NETWORK,
            healthCheck: { interval: Duration.millis(500), unhealthyThreshold: 1 },
          }),
      }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual([
      "front.listeners.http.targets.balancing",
      "front.listeners.http.targets.affinity",
      "front.listeners.http.targets.healthCheck.interval",
      "front.listeners.http.targets.healthCheck.unhealthyThreshold",
    ]);
    expect(e.message).toContain(
      'healthCheck.interval: got "500ms"; allowed: whole seconds from 5 s to 300 s on AWS',
    );
  });

  it("rejects targets outside the VPC and a timeout not below the interval", () => {
    const e = invalid(() =>
      build({
        front: (f, c) =>
          f.addListener("tcp", { port: 443 }).addTargets("tls", {
            targets: [c, FrontTargets.host("legacy", "192.0.2.10")],
            port: 8443,
            healthCheck: { interval: Duration.seconds(10), timeout: Duration.seconds(10) },
          }),
      }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual([
      "front.listeners.tcp.targets (member legacy)",
      "front.listeners.tcp.targets.healthCheck.timeout",
    ]);
  });

  it("rejects Ignition larger than EC2's user data limit", () => {
    const e = invalid(() =>
      build({
        cluster: {
          ...CLUSTER,
          // Random text: gzip cannot shrink it below the limit.
          files: [{ path: "/etc/big", contents: randomBytes(USER_DATA_LIMIT).toString("base64") }],
        },
      }),
    );
    expect(e.message).toMatch(
      /cluster \(Ignition of core-01\): got "\d+ bytes"; allowed: at most 16384 bytes/,
    );
  });

  it("writes nothing when the props are bad: the error comes before synth", () => {
    const outdir = tempOutdir();
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "bad");
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    expect(() => new AwsCluster(stack, "aws", { cluster, rootVolumeGiB: 1 })).toThrow(
      ClusterConfigError,
    );
    // cdktf makes the empty stack folder when the stack is created; no file is written.
    const files = (fs.readdirSync(outdir, { recursive: true }) as string[]).filter((f) =>
      fs.statSync(`${outdir}/${f}`).isFile(),
    );
    expect(files).toEqual([]);
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it("refuses something that is not a CoreOsCluster", () => {
    const stack = new TerraformStack(testApp(), "x");
    expect(
      () => new AwsCluster(stack, "aws", { cluster: new Construct(stack, "c") as CoreOsCluster }),
    ).toThrow(/cluster: got .*; allowed: a CoreOsCluster/);
  });
});

describe("the AWS example stack of main.ts", () => {
  const app = testApp();
  const stack = new CoreOsAwsStack(app, "coreos-aws");
  const json = Testing.synth(stack);

  it("matches the snapshot", () => {
    expect(JSON.parse(json)).toMatchSnapshot();
  });

  it("is machine-independent and holds no private keys", () => {
    expect(json).not.toMatch(/"\/(tmp|home|root|work|Users)\//);
    expect(json).not.toMatch(/PRIVATE KEY/);
  });

  it("outputs the front URL, node addresses and etcd endpoints", () => {
    const out = JSON.parse(json).output;
    expect(Object.keys(out).sort()).toEqual([
      "etcd_endpoints",
      "front_url",
      "node_private_addresses",
      "node_public_addresses",
    ]);
    expect(out.front_url.value).toBe("http://${aws_lb.core_front.dns_name}/");
  });

  it("keeps the VPC construct the stack owns", () => {
    expect(stack.vpc).toBeInstanceOf(Vpc);
  });

  it("spreads its subnets over the region's own zones only, as create() does", () => {
    const zones = JSON.parse(json).data.aws_availability_zones.zones;
    expect(zones.filter).toEqual([{ name: "opt-in-status", values: ["opt-in-not-required"] }]);
    const created = build().config.data?.aws_availability_zones?.core_zones as Block;
    expect(created.filter).toEqual(zones.filter);
  });
});

describeWithTool("ignition-validate", "ignition", "ignition-validate on the EC2 user data", () => {
  it.each([
    ["Flatcar", OperatingSystem.flatcar()],
    ["Fedora CoreOS", OperatingSystem.fedoraCoreOs()],
  ])("%s: every node's user data, as Terraform will pass it, is valid Ignition", (_, os) => {
    const { config, stackDir, remove } = synthToFolder({ ...CLUSTER, os });
    const dir = tempOutdir();
    try {
      for (const [name, instance] of Object.entries(resources(config, "aws_instance"))) {
        // What Terraform hands to EC2: the file user_data reads (proven in aws-terraform.test.ts).
        const text = fileAttribute(stackDir, instance.user_data);
        const file = path.join(dir, `${name}.ign`);
        fs.writeFileSync(file, text);
        const r = spawnSync("ignition-validate", [file], { encoding: "utf8" });
        expect({ name, status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({
          name,
          status: 0,
          output: "",
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      remove();
    }
  });
});

describe("one front model, two targets", () => {
  it("a drained node is disabled in HAProxy and deregistered from the AWS NLB", () => {
    const app = testApp();
    const stack = new TerraformStack(app, "both");
    const cluster = new CoreOsCluster(stack, "core", {
      nodeCount: 3,
      subnetCidrs: ["192.168.56.0/24", "192.168.57.0/24"],
    });
    const front = new NlbFront(stack, "front");
    web(front, cluster);
    front.drain(cluster.nodeNamed("core-02"));
    const local = new VagrantCluster(stack, "local", {
      cluster,
      front,
      lifecycle: LifecycleResource.TERRAFORM_DATA,
    });
    new AwsCluster(stack, "aws", { cluster, front });
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(local.plan.front?.haproxyCfg).toMatch(/server core-02 \S+ .*disabled/);
    expect(Object.keys(resources(config, "aws_lb_target_group_attachment")).sort()).toEqual([
      "core_web_core-01",
      "core_web_core-03",
    ]);
  });
});
