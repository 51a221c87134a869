import { createHash } from "node:crypto";
import { CoreOsClusterProps, EtcdProps, MaintenanceWindow, NodeFile, SystemdUnit } from "./props";
import { IssueCollector } from "../core/errors";
import { hostAddress, Ipv4Network, parseCidr } from "../core/network";
import {
  checkClusterNetwork,
  checkFileMode,
  checkUnicode,
  checkNodePath,
  checkDropinName,
  checkPropsObject,
  checkUnitContents as unitContentsProblem,
  checkUnitName,
  containsPrivateKey,
  findTokens,
  isPlainObject,
  LITERAL_REQUIRED,
  parseSshPublicKey,
  pathConflict,
  PRIVATE_KEY_SHOWN,
  TOKEN_VALUE,
} from "../core/validate";
import { FlatcarChannel, OperatingSystem, OsFamily } from "./operating-system";
import { RebootStrategy } from "./reboot-strategy";
import { Provisioning } from "./provisioning";
import { checkImage, ContainerImage } from "../core/container-image";
import { Duration } from "../core/duration";
import { DiscoveryKind, DiscoveryPlan, EtcdDiscovery, etcdMinorVersion } from "../etcd/discovery";
import { DEFAULT_IMAGES } from "../core/default-images";
import { EtcdTls, EtcdTlsMaterial } from "../etcd/tls";
import { MembershipRecord, planMembership, RecordedMember } from "../etcd/membership";
import { hasInstallTargets, parseInstallSection } from "../core/systemd-install";

/** etcd client and peer ports. */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
/** etcd's legacy client and peer ports, which the coreos-vagrant recipe used. */
export const ETCD_LEGACY_CLIENT_PORT = 4001;
export const ETCD_LEGACY_PEER_PORT = 7001;

/** Allowed etcd member counts: odd, so a majority survives (n-1)/2 failures. */
export const ETCD_MEMBER_COUNTS = [1, 3, 5, 7] as const;

/** Limits of the model, shared by validation, docs and tests. */
export const LIMITS = {
  nodeCount: { min: 1, max: 9999 },
  cpus: { min: 1, max: 64 },
  memoryMiB: { min: 512, max: 262144 },
} as const;

/**
 * Where every machine's ready check lives (Flatcar puts /opt/bin on PATH).
 * Ignition writes it, so finding it on a machine shows that the machine's
 * config was applied; running it says whether the machine is up.
 */
export const READY_CHECK_PATH = "/opt/bin/coreos-cluster-ready";

/** Paths the plan writes itself; user files may not replace them. */
export const RESERVED_PATHS = [
  "/etc/hostname",
  "/etc/flatcar/update.conf",
  "/etc/profile.d/etcdctl.sh",
  "/etc/zincati/config.d/55-updates-strategy.toml",
  "/etc/etcd/etcd.env",
  "/etc/etcd/join.env",
  "/etc/etcd/discovery.env",
  READY_CHECK_PATH,
] as const;

/**
 * Folders the plan writes itself (etcd's certificates and scripts, failover
 * agents and their configs); user files stay out.
 */
export const RESERVED_DIRECTORIES = [
  "/etc/ssl/etcd/",
  "/opt/etcd/",
  "/opt/coreos-cluster/",
  "/etc/coreos-cluster/",
] as const;

/** Units the plan configures itself; user units may not replace them. */
export const RESERVED_UNITS = [
  "etcd-member.service",
  "etcd-member-promote.service",
  "etcd-member-leave.service",
  "locksmithd.service",
] as const;

/** Drop-ins the plan writes into its units: `unit/drop-in`. */
export const RESERVED_DROPINS = ["locksmithd.service/20-etcd-endpoints.conf"] as const;

/** Where systemd reads a unit and its drop-ins; Ignition writes units there. */
export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";

/** One node of the plan. */
export interface NodePlan {
  /** Zero-based position in the cluster. */
  readonly index: number;
  /** Host name, e.g. `core-01`. */
  readonly name: string;
  /** Deterministic private IPv4 address. */
  readonly address: string;
  /** True when the node runs an etcd member; otherwise it is an etcd client. */
  readonly etcdMember: boolean;
  /** True for the I standby nodes of N+I. */
  readonly standby: boolean;
  /** Files for this node only, after the cluster-wide ones. */
  readonly files: readonly NodeFile[];
  /** Index into the plan's `subnets` of the subnet holding the node's address. */
  readonly subnetIndex: number;
}

