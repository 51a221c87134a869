import { ClusterPlan, NodePlan } from "../cluster/plan";
import { Provisioning } from "../cluster/provisioning";
import { nodeCloudConfig, nodeIgnitionCompact } from "./ignition-cache";

/**
 * A node's config as a cloud's user data: compact Ignition JSON, or the
 * `#cloud-config` Flatcar's coreos-cloudinit reads from the EC2 metadata
 * service (its `ec2-compat` OEM source).
 */
export function renderUserData(plan: ClusterPlan, node: NodePlan): string {
  return plan.provisioning === Provisioning.CLOUD_CONFIG
    ? nodeCloudConfig(plan, node)
    : nodeIgnitionCompact(plan, node);
}
