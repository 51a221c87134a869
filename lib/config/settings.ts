import { CoreOsClusterProps } from "../cluster/props";
import { OperatingSystem } from "../cluster/operating-system";
import { Duration } from "../core/duration";
import { ClusterConfigError, IssueCollector, PropIssue } from "../core/errors";
import { isPlainObject } from "../core/validate";
import { ListenerProps, TargetGroupProps } from "../front/options";
import { VagrantClusterOptions } from "../vagrant/options";
import { AwsClusterOptions, AwsMachineImage } from "../aws/options";
import { CONFIG_ENV, CONFIG_SOURCE, ConfigEnvVariable } from "./knobs";

/** Where the app runs the cluster. */
export enum DeployTarget {
  /** Local VirtualBox machines driven by Vagrant (VagrantCluster). */
  VAGRANT = "vagrant",
  /** EC2 instances behind an AWS Network Load Balancer (AwsCluster). */
  AWS = "aws",
}

/** One listener of the front and the targets behind it, as settings give them. */
export interface ListenerSettings {
  /** The listener's id (`front.addListener(name, …)`). */
  readonly name: string;
  readonly listener: ListenerProps;
  /** The target group's id and props; its targets are the cluster. */
  readonly targets: { readonly name: string; readonly props: Omit<TargetGroupProps, "targets"> };
}

/** The front, as settings give it. */
export interface FrontSettings {
  /**
   * @default - the construct id, lowercased
   */
  readonly name?: string | undefined;
  readonly listeners: readonly ListenerSettings[];
  /** Nodes taken out of traffic (`front.drain(node)`). */
  readonly drain: readonly string[];
}

/** The AWS target's settings (the app's stack owns the network). */
export type AwsSettings = Omit<AwsClusterOptions, "network" | "publicAddresses">;

/**
 * Everything an app configured without code builds from: the props of each
 * construct, from a settings object (cdktf.json's context) and the environment.
 */
export interface AppSettings {
  readonly target: DeployTarget;
  readonly cluster: CoreOsClusterProps;
  /**
   * @default - no front
   */
  readonly front?: FrontSettings | undefined;
  readonly vagrant: VagrantClusterOptions;
  readonly aws: AwsSettings;
  /** Where the settings object came from, for messages. */
  readonly source: string;
  /** Settings keys set by environment variables: key → variable and its text. */
  readonly fromEnvironment: Readonly<
    Record<string, { readonly name: string; readonly text: string }>
  >;
}

/**
 * The AWS network of an app's stack when the settings name none: a /16 with
 * three /24 subnets (one per availability zone), nodes from host number 10.
 */
export const AWS_NETWORK_DEFAULTS = {
  networkCidr: "10.42.0.0/16",
  subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24", "10.42.3.0/24"],
  firstHostNumber: 10,
} as const;

const CLUSTER_KEYS = [
  "name",
  "nodeCount",
  "namePrefix",
  "os",
  "cpus",
  "memoryMiB",
  "sshPublicKeys",
  "networkCidr",
  "firstHostNumber",
  "subnetCidrs",
  "etcd",
  "standby",
  "rebootStrategy",
] as const;
const TOP_KEYS = ["target", ...CLUSTER_KEYS, "front", "vagrant", "aws"];
const ETCD_KEYS = ["members", "clusterToken", "imageTag"];
const OS_KEYS = ["family", "channel"];
const FRONT_KEYS = ["name", "listeners", "drain"];
const LISTENER_KEYS = ["name", "port", "protocol", "targets"];
const TARGETS_KEYS = ["name", "port", "healthCheck", "balancing", "affinity"];
const HEALTH_CHECK_KEYS = [
  "protocol",
  "path",
  "port",
  "interval",
  "timeout",
  "healthyThreshold",
  "unhealthyThreshold",
];
const VAGRANT_KEYS = [
  "provider",
  "lifecycle",
  "boxName",
  "boxUrl",
  "gui",
  "forwardedPorts",
  "sharedFolders",
  "serialLogging",
  "parallel",
  "readyTimeout",
  "frontHighAvailability",
  "frontFirstHostNumber",
  "frontInterface",
  "virtualRouterId",
];
const AWS_KEYS = [
  "region",
  "instanceType",
  "rootVolumeGiB",
  "sshAllowedCidrs",
  "frontAllowedCidrs",
  "internetFacing",
  "image",
  "replaceOnImageChange",
  "rollingReplacement",
  "deregistrationDelay",
  "healthCheckInterval",
  "tags",
];
const IMAGE_KEYS = ["version", "architecture", "amiId"];

