import { Annotations } from "cdktf";
import { Construct } from "constructs";
import { CoreOsCluster } from "../cluster/cluster";
import type { NodePlan } from "../cluster/plan";
import { onSynthesize } from "../core/synthesized-files";
import { StateFiles } from "../etcd/state-directory";
import { configHash, planRollout, RolloutRecord } from "../etcd/rollout";
import { renderUserData } from "../render/user-data";
import { shellQuote } from "../render/shell";
import { TERRAFORM_DATA, TerraformDataConfig } from "../vagrant/terraform-data";
import { ResourceBlocks, ResourceReference } from "../core/resource-blocks";

const RECORD = "aws-rollout.json";
const userDataFile = (node: string) => `aws-rollout/${node}.ign`;
const appliedFile = (node: string) => `aws-rollout/${node}.applied`;

/** The Ignition each instance gets in this deploy, and how Terraform confirms it applied it. */
export interface AwsRollout {
  /**
   * Node → the (compact) Ignition it keeps although its config changed:
   * what it was given before. Every other node gets its config as rendered now.
   */
  readonly userData: Readonly<Record<string, string>>;
  /** After `node`'s instance: a marker that Terraform applied its config. */
  confirm(node: string, instance: ResourceReference): void;
}

/**
 * Decides, from the cluster's state folder, which node's config changes in
 * this deploy (one at a time; see lib/etcd/rollout.ts), keeps what it gave
 * each node, and warns at synth which node goes now and which wait.
 */
export function awsRollout(
  scope: Construct,
  cluster: CoreOsCluster,
  options: { readonly constructPerResource?: boolean } = {},
): AwsRollout {
  const store = new StateFiles(cluster.stateDirectory);
  const plan = cluster.plan;
  const nodeNamed = new Map(plan.nodes.map((n) => [n.name, n]));
  // The texts are rendered again when needed (cheap: the node's Ignition is cached), not kept.
  const desiredText = (node: string) => renderUserData(plan, nodeNamed.get(node) as NodePlan);
  const desired: Record<string, string> = {};
  const applied: Record<string, string> = {};
  for (const n of plan.nodes) {
    desired[n.name] = configHash(renderUserData(plan, n));
    const marker = store.read(appliedFile(n.name));
    if (marker) applied[n.name] = marker.trim();
  }
  const previousText = store.read(RECORD);
  const previous = previousText ? (JSON.parse(previousText) as RolloutRecord) : undefined;
  const decision = planRollout(desired, previous, applied);
  const userData: Record<string, string> = {};
  const hashes: Record<string, string> = {};
  for (const [node, give] of Object.entries(decision.give)) {
    // An unchanged node's previous config is the text rendered now (same hash): not read back.
    const held =
      give === "previous" && previous?.emitted[node] !== desired[node]
        ? store.read(userDataFile(node))
        : undefined;
    if (held !== undefined) userData[node] = held;
    hashes[node] = held !== undefined ? configHash(held) : desired[node];
  }
  onSynthesize(scope, () => {
    for (const [node, give] of Object.entries(decision.give)) {
      // Kept from an earlier synth when the node was given the same config then.
      const kept = previous?.emitted[node] === desired[node] && store.exists(userDataFile(node));
      if (give === "desired" && !kept) store.write(userDataFile(node), desiredText(node));
    }
    store.write(RECORD, `${JSON.stringify(decision.record, null, 2)}\n`);
  });
  if (decision.active || decision.waiting.length > 0) {
    Annotations.of(scope).addWarning(
      `rolling replacement: this deploy replaces ${decision.active ?? "no node"}${decision.waiting.length ? `; ${decision.waiting.join(", ")} wait, one per deploy: when etcdctl endpoint health is good on every member, deploy again` : ""}.`,
    );
  }
  const pointer = `clusters/${cluster.clusterName}/state-directory`;
  let markers: ResourceBlocks<TerraformDataConfig> | undefined;
  return {
    userData,
    confirm(node, instance) {
      const hash = hashes[node];
      markers ??= new ResourceBlocks(scope, "RolloutMarkers", TERRAFORM_DATA, options);
      markers.add(`${node}-applied`, `${cluster.clusterName}_${node}_applied`, {
        input: { node, config: hash },
        triggersReplace: { config: hash },
        dependsOn: [instance],
        provisioners: [
          {
            type: "local-exec",
            // The state folder's path travels in a file synth writes, not in the configuration.
            command: `d="$(cat ${shellQuote(pointer)})" && mkdir -p "$d/aws-rollout" && echo ${shellQuote(hash)} > "$d/"${shellQuote(appliedFile(node))}`,
          },
        ],
      });
    },
  };
}
