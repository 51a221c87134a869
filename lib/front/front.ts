import { Token } from "cdktf";
import { Construct } from "constructs";
import { ClusterConfigError } from "../core/errors";
import { checkPropsObject } from "../core/validate";
import { Policy } from "../policy/policy";
import { FrontProtocol, ListenerProps, TargetGroupProps } from "./options";
import {
  FRONT_NAME,
  FRONT_NAME_ALLOWED,
  FrontPlan,
  planFront,
  planListenerProps,
  planTargetGroup,
  TargetGroupPlan,
} from "./plan";

const isToken = (v: unknown): boolean => Token.isUnresolved(v);

/** Props of NlbFront. */
export interface NlbFrontProps {
  /**
   * Name of the front, used in generated configs and resource names.
   * @default - the construct id, lowercased
   */
  readonly name?: string | undefined;
}

/**
 * The network load balancer in front of a cluster, described independently
 * of where it runs: listeners, each with one group of targets, health checks,
 * balancing, client affinity, draining and N+I standby. A target construct
 * (the local HAProxy front of VagrantCluster, the AWS NLB) renders it.
 *
 * ```ts
 * const front = new NlbFront(stack, "front");
 * front.addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
 *   .addTargets("web", { targets: [cluster], port: 8080 });
 * ```
 *
 * Add listeners, targets and drains before passing the front to a target:
 * the target reads the plan once, and later changes are refused.
 */
export class NlbFront extends Construct {
  public readonly frontName: string;
  private readonly listenerList: FrontListener[] = [];
  private readonly drained: string[] = [];
  private frozenPlan?: FrontPlan;
  private frozenBy?: string;

  constructor(scope: Construct, id: string, props: NlbFrontProps = {}) {
    super(scope, id);
    const propsReason = checkPropsObject(props);
    if (propsReason) {
      throw new ClusterConfigError(`NlbFront "${this.node.path}"`, [
        { prop: "props", value: props, allowed: propsReason },
      ]);
    }
    const name = props?.name ?? id.toLowerCase();
    if (typeof name !== "string" || isToken(name) || !FRONT_NAME.test(name)) {
      throw new ClusterConfigError(`NlbFront "${this.node.path}"`, [
        { prop: "name", value: name, allowed: FRONT_NAME_ALLOWED },
      ]);
    }
    this.frontName = name;
    // Checked once a target has read the front: an unused front is not deployed.
    Policy._declare(this, { kind: "front", plan: () => this.frozenPlan });
  }

  /** The listeners, in the order added. */
  public get listeners(): readonly FrontListener[] {
    return this.listenerList;
  }

  /** Adds a listener; add its targets with `addTargets`. */
  public addListener(id: string, props: ListenerProps): FrontListener {
    this.assertOpen("addListener");
    const planned = planListenerProps(
      id,
      props,
      this.listenerList.map((l) => ({ name: l.listenerName, port: l.port })),
      this.node.path,
      isToken,
    );
    const listener = new FrontListener(this, id, planned);
    this.listenerList.push(listener);
    return listener;
  }

  /**
   * Marks a member as draining on every listener: its open connections
   * finish, it gets no new ones (the seed's "take a node offline").
   * Standby members join while an active member drains.
   */
  public drain(member: { readonly name: string }): void {
    this.assertOpen("drain");
    const name = member?.name;
    if (typeof name !== "string") {
      throw new ClusterConfigError(`NlbFront "${this.node.path}"`, [
        { prop: "drain", value: member, allowed: "a node (cluster.nodeNamed(...)) or { name }" },
      ]);
    }
    if (!this.drained.includes(name)) this.drained.push(name);
  }

  /**
   * The validated plan. The first call fixes the front: a target calls it,
   * naming itself in `by`, and later changes to the front are refused.
   */
  public plan(by = "a target"): FrontPlan {
    if (!this.frozenPlan) {
      this.frozenPlan = planFront(
        this.frontName,
        this.listenerList.map((l) => ({
          name: l.listenerName,
          port: l.port,
          protocol: l.protocol,
          targetGroup: l.targetGroup?.plan,
        })),
        this.drained,
        this.node.path,
      );
      this.frozenBy = by;
    }
    return this.frozenPlan;
  }

  /** @internal */
  public _assertOpen(what: string): void {
    this.assertOpen(what);
  }

  private assertOpen(what: string): void {
    if (this.frozenPlan) {
      throw new Error(
        `NlbFront "${this.node.path}": ${what}() after ${this.frozenBy} read the front. Add listeners, targets and drains before passing the front to a target.`,
      );
    }
  }
}

/** A listener of an NlbFront. */
export class FrontListener extends Construct {
  public readonly listenerName: string;
  public readonly port: number;
  public readonly protocol: FrontProtocol;
  private group?: FrontTargetGroup;

  constructor(
    private readonly front: NlbFront,
    id: string,
    planned: { name: string; port: number; protocol: FrontProtocol },
  ) {
    super(front, id);
    this.listenerName = planned.name;
    this.port = planned.port;
    this.protocol = planned.protocol;
  }

  /** The listener's targets, once added. */
  public get targetGroup(): FrontTargetGroup | undefined {
    return this.group;
  }

  /** Sends this listener's traffic to `props.targets`. One target group per listener. */
  public addTargets(id: string, props: TargetGroupProps): FrontTargetGroup {
    this.front._assertOpen("addTargets");
    if (this.group) {
      throw new Error(
        `listener "${this.listenerName}" of NlbFront "${this.front.node.path}" already has targets "${this.group.plan.name}": a network load balancer listener forwards to one target group`,
      );
    }
    const plan = planTargetGroup(
      id,
      this.protocol,
      props,
      `listener "${this.listenerName}" of NlbFront "${this.front.node.path}"`,
      isToken,
    );
    this.group = new FrontTargetGroup(this, id, plan);
    return this.group;
  }
}

/** The targets of one listener. */
export class FrontTargetGroup extends Construct {
  constructor(
    scope: Construct,
    id: string,
    /** The validated group (before drains are applied). */
    public readonly plan: TargetGroupPlan,
  ) {
    super(scope, id);
  }
}