/** A value read from settings; checked further by the construct that takes it. */
type Raw = never;

const join = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** The closest known key, for "did you mean": same letters ignoring case, or one edit away. */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase().replace(/[-_]/g, "");
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  return known.find((k) => k.length > 3 && editDistanceAtMostOne(k.toLowerCase(), lower));
}

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

/** Reads one object of the settings: reports unknown keys (a `//` key is a comment). */
function section(
  issues: IssueCollector,
  value: unknown,
  path: string,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    issues.add(path || "settings", value, `an object with the keys ${known.join(", ")}`);
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith("//") || known.includes(key)) continue;
    const guess = closest(key, known);
    issues.add(
      join(path, key),
      v,
      `a known key${guess ? ` (did you mean "${guess}"?)` : ""}: ${known.join(", ")}; a key starting with // is a comment`,
    );
  }
  return value;
}

/** A list of objects: each through `item`; anything else is reported. */
function list<T>(
  issues: IssueCollector,
  value: unknown,
  path: string,
  what: string,
  item: (v: unknown, path: string) => T | undefined,
): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    issues.add(path, value, `a list of ${what}`);
    return undefined;
  }
  return value.flatMap((v, i) => {
    const parsed = item(v, join(path, i));
    return parsed === undefined ? [] : [parsed];
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };

/** `"500ms"`, `"10s"`, `"2min"`, `"1h"` → a Duration. */
function duration(issues: IssueCollector, value: unknown, path: string): Duration | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === "string" ? /^(\d+(?:\.\d+)?) ?(ms|s|min|h)$/.exec(value) : null;
  if (!m) {
    issues.add(path, value, 'a duration such as "500ms", "10s", "2min" or "1h"');
    return undefined;
  }
  return Duration.millis(Number(m[1]) * DURATION_UNITS[m[2]]);
}

function operatingSystem(issues: IssueCollector, value: unknown): OperatingSystem | undefined {
  const os = section(issues, value, "os", OS_KEYS);
  if (!os) return undefined;
  const { family = "flatcar", channel } = os;
  if (typeof family !== "string" || (channel !== undefined && typeof channel !== "string")) {
    if (typeof family !== "string") issues.add("os.family", family, "flatcar | fedora-coreos");
    if (channel !== undefined && typeof channel !== "string") {
      issues.add("os.channel", channel, "a channel name such as stable");
    }
    return undefined;
  }
  try {
    return OperatingSystem.of(family, channel);
  } catch (e) {
    if (!(e instanceof ClusterConfigError)) throw e;
    for (const i of e.issues) issues.add(i.prop, i.value, i.allowed);
    return undefined;
  }
}

function clusterProps(issues: IssueCollector, s: Record<string, unknown>): CoreOsClusterProps {
  const etcd = section(issues, s.etcd, "etcd", ETCD_KEYS);
  const props: Record<string, unknown> = {};
  for (const key of CLUSTER_KEYS) {
    if (s[key] !== undefined) props[key] = s[key];
  }
  props.os = operatingSystem(issues, s.os);
  props.etcd = etcd ? { ...etcd } : undefined;
  return props as CoreOsClusterProps;
}

function healthCheck(issues: IssueCollector, value: unknown, path: string) {
  const hc = section(issues, value, path, HEALTH_CHECK_KEYS);
  if (!hc) return undefined;
  return {
    ...hc,
    interval: duration(issues, hc.interval, join(path, "interval")),
    timeout: duration(issues, hc.timeout, join(path, "timeout")),
  } as Raw;
}

