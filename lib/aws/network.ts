import { Fn, Op, TerraformResource, TerraformSelf } from "cdktf";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { AwsParts } from "./parts";

/** The network the nodes and the load balancer use. */
export interface AwsClusterNetwork {
  readonly vpcId: string;
  /** In `subnetCidrs` order. */
  readonly subnetIds: string[];
  readonly subnetZones: string[];
  /** What machines and the load balancer must wait for (routes to the gateway). */
  readonly ready: TerraformResource[];
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
  return {
    vpcId,
    subnetIds: subnets.map((s) => s.id),
    subnetZones: subnets.map((s) => s.availabilityZone),
    ready,
  };
}

function existingNetwork(parts: AwsParts): AwsClusterNetwork {
  const { scope, plan, clusterName, provider, named } = parts;
  const vpcId = plan.network.vpcId as string;
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
            {
              condition: Op.eq(TerraformSelf.getString("vpc_id"), vpcId),
              errorMessage: `subnet ${s.index} of cluster ${clusterName} must lie in the VPC given as network.vpcId`,
            },
          ],
        },
      }),
      `subnet_${s.index}`,
    ),
  );
  return {
    vpcId,
    subnetIds: found.map((s) => s.id),
    subnetZones: found.map((s) => s.availabilityZone),
    ready: [],
  };
}
