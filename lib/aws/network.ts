import { Fn, ITerraformDependable, Op, TerraformSelf } from "cdktf";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { AwsParts } from "./parts";
import { RouteCheck, RouteNeed, routeChecks } from "./routes";

/** The network the nodes and the load balancer use. */
export interface AwsClusterNetwork {
  readonly vpcId: string;
  /** The nodes' subnets, in `subnetCidrs` order. */
  readonly subnetIds: string[];
  readonly subnetZones: string[];
  /** The load balancer's subnets (the nodes' unless given apart). */
  readonly loadBalancerSubnetIds: string[];
  readonly loadBalancerSubnetZones: string[];
  /** What the nodes must wait for: their way out built (and checked). */
  readonly nodesReady: ITerraformDependable[];
  /** What the load balancer must wait for: its subnets routed (and checked). */
  readonly loadBalancerReady: ITerraformDependable[];
}

/** Creates the network (AwsNetwork.create) or reads the given one back (AwsNetwork.existing). */
export function clusterNetwork(parts: AwsParts): AwsClusterNetwork {
  return parts.plan.network.kind === "create" ? createNetwork(parts) : existingNetwork(parts);
}

function createNetwork(parts: AwsParts): AwsClusterNetwork {
  const { scope, plan, clusterName, provider, named, tags } = parts;
  const vpc = named(
    new Vpc(scope, "Vpc", {
      cidrBlock: plan.network.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: tags(clusterName),
      provider,
    }),
    "vpc",
  );
  const vpcId = vpc.id;
  let zoneOf: (i: number) => string;
  if (plan.network.subnets.every((s) => s.availabilityZone)) {
    zoneOf = (i) => plan.network.subnets[i].availabilityZone as string;
  } else {
    const zones = named(
      new DataAwsAvailabilityZones(scope, "Zones", {
        state: "available",
        filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
        provider,
        lifecycle: {
          postcondition: [
            {
              condition: Op.gte(
                Fn.lengthOf(TerraformSelf.getAny("names")),
                plan.network.subnets.length,
              ),
              errorMessage: `cluster ${clusterName} has ${plan.network.subnets.length} subnets, one per availability zone, but the region has fewer zones: give fewer subnetCidrs`,
            },
          ],
        },
      }),
      "zones",
    );
    zoneOf = (i) => Fn.element(zones.names, i);
  }
  const gateway = named(
    new InternetGateway(scope, "Gateway", { vpcId, tags: tags(clusterName), provider }),
    "gateway",
  );
  const routes = named(
    new RouteTable(scope, "Routes", {
      vpcId,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
      tags: tags(`${clusterName}-public`),
      provider,
    }),
    "public",
  );
  const subnets = plan.network.subnets.map((s) =>
    named(
      new Subnet(scope, `Subnet${s.index}`, {
        vpcId,
        cidrBlock: s.cidr,
        availabilityZone: zoneOf(s.index),
        mapPublicIpOnLaunch: false,
        tags: tags(`${clusterName}-${s.index}`),
        provider,
      }),
      `subnet_${s.index}`,
    ),
  );
  const ready = subnets.map((s, i) =>
    named(
      new RouteTableAssociation(scope, `Public${i}`, {
        subnetId: s.id,
        routeTableId: routes.id,
        provider,
      }),
      `public_${i}`,
    ),
  );
  const subnetIds = subnets.map((s) => s.id);
  const subnetZones = subnets.map((s) => s.availabilityZone);
  return {
    vpcId,
    subnetIds,
    subnetZones,
    loadBalancerSubnetIds: subnetIds,
    loadBalancerSubnetZones: subnetZones,
    nodesReady: ready,
    loadBalancerReady: ready,
  };
}

