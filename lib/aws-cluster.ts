import {
  Fn,
  Op,
  TerraformElement,
  TerraformProvider,
  TerraformResource,
  TerraformSelf,
  TerraformStack,
  Token,
} from "cdktf";
import { Construct } from "constructs";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { LbTargetGroupAttachment } from "@cdktf/provider-aws/lib/lb-target-group-attachment";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { AwsClusterOptions } from "./aws-options";
import { AwsPlan, planAws } from "./aws-plan";
import { CoreOsCluster } from "./cluster";
import { ClusterConfigError } from "./errors";
import { NlbFront } from "./front";

const AWS_PROVIDER_ID = "aws-provider";

/** Props of AwsCluster. */
export interface AwsClusterProps extends AwsClusterOptions {
  /** The cluster to run as EC2 instances. Its `networkCidr` is the VPC's range, its `subnetCidrs` the subnets'. */
  readonly cluster: CoreOsCluster;
  /**
   * The front to run as an AWS Network Load Balancer in front of the nodes.
   * @default - no load balancer
   */
  readonly front?: NlbFront;
  /**
   * The AWS provider of every resource (e.g. an aliased one).
   * @default - the stack's default AWS provider, added when missing
   */
  readonly provider?: TerraformProvider;
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
  /** The EC2 instances, in node order (escape hatch). */
  public readonly instances: readonly Instance[];
  /** Client URLs of the etcd members. */
  public readonly etcdEndpoints: readonly string[];
  /** The VPC id (a reference when created or passed as one). */
  public readonly vpcId: string;
  /** The subnet ids, in `subnetCidrs` order. */
  public readonly subnetIds: readonly string[];
  /** Security group of the nodes. */
  public readonly securityGroupId: string;
  /** Security group of the load balancer, when there is a front. */
  public readonly frontSecurityGroupId?: string;
  /** The Network Load Balancer, when there is a front. */
  public readonly loadBalancer?: Lb;
  /** Where clients reach the front: the load balancer's DNS name, when there is one. */
  public readonly loadBalancerDnsName?: string;

  private readonly provider?: TerraformProvider;
  private readonly clusterName: string;

