import { TerraformProvider, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { nodeAddressReservations } from "./addresses";
import { networkLoadBalancer } from "./load-balancer";
import { clusterNetwork } from "./network";
import { nodeInstances } from "./nodes";
import { awsParts } from "./parts";
import { frontSecurityGroup, nodesSecurityGroup } from "./security";
import { AwsClusterOptions } from "./options";
import { AwsRollout, awsRollout } from "./rollout";
import { AwsPlan, planAws } from "./plan";
import { CoreOsCluster } from "../cluster/cluster";
import { ClusterConfigError } from "../core/errors";
import { ResourceReference } from "../core/resource-blocks";
import { NlbFront } from "../front/front";
import { checkTargetProps } from "../cluster/target-props";
import { Policy } from "../policy/policy";
import { withoutTokenTraces } from "../core/token-traces";
import { TopologyPicture } from "../topology/picture";
import { awsTopology } from "./topology";

const AWS_PROVIDER_ID = "aws-provider";

/** Props of AwsCluster. */
export interface AwsClusterProps extends AwsClusterOptions {
  /** The cluster to run as EC2 instances. Its `networkCidr` is the VPC's range, its `subnetCidrs` the subnets'. */
  readonly cluster: CoreOsCluster;
  /**
   * The front to run as an AWS Network Load Balancer in front of the nodes.
   * @default - no load balancer
   */
  readonly front?: NlbFront | undefined;
  /**
   * The AWS provider of every resource (e.g. an aliased one).
   * @default - the stack's default AWS provider, added when missing
   */
  readonly provider?: TerraformProvider | undefined;
}

/** A node as it runs on EC2. */
export interface AwsNode {
  readonly name: string;
  /** The node's deterministic private address. */
  readonly privateAddress: string;
  /** Public address (a Terraform reference; empty without `publicAddresses`). */
  readonly publicAddress: string;
  /** EC2 instance id (a Terraform reference). */
  readonly instanceId: string;
  /** Availability zone (a Terraform reference). */
  readonly availabilityZone: string;
  readonly etcdMember: boolean;
  readonly standby: boolean;
}

/**
 * Runs a CoreOsCluster on EC2: one instance per node with its Ignition as
 * user data and its planned private address, spread over the cluster's
 * subnets (one per availability zone), least-privilege security groups, and
 * the front (when given) as an AWS Network Load Balancer.
 */
export class AwsCluster extends Construct {
  /** The validated AWS plan. */
  public readonly plan: AwsPlan;
  /** The nodes as EC2 instances, in node order. */
  public readonly nodes: readonly AwsNode[];
  /**
   * The EC2 instances (`aws_instance`), in node order: address, references
   * to attributes (`get("private_dns")`), and `dependsOn` for resources of
   * the surrounding stack. To change an attribute the target sets, override
   * it on the stack: `stack.addOverride("resource.aws_instance.<logical id>.<attribute>", value)`.
   */
  public readonly instances: readonly ResourceReference[];
  /** Client URLs of the etcd members. */
  public readonly etcdEndpoints: readonly string[];
  /** The VPC id (a reference when created or passed as one). */
  public readonly vpcId: string;
  /** The subnet ids, in `subnetCidrs` order. */
  public readonly subnetIds: readonly string[];
  /**
   * The nodes' address reservations (explicit subnet CIDR reservations), in
   * node order. Resources of the surrounding stack that take addresses from
   * the same subnets can depend on them.
   */
  public readonly addressReservations: readonly ResourceReference[];
  /** Security group of the nodes. */
  public readonly securityGroupId: string;
  /** Security group of the load balancer, when there is a front. */
  public readonly frontSecurityGroupId?: string;
  /** The Network Load Balancer, when there is a front. */
  public readonly loadBalancer?: Lb;
  /** Where clients reach the front: the load balancer's DNS name, when there is one. */
  public readonly loadBalancerDnsName?: string;

  constructor(scope: Construct, id: string, props: AwsClusterProps) {
    super(scope, id);
    const where = `AwsCluster "${this.node.path}"`;
    const { cluster, front, provider, ...options } = checkTargetProps(
      props,
      where,
      "AwsClusterProps",
    );
    // Two AWS targets over one cluster would create its instances twice under one set of ids.
    const twin = TerraformStack.of(this)
      .node.findAll()
      .find((c) => c instanceof AwsCluster && c !== this && c.plan?.cluster === cluster.plan);
    if (twin) {
      throw new ClusterConfigError(where, [
        {
          prop: "cluster",
          value: `CoreOsCluster "${cluster.node.path}"`,
          allowed: `a cluster no other AwsCluster of this stack runs: AwsCluster "${twin.node.path}" already runs it`,
        },
      ]);
    }
    const frontPlan = front?.plan(`AwsCluster "${this.node.path}"`);
    // A unit test's app keeps no rollout record (see CoreOsCluster): every node gets its config.
    const rolling = (options.rollingReplacement ?? true) === true && cluster._recordsDeployState;
    const rollout = rolling
      ? awsRollout(this, cluster, { constructPerResource: options.constructPerResource === true })
      : undefined;
    this.plan = planAws(
      cluster.plan,
      { ...options, front: frontPlan, userDataOverride: rollout?.userData },
      (v) => Token.isUnresolved(v),
      this.node.path,
    );
    Policy._declare(this, { kind: "aws", plan: () => this.plan });
    TopologyPicture.of(this).add(() => awsTopology(this.plan));
    if (!provider) this.ensureDefaultProvider(props.region);
    this.etcdEndpoints = cluster.etcdEndpoints;
    const built = withoutTokenTraces(() => this.build(cluster, provider, rollout));
    this.vpcId = built.network.vpcId;
    this.subnetIds = built.network.subnetIds;
    this.securityGroupId = built.securityGroupId;
    this.addressReservations = built.addressReservations;
    this.instances = built.instances;
    this.nodes = built.nodes;
    this.frontSecurityGroupId = built.front?.securityGroupId;
    this.loadBalancer = built.front?.loadBalancer;
    this.loadBalancerDnsName = built.front?.loadBalancer.dnsName;
  }

  /** The resources of the plan: network, security groups, reservations, instances, load balancer. */
  private build(
    cluster: CoreOsCluster,
    provider: TerraformProvider | undefined,
    rollout: AwsRollout | undefined,
  ) {
    const parts = awsParts(this, this.plan, provider, this.plan.constructPerResource);
    const network = clusterNetwork(parts);
    const securityGroupId = nodesSecurityGroup(parts, network.vpcId);
    const addressReservations = nodeAddressReservations(parts, network);
    const instances = nodeInstances(
      parts,
      network,
      securityGroupId,
      addressReservations,
      cluster.artifactDirectory,
    );
    // Private keys inside: readable by the owner only, as the cluster's own node configs.
    // Each text is made when its file is written (5,000 nodes: 60 MB never in memory at once).
    const nodes = this.plan.nodes;
    cluster._addTargetArtifacts(() =>
      Object.fromEntries(
        nodes.map((n) => [
          n.userDataFile,
          {
            get contents() {
              return n.userData;
            },
            mode: 0o600,
          },
        ]),
      ),
    );
    this.plan.nodes.forEach((n, i) => rollout?.confirm(n.name, instances[i]));
    // The AWS plan's nodes are the cluster's, in the same order.
    // References made when read: cdktf keeps every token it makes, most are never read.
    const awsNodes = nodes.map((n, i): AwsNode => {
      const node = cluster.nodes[i];
      const instance = instances[i];
      return {
        name: n.name,
        privateAddress: n.address,
        get publicAddress() {
          return instance.get("public_ip");
        },
        get instanceId() {
          return instance.get("id");
        },
        get availabilityZone() {
          return instance.get("availability_zone");
        },
        etcdMember: node.etcdMember,
        standby: node.standby,
      };
    });
    let front: { securityGroupId: string; loadBalancer: Lb } | undefined;
    if (this.plan.front) {
      const frontGroupId = frontSecurityGroup(parts, network.vpcId, securityGroupId);
      front = {
        securityGroupId: frontGroupId,
        loadBalancer: networkLoadBalancer(
          parts,
          this.plan.front,
          network,
          frontGroupId,
          instances,
          addressReservations,
        ),
      };
    }
    return { network, securityGroupId, addressReservations, instances, nodes: awsNodes, front };
  }

  // One default AWS provider per stack, however many AWS clusters it holds.
  private ensureDefaultProvider(region: string | undefined): void {
    const stack = TerraformStack.of(this);
    const existing = stack.node
      .findAll()
      .find(
        (c): c is TerraformProvider =>
          c instanceof TerraformProvider && c.terraformResourceType === "aws" && !c.alias,
      );
    if (existing) {
      if (region !== undefined) {
        throw new ClusterConfigError(`AwsCluster "${this.node.path}"`, [
          {
            prop: "region",
            value: region,
            allowed: `no region: the stack already has an AWS provider (${existing.node.path}); set the region there`,
          },
        ]);
      }
      return;
    }
    new AwsProvider(stack, AWS_PROVIDER_ID, { region });
  }
}