/** The resolved etcd topology. */
export interface EtcdPlan {
  readonly members: readonly NodePlan[];
  readonly clusterToken: string;
  readonly imageTag: string;
  /** The image every member runs. */
  readonly image: ContainerImage;
  /** `https` with TLS (the default), `http` when disabled. */
  readonly scheme: "https" | "http";
  /** How TLS credentials are made; undefined when TLS is disabled. */
  readonly tlsSource?: EtcdTls;
  /**
   * Certificates per machine, attached by the construct once it has read or
   * made them in the state folder; renderers need it when `scheme` is https.
   */
  readonly tls?: EtcdTlsMaterial;
  /**
   * The members the cluster was bootstrapped with (first synth), kept in the
   * state folder: their static settings and the endpoints every node knows
   * stay the same whatever `members` becomes, so a membership change touches
   * only the nodes whose role changes.
   */
  readonly bootstrap: readonly RecordedMember[];
  /** `name=https://addr:2380,…` of the bootstrap members, the static bootstrap list. */
  readonly initialCluster: string;
  /** Client URLs of the bootstrap members: where every node finds the cluster. */
  readonly seedEndpoints: readonly string[];
  /** Client URLs of all current members. */
  readonly clientEndpoints: readonly string[];
  /** What the state folder records after this synth. */
  readonly record: MembershipRecord;
  /** How the bootstrap members find each other (static: `initialCluster`). */
  readonly discovery: DiscoveryPlan;
  /** Ports members listen on: 2379/2380, plus 4001/7001 with `legacyPorts`. */
  readonly ports: { readonly client: readonly number[]; readonly peer: readonly number[] };
  /**
   * Members also serve etcd's v2 API: locksmithd's etcd lock (ETCD_LOCK) was
   * written against it (v2 keys `coreos.com/updateengine/rebootlock/semaphore`)
   * before its v3 port; etcd < 3.6 only.
   */
  readonly enableV2: boolean;
}

/** The resolved maintenance window (locksmithd's reboot window). */
export interface MaintenanceWindowPlan {
  /** `HH:MM` or `Day HH:MM`, UTC. */
  readonly start: string;
  /** Whole minutes. */
  readonly lengthMinutes: number;
}

/** Every prop resolved and checked: the single input of all renderers and targets. */
export interface ClusterPlan {
  readonly name: string;
  readonly os: OperatingSystem;
  readonly namePrefix: string;
  readonly nodes: readonly NodePlan[];
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly sshPublicKeys: readonly string[];
  readonly network: Ipv4Network;
  /** The subnets nodes are spread over; `[network]` unless `subnetCidrs` was given. */
  readonly subnets: readonly Ipv4Network[];
  readonly firstHostNumber: number;
  readonly etcd: EtcdPlan;
  readonly standby: number;
  readonly rebootStrategy: RebootStrategy;
  /** Reboot window of every node (Flatcar, ETCD_LOCK or REBOOT); undefined: any time. */
  readonly maintenanceWindow?: MaintenanceWindowPlan;
  /** How the nodes' configs reach them. */
  readonly provisioning: Provisioning;
  readonly units: readonly SystemdUnit[];
  readonly files: readonly NodeFile[];
  /** Construct path of the cluster: tells its nodes from another cluster's in a front. */
  readonly path: string;
}

/** Facts from the construct tree that the plan needs. */
export interface PlanContext {
  /** Construct id, the default cluster name. */
  readonly id: string;
  /** Construct path, seed of the default etcd token. */
  readonly path: string;
  /** The etcd membership of the last synth, from the state folder; none on the first. */
  readonly previousMembership?: MembershipRecord | undefined;
  /** Where that record lies, for messages. */
  readonly membershipRecordFile?: string | undefined;
  /**
   * Tells unresolved tokens (Terraform references, variables) from literal
   * values; every cluster prop must be a literal.
   * @default - nothing is a token
   */
  readonly isToken?: (value: unknown) => boolean;
}

const NAME_RE = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** True for a cluster name the plan accepts. */
export function isClusterName(name: unknown): name is string {
  return typeof name === "string" && NAME_RE.test(name);
}

/** The cluster name when the props give none: the construct id, lowercased. */
export function defaultClusterName(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9-]/g, "-");
}
const ETCD_TAG_RE = /^v3\.\d+\.\d+$/;

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

function checkRange(
  issues: IssueCollector,
  prop: string,
  value: unknown,
  min: number,
  max: number,
): value is number {
  if (isInt(value) && value >= min && value <= max) return true;
  issues.add(prop, value, `a whole number from ${min} to ${max}`);
  return false;
}

/**
 * Node numbers are padded to 2 digits (core-01 … core-99, then core-100):
 * a fixed width, so growing the cluster past 99 nodes renames no node (a
 * renamed node is a new machine).
 */
