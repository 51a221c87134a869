import { Token } from "cdktf";
import { Construct } from "constructs";
import { ClusterConfigError } from "../core/errors";
import { isPlainObject } from "../core/validate";
import { NlbFront } from "../front/front";
import { Policy } from "../policy/policy";
import { CoreOsCluster } from "../cluster/cluster";
import { FrontListener } from "../front/front";
import { FrontProtocol } from "../front/options";
import { FrontTargets } from "../front/target";
import { renderFailoverNodeContent } from "../render/failover-units";
import { FailoverServiceProps } from "./options";
import { FailoverServicePlan, planFailoverService, ServiceTimingPlan } from "./plan";

/** Folder of the services' summaries inside the cluster's artifact folder (read by the CLI). */
export const SERVICES_DIRECTORY = "services";

/**
 * A failover service (MSCS's resource group): systemd units that run on
 * exactly one node of the cluster at a time, chosen through etcd, and move to
 * another node when that node, its etcd session or the service's own health
 * check fails (restarted in place first). A node cut off from the etcd
 * majority stops the units before its lease can pass to another node.
 *
 * ```ts
 * new FailoverService(stack, "db", {
 *   cluster,
 *   units: [{ name: "db.service", contents: DB_UNIT }],
 *   preferredNodes: [cluster.nodeNamed("core-01")],
 *   failback: Failback.between(2, 5),
 *   healthCheck: ServiceHealthCheck.tcp(5432),
 *   listener: { front, port: 5432 },
 * });
 * ```
 *
 * Every node that may run it gets the units (not enabled), the agent
 * `failover-<name>.service` and its config. Operate it at runtime with
 * `npx coreos-cluster-cdktf migrate|offline|online|status`.
 */
export class FailoverService extends Construct {
  public readonly serviceName: string;
  public readonly cluster: CoreOsCluster;
  /** The validated service. */
  public readonly plan: FailoverServicePlan;
  /** The agent's timing: the owner's units stop `timing.worstCaseStopMs` after its last renewal at the latest. */
  public readonly timing: ServiceTimingPlan;
  /** The front listener that follows the service, when `listener` was given. */
  public readonly listener?: FrontListener;

  constructor(scope: Construct, id: string, props: FailoverServiceProps) {
    super(scope, id);
    const where = `FailoverService "${this.node.path}"`;
    if (!isPlainObject(props)) {
      const allowed = "an object of props { cluster, units, … }";
      throw new ClusterConfigError(where, [{ prop: "props", value: props, allowed }]);
    }
    const cluster = props.cluster;
    const given: unknown = props.listener;
    const parts = [
      ...(cluster instanceof CoreOsCluster
        ? []
        : [
            {
              prop: "cluster",
              value: cluster,
              allowed: "a CoreOsCluster (add services before passing it to a target)",
            },
          ]),
      ...(given === undefined || (isPlainObject(given) && given.front instanceof NlbFront)
        ? []
        : [
            {
              prop: "listener.front",
              value: isPlainObject(given) ? given.front : given,
              allowed: "an NlbFront of this app",
            },
          ]),
    ];
    if (parts.length > 0) throw new ClusterConfigError(where, parts);
    const sofar = cluster._contentSoFar();
    this.plan = planFailoverService(sofar.plan, props, {
      id,
      path: this.node.path,
      takenUnits: sofar.units,
      takenServices: sofar.services,
      isToken: (v) => Token.isUnresolved(v),
    });
    this.serviceName = this.plan.name;
    this.cluster = cluster;
    this.timing = this.plan.timing;
    Policy._declare(this, { kind: "service", plan: () => this.plan });

    const l = props.listener;
    let listenerSummary: object | undefined;
    if (l) {
      const targetPort = l.targetPort ?? l.port;
      this.listener = l.front.addListener(this.serviceName, {
        port: l.port,
        protocol: l.protocol,
      });
      // Every node that may run the service is a member; only the one running it passes the check.
      this.listener.addTargets(this.serviceName, {
        targets: this.plan.candidates.map((c) => FrontTargets.host(c.name, c.address)),
        port: targetPort,
        healthCheck: l.healthCheck,
      });
      listenerSummary = {
        front: l.front.frontName,
        name: this.serviceName,
        port: l.port,
        protocol: l.protocol ?? FrontProtocol.TCP,
        targetPort,
      };
    }

    const content = renderFailoverNodeContent(sofar.plan, this.plan);
    cluster._addNodeContent(this.serviceName, {
      ...content,
      artifacts: {
        [`${SERVICES_DIRECTORY}/${this.serviceName}.json`]: renderServiceSummary(
          this.plan,
          listenerSummary,
        ),
      },
    });
  }
}

/** `services/<name>.json`: what the CLI and a person read about a service. */
export function renderServiceSummary(p: FailoverServicePlan, listener?: object): string {
  const summary = {
    name: p.name,
    cluster: p.clusterName,
    keyPrefix: p.keyPrefix,
    units: p.units.map((u) => u.name),
    nodes: p.candidates.map((c) => c.name),
    preferredNodes: p.preferredNodes,
    failback: p.failback,
    maxFailovers: p.maxFailovers,
    failoverPeriodSeconds: p.failoverPeriodMs / 1000,
    restartAttempts: p.restartAttempts,
    restartPeriodSeconds: p.restartPeriodMs / 1000,
    ...(p.healthCheck ? { healthCheck: p.healthCheck } : {}),
    timing: p.timing,
    ...(listener ? { listener } : {}),
  };
  return `${JSON.stringify(summary, null, 2)}\n`;
}
