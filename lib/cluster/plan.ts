import { createHash } from "node:crypto";
import { CoreOsClusterProps, NodeFile, SystemdUnit } from "./props";
import { IssueCollector } from "../core/errors";
import { hostAddress, Ipv4Network, parseCidr } from "../core/network";
import { FlatcarChannel, OperatingSystem, OsFamily } from "./operating-system";
import { RebootStrategy } from "./reboot-strategy";
import { hasInstallTargets, parseInstallSection } from "../core/systemd-install";

/** etcd client and peer ports. */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

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
  READY_CHECK_PATH,
] as const;

/** Units the plan configures itself; user units may not replace them. */
export const RESERVED_UNITS = ["etcd-member.service", "locksmithd.service"] as const;

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
  /** `name=http://addr:2380,…`, the static bootstrap list. */
  readonly initialCluster: string;
  /** Client URLs of all members. */
  readonly clientEndpoints: readonly string[];
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
  readonly units: readonly SystemdUnit[];
  readonly files: readonly NodeFile[];
}

/** Facts from the construct tree that the plan needs. */
export interface PlanContext {
  /** Construct id, the default cluster name. */
  readonly id: string;
  /** Construct path, seed of the default etcd token. */
  readonly path: string;
}

const NAME_RE = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;
const UNIT_RE =
  /^[A-Za-z0-9:_.@-]+\.(service|socket|timer|mount|automount|path|target|slice|swap)$/;
const PUBLIC_KEY_RE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;
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

/** Node name digits: at least 2 (core-01), more when the count needs them. */
export function nameWidth(nodeCount: number): number {
  return Math.max(2, String(nodeCount).length);
}

function checkUnits(issues: IssueCollector, units: readonly SystemdUnit[]): void {
  const seen = new Set<string>();
  units.forEach((unit, i) => {
    const prop = `units[${i}]`;
    if (typeof unit?.name !== "string" || !UNIT_RE.test(unit.name)) {
      issues.add(
        `${prop}.name`,
        unit?.name,
        "a systemd unit name with its type, e.g. hello.service",
      );
      return;
    }
    if ((RESERVED_UNITS as readonly string[]).includes(unit.name) && unit.contents !== undefined) {
      issues.add(
        `${prop}.name`,
        unit.name,
        `a unit the cluster does not configure itself (${RESERVED_UNITS.join(", ")} are set from the etcd and rebootStrategy props; add a drop-in instead)`,
      );
    }
    if (seen.has(unit.name)) issues.add(`${prop}.name`, unit.name, "each unit name once");
    seen.add(unit.name);
    if (unit.contents === undefined && unit.enabled === undefined && !unit.dropins?.length) {
      issues.add(prop, unit, "at least one of contents, enabled or dropins");
    }
    if (unit.contents !== undefined && typeof unit.contents !== "string") {
      issues.add(`${prop}.contents`, unit.contents, "a string");
    }
    (unit.dropins ?? []).forEach((d, j) => {
      if (typeof d?.name !== "string" || !/^[A-Za-z0-9_.@-]+\.conf$/.test(d.name)) {
        issues.add(`${prop}.dropins[${j}].name`, d?.name, "a file name ending in .conf");
      }
      if (typeof d?.contents !== "string") {
        issues.add(`${prop}.dropins[${j}].contents`, d?.contents, "a string");
      }
    });
    checkEnabledUnit(issues, unit, prop);
  });
}

/**
 * An enabled unit must say where it starts, as `systemctl enable` needs: the
 * cluster writes the links its [Install] section asks for.
 */
