import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { AwsParts } from "./parts";

/** Who may open a port: addresses, or members of a security group. */
interface IngressSource {
  readonly cidrIpv4?: string;
  readonly referencedSecurityGroupId?: string;
  readonly description: string;
}

function ingress(
  parts: AwsParts,
  id: string,
  securityGroupId: string,
  port: number,
  source: IngressSource,
): VpcSecurityGroupIngressRule {
  return parts.named(
    new VpcSecurityGroupIngressRule(parts.scope, `Ingress-${id}`, {
      securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      ...source,
      provider: parts.provider,
    }),
    id,
  );
}

/**
 * The nodes' security group: etcd only between the nodes, SSH only from
 * `sshAllowedCidrs`, everything out (images, updates, time). Returns its id.
 */
export function nodesSecurityGroup(parts: AwsParts, vpcId: string): string {
  const { scope, plan, clusterName, provider, named, tags } = parts;
  const group = named(
    new SecurityGroup(scope, "NodesGroup", {
      name: `${clusterName}-nodes`,
      description: `Nodes of CoreOS cluster ${clusterName}`,
      vpcId,
      tags: tags(`${clusterName}-nodes`),
      provider,
    }),
    "nodes",
  );
  for (const port of plan.etcdPorts) {
    ingress(parts, `etcd_${port}`, group.id, port, {
      referencedSecurityGroupId: group.id,
      description: `etcd ${port} between the cluster's nodes only`,
    });
  }
  plan.sshAllowedCidrs.forEach((cidr, i) =>
    ingress(parts, `ssh_${i}`, group.id, 22, {
      cidrIpv4: cidr,
      description: "SSH from sshAllowedCidrs",
    }),
  );
  named(
    new VpcSecurityGroupEgressRule(scope, "NodesEgress", {
      securityGroupId: group.id,
      ipProtocol: "-1",
      cidrIpv4: "0.0.0.0/0",
      description: "Outbound: images, updates, time",
      provider,
    }),
    "nodes_egress",
  );
  return group.id;
}

/**
 * The load balancer's security group: its listener ports open to
 * `frontAllowedCidrs`, out only to the nodes' target and health-check ports,
 * which the nodes open to this group only. Returns its id.
 */
export function frontSecurityGroup(parts: AwsParts, vpcId: string, nodesGroupId: string): string {
  const { scope, clusterName, provider, named, tags } = parts;
  const fp = parts.plan.front;
  if (!fp) throw new Error(`cluster ${clusterName} has no front`);
  const group = named(
    new SecurityGroup(scope, "FrontGroup", {
      name: `${clusterName}-front`,
      description: `Load balancer of CoreOS cluster ${clusterName}`,
      vpcId,
      tags: tags(`${clusterName}-front`),
      provider,
    }),
    "front",
  );
  for (const l of fp.listeners) {
    fp.allowedCidrs.forEach((cidr, i) =>
      ingress(parts, `front_${l.id}_${i}`, group.id, l.port, {
        cidrIpv4: cidr,
        description: `Listener ${l.id}`,
      }),
    );
  }
  for (const port of fp.nodePorts) {
    ingress(parts, `from_front_${port}`, nodesGroupId, port, {
      referencedSecurityGroupId: group.id,
      description: "Traffic and health checks from the load balancer",
    });
    named(
      new VpcSecurityGroupEgressRule(scope, `FrontTo${port}`, {
        securityGroupId: group.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: nodesGroupId,
        description: "To the nodes",
        provider,
      }),
      `front_to_nodes_${port}`,
    );
  }
  return group.id;
}