export function nameWidth(_nodeCount: number): number {
  return 2;
}

/** Paths on the node that are already taken, with who takes them. */
type TakenPaths = Map<string, string>;

/** The unit files and drop-ins systemd reads: Ignition writes units there, so files may not. */
function unitPaths(units: readonly SystemdUnit[]): TakenPaths {
  const taken: TakenPaths = new Map();
  for (const u of RESERVED_UNITS) taken.set(`${SYSTEMD_UNIT_DIR}/${u}`, `the cluster's unit ${u}`);
  for (const d of RESERVED_DROPINS) {
    const [unit, dropin] = d.split("/");
    taken.set(`${SYSTEMD_UNIT_DIR}/${unit}.d/${dropin}`, `the cluster's drop-in ${dropin}`);
  }
  units.forEach((u, i) => {
    if (typeof u?.name !== "string") return;
    if (u.contents !== undefined) taken.set(`${SYSTEMD_UNIT_DIR}/${u.name}`, `units[${i}]`);
    (Array.isArray(u.dropins) ? u.dropins : []).forEach((d, j) => {
      if (typeof d?.name === "string") {
        taken.set(`${SYSTEMD_UNIT_DIR}/${u.name}.d/${d.name}`, `units[${i}].dropins[${j}]`);
      }
    });
  });
  return taken;
}

/** Unit or drop-in text: a string Ignition accepts, without private keys. */
function checkUnitContents(issues: IssueCollector, prop: string, text: unknown): void {
  const problem = unitContentsProblem(text);
  if (problem) issues.add(prop, problem.shown, problem.allowed);
}

function checkDropins(issues: IssueCollector, prop: string, unit: SystemdUnit): void {
  if (unit.dropins === undefined) return;
  if (!Array.isArray(unit.dropins)) {
    issues.add(`${prop}.dropins`, unit.dropins, "a list of { name, contents }");
    return;
  }
  const seen = new Set<string>();
  unit.dropins.forEach((d, j) => {
    const dprop = `${prop}.dropins[${j}]`;
    const nameProblem = checkDropinName(d?.name);
    if (nameProblem) {
      issues.add(`${dprop}.name`, d?.name, nameProblem);
    } else if ((RESERVED_DROPINS as readonly string[]).includes(`${unit.name}/${d.name}`)) {
      issues.add(
        `${dprop}.name`,
        d.name,
        `a drop-in name other than ${d.name}, which the cluster writes into ${unit.name}`,
      );
    } else if (seen.has(d.name)) {
      issues.add(`${dprop}.name`, d.name, `each drop-in name once per unit`);
    }
    if (typeof d?.name === "string") seen.add(d.name);
    checkUnitContents(issues, `${dprop}.contents`, d?.contents);
  });
}

function checkUnits(issues: IssueCollector, units: readonly SystemdUnit[]): void {
  const seen = new Set<string>();
  units.forEach((unit, i) => {
    const prop = `units[${i}]`;
    if (!isPlainObject(unit)) {
      issues.add(prop, unit, "a unit { name, contents?, enabled?, dropins? }");
      return;
    }
    const nameProblem = checkUnitName(unit.name);
    if (nameProblem) {
      issues.add(`${prop}.name`, unit.name, nameProblem);
      return;
    }
    const reserved = (RESERVED_UNITS as readonly string[]).includes(unit.name);
    if (reserved && (unit.contents !== undefined || unit.enabled !== undefined)) {
      issues.add(
        `${prop}.${unit.contents !== undefined ? "contents" : "enabled"}`,
        unit.name,
        `only dropins for ${unit.name}: the cluster writes and enables it from the etcd and rebootStrategy props`,
      );
    }
    if (seen.has(unit.name)) issues.add(`${prop}.name`, unit.name, "each unit name once");
    seen.add(unit.name);
    if (unit.contents === undefined && unit.enabled === undefined && !unit.dropins?.length) {
      issues.add(prop, unit, "at least one of contents, enabled or dropins");
    }
    if (unit.enabled !== undefined && typeof unit.enabled !== "boolean") {
      issues.add(`${prop}.enabled`, unit.enabled, "true | false");
    }
    if (unit.contents !== undefined) {
      checkUnitContents(issues, `${prop}.contents`, unit.contents);
    }
    checkDropins(issues, prop, unit);
    checkEnabledUnit(issues, unit, prop);
  });
}

/**
 * An enabled unit must say where it starts, as `systemctl enable` needs: the
 * cluster writes the links its [Install] section asks for.
 */
