import { Fn, TerraformStack } from "cdktf";
import type { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import type { Subnet } from "@cdktf/provider-aws/lib/subnet";
import type { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { BENCH_AWS, BENCH_STACK } from "./shape";

/**
 * What the AWS stack of both bench apps owns itself, as main.ts's does: the
 * provider, a VPC, an internet gateway and three public subnets. Loaded on
 * use, so that the Vagrant runs load no AWS provider class.
 */
export async function stackNetwork(
  stack: TerraformStack,
): Promise<{ vpc: Vpc; subnets: Subnet[]; publicRoutes: RouteTableAssociation[] }> {
  const { AwsProvider } = await import("@cdktf/provider-aws/lib/provider");
  const { Vpc } = await import("@cdktf/provider-aws/lib/vpc");
  const { DataAwsAvailabilityZones } = await import(
    "@cdktf/provider-aws/lib/data-aws-availability-zones"
  );
  const { InternetGateway } = await import("@cdktf/provider-aws/lib/internet-gateway");
  const { RouteTable } = await import("@cdktf/provider-aws/lib/route-table");
  const { RouteTableAssociation } = await import("@cdktf/provider-aws/lib/route-table-association");
  const { Subnet } = await import("@cdktf/provider-aws/lib/subnet");
  new AwsProvider(stack, "aws", { defaultTags: [{ tags: { project: BENCH_STACK } }] });
  const vpc = new Vpc(stack, "vpc", { cidrBlock: BENCH_AWS.vpcCidr, tags: { Name: BENCH_STACK } });
  const zones = new DataAwsAvailabilityZones(stack, "zones", { state: "available" });
  const gateway = new InternetGateway(stack, "gateway", { vpcId: vpc.id });
  const table = new RouteTable(stack, "public", {
    vpcId: vpc.id,
    route: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
  });
  const subnets = BENCH_AWS.subnetCidrs.map(
    (cidr, i) =>
      new Subnet(stack, `subnet-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr,
        availabilityZone: Fn.element(zones.names, i),
      }),
  );
  const publicRoutes = subnets.map(
    (s, i) =>
      new RouteTableAssociation(stack, `public-${i}`, { subnetId: s.id, routeTableId: table.id }),
  );
  return { vpc, subnets, publicRoutes };
}