function checkEnabledUnit(issues: IssueCollector, unit: SystemdUnit, prop: string): void {
  const enabled = unit.enabled ?? unit.contents !== undefined;
  const texts = [unit.contents, ...(unit.dropins ?? []).map((d) => d?.contents)];
  if (!enabled || texts.some((t) => t !== undefined && typeof t !== "string")) return;
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
      "an [Install] section with WantedBy= (e.g. WantedBy=multi-user.target), RequiredBy= or Alias= for an enabled unit, or enabled: false",
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
  propName = "files",
  taken: readonly string[] = [],
): void {
  const seen = new Set<string>(taken);
  files.forEach((file, i) => {
    const prop = `${propName}[${i}]`;
    const path = file?.path;
    if (
      typeof path !== "string" ||
      !path.startsWith("/") ||
      path.endsWith("/") ||
      path.split("/").some((seg) => seg === ".." || seg === ".")
    ) {
      issues.add(`${prop}.path`, path, "an absolute file path without . or .. segments");
    } else if ((RESERVED_PATHS as readonly string[]).includes(path)) {
      issues.add(
        `${prop}.path`,
        path,
        `a path the cluster does not write itself (${RESERVED_PATHS.join(", ")})`,
      );
    } else if (seen.has(path)) {
      issues.add(`${prop}.path`, path, "each path once");
    }
    if (typeof path === "string") seen.add(path);
    if (typeof file?.contents !== "string") {
      issues.add(`${prop}.contents`, file?.contents, "a string");
    } else if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(file.contents)) {
      issues.add(
        `${prop}.contents`,
        "-----BEGIN … PRIVATE KEY-----",
        "no private keys: synthesized configs are plain text; deliver secrets out of band",
      );
    }
    if (file?.mode !== undefined && !(isInt(file.mode) && file.mode >= 0 && file.mode <= 0o7777)) {
      issues.add(`${prop}.mode`, file.mode, "Unix permission bits from 0 to 0o7777, e.g. 0o644");
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
export function planCluster(props: CoreOsClusterProps, ctx: PlanContext): ClusterPlan {
  const issues = new IssueCollector();

  const name = props.name ?? ctx.id.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (!NAME_RE.test(name)) {
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

  const sshPublicKeys = props.sshPublicKeys ?? [];
  if (!Array.isArray(sshPublicKeys)) {
    issues.add("sshPublicKeys", sshPublicKeys, "a list of SSH public keys");
  } else {
    sshPublicKeys.forEach((key, i) => {
      if (typeof key === "string" && key.includes("PRIVATE KEY")) {
        issues.add(
          `sshPublicKeys[${i}]`,
          "-----BEGIN … PRIVATE KEY-----",
          "a public key (the .pub file); private keys never go into synthesized configs",
        );
      } else if (typeof key !== "string" || !PUBLIC_KEY_RE.test(key.trim())) {
        issues.add(
          `sshPublicKeys[${i}]`,
          key,
          "an OpenSSH public key line: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or sk-… followed by base64",
        );
      }
    });
  }

  const networkCidr = props.networkCidr ?? "192.168.56.0/21";
  const parsed = parseCidr(networkCidr);
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

  const etcd = props.etcd ?? {};
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
  const clusterToken = etcd.clusterToken ?? defaultToken(ctx, name);
  if (typeof clusterToken !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(clusterToken)) {
    issues.add("etcd.clusterToken", clusterToken, "1-64 letters, digits, '.', '_' or '-'");
  }

  const family = os instanceof OperatingSystem ? os.family : undefined;
  const rebootStrategy =
    props.rebootStrategy ??
    (family === OsFamily.FEDORA_COREOS ? RebootStrategy.REBOOT : RebootStrategy.ETCD_LOCK);
  if (!(Object.values(RebootStrategy) as string[]).includes(rebootStrategy)) {
    issues.add("rebootStrategy", rebootStrategy, Object.values(RebootStrategy).join(" | "));
  } else if (family === OsFamily.FEDORA_COREOS && rebootStrategy === RebootStrategy.ETCD_LOCK) {
    issues.add(
      "rebootStrategy",
      rebootStrategy,
      "reboot | off on Fedora CoreOS (its Zincati coordinates reboots through a FleetLock server, not etcd)",
    );
  }

  const units = props.units ?? [];
  const files = props.files ?? [];
  if (!Array.isArray(units)) issues.add("units", units, "a list of systemd units");
  else checkUnits(issues, units);
  if (!Array.isArray(files)) issues.add("files", files, "a list of files");
  else checkFiles(issues, files);
  const nodeFiles = props.nodeFiles ?? {};
  for (const [nodeName, list] of Object.entries(nodeFiles)) {
    const prop = `nodeFiles[${JSON.stringify(nodeName)}]`;
    if (!Array.isArray(list)) issues.add(prop, list, "a list of files");
    else checkFiles(issues, list, prop, Array.isArray(files) ? files.map((f) => f?.path) : []);
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
      for (const nodeName of Object.keys(nodeFiles)) {
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

  issues.throwIfAny(`CoreOsCluster "${ctx.path}"`);

  const withFiles = nodes.map((n) => ({ ...n, files: nodeFiles[n.name] ?? [] }));
  const memberNodes = withFiles.filter((n) => n.etcdMember);
  return {
    name,
    os,
    namePrefix,
    nodes: withFiles,
    cpus,
    memoryMiB,
    sshPublicKeys: sshPublicKeys.map((k) => k.trim()),
    network: network as Ipv4Network,
    subnets: subnets as Ipv4Network[],
    firstHostNumber,
    etcd: {
      members: memberNodes,
      clusterToken,
      imageTag,
      initialCluster: memberNodes
        .map((m) => `${m.name}=http://${m.address}:${ETCD_PEER_PORT}`)
        .join(","),
      clientEndpoints: memberNodes.map((m) => `http://${m.address}:${ETCD_CLIENT_PORT}`),
    },
    standby,
    rebootStrategy,
    units,
    files,
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