function checkEnabledUnit(issues: IssueCollector, unit: SystemdUnit, prop: string): void {
  const enabled = unit.enabled ?? unit.contents !== undefined;
  // Drop-ins that are not a list were reported by checkDropins; nothing to read here.
  const dropins: readonly unknown[] = Array.isArray(unit.dropins) ? unit.dropins : [];
  const texts = [unit.contents, ...dropins.map((d) => (d as { contents?: unknown })?.contents)];
  if (enabled !== true || texts.some((t) => t !== undefined && typeof t !== "string")) return;
  const install = parseInstallSection(...texts.filter((t): t is string => t !== undefined));
  if (install.also.length > 0) {
    issues.add(
      `${prop}.contents`,
      `Also=${install.also.join(" ")}`,
      "no Also= in an enabled unit: list those units in units themselves",
    );
  }
  if (unit.contents === undefined) return; // a unit the OS ships: enabled as its type's target wants
  if (!hasInstallTargets(install)) {
    issues.add(
      `${prop}.contents`,
      unit.contents,
      `an [Install] section with WantedBy= (e.g. WantedBy=multi-user.target), RequiredBy= or Alias=, as the unit is enabled (${unit.enabled === undefined ? "the default for a unit with contents" : "enabled: true"}); or enabled: false`,
    );
  } else if (/@\.[a-z]+$/.test(unit.name) && !install.defaultInstance) {
    issues.add(
      `${prop}.name`,
      unit.name,
      "an instance name (e.g. worker@1.service) or DefaultInstance= in [Install]: a template unit cannot start on its own",
    );
  }
}

function checkFiles(
  issues: IssueCollector,
  files: readonly NodeFile[],
  propName: string,
  taken: TakenPaths,
): void {
  files.forEach((file, i) => {
    const prop = `${propName}[${i}]`;
    if (!isPlainObject(file)) {
      issues.add(prop, file, "a file { path, contents, mode? }");
      return;
    }
    const path = file.path;
    const pathReason = checkNodePath(path);
    const reservedDir = RESERVED_DIRECTORIES.find((d) => String(path).startsWith(d));
    if (pathReason) {
      issues.add(`${prop}.path`, path, pathReason);
    } else if (reservedDir) {
      issues.add(
        `${prop}.path`,
        path,
        `a path outside the folders the cluster writes itself (${RESERVED_DIRECTORIES.join(", ")}): ${reservedDir} holds etcd's certificates and scripts, or failover agents and their configs`,
      );
    } else {
      const conflict = pathConflict(path, taken);
      if (conflict) {
        issues.add(
          `${prop}.path`,
          path,
          `a path that no other file or unit takes: ${conflict.owner} writes ${conflict.path} (${conflict.how})`,
        );
      } else {
        taken.set(path, prop);
      }
    }
    const unicode = typeof file.contents === "string" ? checkUnicode(file.contents) : undefined;
    if (typeof file.contents !== "string") {
      issues.add(`${prop}.contents`, file.contents, "a string");
    } else if (unicode !== undefined) {
      issues.add(`${prop}.contents`, file.contents, unicode);
    } else if (containsPrivateKey(file.contents)) {
      issues.add(
        `${prop}.contents`,
        PRIVATE_KEY_SHOWN,
        "no private keys: synthesized configs are plain text; deliver secrets out of band",
      );
    }
    if (file.mode !== undefined) {
      const modeReason = checkFileMode(file.mode);
      if (modeReason) issues.add(`${prop}.mode`, file.mode, modeReason);
    }
  });
}

function defaultToken(ctx: PlanContext, name: string): string {
  const digest = createHash("sha256").update(ctx.path).digest("hex").slice(0, 12);
  return `${name}-${digest}`;
}

/**
 * Validates props and resolves every default. Pure: the same props and
 * context always give the same plan. Throws one ClusterConfigError that lists
 * every rejected prop.
 */
