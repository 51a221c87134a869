import type { ClusterPlan, NodePlan } from "../cluster/plan";
import { Provisioning } from "../cluster/provisioning";
import { renderCloudConfig } from "./cloud-config";
import { renderIgnitionJson } from "./ignition";

type NodeRenderer = (plan: ClusterPlan, node: NodePlan) => string;

/** Every cache of oncePerNode: plan → node → text. */
const caches: WeakMap<ClusterPlan, WeakMap<NodePlan, string>>[] = [];

/**
 * A renderer that renders once per node of a plan (plans are immutable): the
 * cluster renders a node's config, its targets reuse the text.
 */
function oncePerNode(render: NodeRenderer): NodeRenderer {
  const rendered = new WeakMap<ClusterPlan, WeakMap<NodePlan, string>>();
  caches.push(rendered);
  return (plan, node) => {
    let nodes = rendered.get(plan);
    if (!nodes) rendered.set(plan, (nodes = new WeakMap()));
    let text = nodes.get(node);
    if (text === undefined) nodes.set(node, (text = render(plan, node)));
    return text;
  };
}

/**
 * Lets go of the texts rendered for `plan` (once its files are written: they
 * would stay in memory through the rest of the synth). A later call renders
 * them again.
 */
export function releaseRendered(plan: ClusterPlan): void {
  for (const cache of caches) cache.delete(plan);
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

/** A JSON string literal, or whitespace between tokens. */
const STRING_OR_SPACE = /("(?:[^"\\]|\\.)*")|\s+/g;

/**
 * renderIgnitionCompact from the node's text: the same JSON without the
 * whitespace between tokens. The text is JSON.stringify's (indented), so
 * this is what JSON.stringify without indentation gives, without parsing
 * the text into objects or rendering the config again.
 */
export function nodeIgnitionCompact(plan: ClusterPlan, node: NodePlan): string {
  return nodeIgnitionJson(plan, node).replace(STRING_OR_SPACE, "$1");
}