function listener(
  issues: IssueCollector,
  value: unknown,
  path: string,
): ListenerSettings | undefined {
  const l = section(issues, value, path, LISTENER_KEYS);
  if (!l) {
    if (value === undefined)
      issues.add(path, value, "a listener { name, port, protocol?, targets }");
    return undefined;
  }
  const targetsPath = join(path, "targets");
  const t = section(issues, l.targets, targetsPath, TARGETS_KEYS);
  if (!t) {
    if (l.targets === undefined) {
      issues.add(
        targetsPath,
        undefined,
        "the listener's targets: { port, name?, healthCheck?, balancing?, affinity? }",
      );
    }
    return undefined;
  }
  return {
    name: l.name as Raw,
    listener: { port: l.port as Raw, protocol: l.protocol as Raw },
    targets: {
      name: (t.name ?? l.name) as Raw,
      props: {
        port: t.port as Raw,
        healthCheck: healthCheck(issues, t.healthCheck, join(targetsPath, "healthCheck")),
        balancing: t.balancing as Raw,
        affinity: t.affinity as Raw,
      },
    },
  };
}

function frontSettings(issues: IssueCollector, value: unknown): FrontSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const f = section(issues, value, "front", FRONT_KEYS);
  if (!f) return undefined;
  const listeners = list(issues, f.listeners, "front.listeners", "listeners", (v, p) =>
    listener(issues, v, p),
  );
  if (f.listeners === undefined) {
    issues.add(
      "front.listeners",
      undefined,
      'at least one listener, e.g. [{ "name": "http", "port": 80, "targets": { "port": 8080 } }]; "front": false for none',
    );
  }
  const drain = f.drain ?? [];
  if (!Array.isArray(drain)) issues.add("front.drain", drain, "a list of node names");
  return {
    name: f.name as Raw,
    listeners: listeners ?? [],
    drain: Array.isArray(drain) ? drain : [],
  };
}

function vagrantOptions(issues: IssueCollector, value: unknown): VagrantClusterOptions {
  const v = section(issues, value, "vagrant", VAGRANT_KEYS) ?? {};
  return { ...v, readyTimeout: duration(issues, v.readyTimeout, "vagrant.readyTimeout") };
}

function awsImage(issues: IssueCollector, value: unknown): AwsMachineImage | undefined {
  const image = section(issues, value, "aws.image", IMAGE_KEYS);
  if (!image) return undefined;
  const architecture = image.architecture as Raw;
  if (image.amiId === undefined) {
    return AwsMachineImage.lookup({ version: image.version as Raw, architecture });
  }
  if (image.version !== undefined) {
    issues.add("aws.image.version", image.version, "no version with a fixed amiId");
  }
  return AwsMachineImage.fixed(image.amiId as Raw, architecture);
}

function awsSettings(issues: IssueCollector, value: unknown): AwsSettings {
  const a = section(issues, value, "aws", AWS_KEYS) ?? {};
  return {
    ...a,
    image: awsImage(issues, a.image),
    deregistrationDelay: duration(issues, a.deregistrationDelay, "aws.deregistrationDelay"),
    healthCheckInterval: duration(issues, a.healthCheckInterval, "aws.healthCheckInterval"),
  };
}

/** Environment variable text → a value, or the words for "allowed". */
function envValue(v: ConfigEnvVariable, text: string): { value: unknown } | { allowed: string } {
  if (v.kind === "count") {
    return /^\d{1,9}$/.test(text)
      ? { value: Number(text) }
      : { allowed: "a whole number such as 5" };
  }
  if (v.kind === "boolean") {
    const t = text.toLowerCase();
    if (["true", "1", "yes"].includes(t)) return { value: true };
    if (["false", "0", "no"].includes(t)) return { value: false };
    return { allowed: "true or false (also 1/0, yes/no)" };
  }
  return { value: text };
}

/** `root` with `value` at the dotted `key` (objects on the way copied, never changed in place). */
function withValue(
  root: Record<string, unknown>,
  key: string,
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = key.split(".");
  if (rest.length === 0) return { ...root, [head]: value };
  const inner = isPlainObject(root[head]) ? (root[head] as Record<string, unknown>) : {};
  return { ...root, [head]: withValue(inner, rest.join("."), value) };
}

/** An environment: variable name → text (process.env). */
export type SettingsEnvironment = Readonly<Record<string, string | undefined>>;

/** Options of parseAppSettings. */
export interface ParseSettingsOptions {
  /**
   * Where the settings object came from, as messages name it.
   * @default 'cdktf.json (context "coreos-cluster:config")'
   */
  readonly source?: string | undefined;
}