export function planCluster(given: CoreOsClusterProps, ctx: PlanContext): ClusterPlan {
  const issues = new IssueCollector();
  const where = `CoreOsCluster "${ctx.path}"`;
  const propsReason = checkPropsObject(given);
  if (propsReason) issues.add("props", given, propsReason);
  issues.throwIfAny(where);
  const props: CoreOsClusterProps = given ?? {};
  // Tokens first: their encoded values would only produce nonsense below.
  for (const prop of findTokens(props, ctx.isToken ?? (() => false))) {
    issues.add(prop, TOKEN_VALUE, LITERAL_REQUIRED);
  }
  issues.throwIfAny(where);

  const name = props.name ?? defaultClusterName(ctx.id);
  if (!isClusterName(name)) {
    issues.add(
      "name",
      name,
      "1-32 lowercase letters, digits or '-', starting with a letter and not ending with '-'",
    );
  }

  const nodeCount = props.nodeCount ?? 3;
  const countOk = checkRange(
    issues,
    "nodeCount",
    nodeCount,
    LIMITS.nodeCount.min,
    LIMITS.nodeCount.max,
  );

  const namePrefix = props.namePrefix ?? "core";
  if (typeof namePrefix !== "string" || !/^[a-z]([a-z0-9-]{0,40}[a-z0-9])?$/.test(namePrefix)) {
    issues.add(
      "namePrefix",
      namePrefix,
      "a host name prefix: lowercase letters, digits or '-', starting with a letter, at most 42 characters",
    );
  }

  const os = props.os ?? OperatingSystem.flatcar(FlatcarChannel.STABLE);
  if (!(os instanceof OperatingSystem)) {
    issues.add("os", os, "OperatingSystem.flatcar(...) or OperatingSystem.fedoraCoreOs(...)");
  }

  const cpus = props.cpus ?? 1;
  checkRange(issues, "cpus", cpus, LIMITS.cpus.min, LIMITS.cpus.max);
  const memoryMiB = props.memoryMiB ?? 1024;
  checkRange(issues, "memoryMiB", memoryMiB, LIMITS.memoryMiB.min, LIMITS.memoryMiB.max);

  const sshPublicKeys: string[] = [];
  const givenKeys = props.sshPublicKeys ?? [];
  if (!Array.isArray(givenKeys)) {
    issues.add("sshPublicKeys", givenKeys, "a list of SSH public keys");
  } else {
    givenKeys.forEach((key, i) => {
      if (typeof key === "string" && containsPrivateKey(key)) {
        issues.add(
          `sshPublicKeys[${i}]`,
          PRIVATE_KEY_SHOWN,
          "a public key (the .pub file); private keys never go into synthesized configs",
        );
        return;
      }
      const parsed = parseSshPublicKey(key);
      if ("reason" in parsed) issues.add(`sshPublicKeys[${i}]`, key, parsed.reason);
      else sshPublicKeys.push(parsed.line);
    });
  }

  const networkCidr = props.networkCidr ?? "192.168.56.0/21";
  const parsed = checkClusterNetwork(networkCidr);
  const network = "reason" in parsed ? undefined : parsed;
  if ("reason" in parsed) issues.add("networkCidr", networkCidr, parsed.reason);

  const firstHostNumber = props.firstHostNumber ?? 101;
  const firstOk = checkRange(issues, "firstHostNumber", firstHostNumber, 1, 2 ** 24);

  const subnets = planSubnets(issues, props.subnetCidrs, network);

  const standby = props.standby ?? 0;
  if (countOk && !(isInt(standby) && standby >= 0 && standby < nodeCount)) {
    issues.add(
      "standby",
      standby,
      `a whole number from 0 to ${nodeCount - 1} (nodeCount - 1): at least one node must stay active`,
    );
  }

  const givenEtcd: unknown = props.etcd ?? {};
  if (!isPlainObject(givenEtcd)) {
    issues.add(
      "etcd",
      givenEtcd,
      "{ members?, clusterToken?, imageTag?, image?, tls?, discovery?, legacyPorts? }",
    );
  }
  const etcd: EtcdProps = isPlainObject(givenEtcd) ? givenEtcd : {};
  const defaultMembers = countOk && nodeCount < 3 ? 1 : 3;
  const members = etcd.members ?? defaultMembers;
  if (!(ETCD_MEMBER_COUNTS as readonly unknown[]).includes(members)) {
    const why =
      isInt(members) && members > 0 && members % 2 === 0
        ? ` (an even count tolerates no more failures than ${members - 1} members and splits votes)`
        : "";
    issues.add("etcd.members", members, `${ETCD_MEMBER_COUNTS.join(", ")}${why}`);
  } else if (countOk && members > nodeCount) {
    issues.add(
      "etcd.members",
      members,
      `at most nodeCount (${nodeCount}): each member runs on its own node`,
    );
  }
  const imageTag = etcd.imageTag ?? "v3.5.21";
  if (typeof imageTag !== "string" || !ETCD_TAG_RE.test(imageTag)) {
    issues.add("etcd.imageTag", imageTag, "an etcd v3 release tag such as v3.5.21");
  }
  const image =
    etcd.image ??
    (etcd.imageTag === undefined
      ? DEFAULT_IMAGES.etcd
      : ContainerImage.unpinned(`quay.io/coreos/etcd:${imageTag}`));
  if (etcd.image !== undefined) checkImage(issues, "etcd.image", etcd.image);
  const tls = etcd.tls ?? EtcdTls.generatedCa();
  if (!(tls instanceof EtcdTls)) {
    issues.add(
      "etcd.tls",
      tls,
      "EtcdTls.generatedCa(), EtcdTls.fromCa({...}), EtcdTls.fromCaFiles(...) or EtcdTls.disabled()",
    );
  } else {
    tls.check(issues, "etcd.tls");
  }
  const clusterToken = etcd.clusterToken ?? defaultToken(ctx, name);
  if (typeof clusterToken !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(clusterToken)) {
    issues.add("etcd.clusterToken", clusterToken, "1-64 letters, digits, '.', '_' or '-'");
  }

  const family = os instanceof OperatingSystem ? os.family : undefined;
  const { rebootStrategy, maintenanceWindow, provisioning } = planUpdatesAndProvisioning(
    issues,
    props,
    family,
  );
  const etcdOptions = planEtcdOptions(issues, etcd, image, rebootStrategy);

  const units = props.units ?? [];
  const files = props.files ?? [];
  if (!Array.isArray(units)) issues.add("units", units, "a list of systemd units");
  else checkUnits(issues, units);
  const taken: TakenPaths = unitPaths(Array.isArray(units) ? units : []);
  for (const p of RESERVED_PATHS) taken.set(p, "the cluster itself");
  if (!Array.isArray(files)) issues.add("files", files, "a list of files");
  else checkFiles(issues, files, "files", taken);
  const nodeFiles = props.nodeFiles ?? {};
  if (!isPlainObject(nodeFiles)) {
    issues.add("nodeFiles", nodeFiles, "an object: node name → list of files");
  } else {
    for (const [nodeName, list] of Object.entries(nodeFiles)) {
      const prop = `nodeFiles[${JSON.stringify(nodeName)}]`;
      if (!Array.isArray(list)) issues.add(prop, list, "a list of files");
      else checkFiles(issues, list, prop, new Map(taken));
    }
  }

  // Addresses only when the inputs they depend on are sound.
  const nodes: NodePlan[] = [];
  if (countOk && firstOk && network && subnets) {
    const k = subnets.length;
    const smallest = Math.min(...subnets.map((s) => s.size));
    const lastHost = firstHostNumber + Math.ceil(nodeCount / k) - 1;
    if (subnets.some((s) => hostAddress(s, lastHost) === undefined)) {
      const room = Math.max(smallest - 2 - firstHostNumber + 1, 0) * k;
      issues.add(
        "nodeCount",
        nodeCount,
        `at most ${room} nodes from host number ${firstHostNumber} in ${props.subnetCidrs ? `subnets ${subnets.map((s) => s.cidr).join(", ")}` : networkCidr}: widen ${props.subnetCidrs ? "the subnets" : "networkCidr"} or lower firstHostNumber`,
      );
    } else {
      const width = nameWidth(nodeCount);
      const memberCount = isInt(members) ? members : 0;
      for (let i = 0; i < nodeCount; i++) {
        nodes.push({
          index: i,
          name: `${namePrefix}-${String(i + 1).padStart(width, "0")}`,
          address: hostAddress(subnets[i % k], firstHostNumber + Math.floor(i / k)) as string,
          etcdMember: i < memberCount,
          standby: isInt(standby) && i >= nodeCount - standby,
          files: [],
          subnetIndex: i % k,
        });
      }
      const known = new Set(nodes.map((n) => n.name));
      for (const nodeName of isPlainObject(nodeFiles) ? Object.keys(nodeFiles) : []) {
        if (!known.has(nodeName)) {
          issues.add(
            "nodeFiles",
            nodeName,
            `names of this cluster's nodes (${nodes[0].name} … ${nodes[nodes.length - 1].name})`,
          );
        }
      }
    }
  }

  const membership = planMembership(
    issues,
    nodes,
    ctx.previousMembership,
    ctx.membershipRecordFile ?? "the membership record",
  );
  issues.throwIfAny(`CoreOsCluster "${ctx.path}"`);

  const withFiles = nodes.map((n) => ({ ...n, files: nodeFiles[n.name] ?? [] }));
  const memberNodes = withFiles.filter((n) => n.etcdMember);
  const scheme = tls instanceof EtcdTls && tls.enabled ? "https" : "http";
  return {
    name,
    os,
    namePrefix,
    nodes: withFiles,
    cpus,
    memoryMiB,
    sshPublicKeys,
    network: network as Ipv4Network,
    subnets: subnets as Ipv4Network[],
    firstHostNumber,
    etcd: {
      members: memberNodes,
      clusterToken,
      imageTag,
      image,
      scheme,
      tlsSource: scheme === "https" ? tls : undefined,
      bootstrap: membership.bootstrap,
      initialCluster: membership.bootstrap
        .map((m) => `${m.name}=${scheme}://${m.address}:${ETCD_PEER_PORT}`)
        .join(","),
      seedEndpoints: membership.bootstrap.map(
        (m) => `${scheme}://${m.address}:${ETCD_CLIENT_PORT}`,
      ),
      clientEndpoints: memberNodes.map((m) => `${scheme}://${m.address}:${ETCD_CLIENT_PORT}`),
      record: membership.record,
      discovery: { ...etcdOptions.discovery, size: membership.bootstrap.length },
      ports: etcdOptions.ports,
      enableV2: etcdOptions.enableV2,
    },
    standby,
    rebootStrategy,
    ...(maintenanceWindow ? { maintenanceWindow } : {}),
    provisioning,
    units,
    files,
    path: ctx.path,
  };
}

