import { App, Fn, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import {
  CoreOsCluster,
  FlatcarChannel,
  FrontProtocol,
  NlbFront,
  OperatingSystem,
  Policy,
  VagrantCluster,
} from "./lib";
import { AwsCluster, AwsNetwork } from "./lib/aws";

/**
 * A tiny web service on every node that answers with the node's name: shows the balancing.
 * It restarts every 5 s for as long as it fails (e.g. the image pull before the network is
 * up); StartLimitIntervalSec=0 keeps systemd's start limit from giving up on it.
 */
const HELLO_UNIT = `[Unit]
Description=hello: answers with this node's name on port 8080
Wants=network-online.target docker.service
After=network-online.target docker.service
StartLimitIntervalSec=0

[Service]
ExecStartPre=-/usr/bin/docker rm --force hello
ExecStart=/usr/bin/docker run --rm --name hello --hostname %H --publish 8080:8080 docker.io/library/busybox:1.36 sh -c 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
`;

/**
 * Why the example stacks run the default images by tag (policy rules CC-W7,
 * CC-W8): no registry was reachable where this project is built, so their
 * digests could not be read. A production stack pins them.
 */
const DEFAULT_IMAGES_BY_TAG =
  "example stack on the library's default images, tag only where no digest was published (see DEFAULT_IMAGES); pin them with ContainerImage.pinned(...) for production";

/**
 * The seed's cluster: three Flatcar nodes on the stable channel, joined into
 * one etcd cluster by static bootstrap, run as local VirtualBox machines that
 * Terraform brings up with Vagrant, behind an HA pair of HAProxy front
 * machines sharing the address 192.168.56.10 (HTTP on port 80).
 */
export class CoreOsClusterStack extends TerraformStack {
  public readonly cluster: CoreOsCluster;
  public readonly vagrant: VagrantCluster;
  public readonly front: NlbFront;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.cluster = new CoreOsCluster(this, "core", {
      nodeCount: 3,
      os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
      units: [{ name: "hello.service", contents: HELLO_UNIT }],
    });
    this.front = new NlbFront(this, "front");
    this.front
      .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("hello", { targets: [this.cluster], port: 8080 });
    this.vagrant = new VagrantCluster(this, "local", { cluster: this.cluster, front: this.front });
    Policy.acknowledge(this, ["CC-W7", "CC-W8"], DEFAULT_IMAGES_BY_TAG);
    new TerraformOutput(this, "node_addresses", {
      description: "Private address of each node",
      value: Object.fromEntries(this.cluster.nodes.map((n) => [n.name, n.address])),
    });
    new TerraformOutput(this, "etcd_endpoints", {
      description: "Client URLs of the etcd members",
      value: this.cluster.etcdEndpoints,
    });
    new TerraformOutput(this, "front_url", {
      description: "The cluster's one address: HTTP through the front",
      value: `http://${this.vagrant.frontAddress}/`,
    });
    new TerraformOutput(this, "vagrant_directory", {
      description: "Where to run vagrant status / vagrant ssh <node>, relative to the stack folder",
      value: this.vagrant.directory,
    });
  }
}

/** Props of CoreOsAwsStack. */
export interface CoreOsAwsStackProps {
  /**
   * CIDRs allowed to SSH to the nodes.
   * @default - none
   */
  readonly sshAllowedCidrs?: readonly string[];
}

/**
 * The same cluster and front on AWS, composed into a stack that owns its
 * network: the stack creates a VPC with three public subnets and puts the
 * cluster into them (AwsNetwork.existing), behind an AWS Network Load
 * Balancer. The cluster waits for the subnets' routes to the internet gateway
 * (`dependsOn`), so everything deploys in one go. The region comes from
 * AWS_REGION or the AWS profile.
 */
export class CoreOsAwsStack extends TerraformStack {
  public readonly cluster: CoreOsCluster;
  public readonly front: NlbFront;
  public readonly aws: AwsCluster;
  public readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: CoreOsAwsStackProps = {}) {
    super(scope, id);
    new AwsProvider(this, "aws", { defaultTags: [{ tags: { project: id } }] });

    // The surrounding stack's own network: a VPC, three public subnets in three zones.
    const subnetCidrs = ["10.42.1.0/24", "10.42.2.0/24", "10.42.3.0/24"];
    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: "10.42.0.0/16",
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: id },
    });
    // Zones of the region itself: Local and Wavelength Zones are opt-in.
    const zones = new DataAwsAvailabilityZones(this, "zones", {
      state: "available",
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });
    const gateway = new InternetGateway(this, "gateway", { vpcId: this.vpc.id });
    const routes = new RouteTable(this, "public", {
      vpcId: this.vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
    });
    const subnets = subnetCidrs.map(
      (cidr, i) =>
        new Subnet(this, `subnet-${i}`, {
          vpcId: this.vpc.id,
          cidrBlock: cidr,
          availabilityZone: Fn.element(zones.names, i),
          tags: { Name: `${id}-${i}` },
        }),
    );
    // The subnets are public once associated with the route to the gateway.
    const publicRoutes = subnets.map(
      (subnet, i) =>
        new RouteTableAssociation(this, `public-${i}`, {
          subnetId: subnet.id,
          routeTableId: routes.id,
        }),
    );

    this.cluster = new CoreOsCluster(this, "core", {
      nodeCount: 3,
      os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
      networkCidr: "10.42.0.0/16",
      subnetCidrs,
      firstHostNumber: 10,
      units: [{ name: "hello.service", contents: HELLO_UNIT }],
    });
    this.front = new NlbFront(this, "front");
    this.front
      .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("hello", { targets: [this.cluster], port: 8080 });
    this.aws = new AwsCluster(this, "ec2", {
      cluster: this.cluster,
      front: this.front,
      network: AwsNetwork.existing({
        vpcId: this.vpc.id,
        subnetIds: subnets.map((s) => s.id),
        dependsOn: publicRoutes,
      }),
      publicAddresses: true,
      sshAllowedCidrs: props.sshAllowedCidrs,
    });
    Policy.acknowledge(this.cluster, ["CC-W7"], DEFAULT_IMAGES_BY_TAG);
    Policy.acknowledge(
      this.aws,
      ["CC-W2"],
      "public subnets without a NAT gateway: nodes need a public address to reach image registries and updates; inbound stays closed but for sshAllowedCidrs",
    );

    new TerraformOutput(this, "front_url", {
      description: "The cluster's one address: HTTP through the Network Load Balancer",
      value: `http://${this.aws.loadBalancerDnsName}/`,
    });
    new TerraformOutput(this, "node_private_addresses", {
      description: "Private address of each node",
      value: Object.fromEntries(this.aws.nodes.map((n) => [n.name, n.privateAddress])),
    });
    new TerraformOutput(this, "node_public_addresses", {
      description: "Public address of each node (SSH only from sshAllowedCidrs)",
      value: Object.fromEntries(this.aws.nodes.map((n) => [n.name, n.publicAddress])),
    });
    new TerraformOutput(this, "etcd_endpoints", {
      description: "Client URLs of the etcd members (reachable from the nodes only)",
      value: this.aws.etcdEndpoints,
    });
  }
}

if (require.main === module) {
  const app = new App();
  new CoreOsClusterStack(app, "coreos-cluster");
  new CoreOsAwsStack(app, "coreos-aws");
  app.synth();
}
