import { Duration } from "../core/duration";
import { IssueCollector } from "../core/errors";
import {
  Balancing,
  ClientAffinity,
  FrontProtocol,
  HealthCheck,
  HealthCheckProtocol,
  ListenerProps,
  TargetGroupProps,
} from "./options";
import { FrontMember } from "./target";
import {
  checkHostAddress,
  checkPropsObject,
  findTokens,
  isPlainObject,
  LITERAL_REQUIRED,
  TOKEN_VALUE,
} from "../core/validate";

/** Health check with every default resolved but the target-specific timing. */
export interface HealthCheckPlan {
  readonly protocol: HealthCheckProtocol;
  /** HTTP path; `undefined` for TCP probes. */
  readonly path?: string;
  readonly port: number;
  /** `undefined`: the target's default (HAProxy 500 ms, AWS 10 s). */
  readonly interval?: Duration;
  /** `undefined`: the interval. */
  readonly timeout?: Duration;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** A member of a target group in the plan. */
export interface TargetMemberPlan extends FrontMember {
  /** Draining: open connections finish, no new ones. */
  readonly draining: boolean;
}

/** A validated target group. */
export interface TargetGroupPlan {
  readonly name: string;
  readonly port: number;
  readonly healthCheck: HealthCheckPlan;
  readonly balancing: Balancing;
  readonly affinity: ClientAffinity;
  /** Active members first, then standby ones, each in the order given. */
  readonly members: readonly TargetMemberPlan[];
  /** How many members are active (not standby): below this many healthy, standby members join. */
  readonly activeCount: number;
  /** HTTP only: per-try wait for an idempotent request's answer; `undefined`: the target's default. */
  readonly retryTimeout?: Duration;
}

/** A validated listener and its targets. */
export interface ListenerPlan {
  readonly name: string;
  readonly port: number;
  readonly protocol: FrontProtocol;
  readonly targetGroup: TargetGroupPlan;
}

/** Everything a front target (HAProxy, AWS NLB) renders from. */
export interface FrontPlan {
  readonly name: string;
  readonly listeners: readonly ListenerPlan[];
  /** Names of the draining members. */
  readonly draining: readonly string[];
}

/**
 * Names of fronts, listeners and target groups: usable as HAProxy section
 * names and inside AWS names (which may not end with a hyphen).
 */
export const FRONT_NAME = /^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$/;
export const FRONT_NAME_ALLOWED =
  "1-24 of a-z 0-9 -, starting with a letter and not ending with '-' (AWS names may not)";
const NAME = FRONT_NAME;
const NAME_ALLOWED = FRONT_NAME_ALLOWED;

/** Health check paths: URL path (and query) characters HAProxy and AWS read literally. */
const HEALTH_PATH =
  /^\/([A-Za-z0-9\-._~!&()*+,;=:@/]|%[0-9A-Fa-f]{2})*(\?([A-Za-z0-9\-._~!&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;

/** Members: host names. */
const MEMBER_NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Checks that a props argument is an object and holds no tokens (but under `skip`). */
function checkPropsArgument(
  issues: IssueCollector,
  props: unknown,
  isToken: (v: unknown) => boolean,
  skip: readonly string[] = [],
): void {
  const reason = checkPropsObject(props);
  if (reason || props === undefined) {
    issues.add("props", props, reason ?? "an object of props");
    return;
  }
  for (const prop of findTokens(props, isToken, "", skip)) {
    issues.add(prop, TOKEN_VALUE, LITERAL_REQUIRED);
  }
}

const noTokens = (): boolean => false;

/** A whole number from `min` to `max`. */
export function isWhole(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

function isDuration(v: unknown): v is Duration {
  return v instanceof Duration;
}

/** A Duration of whole milliseconds from `min` to `max` ms. */
function isDurationIn(v: unknown, min: number, max: number): boolean {
  return isDuration(v) && isWhole(v.toMilliseconds(), min, max);
}

/** Checks one listener's props against the listeners already on the front. */
export function planListenerProps(
  id: string,
  props: ListenerProps,
  existing: readonly { name: string; port: number }[],
  frontPath: string,
  isToken: (v: unknown) => boolean = noTokens,
): { name: string; port: number; protocol: FrontProtocol } {
  const issues = new IssueCollector();
  checkPropsArgument(issues, props, isToken);
  issues.throwIfAny(`listener "${id}" of NlbFront "${frontPath}"`);
  if (typeof id !== "string" || !NAME.test(id)) issues.add("id", id, NAME_ALLOWED);
  if (existing.some((l) => l.name === id))
    issues.add("id", id, "a name not used by another listener");
  const port = props?.port;
  if (!isWhole(port, 1, 65535)) issues.add("port", port, "a port 1-65535");
  const clash = existing.find((l) => l.port === port);
  if (clash) issues.add("port", port, `a port not used by listener "${clash.name}"`);
  const protocol = props?.protocol ?? FrontProtocol.TCP;
  if (!Object.values(FrontProtocol).includes(protocol)) {
    issues.add("protocol", protocol, Object.values(FrontProtocol).join(" | "));
  }
  issues.throwIfAny(`listener "${id}" of NlbFront "${frontPath}"`);
  return { name: id, port: port as number, protocol };
}

/** Validates a target group's props into a plan (drain flags are set by planFront). */
export function planTargetGroup(
  id: string,
  listenerProtocol: FrontProtocol,
  props: TargetGroupProps,
  where: string,
  isToken: (v: unknown) => boolean = noTokens,
): TargetGroupPlan {
  const issues = new IssueCollector();
  checkPropsArgument(issues, props, isToken, ["targets"]);
  issues.throwIfAny(`target group "${id}" of ${where}`);
  if (typeof id !== "string" || !NAME.test(id)) issues.add("id", id, NAME_ALLOWED);
  const port = props?.port;
  if (!isWhole(port, 1, 65535)) issues.add("port", port, "a port 1-65535");

  const members: FrontMember[] = [];
  const targets = props?.targets;
  if (!Array.isArray(targets) || targets.length === 0) {
    issues.add("targets", targets, "one or more targets (a CoreOsCluster, FrontTargets.host(...))");
  } else {
    targets.forEach((t, i) => {
      if (typeof t?.frontMembers !== "function") {
        issues.add(`targets[${i}]`, t, "a CoreOsCluster or FrontTargets.host(...)");
        return;
      }
      for (const m of t.frontMembers()) {
        const addressReason = checkHostAddress(m?.address);
        if (typeof m?.name !== "string" || !MEMBER_NAME.test(m.name)) {
          issues.add(
            `targets[${i}]`,
            m?.name,
            "member names of 1-63 a-z 0-9 -, starting with a letter, not ending with '-'",
          );
        } else if (members.some((o) => o.name === m.name)) {
          issues.add(`targets[${i}]`, m.name, "each member once: this name is already a member");
        } else if (addressReason) {
          issues.add(`targets[${i}]`, m.address, `${addressReason} for member ${m.name}`);
        } else if (typeof m.standby !== "boolean") {
          issues.add(`targets[${i}]`, m.standby, `standby: true | false for member ${m.name}`);
        } else {
          members.push(m);
        }
      }
    });
    if (members.length > 0 && members.every((m) => m.standby)) {
      issues.add(
        "targets",
        members.map((m) => m.name).join(","),
        "at least one active (not standby) member",
      );
    }
  }

  const balancing = props?.balancing ?? Balancing.ROUND_ROBIN;
  if (!Object.values(Balancing).includes(balancing)) {
    issues.add("balancing", balancing, Object.values(Balancing).join(" | "));
  }
  const affinity = props?.affinity ?? ClientAffinity.NONE;
  if (!Object.values(ClientAffinity).includes(affinity)) {
    issues.add("affinity", affinity, Object.values(ClientAffinity).join(" | "));
  }

  const givenCheck: unknown = props?.healthCheck ?? {};
  if (!isPlainObject(givenCheck)) {
    issues.add("healthCheck", givenCheck, "a health check { protocol?, path?, port?, … }");
  }
  const healthCheck = planHealthCheck(
    isPlainObject(givenCheck) ? givenCheck : {},
    listenerProtocol,
    port,
    issues,
  );
  const retryTimeout = props?.retryTimeout;
  if (retryTimeout !== undefined) {
    if (listenerProtocol !== FrontProtocol.HTTP) {
      issues.add(
        "retryTimeout",
        isDuration(retryTimeout) ? retryTimeout.toString() : retryTimeout,
        "left out on TCP listeners (HTTP requests only)",
      );
    } else if (!isDurationIn(retryTimeout, 100, 600_000)) {
      issues.add(
        "retryTimeout",
        isDuration(retryTimeout) ? retryTimeout.toString() : retryTimeout,
        "a Duration of whole milliseconds from 100 ms to 10 minutes",
      );
    }
  }
  issues.throwIfAny(`target group "${id}" of ${where}`);

  const ordered = [...members.filter((m) => !m.standby), ...members.filter((m) => m.standby)];
  return {
    name: id,
    port: port as number,
    healthCheck,
    balancing,
    affinity,
    members: ordered.map((m) => ({ ...m, draining: false })),
    activeCount: ordered.filter((m) => !m.standby).length,
    ...(retryTimeout !== undefined ? { retryTimeout } : {}),
  };
}

function planHealthCheck(
  hc: HealthCheck,
  listenerProtocol: FrontProtocol,
  targetPort: unknown,
  issues: IssueCollector,
): HealthCheckPlan {
  const protocol =
    hc.protocol ??
    (listenerProtocol === FrontProtocol.HTTP ? HealthCheckProtocol.HTTP : HealthCheckProtocol.TCP);
  if (!Object.values(HealthCheckProtocol).includes(protocol)) {
    issues.add("healthCheck.protocol", protocol, Object.values(HealthCheckProtocol).join(" | "));
  }
  let path: string | undefined;
  if (protocol === HealthCheckProtocol.HTTP) {
    path = hc.path ?? "/";
    if (typeof path !== "string" || !HEALTH_PATH.test(path) || path.length > 1024) {
      issues.add(
        "healthCheck.path",
        path,
        "an absolute URL path of at most 1024 characters, e.g. /healthz?full=1: letters, digits, - . _ ~ ! & ( ) * + , ; = : @ / and %XX escapes (no spaces, quotes, #, $ or \\)",
      );
    }
  } else if (hc.path !== undefined) {
    issues.add("healthCheck.path", hc.path, "no path with a TCP health check");
  }
  const port = hc.port ?? targetPort;
  if (!isWhole(port, 1, 65535)) issues.add("healthCheck.port", port, "a port 1-65535");
  for (const key of ["interval", "timeout"] as const) {
    const d = hc[key];
    if (d !== undefined && !isDurationIn(d, 100, 300_000)) {
      issues.add(
        `healthCheck.${key}`,
        isDuration(d) ? d.toString() : d,
        "a Duration of whole milliseconds from 100 ms to 300 s (HAProxy takes whole ms)",
      );
    }
  }
  if (
    isDuration(hc.timeout) &&
    isDuration(hc.interval) &&
    isDurationIn(hc.timeout, 100, 300_000) &&
    isDurationIn(hc.interval, 100, 300_000) &&
    hc.timeout.toMilliseconds() > hc.interval.toMilliseconds()
  ) {
    issues.add(
      "healthCheck.timeout",
      hc.timeout.toString(),
      `at most the interval (${hc.interval})`,
    );
  }
  const healthyThreshold = hc.healthyThreshold ?? 2;
  const unhealthyThreshold = hc.unhealthyThreshold ?? 2;
  if (!isWhole(healthyThreshold, 1, 10)) {
    issues.add("healthCheck.healthyThreshold", healthyThreshold, "a whole number 1-10");
  }
  if (!isWhole(unhealthyThreshold, 1, 10)) {
    issues.add("healthCheck.unhealthyThreshold", unhealthyThreshold, "a whole number 1-10");
  }
  return {
    protocol,
    path,
    port: port as number,
    interval: hc.interval,
    timeout: hc.timeout,
    healthyThreshold,
    unhealthyThreshold,
  };
}

/** Cross-checks the whole front and marks draining members. */
export function planFront(
  name: string,
  listeners: readonly {
    readonly name: string;
    readonly port: number;
    readonly protocol: FrontProtocol;
    readonly targetGroup?: TargetGroupPlan;
  }[],
  draining: readonly string[],
  frontPath: string,
): FrontPlan {
  const issues = new IssueCollector();
  if (listeners.length === 0) {
    issues.add("listeners", "none", "at least one listener: front.addListener(id, { port })");
  }
  for (const l of listeners) {
    if (!l.targetGroup) {
      issues.add(
        `listeners.${l.name}`,
        "no targets",
        `targets: listener.addTargets(id, { targets, port })`,
      );
    }
  }
  const groupNames = listeners.flatMap((l) => (l.targetGroup ? [l.targetGroup.name] : []));
  for (const [i, g] of groupNames.entries()) {
    if (groupNames.indexOf(g) !== i)
      issues.add("targetGroups", g, "a target group id used once per front");
  }
  const known = new Set(listeners.flatMap((l) => l.targetGroup?.members.map((m) => m.name) ?? []));
  for (const d of draining) {
    if (!known.has(d))
      issues.add("drain", d, `a member of the front: ${[...known].join(", ") || "none"}`);
  }
  for (const l of listeners) {
    const tg = l.targetGroup;
    const active = tg?.members.filter((m) => !m.standby) ?? [];
    if (tg && active.length > 0 && active.every((m) => draining.includes(m.name))) {
      issues.add(
        "drain",
        active.map((m) => m.name).join(","),
        `at least one active member of "${tg.name}" not draining: standby members only stand in for failed nodes (and an AWS load balancer never registers them), so draining every active one leaves no target`,
      );
    }
  }
  issues.throwIfAny(`NlbFront "${frontPath}"`);
  return {
    name,
    draining: [...draining],
    listeners: listeners.map((l) => {
      const tg = l.targetGroup as TargetGroupPlan;
      return {
        name: l.name,
        port: l.port,
        protocol: l.protocol,
        targetGroup: {
          ...tg,
          members: tg.members.map((m) => ({ ...m, draining: draining.includes(m.name) })),
        },
      };
    }),
  };
}

/**
 * Reports front members that belong to a cluster other than the one a target
 * runs: the target would send traffic to machines it does not run (another
 * cluster's addresses). Hosts outside any cluster (FrontTargets.host) pass.
 */
export function checkFrontRunsCluster(
  issues: IssueCollector,
  front: FrontPlan,
  cluster: { readonly path: string },
): void {
  for (const l of front.listeners) {
    const foreign = [
      ...new Set(
        l.targetGroup.members
          .filter((m) => m.cluster !== undefined && m.cluster !== cluster.path)
          .map((m) => m.cluster),
      ),
    ];
    for (const other of foreign) {
      issues.add(
        `front (listener "${l.name}")`,
        `targets of CoreOsCluster "${other}"`,
        `targets of the cluster this target runs (CoreOsCluster "${cluster.path}") or FrontTargets.host(...): it does not run "${other}"'s nodes`,
      );
    }
  }
}