/**
 * Turns a settings object (cdktf.json's context "coreos-cluster:config") and
 * environment overrides (CONFIG_ENV: NUM_INSTANCES, UPDATE_CHANNEL, …) into
 * the props of each construct. Pure: reads nothing but its arguments.
 *
 * It checks the shape — known keys (a typo is named, with the key it
 * resembles), objects and lists where they belong, durations, the OS and
 * channel, environment values — and throws one ClusterConfigError naming
 * the source, each key or variable, the value and what is allowed. Values
 * are checked further by the constructs that take them: build them with
 * clusterFromSettings & co., which report those issues against the settings
 * too.
 */
export function parseAppSettings(
  value: unknown,
  env: SettingsEnvironment = {},
  options: ParseSettingsOptions = {},
): AppSettings {
  const source = options.source ?? CONFIG_SOURCE;
  const issues = new IssueCollector();
  let root = section(issues, value ?? {}, "", TOP_KEYS) ?? {};
  const fromEnvironment: Record<string, { name: string; text: string }> = {};
  for (const [name, v] of Object.entries(CONFIG_ENV)) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    const parsed = envValue(v, text);
    if ("allowed" in parsed) {
      issues.add(`${name} (environment, ${v.key})`, text, parsed.allowed);
      continue;
    }
    fromEnvironment[v.key] = { name, text };
    root = withValue(root, v.key, parsed.value);
  }
  const target = root.target ?? DeployTarget.VAGRANT;
  if (!(Object.values(DeployTarget) as unknown[]).includes(target)) {
    issues.add("target", target, Object.values(DeployTarget).join(" | "));
  }
  const settings: AppSettings = {
    target: target as DeployTarget,
    cluster: clusterProps(issues, root),
    front: frontSettings(issues, root.front),
    vagrant: vagrantOptions(issues, root.vagrant),
    aws: awsSettings(issues, root.aws),
    source,
    fromEnvironment,
  };
  if (issues.issues.length > 0) throw settingsError(settings, issues.issues);
  return settings;
}

/**
 * The cluster's props for the settings' target: on AWS, AWS_NETWORK_DEFAULTS
 * where the settings name no network (VirtualBox's 192.168.56.0/21 is the
 * cluster's own default).
 */
export function targetClusterProps(settings: AppSettings): CoreOsClusterProps {
  const cluster = settings.cluster;
  if (settings.target !== DeployTarget.AWS || cluster.networkCidr !== undefined) return cluster;
  return {
    ...cluster,
    networkCidr: AWS_NETWORK_DEFAULTS.networkCidr,
    subnetCidrs: cluster.subnetCidrs ?? AWS_NETWORK_DEFAULTS.subnetCidrs,
    firstHostNumber: cluster.firstHostNumber ?? AWS_NETWORK_DEFAULTS.firstHostNumber,
  };
}

/** The same settings for another target (e.g. an app that builds both). */
export function settingsForTarget(settings: AppSettings, target: DeployTarget): AppSettings {
  return { ...settings, target };
}

/**
 * One issue against the settings: the key (`nodeCount`), or the environment
 * variable that set it (`NUM_INSTANCES (environment, nodeCount)`) showing
 * the variable's text.
 */
function attribute(settings: AppSettings, issue: PropIssue): PropIssue {
  const key = issue.prop;
  const exact = settings.fromEnvironment[key];
  if (exact) return { ...issue, prop: `${exact.name} (environment, ${key})`, value: exact.text };
  const related = Object.entries(settings.fromEnvironment)
    .filter(([k]) => k.startsWith(`${key}.`) || key.startsWith(`${k}.`) || key.startsWith(`${k}[`))
    .map(([, e]) => e.name);
  if (related.length === 0) return issue;
  return { ...issue, prop: `${key} (with ${related.join(", ")} from the environment)` };
}

/**
 * A ClusterConfigError against the settings: each issue names its key or
 * environment variable. `checkedBy` names the construct that found them.
 */
export function settingsError(
  settings: AppSettings,
  issues: readonly PropIssue[],
  checkedBy?: string,
): ClusterConfigError {
  const envUsed =
    Object.keys(settings.fromEnvironment).length > 0 ||
    issues.some((i) => /\(environment, /.test(i.prop));
  const subject = `${settings.source}${envUsed ? " and the environment" : ""}${checkedBy ? `, checked by ${checkedBy}` : ""}`;
  return new ClusterConfigError(
    subject,
    issues.map((i) => attribute(settings, i)),
    "settings",
  );
}
