import { Duration } from "../core/duration";
import { IssueCollector } from "../core/errors";
import { ClusterPlan, RESERVED_UNITS } from "../cluster/plan";
import {
  checkCommandLine,
  checkDropinName,
  checkUnitContents,
  checkUnitName,
  checkUrlPath,
  findTokens,
  isPlainObject,
  LITERAL_REQUIRED,
  TOKEN_VALUE,
} from "../core/validate";
import { SystemdUnit } from "../cluster/props";
import { Failback, FailoverServiceProps, ServiceCheckKind, ServiceHealthCheck } from "./options";

/** Where the agents keep a cluster's runtime state in etcd: `<prefix>/live/…`, `<prefix>/events/…`. */
export const keyPrefixOf = (clusterName: string): string => `/coreos-cluster/${clusterName}`;

/** Units the failover agents and the cluster configure themselves. */
export const agentUnitName = (service: string): string => `failover-${service}.service`;

/**
 * The agent's clock. One tick renews the owner's lease and reads the state;
 * every etcdctl call is killed after `ETCD_CALL_MS`.
 */
export const RENEW_INTERVAL_MS = 500;
export const ETCD_CALL_MS = 1000;
/** Slack for systemd to deliver SIGKILL and for the agent's own work between steps. */
export const FENCE_MARGIN_MS = 500;
/** The owner tolerates at least this long without a renewal before it fences itself. */
export const MIN_FENCE_AFTER_MS = 1500;

/**
 * The agent's timing, ordered so that two copies never run: the owner's etcd
 * lease outlives the owner's copy. Counted from the moment the owner last
 * sent a renewal that etcd accepted (etcd's lease ends `leaseTtlMs` after it
 * received that renewal, never earlier):
 *
 *   fenceAfterMs     no renewal accepted for this long: the owner stops its units
 *   + renewIntervalMs + 2 × etcdCallMs   the check runs at most this much later (a tick, two bounded etcd calls)
 *   + stopTimeoutMs  the units' TimeoutStopSec, after which systemd SIGKILLs them
 *   + marginMs
 *   = worstCaseStopMs = leaseTtlMs: no other node can own the service before
 */
export interface ServiceTimingPlan {
  readonly leaseTtlMs: number;
  readonly renewIntervalMs: number;
  readonly etcdCallMs: number;
  readonly stopTimeoutMs: number;
  readonly fenceAfterMs: number;
  readonly marginMs: number;
  /** The latest moment, after the last accepted renewal, by which the owner's units are stopped. */
  readonly worstCaseStopMs: number;
}

/** A validated service health check. */
export interface ServiceCheckPlan {
  readonly kind: ServiceCheckKind;
  readonly port?: number;
  readonly path?: string;
  readonly command?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failures: number;
}

/** A validated failover service: everything the agent's config and the CLI read. */
export interface FailoverServicePlan {
  readonly name: string;
  readonly clusterName: string;
  /** etcd key prefix of the cluster's runtime state. */
  readonly keyPrefix: string;
  readonly units: readonly SystemdUnit[];
  /** Nodes that may run it, in preference order: preferred nodes first, then the others in node order. */
  readonly candidates: readonly { readonly name: string; readonly address: string }[];
  /** The preferred nodes (a prefix of `candidates`). */
  readonly preferredNodes: readonly string[];
  readonly failback: {
    readonly mode: "never" | "immediate" | "window";
    readonly startHour?: number;
    readonly endHour?: number;
  };
  readonly maxFailovers: number;
  readonly failoverPeriodMs: number;
  readonly restartAttempts: number;
  readonly restartPeriodMs: number;
  readonly healthCheck?: ServiceCheckPlan;
  readonly timing: ServiceTimingPlan;
}

/** What the cluster already has, so a service does not take its unit names or another service's name. */
export interface ServiceContext {
  readonly path: string;
  readonly id: string;
  readonly takenUnits: readonly string[];
  readonly takenServices: readonly string[];
  /**
   * Tells unresolved tokens from literal values; every service prop must be a literal.
   * @default - nothing is a token
   */
  readonly isToken?: (value: unknown) => boolean;
}

const NAME_RE = /^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$/;

const isWhole = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

