import { ResourceBlocks, ResourceReference } from "../core/resource-blocks";
import { AwsClusterNetwork } from "./network";
import { AwsParts } from "./parts";
import { SUBNET_CIDR_RESERVATION } from "./resource-kinds";

/**
 * One explicit subnet CIDR reservation per node, in node order: AWS assigns
 * no address of an explicit reservation by itself, so nothing that takes
 * addresses from the subnet (the load balancer's interfaces, other ENIs)
 * can take a node's planned address, on the first deploy or while a node is
 * replaced. A node's reservation outlives its instances: it depends on the
 * subnet only.
 */
export function nodeAddressReservations(
  parts: AwsParts,
  network: AwsClusterNetwork,
): ResourceReference[] {
  const { scope, plan, clusterName, provider, logicalId } = parts;
  const blocks = new ResourceBlocks(scope, "AddressReservations", SUBNET_CIDR_RESERVATION, parts);
  return plan.nodes.map((n) =>
    blocks.add(`Reserved-${n.name}`, logicalId(`reserved_${n.name}`), {
      subnetId: network.subnetIds[n.subnetIndex],
      cidrBlock: `${n.address}/32`,
      reservationType: "explicit",
      description: `Address of node ${n.name} of CoreOS cluster ${clusterName}`,
      provider,
    }),
  );
}
