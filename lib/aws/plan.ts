import { createHash } from "node:crypto";
import { ITerraformDependable } from "cdktf";
import { AwsClusterOptions, AwsMachineImage, AwsNetwork, CpuArchitecture } from "./options";
import { Duration } from "../core/duration";
import { IssueCollector } from "../core/errors";
import { Balancing, ClientAffinity, HealthCheckProtocol } from "../front/options";
import { checkFrontRunsCluster, FrontPlan, HealthCheckPlan, isWhole } from "../front/plan";
import { contains, parseIpv4 } from "../core/network";
import { checkSourceCidr, isPlainObject } from "../core/validate";
import { FlatcarChannel, OsFamily } from "../cluster/operating-system";
import { compressedIgnition } from "../render/ignition";
import {
  ClusterPlan,
  ETCD_CLIENT_PORT,
  ETCD_LEGACY_CLIENT_PORT,
  ETCD_LEGACY_PEER_PORT,
  ETCD_PEER_PORT,
} from "../cluster/plan";
import { Provisioning } from "../cluster/provisioning";
import { renderUserData } from "../render/user-data";
import { DiscoveryKind } from "../etcd/discovery";

/** Publishers of the AMIs `AwsMachineImage.lookup()` finds. */
export const AMI_OWNERS: Record<OsFamily, string> = {
  [OsFamily.FLATCAR]: "075585003325",
  [OsFamily.FEDORA_COREOS]: "125523088429",
};

/** Folder of the nodes' user data inside the cluster's artifact folder. */
export const AWS_USER_DATA_DIRECTORY = "aws-user-data";

/** EC2 accepts at most 16 KiB of user data. */
export const USER_DATA_LIMIT = 16384;

/**
 * Health-check interval the AWS front uses when neither the front model nor
 * `healthCheckInterval` sets one: AWS's shortest, so with the unhealthy
 * threshold of 2 a dead node is out after about 10 s.
 */
export const AWS_HEALTH_CHECK_INTERVAL = Duration.seconds(5);

/** AWS's own health-check timeouts of an NLB target group, by protocol; a timeout must also stay below the interval. */
const AWS_DEFAULT_TIMEOUT_SECONDS = { HTTP: 6, TCP: 10 } as const;

/** Limits of AWS Network Load Balancer target groups. */
export const AWS_LIMITS = {
  intervalSeconds: { min: 5, max: 300 },
  timeoutSeconds: { min: 2, max: 120 },
  threshold: { min: 2, max: 10 },
  deregistrationDelaySeconds: { min: 0, max: 3600 },
  rootVolumeGiB: { min: 8, max: 16384 },
  /** VPC and subnet prefix lengths. */
  prefixLength: { min: 16, max: 28 },
  /** AWS keeps the first four addresses of every subnet (network, router, DNS, reserved). */
  firstUsableHost: 4,
  /** Names of load balancers and target groups. */
  nameLength: 32,
  /** Tags per resource (AWS: 50), less the two the cluster sets (Name, coreos-cluster). */
  userTags: 48,
  /** A target group's `name_prefix`: the provider adds a 26-character unique suffix. */
  namePrefixLength: 6,
} as const;

/** Tags the cluster sets on every resource itself. */
export const RESERVED_TAGS = ["Name", "coreos-cluster"] as const;

/** The AWS target's props as the plan reads them: the front already planned. */
export interface AwsOptions extends AwsClusterOptions {
  /** The front's plan, when the cluster runs behind the AWS load balancer. */
  readonly front?: FrontPlan;
  /** Per node, the Ignition (compact JSON) to give instead of its new one: a rollout holds it back. */
  readonly userDataOverride?: Readonly<Record<string, string>>;
}

/** One subnet the nodes use. */
export interface AwsSubnetPlan {
  readonly index: number;
  readonly cidr: string;
  /** Zone of a created subnet; undefined: looked up (created) or the subnet's own (existing). */
  readonly availabilityZone?: string;
  /** Id of an existing subnet. */
  readonly subnetId?: string;
}