/**
 * The reboot strategy, the maintenance window and the provisioning format:
 * what the OS family can do.
 */
function planUpdatesAndProvisioning(
  issues: IssueCollector,
  props: CoreOsClusterProps,
  family: OsFamily | undefined,
): {
  rebootStrategy: RebootStrategy;
  maintenanceWindow?: MaintenanceWindowPlan;
  provisioning: Provisioning;
} {
  const rebootStrategy =
    props.rebootStrategy ??
    (family === OsFamily.FEDORA_COREOS ? RebootStrategy.STAGGERED : RebootStrategy.ETCD_LOCK);
  if (!(Object.values(RebootStrategy) as string[]).includes(rebootStrategy)) {
    issues.add("rebootStrategy", rebootStrategy, Object.values(RebootStrategy).join(" | "));
  } else if (family === OsFamily.FEDORA_COREOS && rebootStrategy === RebootStrategy.ETCD_LOCK) {
    issues.add(
      "rebootStrategy",
      rebootStrategy,
      "staggered | reboot | off on Fedora CoreOS (its Zincati coordinates reboots through a FleetLock server, not etcd; staggered gives each node its own reboot window)",
    );
  }
  const provisioning = props.provisioning ?? Provisioning.IGNITION;
  if (!(Object.values(Provisioning) as string[]).includes(provisioning)) {
    issues.add("provisioning", provisioning, Object.values(Provisioning).join(" | "));
  } else if (family === OsFamily.FEDORA_COREOS && provisioning === Provisioning.CLOUD_CONFIG) {
    issues.add(
      "provisioning",
      provisioning,
      "ignition on Fedora CoreOS: it has no cloud-config (coreos-cloudinit is Flatcar's); choose OperatingSystem.flatcar(...) for the seed's cloud-config",
    );
  }
  const window =
    props.maintenanceWindow === undefined
      ? undefined
      : planMaintenanceWindow(issues, props.maintenanceWindow, rebootStrategy, family);
  return { rebootStrategy, ...(window ? { maintenanceWindow: window } : {}), provisioning };
}

