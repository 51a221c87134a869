import { Fn, Op } from "cdktf";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { LbTargetGroupAttachment } from "@cdktf/provider-aws/lib/lb-target-group-attachment";
import { AwsClusterNetwork } from "./network";
import { AwsFrontPlan, AwsTargetGroupPlan } from "./plan";
import { AwsParts } from "./parts";

/**
 * The front as an AWS Network Load Balancer: one TCP listener per front
 * listener, each forwarding to its target group of node addresses.
 */
export function networkLoadBalancer(
  parts: AwsParts,
  front: AwsFrontPlan,
  network: AwsClusterNetwork,
  securityGroupId: string,
  instances: readonly Instance[],
): Lb {
  const { scope, plan, clusterName, provider, named, tags } = parts;
  const multiZone = plan.network.kind === "existing" && network.subnetZones.length > 1;
  const zones = network.subnetZones;
  const lb = named(
    new Lb(scope, "LoadBalancer", {
      name: front.name,
      loadBalancerType: "network",
      internal: !front.internetFacing,
      subnets: network.subnetIds,
      securityGroups: [securityGroupId],
      enableCrossZoneLoadBalancing: true,
      tags: tags(front.name),
      dependsOn: network.ready,
      provider,
      lifecycle: multiZone
        ? {
            precondition: [
              {
                condition: Op.eq(Fn.lengthOf(Fn.distinct(zones)), zones.length),
                errorMessage: `the subnets of cluster ${clusterName} must lie in distinct availability zones: a Network Load Balancer takes one subnet per zone`,
              },
            ],
          }
        : undefined,
    }),
    front.plan.name,
  );
  for (const l of front.listeners) {
    const group = targetGroup(parts, l.targetGroup, network.vpcId);
    named(
      new LbListener(scope, `Listener-${l.id}`, {
        loadBalancerArn: lb.arn,
        port: l.port,
        protocol: "TCP",
        defaultAction: [{ type: "forward", targetGroupArn: group.arn }],
        tags: tags(`${front.name}-${l.id}`),
        provider,
      }),
      `${front.plan.name}_${l.id}`,
    );
    for (const a of l.targetGroup.attachments) {
      const index = plan.nodes.findIndex((n) => n.name === a.member);
      named(
        new LbTargetGroupAttachment(scope, `Target-${l.targetGroup.id}-${a.member}`, {
          targetGroupArn: group.arn,
          targetId: a.address,
          port: a.port,
          dependsOn: index >= 0 ? [instances[index]] : undefined,
          provider,
        }),
        `${l.targetGroup.id}_${a.member}`,
      );
    }
  }
  return lb;
}

function targetGroup(parts: AwsParts, g: AwsTargetGroupPlan, vpcId: string): LbTargetGroup {
  const hc = g.healthCheck;
  const front = parts.plan.front as AwsFrontPlan;
  return parts.named(
    new LbTargetGroup(parts.scope, `Group-${g.id}`, {
      name: g.name,
      port: g.port,
      protocol: "TCP",
      targetType: "ip",
      vpcId,
      deregistrationDelay: String(g.deregistrationDelaySeconds),
      healthCheck: {
        enabled: true,
        protocol: hc.protocol,
        port: String(hc.port),
        path: hc.path,
        matcher: hc.matcher,
        interval: hc.intervalSeconds,
        timeout: hc.timeoutSeconds,
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
      },
      stickiness: g.stickiness ? { type: "source_ip", enabled: true } : undefined,
      tags: parts.tags(g.name),
      provider: parts.provider,
    }),
    `${front.plan.name}_${g.id}`,
  );
}