/** The VPC the nodes run in. */
export interface AwsNetworkPlan {
  readonly kind: "create" | "existing";
  readonly vpcCidr: string;
  /** Id of an existing VPC. */
  readonly vpcId?: string;
  readonly subnets: readonly AwsSubnetPlan[];
  /** Separate subnets of the load balancer (existing); undefined: the nodes' subnets. */
  readonly loadBalancerSubnets?: readonly { readonly index: number; readonly subnetId: string }[];
  /** What an existing network is ready after (route table associations, gateways). */
  readonly dependsOn: readonly ITerraformDependable[];
}

/** The AMI: a fixed id or a lookup. */
export interface AwsImagePlan {
  readonly architecture: CpuArchitecture;
  readonly amiId?: string;
  readonly lookup?: {
    readonly owner: string;
    readonly filters: readonly { readonly name: string; readonly values: readonly string[] }[];
  };
}

/** One EC2 instance. */
export interface AwsNodePlan {
  readonly name: string;
  readonly address: string;
  readonly subnetIndex: number;
  readonly standby: boolean;
  /** Ignition (compact; gzipped inside a small one when too large) or cloud-config: the text EC2 gets. */
  readonly userData: string;
  /**
   * Where that text lies, relative to the cluster's artifact folder
   * (`aws-user-data/core-01.ign`): the instance reads it with Terraform's
   * `file()`, so the configuration carries a short expression instead of
   * every node's config (and its keys) as a string.
   */
  readonly userDataFile: string;
}