  constructor(scope: Construct, id: string, props: AwsClusterProps) {
    super(scope, id);
    const { cluster, front, provider, ...options } = props;
    if (!(cluster instanceof CoreOsCluster)) {
      throw new Error(`AwsCluster "${this.node.path}": cluster must be a CoreOsCluster`);
    }
    const frontPlan = front?.plan(`AwsCluster "${this.node.path}"`);
    this.plan = planAws(
      cluster.plan,
      { ...options, front: frontPlan },
      (v) => Token.isUnresolved(v),
      this.node.path,
    );
    this.clusterName = cluster.clusterName;
    this.provider = provider;
    if (!provider) this.ensureDefaultProvider(props.region);
    this.etcdEndpoints = cluster.etcdEndpoints;
    const plan = this.plan;
    const tags = (name: string) => ({
      Name: name,
      "coreos-cluster": this.clusterName,
      ...plan.tags,
    });

    // Network.
    let vpcId: string;
    let subnetIds: string[];
    let subnetZones: string[];
    let networkReady: TerraformResource[] = [];
    if (plan.network.kind === "create") {
      const vpc = this.named(
        new Vpc(this, "Vpc", {
          cidrBlock: plan.network.vpcCidr,
          enableDnsSupport: true,
          enableDnsHostnames: true,
          tags: tags(this.clusterName),
          provider: this.provider,
        }),
        "vpc",
      );
      vpcId = vpc.id;
      let zoneOf: (i: number) => string;
      if (plan.network.subnets.every((s) => s.availabilityZone)) {
        zoneOf = (i) => plan.network.subnets[i].availabilityZone as string;
      } else {
        const zones = this.named(
          new DataAwsAvailabilityZones(this, "Zones", {
            state: "available",
            filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
            provider: this.provider,
            lifecycle: {
              postcondition: [
                {
                  condition: Op.gte(
                    Fn.lengthOf(TerraformSelf.getAny("names")),
                    plan.network.subnets.length,
                  ),
                  errorMessage: `cluster ${this.clusterName} has ${plan.network.subnets.length} subnets, one per availability zone, but the region has fewer zones: give fewer subnetCidrs`,
                },
              ],
            },
          }),
          "zones",
        );
        zoneOf = (i) => Fn.element(zones.names, i);
      }
      const gateway = this.named(
        new InternetGateway(this, "Gateway", {
          vpcId,
          tags: tags(this.clusterName),
          provider: this.provider,
        }),
        "gateway",
      );
      const routes = this.named(
        new RouteTable(this, "Routes", {
          vpcId,
          route: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
          tags: tags(`${this.clusterName}-public`),
          provider: this.provider,
        }),
        "public",
      );
      const subnets = plan.network.subnets.map((s) =>
        this.named(
          new Subnet(this, `Subnet${s.index}`, {
            vpcId,
            cidrBlock: s.cidr,
            availabilityZone: zoneOf(s.index),
            mapPublicIpOnLaunch: false,
            tags: tags(`${this.clusterName}-${s.index}`),
            provider: this.provider,
          }),
          `subnet_${s.index}`,
        ),
      );
      networkReady = subnets.map((s, i) =>
        this.named(
          new RouteTableAssociation(this, `Public${i}`, {
            subnetId: s.id,
            routeTableId: routes.id,
            provider: this.provider,
          }),
          `public_${i}`,
        ),
      );
      subnetIds = subnets.map((s) => s.id);
      subnetZones = subnets.map((s) => s.availabilityZone);
    } else {
      vpcId = plan.network.vpcId as string;
      const found = plan.network.subnets.map((s) =>
        this.named(
          new DataAwsSubnet(this, `Subnet${s.index}`, {
            id: s.subnetId,
            provider: this.provider,
            lifecycle: {
              // The cluster's addresses are planned from subnetCidrs: a mismatch stops the plan.
              postcondition: [
                {
                  condition: Op.eq(TerraformSelf.getString("cidr_block"), s.cidr),
                  errorMessage: `subnet ${s.index} of cluster ${this.clusterName} must have the CIDR ${s.cidr} (the cluster's subnetCidrs[${s.index}])`,
                },
                {
                  condition: Op.eq(TerraformSelf.getString("vpc_id"), vpcId),
                  errorMessage: `subnet ${s.index} of cluster ${this.clusterName} must lie in the VPC given as network.vpcId`,
                },
              ],
            },
          }),
          `subnet_${s.index}`,
        ),
      );
      subnetIds = found.map((s) => s.id);
      subnetZones = found.map((s) => s.availabilityZone);
    }
    this.vpcId = vpcId;
    this.subnetIds = subnetIds;

    // Security groups: nothing is open but the front's listeners (and SSH when asked).
    const nodesGroup = this.named(
      new SecurityGroup(this, "NodesGroup", {
        name: `${this.clusterName}-nodes`,
        description: `Nodes of CoreOS cluster ${this.clusterName}`,
        vpcId,
        tags: tags(`${this.clusterName}-nodes`),
        provider: this.provider,
      }),
      "nodes",
    );
    this.securityGroupId = nodesGroup.id;
    for (const port of plan.etcdPorts) {
      this.ingress(`etcd_${port}`, nodesGroup.id, port, {
        referencedSecurityGroupId: nodesGroup.id,
        description: `etcd ${port} between the cluster's nodes only`,
      });
    }
    plan.sshAllowedCidrs.forEach((cidr, i) =>
      this.ingress(`ssh_${i}`, nodesGroup.id, 22, {
        cidrIpv4: cidr,
        description: "SSH from sshAllowedCidrs",
      }),
    );
    this.named(
      new VpcSecurityGroupEgressRule(this, "NodesEgress", {
        securityGroupId: nodesGroup.id,
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        description: "Outbound: images, updates, time",
        provider: this.provider,
      }),
      "nodes_egress",
    );

    // Machines.
    let amiId: string;
    if (plan.image.amiId) {
      amiId = plan.image.amiId;
    } else {
      const lookup = plan.image.lookup as NonNullable<AwsPlan["image"]["lookup"]>;
      amiId = this.named(
        new DataAwsAmi(this, "Image", {
          mostRecent: true,
          owners: [lookup.owner],
          filter: lookup.filters.map((f) => ({ name: f.name, values: [...f.values] })),
          provider: this.provider,
        }),
        "image",
      ).id;
    }
    this.instances = plan.nodes.map((n) =>
      this.named(
        new Instance(this, n.name, {
          ami: amiId,
          instanceType: plan.instanceType,
          subnetId: subnetIds[n.subnetIndex],
          privateIp: n.address,
          vpcSecurityGroupIds: [nodesGroup.id],
          associatePublicIpAddress: plan.publicAddresses,
          userData: n.userData,
          // Ignition runs on first boot only: a changed config means a new node.
          userDataReplaceOnChange: true,
          metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
          rootBlockDevice: {
            volumeType: "gp3",
            volumeSize: plan.rootVolumeGiB,
            encrypted: true,
            deleteOnTermination: true,
          },
          tags: tags(n.name),
          lifecycle: plan.replaceOnImageChange ? undefined : { ignoreChanges: ["ami"] },
          dependsOn: networkReady,
          provider: this.provider,
        }),
        n.name,
      ),
    );
    this.nodes = plan.nodes.map((n, i) => {
      const node = cluster.nodeNamed(n.name);
      return {
        name: n.name,
        privateAddress: n.address,
        publicAddress: this.instances[i].publicIp,
        instanceId: this.instances[i].id,
        availabilityZone: this.instances[i].availabilityZone,
        etcdMember: node.etcdMember,
        standby: node.standby,
      };
    });

    if (!plan.front) return;
    const fp = plan.front;
    const frontGroup = this.named(
      new SecurityGroup(this, "FrontGroup", {
        name: `${this.clusterName}-front`,
        description: `Load balancer of CoreOS cluster ${this.clusterName}`,
        vpcId,
        tags: tags(`${this.clusterName}-front`),
        provider: this.provider,
      }),
      "front",
    );
    this.frontSecurityGroupId = frontGroup.id;
    for (const l of fp.listeners) {
      fp.allowedCidrs.forEach((cidr, i) =>
        this.ingress(`front_${l.id}_${i}`, frontGroup.id, l.port, {
          cidrIpv4: cidr,
          description: `Listener ${l.id}`,
        }),
      );
    }
    for (const port of fp.nodePorts) {
      this.ingress(`from_front_${port}`, nodesGroup.id, port, {
        referencedSecurityGroupId: frontGroup.id,
        description: "Traffic and health checks from the load balancer",
      });
      this.named(
        new VpcSecurityGroupEgressRule(this, `FrontTo${port}`, {
          securityGroupId: frontGroup.id,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          referencedSecurityGroupId: nodesGroup.id,
          description: "To the nodes",
          provider: this.provider,
        }),
        `front_to_nodes_${port}`,
      );
    }
    const multiZone = plan.network.kind === "existing" && subnetZones.length > 1;
    this.loadBalancer = this.named(
      new Lb(this, "LoadBalancer", {
        name: fp.name,
        loadBalancerType: "network",
        internal: !fp.internetFacing,
        subnets: subnetIds,
        securityGroups: [frontGroup.id],
        enableCrossZoneLoadBalancing: true,
        tags: tags(fp.name),
        dependsOn: networkReady,
        provider: this.provider,
        lifecycle: multiZone
          ? {
              precondition: [
                {
                  condition: Op.eq(Fn.lengthOf(Fn.distinct(subnetZones)), subnetZones.length),
                  errorMessage: `the subnets of cluster ${this.clusterName} must lie in distinct availability zones: a Network Load Balancer takes one subnet per zone`,
                },
              ],
            }
          : undefined,
      }),
      fp.plan.name,
    );
    this.loadBalancerDnsName = this.loadBalancer.dnsName;
    for (const l of fp.listeners) {
      const g = l.targetGroup;
      const hc = g.healthCheck;
      const group = this.named(
        new LbTargetGroup(this, `Group-${g.id}`, {
          name: g.name,
          port: g.port,
          protocol: "TCP",
          targetType: "ip",
          vpcId,
          deregistrationDelay: String(g.deregistrationDelaySeconds),
          healthCheck: {
            enabled: true,
            protocol: hc.protocol,
            port: String(hc.port),
            path: hc.path,
            matcher: hc.matcher,
            interval: hc.intervalSeconds,
            timeout: hc.timeoutSeconds,
            healthyThreshold: hc.healthyThreshold,
            unhealthyThreshold: hc.unhealthyThreshold,
          },
          stickiness: g.stickiness ? { type: "source_ip", enabled: true } : undefined,
          tags: tags(g.name),
          provider: this.provider,
        }),
        `${fp.plan.name}_${g.id}`,
      );
      this.named(
        new LbListener(this, `Listener-${l.id}`, {
          loadBalancerArn: this.loadBalancer.arn,
          port: l.port,
          protocol: "TCP",
          defaultAction: [{ type: "forward", targetGroupArn: group.arn }],
          tags: tags(`${fp.name}-${l.id}`),
          provider: this.provider,
        }),
        `${fp.plan.name}_${l.id}`,
      );
      for (const a of g.attachments) {
        const index = plan.nodes.findIndex((n) => n.name === a.member);
        this.named(
          new LbTargetGroupAttachment(this, `Target-${g.id}-${a.member}`, {
            targetGroupArn: group.arn,
            targetId: a.address,
            port: a.port,
            dependsOn: index >= 0 ? [this.instances[index]] : undefined,
            provider: this.provider,
          }),
          `${g.id}_${a.member}`,
        );
      }
    }
  }

  private ingress(
    id: string,
    securityGroupId: string,
    port: number,
    source: { cidrIpv4?: string; referencedSecurityGroupId?: string; description: string },
  ): VpcSecurityGroupIngressRule {
    return this.named(
      new VpcSecurityGroupIngressRule(this, `Ingress-${id}`, {
        securityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        ...source,
        provider: this.provider,
      }),
      id,
    );
  }

  // Readable, stable addresses in plans and tests: aws_instance.core_core-01.
  private named<T extends TerraformElement>(element: T, name: string): T {
    element.overrideLogicalId(`${this.clusterName}_${name}`);
    return element;
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