function durationMs(
  issues: IssueCollector,
  prop: string,
  value: unknown,
  fallback: Duration,
  min: Duration,
  max: Duration,
): number {
  const d = value ?? fallback;
  if (!(d instanceof Duration)) {
    issues.add(prop, value, `a Duration from ${min} to ${max}, e.g. Duration.seconds(10)`);
    return fallback.toMilliseconds();
  }
  const ms = d.toMilliseconds();
  if (!(Number.isFinite(ms) && ms >= min.toMilliseconds() && ms <= max.toMilliseconds())) {
    issues.add(prop, d.toString(), `from ${min} to ${max}`);
    return fallback.toMilliseconds();
  }
  return ms;
}

/** What the owner's lease must cover besides the time it tolerates without reaching etcd. */
const fenceOverheadMs = (stopTimeoutMs: number): number =>
  RENEW_INTERVAL_MS + 2 * ETCD_CALL_MS + stopTimeoutMs + FENCE_MARGIN_MS;

/** Orders the agent's timing so that the owner stops before its lease can pass on. */
export function planTiming(leaseTtlMs: number, stopTimeoutMs: number): ServiceTimingPlan {
  const fenceAfterMs = leaseTtlMs - fenceOverheadMs(stopTimeoutMs);
  return {
    leaseTtlMs,
    renewIntervalMs: RENEW_INTERVAL_MS,
    etcdCallMs: ETCD_CALL_MS,
    stopTimeoutMs,
    fenceAfterMs,
    marginMs: FENCE_MARGIN_MS,
    worstCaseStopMs: fenceAfterMs + fenceOverheadMs(stopTimeoutMs),
  };
}

/** The smallest lease TTL that leaves MIN_FENCE_AFTER_MS for a given stop timeout, in whole seconds. */
export function minimumLeaseTtlMs(stopTimeoutMs: number): number {
  return Math.ceil((fenceOverheadMs(stopTimeoutMs) + MIN_FENCE_AFTER_MS) / 1000) * 1000;
}

function checkUnits(issues: IssueCollector, units: unknown, ctx: ServiceContext): void {
  if (!Array.isArray(units) || units.length === 0) {
    issues.add("units", units, "one or more systemd units: [{ name, contents }]");
    return;
  }
  const seen = new Set<string>();
  units.forEach((u: unknown, i) => {
    const prop = `units[${i}]`;
    if (!isPlainObject(u)) {
      issues.add(prop, u, "a unit { name, contents?, dropins? }");
      return;
    }
    const nameProblem = checkUnitName(u.name);
    if (nameProblem) {
      issues.add(`${prop}.name`, u.name, nameProblem);
      return;
    }
    const name = u.name as string;
    if ((RESERVED_UNITS as readonly string[]).includes(name) || name.startsWith("failover-")) {
      issues.add(
        `${prop}.name`,
        name,
        `a unit the cluster and its agents do not configure (not ${RESERVED_UNITS.join(", ")}, failover-*)`,
      );
    } else if (ctx.takenUnits.includes(name)) {
      issues.add(
        `${prop}.name`,
        name,
        "a unit not already given to the cluster or another failover service",
      );
    }
    if (seen.has(name)) issues.add(`${prop}.name`, name, "each unit name once");
    seen.add(name);
    if (u.contents !== undefined) {
      const problem = checkUnitContents(u.contents);
      if (problem) issues.add(`${prop}.contents`, problem.shown, problem.allowed);
    }
    if (u.enabled !== undefined && u.enabled !== false) {
      issues.add(
        `${prop}.enabled`,
        u.enabled,
        "false or left out: the failover agent starts the unit on one node, never at boot",
      );
    }
    checkServiceDropins(issues, prop, u.dropins);
  });
}

function checkServiceDropins(issues: IssueCollector, prop: string, dropins: unknown): void {
  if (dropins === undefined) return;
  if (!Array.isArray(dropins)) {
    issues.add(`${prop}.dropins`, dropins, "a list of { name, contents }");
    return;
  }
  dropins.forEach((d: unknown, j) => {
    const dprop = `${prop}.dropins[${j}]`;
    const name = isPlainObject(d) ? d.name : undefined;
    const nameProblem = checkDropinName(name);
    if (nameProblem || name === SERVICE_DROPIN) {
      issues.add(
        `${dprop}.name`,
        name,
        `${nameProblem ?? "a drop-in name"}, other than ${SERVICE_DROPIN}`,
      );
    }
    const problem = checkUnitContents(isPlainObject(d) ? d.contents : undefined);
    if (problem) issues.add(`${dprop}.contents`, problem.shown, problem.allowed);
  });
}

/** The drop-in the agent adds to each of the service's units. */
export const SERVICE_DROPIN = "50-failover.conf";