/** A load balancer health check, in AWS's terms. */
export interface AwsHealthCheckPlan {
  readonly protocol: "TCP" | "HTTP";
  readonly port: number;
  readonly path?: string;
  readonly matcher?: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** A registered target. */
export interface AwsAttachmentPlan {
  /** Member name. */
  readonly member: string;
  readonly address: string;
  readonly port: number;
}

/** One target group. */
export interface AwsTargetGroupPlan {
  /** The front model's group id. */
  readonly id: string;
  /** Readable name (≤ 32 characters), the `Name` tag. */
  readonly name: string;
  /**
   * Start of the AWS name (≤ 6 characters); AWS's name gets a unique suffix
   * so that a replacement can exist next to the group it replaces.
   */
  readonly namePrefix: string;
  readonly port: number;
  readonly healthCheck: AwsHealthCheckPlan;
  /** Source-IP stickiness (ClientAffinity.SINGLE). */
  readonly stickiness: boolean;
  readonly deregistrationDelaySeconds: number;
  /** Active members that are not draining; standby and draining members are not registered. */
  readonly attachments: readonly AwsAttachmentPlan[];
}

/** One listener and its group. */
export interface AwsListenerPlan {
  readonly id: string;
  readonly port: number;
  readonly targetGroup: AwsTargetGroupPlan;
}

/** The front as an AWS Network Load Balancer. */
export interface AwsFrontPlan {
  readonly plan: FrontPlan;
  /** AWS name of the load balancer (≤ 32 characters). */
  readonly name: string;
  readonly internetFacing: boolean;
  /** Who may reach the listeners. */
  readonly allowedCidrs: readonly string[];
  readonly listeners: readonly AwsListenerPlan[];
  /** Node ports the load balancer reaches: target and health-check ports, sorted. */
  readonly nodePorts: readonly number[];
}

/** Every AWS-specific prop resolved and checked. */
export interface AwsPlan {
  readonly cluster: ClusterPlan;
  readonly network: AwsNetworkPlan;
  readonly image: AwsImagePlan;
  readonly instanceType: string;
  readonly rootVolumeGiB: number;
  readonly sshAllowedCidrs: readonly string[];
  readonly publicAddresses: boolean;
  readonly replaceOnImageChange: boolean;
  /** Per-node resources as a construct each instead of blocks of one construct (ResourceBlocks). */
  readonly constructPerResource: boolean;
  readonly region?: string;
  readonly tags: { readonly [key: string]: string };
  readonly nodes: readonly AwsNodePlan[];
  /** Ports only cluster members reach each other on. */
  readonly etcdPorts: readonly number[];
  readonly front?: AwsFrontPlan;
}

const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
/** Graviton families: a1, and a `g` right after the generation digit (t4g, m7gd, c6gn, x2gd). */
const GRAVITON_RE = /^(a1|[a-z]+\d+g[a-z]*)\./;
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ZONE_RE = /^[a-z]{2}(-[a-z0-9]+)+[a-z]$/;
/** A Flatcar (`4081`, `4081.3`, `4081.3.6`) or Fedora CoreOS (`42`, `42.20250803`) release prefix. */
const IMAGE_VERSION_RE = /^\d+(\.\d+){0,2}$/;
const TAG_KEY_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
/** Tag values Elastic Load Balancing accepts (EC2 takes more; the load balancer is tagged too). */
const TAG_VALUE_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

function resourceId(prefix: string): RegExp {
  return new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`);
}

/** An AWS name of at most 32 characters: long names keep their start and get a hash suffix. */
export function awsName(name: string): string {
  if (name.length <= AWS_LIMITS.nameLength) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `${name.slice(0, AWS_LIMITS.nameLength - 7).replace(/-+$/, "")}-${hash}`;
}

/** What an existing network is ready after: elements of the stack Terraform can wait for. */
function checkDependsOn(issues: IssueCollector, deps: unknown): readonly ITerraformDependable[] {
  const list = deps ?? [];
  if (Array.isArray(list) && list.every((d) => typeof d?.fqn === "string")) return list;
  issues.add(
    "network.dependsOn",
    deps,
    "a list of resources, data sources or modules of the stack (e.g. route table associations)",
  );
  return [];
}

/** Optional extra subnet ids (the load balancer's): ids that look like ids, none twice. */
function checkSubnetIds(
  issues: IssueCollector,
  prop: string,
  ids: unknown,
  literal: (v: unknown) => boolean,
): { index: number; subnetId: string }[] | undefined {
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.length === 0) {
    issues.add(prop, ids, "a list of subnet ids, one per availability zone");
    return undefined;
  }
  ids.forEach((id, i) => {
    if (literal(id) && !resourceId("subnet").test(String(id))) {
      issues.add(`${prop}[${i}]`, id, "a subnet id such as subnet-0123456789abcdef0");
    } else if (literal(id) && ids.indexOf(id) !== i) {
      issues.add(`${prop}[${i}]`, id, "a subnet not listed twice");
    }
  });
  return ids.map((subnetId: string, index) => ({ index, subnetId }));
}

function checkCidrs(
  issues: IssueCollector,
  prop: string,
  cidrs: unknown,
  allowEmpty: boolean,
): string[] {
  if (!Array.isArray(cidrs) || (!allowEmpty && cidrs.length === 0)) {
    issues.add(prop, cidrs, `a list of IPv4 CIDRs${allowEmpty ? "" : ", at least one"}`);
    return [];
  }
  const good: string[] = [];
  cidrs.forEach((c, i) => {
    const reason = checkSourceCidr(c);
    if (reason) issues.add(`${prop}[${i}]`, c, reason);
    else good.push(c);
  });
  return good;
}

/**
 * Validates the AWS target's props against the cluster (and front) plan.
 * `isToken` tells references to other resources (resolved by Terraform) from
 * literal values, which are checked here.
 */
export function planAws(
  cluster: ClusterPlan,
  options: AwsOptions,
  isToken: (value: unknown) => boolean,
  path: string,
): AwsPlan {
  const issues = new IssueCollector();
  const literal = (v: unknown): boolean => !isToken(v);

  // Network.
  const net = options.network ?? AwsNetwork.create();
  if (!(net instanceof AwsNetwork)) {
    issues.add("network", net, "AwsNetwork.create() or AwsNetwork.existing({ vpcId, subnetIds })");
  }
  for (const [prop, n] of [
    ["cluster.networkCidr", cluster.network],
    ...cluster.subnets.map((s, i) => [`cluster.subnetCidrs[${i}]`, s] as const),
  ] as const) {
    const range = AWS_LIMITS.prefixLength;
    if (n.prefixLength < range.min || n.prefixLength > range.max) {
      issues.add(prop, n.cidr, `a prefix length from /${range.min} to /${range.max} on AWS`);
    }
  }
  for (const node of cluster.nodes) {
    const subnet = cluster.subnets[node.subnetIndex];
    const host = (parseIpv4(node.address) as number) - subnet.base;
    if (host < AWS_LIMITS.firstUsableHost) {
      issues.add(
        "cluster.firstHostNumber",
        cluster.firstHostNumber,
        `${AWS_LIMITS.firstUsableHost} or more: AWS keeps the first four addresses of a subnet (${node.name} would be ${node.address})`,
      );
      break;
    }
  }
  const subnets: AwsSubnetPlan[] = [];
  let loadBalancerSubnets: AwsNetworkPlan["loadBalancerSubnets"];
  let dependsOn: readonly ITerraformDependable[] = [];
  if (net instanceof AwsNetwork && net.kind === "create") {
    if (cluster.subnets.length < 2) {
      issues.add(
        "cluster.subnetCidrs",
        cluster.subnets.map((s) => s.cidr),
        "two or more subnets for AwsNetwork.create(): the nodes and the load balancer span at least two availability zones",
      );
    }
    const zones = net.availabilityZones;
    if (zones !== undefined) {
      if (!Array.isArray(zones) || zones.length !== cluster.subnets.length) {
        issues.add(
          "network.availabilityZones",
          zones,
          `one zone per subnet (${cluster.subnets.length}), in subnetCidrs order`,
        );
      } else {
        zones.forEach((z, i) => {
          if (literal(z) && (typeof z !== "string" || !ZONE_RE.test(z))) {
            issues.add(`network.availabilityZones[${i}]`, z, "a zone name such as eu-central-1a");
          } else if (zones.indexOf(z) !== i) {
            issues.add(`network.availabilityZones[${i}]`, z, "a zone not used by another subnet");
          }
        });
      }
    }
    cluster.subnets.forEach((s, i) =>
      subnets.push({ index: i, cidr: s.cidr, availabilityZone: zones?.[i] }),
    );
  } else if (net instanceof AwsNetwork) {
    if (literal(net.vpcId) && !resourceId("vpc").test(String(net.vpcId))) {
      issues.add("network.vpcId", net.vpcId, "a VPC id such as vpc-0123456789abcdef0");
    }
    const ids = net.subnetIds;
    if (!Array.isArray(ids) || ids.length !== cluster.subnets.length) {
      issues.add(
        "network.subnetIds",
        ids,
        `one subnet id per entry of the cluster's subnetCidrs (${cluster.subnets.map((s) => s.cidr).join(", ")}), in that order`,
      );
    } else {
      ids.forEach((id, i) => {
        if (literal(id) && !resourceId("subnet").test(String(id))) {
          issues.add(`network.subnetIds[${i}]`, id, "a subnet id such as subnet-0123456789abcdef0");
        } else if (literal(id) && ids.indexOf(id) !== i) {
          issues.add(`network.subnetIds[${i}]`, id, "a subnet not listed twice");
        }
        subnets.push({ index: i, cidr: cluster.subnets[i].cidr, subnetId: id });
      });
    }
    loadBalancerSubnets = checkSubnetIds(
      issues,
      "network.loadBalancerSubnetIds",
      net.loadBalancerSubnetIds,
      literal,
    );
    dependsOn = checkDependsOn(issues, net.dependsOn);
  }

  // Machines.
  const image = options.image ?? AwsMachineImage.lookup();
  let imagePlan: AwsImagePlan | undefined;
  if (!(image instanceof AwsMachineImage)) {
    issues.add("image", image, "AwsMachineImage.lookup() or AwsMachineImage.fixed('ami-…')");
  } else {
    if (!Object.values(CpuArchitecture).includes(image.architecture)) {
      issues.add(
        "image.architecture",
        image.architecture,
        Object.values(CpuArchitecture).join(" | "),
      );
    }
    if (image.amiId !== undefined) {
      if (literal(image.amiId) && !resourceId("ami").test(image.amiId)) {
        issues.add("image", image.amiId, "an AMI id such as ami-0123456789abcdef0");
      }
      imagePlan = { architecture: image.architecture, amiId: image.amiId };
    } else {
      checkImageVersion(issues, cluster, image.version, literal);
      imagePlan = { architecture: image.architecture, lookup: amiLookup(cluster, image) };
    }
  }
  const instanceType = options.instanceType ?? "t3.small";
  if (literal(instanceType)) {
    if (typeof instanceType !== "string" || !INSTANCE_TYPE_RE.test(instanceType)) {
      issues.add("instanceType", instanceType, "an EC2 instance type such as t3.small");
    } else if (imagePlan) {
      const graviton = GRAVITON_RE.test(instanceType);
      const wanted = graviton ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64;
      if (imagePlan.architecture !== wanted) {
        issues.add(
          "image.architecture",
          imagePlan.architecture,
          `${wanted} for instance type ${instanceType}: AwsMachineImage.lookup({ architecture: CpuArchitecture.${graviton ? "ARM64" : "X86_64"} })`,
        );
      }
    }
  }
  const rootVolumeGiB = options.rootVolumeGiB ?? 20;
  const vol = AWS_LIMITS.rootVolumeGiB;
  if (literal(rootVolumeGiB) && !isWhole(rootVolumeGiB, vol.min, vol.max)) {
    issues.add("rootVolumeGiB", rootVolumeGiB, `a whole number from ${vol.min} to ${vol.max}`);
  }
  const sshAllowedCidrs = checkCidrs(
    issues,
    "sshAllowedCidrs",
    options.sshAllowedCidrs ?? [],
    true,
  );
  const publicAddresses = options.publicAddresses ?? (net.kind === "create" ? true : undefined);
  if (net.kind === "existing" && publicAddresses === undefined) {
    // No default that can work: it depends on the subnets' routes.
    issues.add(
      "publicAddresses",
      publicAddresses,
      "true (the subnets route 0.0.0.0/0 to an internet gateway) | false (they route it through NAT): AwsNetwork.existing() needs it said; Terraform checks the routes against it",
    );
  } else if (typeof publicAddresses !== "boolean") {
    issues.add("publicAddresses", publicAddresses, "true | false");
  } else if (net.kind === "create" && !publicAddresses) {
    issues.add(
      "publicAddresses",
      publicAddresses,
      "true with AwsNetwork.create(): its subnets have no NAT, nodes without public addresses could not reach the internet",
    );
  }
  const replaceOnImageChange = options.replaceOnImageChange ?? false;
  if (typeof replaceOnImageChange !== "boolean") {
    issues.add("replaceOnImageChange", replaceOnImageChange, "true | false");
  }
  const rollingReplacement = options.rollingReplacement ?? true;
  if (typeof rollingReplacement !== "boolean") {
    issues.add("rollingReplacement", rollingReplacement, "true | false");
  }
  const constructPerResource = options.constructPerResource ?? false;
  if (typeof constructPerResource !== "boolean") {
    issues.add("constructPerResource", constructPerResource, "true | false");
  }
  const region = options.region;
  if (region !== undefined && literal(region) && !REGION_RE.test(String(region))) {
    issues.add("region", region, "an AWS region such as eu-central-1");
  }
  if (cluster.etcd.discovery.kind !== DiscoveryKind.STATIC) {
    // A token is made at deploy time; EC2 user data is fixed when Terraform plans.
    issues.add(
      "cluster.etcd.discovery",
      cluster.etcd.discovery.kind,
      "EtcdDiscovery.staticBootstrap() on AWS: the nodes' addresses are planned, so the members know each other without a discovery service, and EC2 user data (fixed when Terraform plans) cannot carry a token the deploy makes",
    );
  }
  const tags = options.tags ?? {};
  checkTags(issues, tags, isToken);

  const nodes: AwsNodePlan[] = cluster.nodes.map((n) => {
    const override = options.userDataOverride?.[n.name];
    let ignition = override ?? renderUserData(cluster, n);
    let compressed = false;
    // Too large as it is (a node with failover services): the Ignition config gzipped whole
    // inside one that replaces itself with it.
    if (
      cluster.provisioning !== Provisioning.CLOUD_CONFIG &&
      Buffer.byteLength(ignition, "utf8") > USER_DATA_LIMIT
    ) {
      ignition = compressedIgnition(ignition);
      compressed = true;
    }
    // Text rendered from the node's cached config is rendered again when read, not kept
    // (5,000 nodes: 60 MB less to carry to the synth).
    const kept = override !== undefined || compressed ? ignition : undefined;
    const bytes = Buffer.byteLength(ignition, "utf8");
    if (bytes > USER_DATA_LIMIT) {
      issues.add(
        `cluster (${cluster.provisioning === Provisioning.CLOUD_CONFIG ? "cloud-config" : "Ignition"} of ${n.name})`,
        `${bytes} bytes`,
        `at most ${USER_DATA_LIMIT} bytes of EC2 user data: fewer or smaller units and files`,
      );
    }
    return {
      name: n.name,
      address: n.address,
      subnetIndex: n.subnetIndex,
      standby: n.standby,
      get userData() {
        return kept ?? renderUserData(cluster, n);
      },
      userDataFile: `${AWS_USER_DATA_DIRECTORY}/${n.name}.${cluster.provisioning === Provisioning.CLOUD_CONFIG ? "yml" : "ign"}`,
    };
  });

  const front = options.front ? planAwsFront(cluster, options, issues) : undefined;
  if (options.front) checkFrontRunsCluster(issues, options.front, cluster);
  if (front?.internetFacing && publicAddresses === false && !loadBalancerSubnets) {
    // One default route per subnet: NAT for the nodes, or an internet gateway for the NLB.
    issues.add(
      "network.loadBalancerSubnetIds",
      undefined,
      "public subnets (routed to an internet gateway) for the internet-facing load balancer: the nodes' subnets route through NAT (publicAddresses: false); or set internetFacing: false",
    );
  }
  issues.throwIfAny(`AwsCluster "${path}"`);
  return {
    cluster,
    network: {
      kind: (net as AwsNetwork).kind,
      vpcCidr: cluster.network.cidr,
      vpcId: (net as AwsNetwork).vpcId,
      subnets,
      loadBalancerSubnets,
      dependsOn,
    },
    image: imagePlan as AwsImagePlan,
    instanceType,
    rootVolumeGiB,
    sshAllowedCidrs,
    publicAddresses: publicAddresses as boolean,
    replaceOnImageChange,
    constructPerResource,
    region,
    tags: isPlainObject(tags) ? { ...tags } : {},
    nodes,
    etcdPorts: [...cluster.etcd.ports.client, ...cluster.etcd.ports.peer],
    front,
  };
}

