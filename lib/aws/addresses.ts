import { Ec2SubnetCidrReservation } from "@cdktf/provider-aws/lib/ec2-subnet-cidr-reservation";
import { AwsClusterNetwork } from "./network";
import { AwsParts } from "./parts";

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
): Ec2SubnetCidrReservation[] {
  const { scope, plan, clusterName, provider, named } = parts;
  return plan.nodes.map((n) =>
    named(
      new Ec2SubnetCidrReservation(scope, `Reserved-${n.name}`, {
        subnetId: network.subnetIds[n.subnetIndex],
        cidrBlock: `${n.address}/32`,
        reservationType: "explicit",
        description: `Address of node ${n.name} of CoreOS cluster ${clusterName}`,
        provider,
      }),
      `reserved_${n.name}`,
    ),
  );
}
