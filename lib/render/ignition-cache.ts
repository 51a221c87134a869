import type { ClusterPlan, NodePlan } from "../cluster/plan";
import { Provisioning } from "../cluster/provisioning";
import { renderCloudConfig } from "./cloud-config";
import { renderIgnitionJson } from "./ignition";

type NodeRenderer = (plan: ClusterPlan, node: NodePlan) => string;

/**
 * A renderer that renders once per node of a plan (plans are immutable): the
 * cluster renders a node's config, its targets reuse the text.
 */
function oncePerNode(render: NodeRenderer): NodeRenderer {
  const rendered = new WeakMap<ClusterPlan, WeakMap<NodePlan, string>>();
  return (plan, node) => {
    let nodes = rendered.get(plan);
    if (!nodes) rendered.set(plan, (nodes = new WeakMap()));
    let text = nodes.get(node);
    if (text === undefined) nodes.set(node, (text = render(plan, node)));
    return text;
  };
}

/** renderIgnitionJson, rendered once per node of a plan. */
export const nodeIgnitionJson: NodeRenderer = oncePerNode(renderIgnitionJson);

/** renderCloudConfig, rendered once per node of a plan. */
export const nodeCloudConfig: NodeRenderer = oncePerNode(renderCloudConfig);

/** The config the machine boots with: its `#cloud-config` or its Ignition JSON. */
export function nodeConfig(plan: ClusterPlan, node: NodePlan): string {
  return plan.provisioning === Provisioning.CLOUD_CONFIG
    ? nodeCloudConfig(plan, node)
    : nodeIgnitionJson(plan, node);
}

/**
 * renderIgnitionCompact from the node's text: the same JSON without the
 * whitespace (parsing the text costs less than rendering the config again).
 */
export function nodeIgnitionCompact(plan: ClusterPlan, node: NodePlan): string {
  return JSON.stringify(JSON.parse(nodeIgnitionJson(plan, node)));
}
