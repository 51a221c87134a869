import type { ClusterPlan, NodePlan } from "../cluster/plan";
import { renderIgnitionJson } from "./ignition";

/** Each node's Ignition text, per plan: the cluster renders it, its targets reuse it. */
const rendered = new WeakMap<ClusterPlan, WeakMap<NodePlan, string>>();

/** renderIgnitionJson, rendered once per node of a plan (plans are immutable). */
export function nodeIgnitionJson(plan: ClusterPlan, node: NodePlan): string {
  let nodes = rendered.get(plan);
  if (!nodes) rendered.set(plan, (nodes = new WeakMap()));
  let text = nodes.get(node);
  if (text === undefined) nodes.set(node, (text = renderIgnitionJson(plan, node)));
  return text;
}

/**
 * renderIgnitionCompact from the node's text: the same JSON without the
 * whitespace (parsing the text costs less than rendering the config again).
 */
export function nodeIgnitionCompact(plan: ClusterPlan, node: NodePlan): string {
  return JSON.stringify(JSON.parse(nodeIgnitionJson(plan, node)));
}