function planCheck(
  issues: IssueCollector,
  hc: unknown,
  isToken: (v: unknown) => boolean,
): ServiceCheckPlan | undefined {
  if (hc === undefined) return undefined;
  if (!(hc instanceof ServiceHealthCheck)) {
    issues.add(
      "healthCheck",
      hc,
      "ServiceHealthCheck.tcp(port), .http(port, path) or .command(cmd)",
    );
    return undefined;
  }
  for (const [k, v] of [
    ["command", hc.command],
    ["path", hc.path],
    ["port", hc.port],
  ] as const) {
    if (isToken(v)) issues.add(`healthCheck.${k}`, TOKEN_VALUE, LITERAL_REQUIRED);
  }
  const o = hc.options ?? {};
  const intervalMs = durationMs(
    issues,
    "healthCheck.interval",
    o.interval,
    Duration.seconds(2),
    Duration.millis(500),
    Duration.minutes(5),
  );
  const timeoutMs = durationMs(
    issues,
    "healthCheck.timeout",
    o.timeout,
    Duration.seconds(1),
    Duration.millis(100),
    Duration.minutes(5),
  );
  if (timeoutMs >= intervalMs) {
    issues.add(
      "healthCheck.timeout",
      `${timeoutMs}ms`,
      `shorter than the interval (${intervalMs}ms)`,
    );
  }
  const failures = o.failures ?? 3;
  if (!isWhole(failures, 1, 10))
    issues.add("healthCheck.failures", failures, "a whole number from 1 to 10");
  const base = { kind: hc.kind, intervalMs, timeoutMs, failures };
  if (hc.kind === ServiceCheckKind.COMMAND) {
    const cmd = hc.command;
    const problem = checkCommandLine(cmd);
    if (problem) issues.add("healthCheck.command", cmd, problem);
    return { ...base, command: cmd };
  }
  if (!isWhole(hc.port, 1, 65535)) issues.add("healthCheck.port", hc.port, "a port 1-65535");
  if (hc.kind === ServiceCheckKind.HTTP) {
    const p = hc.path ?? "/";
    const problem = checkUrlPath(p);
    if (problem) issues.add("healthCheck.path", p, problem);
    return { ...base, port: hc.port, path: p };
  }
  return { ...base, port: hc.port };
}

function nodeNames(
  issues: IssueCollector,
  prop: string,
  refs: unknown,
  known: readonly string[],
): string[] | undefined {
  if (refs === undefined) return undefined;
  if (!Array.isArray(refs)) {
    issues.add(prop, refs, "a list of the cluster's nodes (cluster.nodeNamed(...))");
    return [];
  }
  const out: string[] = [];
  refs.forEach((r: { name?: unknown }, i) => {
    const name = r?.name;
    if (typeof name !== "string" || !known.includes(name)) {
      issues.add(`${prop}[${i}]`, name ?? r, `a node of the cluster: ${known.join(", ")}`);
    } else if (out.includes(name)) {
      issues.add(`${prop}[${i}]`, name, "each node once");
    } else {
      out.push(name);
    }
  });
  return out;
}

function planFailback(issues: IssueCollector, fb: unknown): FailoverServicePlan["failback"] {
  const f = fb ?? Failback.NEVER;
  if (!(f instanceof Failback)) {
    issues.add(
      "failback",
      fb,
      "Failback.NEVER, Failback.IMMEDIATE or Failback.between(startHour, endHour)",
    );
    return { mode: "never" };
  }
  if (f.mode !== "window") return { mode: f.mode };
  for (const [k, v] of [
    ["startHour", f.startHour],
    ["endHour", f.endHour],
  ] as const) {
    if (!isWhole(v, 0, 23)) issues.add(`failback.${k}`, v, "an hour of the day, 0-23 (UTC)");
  }
  if (f.startHour === f.endHour)
    issues.add("failback", f.toString(), "a window of at least one hour (start ≠ end)");
  return { mode: "window", startHour: f.startHour, endHour: f.endHour };
}

/**
 * Validates a failover service against its cluster and resolves every default.
 * Pure; throws one ClusterConfigError listing every rejected prop.
 */
