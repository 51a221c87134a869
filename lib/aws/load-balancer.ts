import { Fn, ITerraformDependable, Op, TerraformResourceLifecycle } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { ResourceBlocks, ResourceReference } from "../core/resource-blocks";
import { AwsClusterNetwork } from "./network";
import { AwsFrontPlan, AwsTargetGroupPlan } from "./plan";
import { AwsParts } from "./parts";
import { TARGET_GROUP_ATTACHMENT } from "./resource-kinds";

/**
 * The front as an AWS Network Load Balancer: one TCP listener per front
 * listener, each forwarding to its target group of node addresses. The load
 * balancer waits for its subnets' routes and for the nodes' address
 * reservations, so its interfaces never take a node's address.
 */
export function networkLoadBalancer(
  parts: AwsParts,
  front: AwsFrontPlan,
  network: AwsClusterNetwork,
  securityGroupId: string,
  instances: readonly ResourceReference[],
  reservations: readonly ITerraformDependable[],
): Lb {
  const { scope, plan, provider, named, logicalId, tags } = parts;
  const lb = named(
    new Lb(scope, "LoadBalancer", {
      name: front.name,
      loadBalancerType: "network",
      internal: !front.internetFacing,
      subnets: network.loadBalancerSubnetIds,
      securityGroups: [securityGroupId],
      enableCrossZoneLoadBalancing: true,
      tags: tags(front.name),
      dependsOn: [...network.loadBalancerReady, ...reservations],
      provider,
      lifecycle: zoneChecks(parts, network),
    }),
    front.plan.name,
  );
  const instanceOf = new Map(plan.nodes.map((n, i) => [n.name, instances[i]]));
  const registrations = new ResourceBlocks(
    scope,
    "TargetRegistrations",
    TARGET_GROUP_ATTACHMENT,
    parts,
  );
  for (const l of front.listeners) {
    const group = targetGroup(parts, l.targetGroup, network.vpcId);
    const targets = l.targetGroup.attachments.map((a) => {
      const instance = instanceOf.get(a.member);
      return registrations.add(
        `Target-${l.targetGroup.id}-${a.member}`,
        logicalId(`${l.targetGroup.id}_${a.member}`),
        {
          targetGroupArn: group.arn,
          targetId: a.address,
          port: a.port,
          dependsOn: instance ? [instance] : undefined,
          provider,
          // A node replaced or resized (stop, start) is deregistered first and registered again after.
          lifecycle: instance ? { replaceTriggeredBy: replacedWith(instance) } : undefined,
        },
      );
    });
    named(
      new LbListener(scope, `Listener-${l.id}`, {
        loadBalancerArn: lb.arn,
        port: l.port,
        protocol: "TCP",
        defaultAction: [{ type: "forward", targetGroupArn: group.arn }],
        tags: tags(`${front.name}-${l.id}`),
        // A replacement group takes traffic once its targets are registered.
        dependsOn: targets,
        provider,
      }),
      `${front.plan.name}_${l.id}`,
    );
  }
  return lb;
}

/** References that replace a target's registration with its node: a new instance, or a resize (stop, start). */
function replacedWith(instance: ResourceReference): string[] {
  return [`${instance.address}.id`, `${instance.address}.instance_type`];
}

/**
 * Plan-time checks of subnets the stack does not create: a Network Load
 * Balancer takes one subnet per zone, and it reaches (with cross-zone
 * balancing) only nodes in zones it has a subnet in.
 */
function zoneChecks(
  parts: AwsParts,
  network: AwsClusterNetwork,
): TerraformResourceLifecycle | undefined {
  if (parts.plan.network.kind !== "existing") return undefined;
  const { clusterName } = parts;
  const lbZones = network.loadBalancerSubnetZones;
  const precondition = [];
  if (lbZones.length > 1) {
    precondition.push({
      condition: Op.eq(Fn.lengthOf(Fn.distinct(lbZones)), lbZones.length),
      errorMessage: `the load balancer subnets of cluster ${clusterName} must lie in distinct availability zones: a Network Load Balancer takes one subnet per zone`,
    });
  }
  if (parts.plan.network.loadBalancerSubnets) {
    const missing = Fn.setsubtract(network.subnetZones, lbZones);
    precondition.push({
      // (Op.eq with a literal 0 renders as "== undefined" in cdktf 0.21.)
      condition: Op.lt(Fn.lengthOf(missing), 1),
      errorMessage: `the load balancer subnets of cluster ${clusterName} must cover every availability zone with nodes (cross-zone balancing reaches only zones the load balancer is in); missing: ${Fn.join(", ", Fn.sort(missing))}`,
    });
  }
  return precondition.length ? { precondition } : undefined;
}

function targetGroup(parts: AwsParts, g: AwsTargetGroupPlan, vpcId: string): LbTargetGroup {
  const hc = g.healthCheck;
  const front = parts.plan.front as AwsFrontPlan;
  return parts.named(
    new LbTargetGroup(parts.scope, `Group-${g.id}`, {
      // A unique name, so that a replacement (new port, protocol, VPC) can
      // exist next to the group it replaces: the listener moves over, then
      // the old group goes (AWS refuses to delete a group a listener uses).
      namePrefix: g.namePrefix,
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
      lifecycle: { createBeforeDestroy: true },
    }),
    `${front.plan.name}_${g.id}`,
  );
}
