/**
 * Plans built without a cdktf stack, for the fast tests of the targets' pure
 * planning functions (planAws, planVagrant): cluster and front plans from the
 * same functions the constructs call, each built inside the test that uses it.
 */
import { PropIssue } from "../../lib/core/errors";
import { ClusterPlan, planCluster } from "../../lib/cluster/plan";
import { CoreOsClusterProps } from "../../lib/cluster/props";
import { EtcdTls } from "../../lib/etcd/tls";
import { FrontProtocol, HealthCheck, TargetGroupProps } from "../../lib/front/options";
import { FrontPlan, planFront, planListenerProps, planTargetGroup } from "../../lib/front/plan";
import { FrontMember, IFrontTarget } from "../../lib/front/target";
import { errorOf } from "./config-error";

/** Construct path of the planned cluster: its members carry it. */
export const CLUSTER_PATH = "test/core";

/**
 * A cluster plan. etcd without TLS unless asked: TLS material comes from the
 * CoreOsCluster's state folder, which a pure plan has not.
 */
export function clusterPlan(props: CoreOsClusterProps = {}): ClusterPlan {
  return planCluster(
    { ...props, etcd: { tls: EtcdTls.disabled(), ...props.etcd } },
    { id: "core", path: CLUSTER_PATH },
  );
}

/** The cluster's nodes as front members, as CoreOsCluster.frontMembers() gives them. */
export function clusterTargets(plan: ClusterPlan, path = CLUSTER_PATH): IFrontTarget {
  return {
    frontMembers: (): FrontMember[] =>
      plan.nodes.map((n) => ({
        name: n.name,
        address: n.address,
        standby: n.standby,
        cluster: path,
      })),
  };
}

/** One listener of a front in the test's terms. */
export interface ListenerSpec {
  readonly name: string;
  readonly port: number;
  readonly protocol?: FrontProtocol;
  readonly group: string;
  readonly targets: TargetGroupProps["targets"];
  readonly targetPort: number;
  readonly healthCheck?: HealthCheck;
  readonly props?: Partial<TargetGroupProps>;
}

/** A front plan as NlbFront.plan() makes it. */
export function frontPlan(
  listeners: readonly ListenerSpec[],
  options: { name?: string; drain?: readonly string[] } = {},
): FrontPlan {
  const planned: { name: string; port: number }[] = [];
  return planFront(
    options.name ?? "front",
    listeners.map((l) => {
      const listener = planListenerProps(
        l.name,
        { port: l.port, protocol: l.protocol },
        planned,
        "test/front",
      );
      planned.push(listener);
      return {
        ...listener,
        targetGroup: planTargetGroup(
          l.group,
          listener.protocol,
          {
            targets: l.targets,
            port: l.targetPort,
            healthCheck: l.healthCheck,
            ...l.props,
          },
          "test/front",
        ),
      };
    }),
    options.drain ?? [],
    "test/front",
  );
}

/** The issues of the ClusterConfigError `fn` throws; fails when it throws none. */
export function issuesOf(fn: () => unknown): readonly PropIssue[] {
  return errorOf(fn).issues;
}

/** The one issue of `fn`'s error for `prop`; fails when there is none or more than one. */
export function issueOf(fn: () => unknown, prop: string): PropIssue {
  const all = issuesOf(fn);
  const found = all.filter((i) => i.prop === prop);
  if (found.length !== 1) {
    throw new Error(
      `expected one issue for ${prop}, got: ${all.map((i) => `${i.prop}=${JSON.stringify(i.value)}`).join("; ")}`,
    );
  }
  return found[0];
}
