import { ITerraformDependable } from "cdktf";
import { Duration } from "../core/duration";

/** CPU architecture of the nodes' machine image (EC2's names). */
export enum CpuArchitecture {
  /** Intel and AMD instance types (t3, m6i, c7a, …). */
  X86_64 = "x86_64",
  /** Graviton instance types (t4g, m7g, c7g, …). */
  ARM64 = "arm64",
}

/** Options of `AwsNetwork.create()`. */
export interface CreatedNetworkOptions {
  /**
   * Availability zones of the subnets, one per subnet in the cluster's
   * `subnetCidrs` order.
   * @default - the region's first available zones, one per subnet
   */
  readonly availabilityZones?: readonly string[] | undefined;
}

/** Options of `AwsNetwork.existing()`. */
export interface ExistingNetworkOptions {
  /** Id of the VPC, `vpc-…` (or a reference such as `myVpc.id`). */
  readonly vpcId: string;
  /**
   * Subnet ids, one per entry of the cluster's `subnetCidrs`, in that order:
   * the CIDR of subnet i must be `subnetCidrs[i]` (checked by Terraform at plan time).
   * Their route tables must give the nodes a way out: a default route to an
   * internet gateway with `publicAddresses`, through a NAT gateway (or a
   * transit gateway, a NAT instance) without (checked at plan time).
   */
  readonly subnetIds: readonly string[];
  /**
   * Subnets of the load balancer, one per availability zone, covering every
   * zone with nodes. An internet-facing load balancer needs subnets whose
   * default route goes to an internet gateway (checked at plan time).
   * @default - the nodes' subnets
   */
  readonly loadBalancerSubnetIds?: readonly string[] | undefined;
  /**
   * What the network is ready after, when the surrounding stack builds it in
   * the same deploy: route table associations, routes, NAT gateways, the
   * internet gateway. The route checks, the nodes and the load balancer wait
   * for them.
   * @default - nothing: the network exists before the deploy
   */
  readonly dependsOn?: readonly ITerraformDependable[] | undefined;
}

/**
 * Where the nodes run. An open choice, so a class with static factories:
 * a small VPC created for the cluster, or a VPC the surrounding stack owns.
 */
export class AwsNetwork {
  /**
   * A VPC with the cluster's `networkCidr`, a public subnet per entry of its
   * `subnetCidrs` (at least two, each in its own availability zone), an
   * internet gateway and a route table.
   */
  public static create(options: CreatedNetworkOptions = {}): AwsNetwork {
    return new AwsNetwork("create", options?.availabilityZones, undefined, undefined);
  }

  /** A VPC and subnets that already exist or that another construct of the stack creates. */
  public static existing(options: ExistingNetworkOptions): AwsNetwork {
    return new AwsNetwork("existing", undefined, options?.vpcId, options?.subnetIds, {
      loadBalancerSubnetIds: options?.loadBalancerSubnetIds,
      dependsOn: options?.dependsOn,
    });
  }

  /** Subnets of the load balancer (existing); undefined: the nodes' subnets. */
  public readonly loadBalancerSubnetIds: readonly string[] | undefined;
  /** What an existing network is ready after. */
  public readonly dependsOn: readonly ITerraformDependable[] | undefined;

  private constructor(
    /** `create`: the target creates the VPC; `existing`: it uses the given one. */
    public readonly kind: "create" | "existing",
    /** Zones of created subnets; undefined: looked up. */
    public readonly availabilityZones: readonly string[] | undefined,
    /** Id of an existing VPC. */
    public readonly vpcId: string | undefined,
    /** Ids of existing subnets. */
    public readonly subnetIds: readonly string[] | undefined,
    existing: Partial<Pick<ExistingNetworkOptions, "loadBalancerSubnetIds" | "dependsOn">> = {},
  ) {
    this.loadBalancerSubnetIds = existing.loadBalancerSubnetIds;
    this.dependsOn = existing.dependsOn;
  }
}

/** Options of `AwsMachineImage.lookup()`. */
export interface MachineImageLookupOptions {
  /**
   * CPU architecture; must match the instance type.
   * @default CpuArchitecture.X86_64
   */
  readonly architecture?: CpuArchitecture | undefined;
  /**
   * Release to look up: a major version (`"4081"`) or a longer prefix
   * (`"4081.3"`); the newest image of it. Required for Flatcar's LTS channel:
   * a new LTS stream starts about once a year and the old one keeps getting
   * security releases for months, so "the newest LTS image" may belong to the
   * older stream. The streams are listed at https://www.flatcar.org/releases.
   * @default - the newest image of the channel (Flatcar stable, beta, alpha; Fedora CoreOS streams)
   */
  readonly version?: string | undefined;
}

/**
 * The nodes' AMI. An open choice: looked up from the OS vendor's account by
 * the cluster's OS and channel, or a fixed id.
 */