/** User tags: AWS's key and value rules and count, and not the tags the cluster sets itself. */
function checkTags(issues: IssueCollector, tags: unknown, isToken: (v: unknown) => boolean): void {
  if (!isPlainObject(tags)) {
    issues.add("tags", tags, "an object of tag key → value");
    return;
  }
  const keys = Object.keys(tags);
  if (keys.length > AWS_LIMITS.userTags) {
    issues.add(
      "tags",
      `${keys.length} tags`,
      `at most ${AWS_LIMITS.userTags}: AWS allows 50 per resource and the cluster sets ${RESERVED_TAGS.join(" and ")}`,
    );
  }
  for (const [k, v] of Object.entries(tags)) {
    if ((RESERVED_TAGS as readonly string[]).includes(k)) {
      issues.add(
        "tags",
        k,
        `a key other than ${RESERVED_TAGS.join(" and ")}: the cluster sets them per resource (Name: core-01, core-02, …); a ${k} tag here would give every resource the same one`,
      );
    } else if (!TAG_KEY_RE.test(k) || k.startsWith("aws:")) {
      issues.add(`tags`, k, "tag keys of 1-128 letters, digits, spaces and _.:/=+-@, not aws:…");
    } else if (!isToken(v) && (typeof v !== "string" || !TAG_VALUE_RE.test(v))) {
      issues.add(
        `tags.${k}`,
        v,
        "a string of at most 256 letters, digits, spaces and _.:/=+-@ (what AWS load balancers accept)",
      );
    }
  }
}

