import { ClusterTopology } from "../render/topology";
import { clusterTopology, healthCheckWords } from "../topology/model";
import { AwsPlan } from "./plan";

/** The picture's panel of an AWS cluster: EC2 nodes in their subnets, the Network Load Balancer. */
export function awsTopology(plan: AwsPlan): ClusterTopology {
  const f = plan.front;
  const subnets = plan.network.subnets.map((s) => s.cidr);
  return clusterTopology(
    plan.cluster,
    {
      kind: "aws",
      title: "AWS EC2",
      details: [
        `${plan.instanceType} per node`,
        `${subnets.length === 1 ? "subnet" : "subnets"} ${subnets.join(", ")} (one per zone)`,
        `region ${plan.region ?? "of the AWS provider"}`,
        plan.publicAddresses ? "nodes with public addresses" : "nodes without public addresses",
      ],
    },
    f && {
      plan: f.plan,
      kind: `AWS Network Load Balancer, ${f.internetFacing ? "internet-facing" : "internal"}`,
      address: `DNS name of load balancer ${f.name}, known after deploy`,
      machines: [],
      listeners: f.listeners.map((l, i) => {
        const hc = l.targetGroup.healthCheck;
        return {
          name: l.id,
          port: l.port,
          protocol: f.plan.listeners[i].protocol,
          targetGroup: l.targetGroup.id,
          targetPort: l.targetGroup.port,
          healthCheck: healthCheckWords(
            hc.protocol.toLowerCase(),
            hc.path,
            `${hc.intervalSeconds}s`,
          ),
        };
      }),
      note: `listeners open to ${f.allowedCidrs.join(", ")}; standby and drained nodes are not registered`,
    },
  );
}