export class AwsMachineImage {
  /**
   * The newest AMI of the cluster's OS and channel from its publisher:
   * Flatcar (owner 075585003325, `Flatcar-<channel>-*`) or Fedora CoreOS
   * (owner 125523088429, description `Fedora CoreOS <stream> *`).
   */
  public static lookup(options: MachineImageLookupOptions = {}): AwsMachineImage {
    return new AwsMachineImage(
      undefined,
      options?.architecture ?? CpuArchitecture.X86_64,
      options?.version,
    );
  }

  /** A fixed AMI id, `ami-…`, e.g. a pinned or self-built image. */
  public static fixed(amiId: string, architecture = CpuArchitecture.X86_64): AwsMachineImage {
    return new AwsMachineImage(amiId, architecture, undefined);
  }

  private constructor(
    /** The fixed AMI id; undefined: looked up. */
    public readonly amiId: string | undefined,
    public readonly architecture: CpuArchitecture,
    /** Release (version prefix) a lookup is limited to; undefined: the channel's newest. */
    public readonly version: string | undefined,
  ) {}
}

/** The AWS target's own props (besides the cluster, front and provider). */
export interface AwsClusterOptions {
  /**
   * Where the nodes run.
   * @default AwsNetwork.create()
   */
  readonly network?: AwsNetwork | undefined;
  /**
   * The nodes' AMI.
   * @default AwsMachineImage.lookup(): the newest image of the cluster's OS and channel, x86_64
   */
  readonly image?: AwsMachineImage | undefined;
  /**
   * EC2 instance type of every node. It decides CPUs and memory on AWS; the
   * cluster's `cpus` and `memoryMiB` size the Vagrant machines.
   * @default "t3.small"
   */
  readonly instanceType?: string | undefined;
  /**
   * Size of each node's root volume (gp3, encrypted) in GiB, 8..16384.
   * @default 20
   */
  readonly rootVolumeGiB?: number | undefined;
  /**
   * Who may reach the nodes' SSH port (22). Keys come from the cluster's `sshPublicKeys`.
   * @default - nobody
   */
  readonly sshAllowedCidrs?: readonly string[] | undefined;
  /**
   * Who may reach the front's listeners.
   * @default ["0.0.0.0/0"]: the listeners are the cluster's public face
   */
  readonly frontAllowedCidrs?: readonly string[] | undefined;
  /**
   * An internet-facing load balancer; false makes it internal to the VPC.
   * @default true
   */
  readonly internetFacing?: boolean | undefined;
  /**
   * Give each node a public IPv4 address, for outbound traffic through an
   * internet gateway (inbound stays closed but for SSH from
   * `sshAllowedCidrs`); false: the nodes go out through NAT. Required with
   * `AwsNetwork.existing()`: it depends on the subnets' routes, which are
   * checked against it at plan time. `AwsNetwork.create()` makes public
   * subnets without NAT, so there it must be true.
   * @default true with AwsNetwork.create(); none with AwsNetwork.existing()
   */
  readonly publicAddresses?: boolean | undefined;
  /**
   * Replace nodes when the AMI changes (a newer lookup result or another
   * fixed id). Off, nodes keep their image and update in place: Flatcar's
   * update engine rolls reboots one node at a time under the etcd lock.
   * @default false
   */
  readonly replaceOnImageChange?: boolean | undefined;
  /**
   * Replace nodes whose config changed one per deploy: Terraform destroys
   * every replaced instance before it creates any, so a change for every
   * node would otherwise take every node (and all of etcd) down at once.
   * Each deploy changes the next node's config once the previous one's is
   * confirmed applied; the synth warns which node goes now and which wait.
   * Kept in the cluster's state folder. An AMI change with
   * `replaceOnImageChange` is not held back.
   * @default true
   */
  readonly rollingReplacement?: boolean | undefined;
  /**
   * Make each per-node resource (instance, address reservation, target
   * registration, rollout marker) a construct of its own, as
   * `@cdktf/provider-aws` classes, instead of blocks emitted by one construct
   * per kind. The Terraform configuration is the same; the synth is slower
   * (about 0.5 ms and 33 KiB per resource: 5,000 nodes have 20,000) and the
   * resources become visible one by one to Aspects and `node.findAll()`.
   * `cdktf synth --hcl` always makes constructs.
   * @default false
   */
  readonly constructPerResource?: boolean | undefined;
  /**
   * How long a deregistered (drained) target keeps its open connections.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration | undefined;
  /**
   * Health-check interval of every target group whose front model leaves it
   * open. With the default unhealthy threshold of 2, a dead node is out after
   * about two intervals. Longer intervals mean fewer probes and fewer false
   * alarms, and slower failover.
   * @default Duration.seconds(5): AWS's shortest, a dead node is out after about 10 s
   */
  readonly healthCheckInterval?: Duration | undefined;
  /**
   * Region of the AWS provider this construct adds when the stack has none.
   * @default - the provider's own: AWS_REGION or the profile's region
   */
  readonly region?: string | undefined;
  /**
   * Tags on every resource, besides `Name` and `coreos-cluster`.
   * @default - none
   */
  readonly tags?: { readonly [key: string]: string } | undefined;
}