function checkImageVersion(
  issues: IssueCollector,
  cluster: ClusterPlan,
  version: string | undefined,
  literal: (v: unknown) => boolean,
): void {
  const lts = cluster.os.family === OsFamily.FLATCAR && cluster.os.channel === FlatcarChannel.LTS;
  if (version === undefined) {
    if (lts) {
      issues.add(
        "image.version",
        version,
        "the LTS stream's major version, e.g. AwsMachineImage.lookup({ version: \"4081\" }): two LTS streams overlap for months and the newest image may be the older stream's (streams: https://www.flatcar.org/releases)",
      );
    }
  } else if (literal(version) && (typeof version !== "string" || !IMAGE_VERSION_RE.test(version))) {
    issues.add("image.version", version, "a release prefix such as 4081 or 4081.3");
  }
}

function amiLookup(cluster: ClusterPlan, image: AwsMachineImage): AwsImagePlan["lookup"] {
  const release = image.version === undefined ? "" : `${image.version}.`;
  const common = [
    { name: "architecture", values: [image.architecture] },
    { name: "virtualization-type", values: ["hvm"] },
    { name: "root-device-type", values: ["ebs"] },
  ];
  if (cluster.os.family === OsFamily.FLATCAR) {
    return {
      owner: AMI_OWNERS[OsFamily.FLATCAR],
      filters: [{ name: "name", values: [`Flatcar-${cluster.os.channel}-${release}*`] }, ...common],
    };
  }
  return {
    owner: AMI_OWNERS[OsFamily.FEDORA_COREOS],
    filters: [
      { name: "name", values: [`fedora-coreos-${release}*`] },
      { name: "description", values: [`Fedora CoreOS ${cluster.os.channel} *`] },
      ...common,
    ],
  };
}

