import { Fn, ITerraformDependable } from "cdktf";
import { DataAwsRouteTable } from "@cdktf/provider-aws/lib/data-aws-route-table";
import { DataAwsRouteTables } from "@cdktf/provider-aws/lib/data-aws-route-tables";
import { AwsParts } from "./parts";

/** What a subnet's routes must give the machines in it. */
export enum RouteNeed {
  /** A default route to an internet gateway: public addresses, an internet-facing load balancer. */
  INTERNET_GATEWAY = "internet-gateway",
  /** A default route through NAT (a NAT gateway, a transit gateway, a NAT instance or appliance). */
  NAT = "nat",
}

/** One subnet to check: its id, how messages name it, and what it needs, each with why. */
export interface RouteCheck {
  /** Logical-id stem of the lookups, e.g. `subnet_0`, `lb_subnet_1`. */
  readonly key: string;
  readonly subnetId: string;
  /** How a message names the subnet besides its id, e.g. `subnetCidrs[0] of cluster core`. */
  readonly label: string;
  readonly needs: readonly { readonly need: RouteNeed; readonly why: string }[];
}

// Route attributes are null or "" when unset; coalesce and compact treat both alike.
const DEFAULT_ROUTE = `r.cidr_block == "0.0.0.0/0"`;
const CONDITIONS: Record<RouteNeed, string> = {
  [RouteNeed.INTERNET_GATEWAY]: `\${anytrue([for r in self.routes : ${DEFAULT_ROUTE} && startswith(coalesce(r.gateway_id, "-"), "igw-")])}`,
  [RouteNeed.NAT]: `\${anytrue([for r in self.routes : ${DEFAULT_ROUTE} && length(compact([r.nat_gateway_id, r.transit_gateway_id, r.network_interface_id, r.instance_id, r.core_network_arn, r.local_gateway_id, startswith(coalesce(r.gateway_id, "-"), "vgw-") ? r.gateway_id : ""])) > 0])}`,
};
const WHAT: Record<RouteNeed, string> = {
  [RouteNeed.INTERNET_GATEWAY]: "to an internet gateway (igw-…)",
  [RouteNeed.NAT]: "through a NAT gateway (or a transit gateway, a NAT instance)",
};

/**
 * Reads the route table of each subnet, the way AWS picks it (the table
 * explicitly associated with the subnet, else the VPC's main table), and
 * stops the plan with a message naming the subnet and the missing route when
 * the routes cannot give the subnet what it needs. The lookups read after
 * `dependsOn` (what builds the routes in the same deploy). Returns the checked
 * route tables, in `checks` order: what must be created after the checks
 * passed depends on them.
 */
export function routeChecks(
  parts: AwsParts,
  vpcId: string,
  checks: readonly RouteCheck[],
  dependsOn: readonly ITerraformDependable[],
): DataAwsRouteTable[] {
  const { scope, provider, named } = parts;
  const after = dependsOn.length ? [...dependsOn] : undefined;
  const hint = dependsOn.length
    ? ""
    : " If the stack builds that route in the same deploy, pass it (or its route table association) as AwsNetwork.existing({ dependsOn }).";
  const main = named(
    new DataAwsRouteTable(scope, "MainRoutes", {
      vpcId,
      filter: [{ name: "association.main", values: ["true"] }],
      dependsOn: after,
      provider,
    }),
    "main_routes",
  );
  return checks.map((c) => {
    const associated = named(
      new DataAwsRouteTables(scope, `Associated-${c.key}`, {
        vpcId,
        filter: [{ name: "association.subnet-id", values: [c.subnetId] }],
        dependsOn: after,
        provider,
      }),
      `${c.key}_route_tables`,
    );
    return named(
      new DataAwsRouteTable(scope, `Routes-${c.key}`, {
        // A subnet without its own route table uses the VPC's main table.
        routeTableId: Fn.element(Fn.concat([associated.ids, [main.id]]), 0),
        dependsOn: after,
        provider,
        lifecycle: {
          postcondition: c.needs.map(({ need, why }) => ({
            condition: CONDITIONS[need],
            errorMessage: `subnet ${c.subnetId} (${c.label}) has no default route (0.0.0.0/0) ${WHAT[need]} in its route table \${self.route_table_id}: ${why}.${hint}`,
          })),
        },
      }),
      `${c.key}_routes`,
    );
  });
}