export function planFailoverService(
  cluster: ClusterPlan,
  props: FailoverServiceProps,
  ctx: ServiceContext,
): FailoverServicePlan {
  const issues = new IssueCollector();
  const isToken = ctx.isToken ?? (() => false);
  // Constructs (cluster, listener.front) and class instances are not entered: their own checks apply.
  // Node references are read by name only (a node's Ignition is not to be rendered here).
  for (const prop of findTokens(props, isToken, "", ["nodes", "preferredNodes"])) {
    issues.add(prop, TOKEN_VALUE, LITERAL_REQUIRED);
  }
  const name = props?.name ?? ctx.id.toLowerCase();
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    issues.add("name", name, "1-24 of a-z 0-9 -, starting with a letter, not ending with '-'");
  } else if (ctx.takenServices.includes(name)) {
    issues.add("name", name, "a name no other failover service of this cluster has");
  } else if (ctx.takenUnits.includes(agentUnitName(name))) {
    issues.add(
      "name",
      name,
      `a name whose agent unit ${agentUnitName(name)} is not one of the cluster's own units`,
    );
  }
  checkUnits(issues, props?.units, ctx);

  const known = cluster.nodes.map((n) => n.name);
  const allowed = nodeNames(issues, "nodes", props?.nodes, known) ?? known;
  if (Array.isArray(props?.nodes) && props.nodes.length === 0) {
    issues.add("nodes", "none", "at least one node that may run the service");
  }
  const preferred = nodeNames(issues, "preferredNodes", props?.preferredNodes, known) ?? [];
  for (const p of preferred) {
    if (!allowed.includes(p))
      issues.add("preferredNodes", p, `nodes that may run the service: ${allowed.join(", ")}`);
  }
  const failback = planFailback(issues, props?.failback);
  if (failback.mode !== "never" && preferred.length === 0) {
    issues.add(
      "failback",
      failback.mode,
      "Failback.NEVER without preferredNodes (failback goes back to a preferred node)",
    );
  }

  const maxFailovers = props?.maxFailovers ?? Math.max(1, allowed.length - 1);
  if (!isWhole(maxFailovers, 0, 100))
    issues.add("maxFailovers", maxFailovers, "a whole number from 0 to 100");
  const failoverPeriodMs = durationMs(
    issues,
    "failoverPeriod",
    props?.failoverPeriod,
    Duration.hours(6),
    Duration.minutes(1),
    Duration.hours(24 * 30),
  );
  const restartAttempts = props?.restartAttempts ?? 1;
  if (!isWhole(restartAttempts, 0, 10))
    issues.add("restartAttempts", restartAttempts, "a whole number from 0 to 10");
  const restartPeriodMs = durationMs(
    issues,
    "restartPeriod",
    props?.restartPeriod,
    Duration.minutes(15),
    Duration.minutes(1),
    Duration.hours(24),
  );
  const healthCheck = planCheck(issues, props?.healthCheck, isToken);

  const stopTimeoutMs = durationMs(
    issues,
    "stopTimeout",
    props?.stopTimeout,
    Duration.seconds(2),
    Duration.seconds(1),
    Duration.seconds(60),
  );
  const leaseTtlMs = durationMs(
    issues,
    "leaseTtl",
    props?.leaseTtl,
    Duration.seconds(10),
    Duration.seconds(3),
    Duration.seconds(120),
  );
  const timing = planTiming(leaseTtlMs, stopTimeoutMs);
  if (leaseTtlMs % 1000 !== 0) {
    issues.add("leaseTtl", `${leaseTtlMs}ms`, "whole seconds (etcd leases count seconds)");
  } else if (timing.fenceAfterMs < MIN_FENCE_AFTER_MS) {
    issues.add(
      "leaseTtl",
      `${leaseTtlMs}ms`,
      `at least ${minimumLeaseTtlMs(stopTimeoutMs)}ms with stopTimeout ${stopTimeoutMs}ms: the owner must stop its units (stopTimeout) before its lease ends, and tolerate ${MIN_FENCE_AFTER_MS}ms without reaching etcd`,
    );
  }
  issues.throwIfAny(`FailoverService "${ctx.path}"`);

  const order = [
    ...preferred,
    ...known.filter((n) => allowed.includes(n) && !preferred.includes(n)),
  ];
  return {
    name,
    clusterName: cluster.name,
    keyPrefix: keyPrefixOf(cluster.name),
    units: props.units,
    candidates: order.map((n) => ({
      name: n,
      address: cluster.nodes.find((x) => x.name === n)?.address as string,
    })),
    preferredNodes: preferred,
    failback,
    maxFailovers,
    failoverPeriodMs,
    restartAttempts,
    restartPeriodMs,
    ...(healthCheck ? { healthCheck } : {}),
    timing,
  };
}