function wholeSeconds(
  issues: IssueCollector,
  prop: string,
  d: Duration,
  range: { readonly min: number; readonly max: number },
): number {
  const s = d.toSeconds();
  if (!isWhole(s, range.min, range.max)) {
    issues.add(prop, d.toString(), `whole seconds from ${range.min} s to ${range.max} s on AWS`);
  }
  return s;
}

/** A Duration prop in whole seconds within AWS's range; its default when left out. */
function durationSeconds(
  issues: IssueCollector,
  prop: string,
  given: unknown,
  fallback: Duration,
  range: { readonly min: number; readonly max: number },
): number {
  if (given === undefined) return fallback.toSeconds();
  if (given instanceof Duration) return wholeSeconds(issues, prop, given, range);
  issues.add(prop, given, `a Duration such as Duration.seconds(${fallback.toSeconds()})`);
  return fallback.toSeconds();
}

function planAwsHealthCheck(
  hc: HealthCheckPlan,
  prop: string,
  defaultIntervalSeconds: number,
  issues: IssueCollector,
): AwsHealthCheckPlan {
  const interval = hc.interval
    ? wholeSeconds(issues, `${prop}.interval`, hc.interval, AWS_LIMITS.intervalSeconds)
    : defaultIntervalSeconds;
  const http = hc.protocol === HealthCheckProtocol.HTTP;
  const t = AWS_LIMITS.timeoutSeconds;
  let timeout: number;
  if (hc.timeout) {
    timeout = wholeSeconds(issues, `${prop}.timeout`, hc.timeout, t);
    if (timeout >= interval) {
      issues.add(
        `${prop}.timeout`,
        hc.timeout.toString(),
        `less than the interval (${interval}s) on AWS`,
      );
    }
  } else {
    // AWS's own timeout for the protocol, kept below the interval as the API requires.
    const aws = AWS_DEFAULT_TIMEOUT_SECONDS[http ? "HTTP" : "TCP"];
    timeout = Math.max(t.min, Math.min(aws, interval - 1));
  }
  const th = AWS_LIMITS.threshold;
  for (const key of ["healthyThreshold", "unhealthyThreshold"] as const) {
    if (!isWhole(hc[key], th.min, th.max)) {
      issues.add(`${prop}.${key}`, hc[key], `a whole number from ${th.min} to ${th.max} on AWS`);
    }
  }
  return {
    protocol: http ? "HTTP" : "TCP",
    port: hc.port,
    path: http ? hc.path : undefined,
    matcher: http ? "200-399" : undefined,
    intervalSeconds: interval,
    timeoutSeconds: timeout,
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
  };
}