function existingNetwork(parts: AwsParts): AwsClusterNetwork {
  const { scope, plan, clusterName, provider, named } = parts;
  const vpcId = plan.network.vpcId as string;
  const inVpc = (what: string) => ({
    condition: Op.eq(TerraformSelf.getString("vpc_id"), vpcId),
    errorMessage: `${what} of cluster ${clusterName} must lie in the VPC given as network.vpcId`,
  });
  const found = plan.network.subnets.map((s) =>
    named(
      new DataAwsSubnet(scope, `Subnet${s.index}`, {
        id: s.subnetId,
        provider,
        lifecycle: {
          // The cluster's addresses are planned from subnetCidrs: a mismatch stops the plan.
          postcondition: [
            {
              condition: Op.eq(TerraformSelf.getString("cidr_block"), s.cidr),
              errorMessage: `subnet ${s.index} of cluster ${clusterName} must have the CIDR ${s.cidr} (the cluster's subnetCidrs[${s.index}])`,
            },
            inVpc(`subnet ${s.index}`),
          ],
        },
      }),
      `subnet_${s.index}`,
    ),
  );
  const lbFound = (plan.network.loadBalancerSubnets ?? []).map((s) =>
    named(
      new DataAwsSubnet(scope, `LbSubnet${s.index}`, {
        id: s.subnetId,
        provider,
        lifecycle: { postcondition: [inVpc(`load balancer subnet ${s.index}`)] },
      }),
      `lb_subnet_${s.index}`,
    ),
  );
  const lb = lbFound.length ? lbFound : found;
  const tables = routeChecks(
    parts,
    vpcId,
    routeNeeds(parts, found, lbFound),
    plan.network.dependsOn,
  );
  const dependsOn = plan.network.dependsOn;
  const nodeTables = tables.slice(0, found.length);
  // Separate load balancer subnets have their own checks; shared ones share the nodes'.
  const lbTables = lbFound.length ? tables.slice(found.length) : nodeTables;
  return {
    vpcId,
    subnetIds: found.map((s) => s.id),
    subnetZones: found.map((s) => s.availabilityZone),
    loadBalancerSubnetIds: lb.map((s) => s.id),
    loadBalancerSubnetZones: lb.map((s) => s.availabilityZone),
    nodesReady: [...dependsOn, ...nodeTables],
    loadBalancerReady: [...dependsOn, ...lbTables],
  };
}

/**
 * What each existing subnet's routes must give: nodes a way out (an internet
 * gateway for public addresses, NAT without), an internet-facing load
 * balancer an internet gateway. Node subnets first, then the load balancer's
 * own ones (when given and internet-facing).
 */
function routeNeeds(
  parts: AwsParts,
  nodeSubnets: readonly DataAwsSubnet[],
  lbSubnets: readonly DataAwsSubnet[],
): RouteCheck[] {
  const { plan, clusterName } = parts;
  const internetFacing = plan.front?.internetFacing ?? false;
  const lbNeed = {
    need: RouteNeed.INTERNET_GATEWAY,
    why: "an internet-facing Network Load Balancer needs public subnets; give public ones as network.loadBalancerSubnetIds, or set internetFacing: false",
  };
  const nodeNeed = plan.publicAddresses
    ? {
        need: RouteNeed.INTERNET_GATEWAY,
        why: "nodes with public addresses (publicAddresses: true) reach the internet through one; route the subnet to an internet gateway, or set publicAddresses: false and route it through NAT",
      }
    : {
        need: RouteNeed.NAT,
        why: "nodes without public addresses (publicAddresses: false) need NAT to pull their images at boot; add a NAT route, or set publicAddresses: true if the subnet routes to an internet gateway",
      };
  // Shared with an internet-facing load balancer, the nodes are public (the plan insists).
  const shared = internetFacing && lbSubnets.length === 0;
  const why = shared
    ? `${nodeNeed.why}; the internet-facing load balancer in it needs one too`
    : nodeNeed.why;
  const checks: RouteCheck[] = nodeSubnets.map((s, i) => ({
    key: `subnet_${i}`,
    subnetId: s.id,
    label: `subnetCidrs[${i}] of cluster ${clusterName}`,
    needs: [{ need: nodeNeed.need, why }],
  }));
  if (internetFacing) {
    lbSubnets.forEach((s, i) =>
      checks.push({
        key: `lb_subnet_${i}`,
        subnetId: s.id,
        label: `loadBalancerSubnetIds[${i}] of cluster ${clusterName}`,
        needs: [lbNeed],
      }),
    );
  }
  return checks;
}
