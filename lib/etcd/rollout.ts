import { createHash } from "node:crypto";

/**
 * One node at a time on a target whose nodes Terraform replaces
 * destroy-first (AWS: a node keeps its private address, so its replacement
 * cannot come up before it is gone). Terraform destroys every replaced
 * resource before it creates any of them, even along a chain of
 * dependencies, so one deploy must not replace two nodes. The rollout lets
 * one deploy change one node's config: the others keep the config they last
 * got until the node in flight is confirmed applied (Terraform writes a
 * marker after it has created the instance), then the next one goes.
 */

/** What the state folder remembers: the config hash each node was last given. */
export interface RolloutRecord {
  readonly emitted: Readonly<Record<string, string>>;
}

/** The decision for one synth. */
export interface RolloutPlan {
  /** Per node: its new config, or the one it last got. */
  readonly give: Readonly<Record<string, "desired" | "previous">>;
  /** The node whose config changes in this deploy, if any. */
  readonly active?: string;
  /** Nodes whose change waits for a later deploy, in order. */
  readonly waiting: readonly string[];
  /** The record after this synth. */
  readonly record: RolloutRecord;
}

export function configHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * @param desired node → hash of its new config, in node order
 * @param previous the record of the last synth; none before the first
 * @param applied node → hash Terraform confirmed applied
 */
export function planRollout(
  desired: Readonly<Record<string, string>>,
  previous: RolloutRecord | undefined,
  applied: Readonly<Record<string, string>>,
): RolloutPlan {
  const nodes = Object.keys(desired);
  const emitted = previous?.emitted ?? {};
  const known = (n: string) => emitted[n] !== undefined;
  const inFlight = nodes.filter((n) => known(n) && applied[n] !== emitted[n]);
  const changed = nodes.filter((n) => known(n) && desired[n] !== emitted[n]);
  const active = inFlight[0] ?? changed[0];
  const give: Record<string, "desired" | "previous"> = {};
  const next: Record<string, string> = {};
  for (const n of nodes) {
    // New nodes get their config at once; known ones only when it is their turn.
    give[n] = !known(n) || n === active ? "desired" : "previous";
    next[n] = give[n] === "desired" ? desired[n] : emitted[n];
  }
  return {
    give,
    active: active !== undefined && desired[active] !== applied[active] ? active : undefined,
    waiting: changed.filter((n) => n !== active),
    record: { emitted: next },
  };
}
