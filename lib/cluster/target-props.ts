import { ClusterConfigError } from "../core/errors";
import { NlbFront } from "../front/front";
import { CoreOsCluster } from "./cluster";

/** What every target (Vagrant, AWS) takes: the cluster it runs and, optionally, its front. */
export interface TargetInputs {
  readonly cluster: CoreOsCluster;
  readonly front?: NlbFront | undefined;
}

/**
 * Checks a target's props argument before anything reads it: an object with
 * a CoreOsCluster and, when given, an NlbFront. JavaScript callers (and
 * `as never` casts) can pass anything; they get a ClusterConfigError, not a
 * TypeError from inside.
 */
export function checkTargetProps<P extends TargetInputs>(
  props: P,
  where: string,
  propsName: string,
): P {
  if (typeof props !== "object" || props === null || Array.isArray(props)) {
    throw new ClusterConfigError(where, [
      { prop: "props", value: props, allowed: `an object of ${propsName} with a cluster` },
    ]);
  }
  if (!(props.cluster instanceof CoreOsCluster)) {
    throw new ClusterConfigError(where, [
      { prop: "cluster", value: props.cluster, allowed: "a CoreOsCluster" },
    ]);
  }
  if (props.front !== undefined && !(props.front instanceof NlbFront)) {
    throw new ClusterConfigError(where, [
      { prop: "front", value: props.front, allowed: "an NlbFront, or leave it out" },
    ]);
  }
  return props;
}
