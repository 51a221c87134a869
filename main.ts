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
  AppSettings,
  appSettings,
  ClusterConfigError,
  clusterFromSettings,
  CoreOsCluster,
  DeployTarget,
  frontFromSettings,
  NlbFront,
  parseAppSettings,
  Policy,
  readConfigFile,
  settingsForTarget,
  targetClusterProps,
  SystemdUnit,
  vagrantFromSettings,
  VagrantCluster,
} from "./lib";
import { AwsCluster, awsClusterFromSettings, AwsNetwork } from "./lib/aws";

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
const HELLO: SystemdUnit = { name: "hello.service", contents: HELLO_UNIT };

/**
 * Why the example stacks run the default images by tag (policy rules CC-W7,
 * CC-W8): no registry was reachable where this project is built, so their
 * digests could not be read. A production stack pins them.
 */
const DEFAULT_IMAGES_BY_TAG =
  "example stack on the library's default images, tag only where no digest was published (see DEFAULT_IMAGES); pin them with ContainerImage.pinned(...) for production";

/** Props of the example stacks. */
export interface ExampleStackProps {
  /**
   * The cluster's settings (cdktf.json's context "coreos-cluster:config"
   * and the environment: see appSettings).
   * @default - cdktf.json's settings next to this file, without the environment
   */
  readonly settings?: AppSettings | undefined;
}

/** cdktf.json's settings (no environment): what the stacks build when given none. */
export function fileSettings(): AppSettings {
  return parseAppSettings(readConfigFile(__dirname));
}

/**
 * The seed's cluster as cdktf.json configures it: three Flatcar nodes on the
 * stable channel, joined into one etcd cluster by static bootstrap, run as
 * local VirtualBox machines that Terraform brings up with Vagrant, behind an
 * HA pair of HAProxy front machines sharing the address 192.168.56.10 (HTTP
 * on port 80). Each node runs the hello service on port 8080.
 */
export class CoreOsClusterStack extends TerraformStack {
  public readonly settings: AppSettings;
  public readonly cluster: CoreOsCluster;
  public readonly vagrant: VagrantCluster;
  public readonly front?: NlbFront;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id);
    const s = (this.settings = props.settings ?? fileSettings());
    this.cluster = clusterFromSettings(this, "core", s, { units: [HELLO] });
    this.front = frontFromSettings(this, "front", s, this.cluster);
    this.vagrant = vagrantFromSettings(this, "local", s, {
      cluster: this.cluster,
      front: this.front,
    });
    Policy.acknowledge(this, ["CC-W7", "CC-W8"], DEFAULT_IMAGES_BY_TAG);
    new TerraformOutput(this, "node_addresses", {
      description: "Private address of each node",
      value: Object.fromEntries(this.cluster.nodes.map((n) => [n.name, n.address])),
    });
    new TerraformOutput(this, "etcd_endpoints", {
      description: "Client URLs of the etcd members",
      value: this.cluster.etcdEndpoints,
    });
    if (this.vagrant.frontAddress) {
      new TerraformOutput(this, "front_url", {
        description: "The cluster's one address: HTTP through the front",
        value: `http://${this.vagrant.frontAddress}/`,
      });
    }
    new TerraformOutput(this, "vagrant_directory", {
      description: "Where to run vagrant status / vagrant ssh <node>, relative to the stack folder",
      value: this.vagrant.directory,
    });
  }
}

/** Props of CoreOsAwsStack. */
export interface CoreOsAwsStackProps extends ExampleStackProps {
  /**
   * CIDRs allowed to SSH to the nodes.
   * @default - the settings' aws.sshAllowedCidrs, or none
   */
  readonly sshAllowedCidrs?: readonly string[] | undefined;
}

/**
 * The same cluster and front on AWS, composed into a stack that owns its
 * network: the stack creates a VPC with the cluster's networkCidr and a
 * public subnet per entry of its subnetCidrs (AWS_NETWORK_DEFAULTS: three),
 * and puts the cluster into them (AwsNetwork.existing), behind an AWS Network
 * Load Balancer. The cluster waits for the subnets' routes to the internet
 * gateway (`dependsOn`), so everything deploys in one go. The region comes
 * from the settings' aws.region, AWS_REGION or the AWS profile.
 */
export class CoreOsAwsStack extends TerraformStack {
  public readonly settings: AppSettings;
  public readonly cluster: CoreOsCluster;
  public readonly front?: NlbFront;
  public readonly aws: AwsCluster;
  public readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: CoreOsAwsStackProps = {}) {
    super(scope, id);
    const s = (this.settings = settingsForTarget(
      props.settings ?? fileSettings(),
      DeployTarget.AWS,
    ));
    const { region, ...awsSettings } = s.aws;
    new AwsProvider(this, "aws", { region, defaultTags: [{ tags: { project: id } }] });

    // The surrounding stack's own network: a VPC, a public subnet per zone.
    const network = targetClusterProps(s);
    const vpcCidr = String(network.networkCidr);
    const subnetCidrs = (network.subnetCidrs ?? [vpcCidr]).map(String);
    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: vpcCidr,
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

    this.cluster = clusterFromSettings(this, "core", s, { units: [HELLO] });
    this.front = frontFromSettings(this, "front", s, this.cluster);
    this.aws = awsClusterFromSettings(
      this,
      "ec2",
      { ...s, aws: awsSettings },
      {
        cluster: this.cluster,
        front: this.front,
        network: AwsNetwork.existing({
          vpcId: this.vpc.id,
          subnetIds: subnets.map((subnet) => subnet.id),
          dependsOn: publicRoutes,
        }),
        publicAddresses: true,
        ...(props.sshAllowedCidrs ? { sshAllowedCidrs: props.sshAllowedCidrs } : {}),
      },
    );
    Policy.acknowledge(this.cluster, ["CC-W7"], DEFAULT_IMAGES_BY_TAG);
    Policy.acknowledge(
      this.aws,
      ["CC-W2"],
      "public subnets without a NAT gateway: nodes need a public address to reach image registries and updates; inbound stays closed but for sshAllowedCidrs",
    );

    if (this.aws.loadBalancerDnsName) {
      new TerraformOutput(this, "front_url", {
        description: "The cluster's one address: HTTP through the Network Load Balancer",
        value: `http://${this.aws.loadBalancerDnsName}/`,
      });
    }
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

/**
 * The default app: one stack, for the target the settings name (cdktf.json's
 * context "coreos-cluster:config", overridden by NUM_INSTANCES, UPDATE_CHANNEL,
 * COREOS_CLUSTER_TARGET, …). A bad setting stops here, before anything is
 * written, with what to change.
 */
function main(): void {
  const settings = exitOnConfigError(() => appSettings());
  const app = new App();
  exitOnConfigError(() =>
    settings.target === DeployTarget.AWS
      ? new CoreOsAwsStack(app, "coreos-aws", { settings })
      : new CoreOsClusterStack(app, "coreos-cluster", { settings }),
  );
  app.synth();
}

/** Runs `fn`; a ClusterConfigError ends the app with its message alone (no stack trace). */
function exitOnConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ClusterConfigError)) throw e;
    console.error(`${e.name}: ${e.message}`);
    return process.exit(1);
  }
}

if (require.main === module) main();