/** locksmithd's reboot window start (its README, and coreos-cloudinit's `valid` pattern): `[Day ]HH:MM`. */
const WINDOW_START = /^((sun|mon|tue|wed|thu|fri|sat) )?([01][0-9]|2[0-3]):[0-5][0-9]$/i;
const WINDOW_MAX_MINUTES = 7 * 24 * 60;

function planMaintenanceWindow(
  issues: IssueCollector,
  window: MaintenanceWindow,
  rebootStrategy: RebootStrategy,
  family: OsFamily | undefined,
): MaintenanceWindowPlan | undefined {
  if (!isPlainObject(window)) {
    issues.add("maintenanceWindow", window, '{ start: "Sun 03:00", length: Duration.hours(1) }');
    return undefined;
  }
  let ok = true;
  if (family === OsFamily.FEDORA_COREOS) {
    issues.add(
      "maintenanceWindow",
      window.start,
      "no window on Fedora CoreOS: locksmithd's reboot window is Flatcar's; STAGGERED gives each Fedora CoreOS node a window of its own",
    );
    ok = false;
  } else if (rebootStrategy === RebootStrategy.STAGGERED || rebootStrategy === RebootStrategy.OFF) {
    issues.add(
      "maintenanceWindow",
      window.start,
      `a window only with rebootStrategy ETCD_LOCK or REBOOT (${rebootStrategy === RebootStrategy.OFF ? "off never reboots" : "staggered gives each node its own window"})`,
    );
    ok = false;
  }
  if (typeof window.start !== "string" || !WINDOW_START.test(window.start)) {
    issues.add(
      "maintenanceWindow.start",
      window.start,
      'a start time "HH:MM" (24 h, UTC), optionally after a day: "Sun 03:00" (Sun Mon Tue Wed Thu Fri Sat)',
    );
    ok = false;
  }
  const minutes =
    window.length instanceof Duration ? window.length.toMilliseconds() / 60_000 : Number.NaN;
  if (!(Number.isInteger(minutes) && minutes >= 1 && minutes <= WINDOW_MAX_MINUTES)) {
    const shown = window.length instanceof Duration ? window.length.toString() : window.length;
    issues.add(
      "maintenanceWindow.length",
      shown,
      "a Duration of whole minutes from 1 minute to 7 days, e.g. Duration.hours(1)",
    );
    ok = false;
  }
  return ok ? { start: window.start, lengthMinutes: minutes } : undefined;
}

