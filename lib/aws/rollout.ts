import { Annotations, TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { CoreOsCluster } from "../cluster/cluster";
import { onSynthesize } from "../core/synthesized-files";
import { StateFiles } from "../etcd/state-directory";
import { configHash, planRollout, RolloutRecord } from "../etcd/rollout";
import { renderUserData } from "../render/user-data";
import { shellQuote } from "../render/shell";
import { TerraformData } from "../vagrant/terraform-data";

const RECORD = "aws-rollout.json";
const userDataFile = (node: string) => `aws-rollout/${node}.ign`;
const appliedFile = (node: string) => `aws-rollout/${node}.applied`;

/** The Ignition each instance gets in this deploy, and how Terraform confirms it applied it. */
export interface AwsRollout {
  /** Node → the (compact) Ignition it gets now. */
  readonly userData: Readonly<Record<string, string>>;
  /** After each instance: a marker that Terraform applied its config. */
  confirm(scope: Construct, node: string, instance: TerraformResource, id: string): void;
}

/**
 * Decides, from the cluster's state folder, which node's config changes in
 * this deploy (one at a time; see lib/etcd/rollout.ts), keeps what it gave
 * each node, and warns at synth which node goes now and which wait.
 */
export function awsRollout(scope: Construct, cluster: CoreOsCluster): AwsRollout {
  const store = new StateFiles(cluster.stateDirectory);
  const desiredText: Record<string, string> = {};
  const desired: Record<string, string> = {};
  const applied: Record<string, string> = {};
  for (const n of cluster.plan.nodes) {
    desiredText[n.name] = renderUserData(cluster.plan, n);
    desired[n.name] = configHash(desiredText[n.name]);
    const marker = store.read(appliedFile(n.name));
    if (marker) applied[n.name] = marker.trim();
  }
  const previousText = store.read(RECORD);
  const previous = previousText ? (JSON.parse(previousText) as RolloutRecord) : undefined;
  const decision = planRollout(desired, previous, applied);
  const userData: Record<string, string> = {};
  for (const [node, give] of Object.entries(decision.give)) {
    // An unchanged node's previous config is the text rendered now (same hash): not read back.
    const held =
      give === "previous" && previous?.emitted[node] !== desired[node]
        ? store.read(userDataFile(node))
        : undefined;
    userData[node] = held ?? desiredText[node];
  }
  onSynthesize(scope, () => {
    for (const [node, give] of Object.entries(decision.give)) {
      if (give === "desired") store.write(userDataFile(node), desiredText[node]);
    }
    store.write(RECORD, `${JSON.stringify(decision.record, null, 2)}\n`);
  });
  if (decision.active || decision.waiting.length > 0) {
    Annotations.of(scope).addWarning(
      `rolling replacement: this deploy replaces ${decision.active ?? "no node"}${decision.waiting.length ? `; ${decision.waiting.join(", ")} wait, one per deploy: when etcdctl endpoint health is good on every member, deploy again` : ""}.`,
    );
  }
  const pointer = `clusters/${cluster.clusterName}/state-directory`;
  return {
    userData,
    confirm(parent, node, instance, id) {
      const hash = configHash(userData[node]);
      const marker = new TerraformData(parent, id, {
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
      marker.overrideLogicalId(`${cluster.clusterName}_${node}_applied`);
    },
  };
}