function planAwsFront(
  cluster: ClusterPlan,
  options: AwsOptions,
  issues: IssueCollector,
): AwsFrontPlan {
  const front = options.front as FrontPlan;
  const internetFacing = options.internetFacing ?? true;
  if (typeof internetFacing !== "boolean") {
    issues.add("internetFacing", internetFacing, "true | false");
  }
  const allowedCidrs = checkCidrs(
    issues,
    "frontAllowedCidrs",
    options.frontAllowedCidrs ?? ["0.0.0.0/0"],
    false,
  );
  const delay = durationSeconds(
    issues,
    "deregistrationDelay",
    options.deregistrationDelay,
    Duration.seconds(30),
    AWS_LIMITS.deregistrationDelaySeconds,
  );
  const intervalSeconds = durationSeconds(
    issues,
    "healthCheckInterval",
    options.healthCheckInterval,
    AWS_HEALTH_CHECK_INTERVAL,
    AWS_LIMITS.intervalSeconds,
  );
  const name = awsName(`${cluster.name}-${front.name}`);
  if (name.startsWith("internal-")) {
    issues.add("front name", name, "a load balancer name not starting with internal-");
  }
  const ports = new Set<number>();
  const listeners = front.listeners.map((l): AwsListenerPlan => {
    const tg = l.targetGroup;
    const prop = `front.listeners.${l.name}.targets`;
    if (tg.balancing === Balancing.LEAST_CONNECTIONS) {
      issues.add(
        `${prop}.balancing`,
        tg.balancing,
        `${Balancing.ROUND_ROBIN} on AWS: a Network Load Balancer spreads connections by flow hash`,
      );
    }
    if (tg.affinity === ClientAffinity.NETWORK) {
      issues.add(
        `${prop}.affinity`,
        tg.affinity,
        `${ClientAffinity.NONE} | ${ClientAffinity.SINGLE} on AWS: its stickiness is per source IP, not per /24`,
      );
    }
    for (const m of tg.members) {
      if (!contains(cluster.network, m.address)) {
        issues.add(
          `${prop} (member ${m.name})`,
          m.address,
          `an address inside the VPC ${cluster.network.cidr}: targets are registered by IP`,
        );
      }
    }
    ports.add(tg.port);
    ports.add(tg.healthCheck.port);
    return {
      id: l.name,
      port: l.port,
      targetGroup: {
        id: tg.name,
        name: awsName(`${cluster.name}-${tg.name}`),
        namePrefix: `${tg.name.slice(0, AWS_LIMITS.namePrefixLength - 1)}-`,
        port: tg.port,
        healthCheck: planAwsHealthCheck(
          tg.healthCheck,
          `${prop}.healthCheck`,
          intervalSeconds,
          issues,
        ),
        stickiness: tg.affinity === ClientAffinity.SINGLE,
        deregistrationDelaySeconds: delay,
        attachments: tg.members
          .filter((m) => !m.standby && !m.draining)
          .map((m) => ({ member: m.name, address: m.address, port: tg.port })),
      },
    };
  });
  for (const p of [
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    ETCD_LEGACY_CLIENT_PORT,
    ETCD_LEGACY_PEER_PORT,
  ]) {
    if (ports.has(p)) {
      issues.add(
        "front",
        p,
        "target ports other than etcd's (2379, 2380, and the legacy 4001, 7001): etcd stays inside the cluster",
      );
    }
  }
  return {
    plan: front,
    name,
    internetFacing,
    allowedCidrs,
    listeners,
    nodePorts: [...ports].sort((a, b) => a - b),
  };
}