/** Discovery, ports and the v2 API of the members, checked against the etcd image. */
function planEtcdOptions(
  issues: IssueCollector,
  etcd: EtcdProps,
  image: ContainerImage,
  rebootStrategy: RebootStrategy,
): {
  discovery: Omit<DiscoveryPlan, "size">;
  ports: EtcdPlan["ports"];
  enableV2: boolean;
} {
  const minor = image instanceof ContainerImage ? etcdMinorVersion(image.reference) : undefined;
  const discovery = etcd.discovery ?? EtcdDiscovery.staticBootstrap();
  if (!(discovery instanceof EtcdDiscovery)) {
    issues.add(
      "etcd.discovery",
      discovery,
      "EtcdDiscovery.staticBootstrap(), .publicService(), .selfHosted(url), .existingToken(url) or .v3({ endpoints })",
    );
  } else {
    discovery.check(issues, "etcd.discovery");
    if (discovery.isV3 && !(minor !== undefined && minor >= 6)) {
      issues.add(
        "etcd.discovery",
        "EtcdDiscovery.v3(...)",
        `an etcd image of v3.6 or later with v3 discovery (etcd.imageTag "v3.6.x"); the image is ${image instanceof ContainerImage ? image.reference : "unknown"}`,
      );
    } else if (discovery.usesToken && !discovery.isV3 && minor !== undefined && minor >= 6) {
      issues.add(
        "etcd.discovery",
        discovery.kind,
        "EtcdDiscovery.v3({ endpoints }) with etcd v3.6 or later: etcd 3.6 removed v2 discovery",
      );
    }
  }
  const legacyPorts = etcd.legacyPorts ?? false;
  if (typeof legacyPorts !== "boolean") issues.add("etcd.legacyPorts", legacyPorts, "true | false");
  const legacy = legacyPorts === true;
  return {
    discovery: {
      kind: discovery instanceof EtcdDiscovery ? discovery.kind : DiscoveryKind.STATIC,
      endpoints: discovery instanceof EtcdDiscovery ? [...discovery.endpoints] : [],
    },
    ports: {
      client: legacy ? [ETCD_CLIENT_PORT, ETCD_LEGACY_CLIENT_PORT] : [ETCD_CLIENT_PORT],
      peer: legacy ? [ETCD_PEER_PORT, ETCD_LEGACY_PEER_PORT] : [ETCD_PEER_PORT],
    },
    enableV2: rebootStrategy === RebootStrategy.ETCD_LOCK && (minor === undefined || minor < 6),
  };
}

/** Subnets to spread nodes over: inside the network, not overlapping. */
function planSubnets(
  issues: IssueCollector,
  cidrs: readonly string[] | undefined,
  network: Ipv4Network | undefined,
): Ipv4Network[] | undefined {
  if (cidrs === undefined) return network ? [network] : undefined;
  if (!Array.isArray(cidrs) || cidrs.length === 0 || cidrs.length > 16) {
    issues.add("subnetCidrs", cidrs, "1-16 IPv4 CIDRs inside networkCidr");
    return undefined;
  }
  const out: Ipv4Network[] = [];
  cidrs.forEach((c, i) => {
    const parsed = parseCidr(c);
    if ("reason" in parsed) {
      issues.add(`subnetCidrs[${i}]`, c, parsed.reason);
    } else if (
      network &&
      !(parsed.base >= network.base && parsed.base + parsed.size <= network.base + network.size)
    ) {
      issues.add(`subnetCidrs[${i}]`, c, `a subnet inside networkCidr ${network.cidr}`);
    } else if (
      out.some((o) => parsed.base < o.base + o.size && o.base < parsed.base + parsed.size)
    ) {
      issues.add(`subnetCidrs[${i}]`, c, "a subnet that overlaps no other subnet");
    } else {
      out.push(parsed);
    }
  });
  return out.length === cidrs.length ? out : undefined;
}
