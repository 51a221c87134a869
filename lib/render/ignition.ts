import { gunzipSync } from "node:zlib";
import { ClusterPlan, NodePlan } from "../cluster/plan";
import { OsFamily } from "../cluster/operating-system";
import { RebootStrategy } from "../cluster/reboot-strategy";
import { gzipBase64 } from "./gzip";
import { Duration } from "../core/duration";
import {
  EnvironmentSettings,
  etcdClientSettings,
  etcdctlEnvironment,
  etcdMemberEnvironment,
  ETCD_ENV_FILE,
  renderEnvironmentDropin,
  renderEnvironmentFile,
} from "./etcd-environment";
import {
  ETCD_JOIN_ENV_FILE,
  ETCD_JOIN_SCRIPT,
  ETCD_JOIN_SCRIPT_TEXT,
  etcdJoinEnvironment,
  etcdLeaveUnit,
  etcdMemberUnit,
  etcdPromoteUnit,
  etcdTlsFiles,
} from "./etcd-units";
import { withEnabledUnitLinks } from "./enabled-units";
import {
  bootUnitNames,
  etcdReadyConditions,
  READY_CHECK_PATH,
  ReadyCondition,
  renderReadyCheck,
} from "./ready-check";

/** The Ignition spec version rendered; Flatcar and Fedora CoreOS both accept it. */
export const IGNITION_VERSION = "3.3.0";

/** The subset of the Ignition v3.3 schema this renderer emits. */
export interface IgnitionConfig {
  readonly ignition: { readonly version: string };
  readonly passwd: {
    readonly users: ReadonlyArray<{ readonly name: string; readonly sshAuthorizedKeys?: string[] }>;
  };
  readonly storage: {
    readonly files: readonly IgnitionFile[];
    readonly links?: readonly IgnitionLink[];
  };
  readonly systemd: { readonly units: readonly IgnitionUnit[] };
}

export interface IgnitionFile {
  readonly path: string;
  readonly mode: number;
  readonly overwrite: boolean;
  readonly contents: { readonly source: string; readonly compression?: "gzip" };
}

/** A symbolic link Ignition creates (`storage.links`). */
export interface IgnitionLink {
  readonly path: string;
  readonly target: string;
  readonly hard: boolean;
  readonly overwrite: boolean;
}

export interface IgnitionUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly contents?: string;
  readonly dropins?: ReadonlyArray<{ readonly name: string; readonly contents: string }>;
}

/** RFC 2397 data URL, percent-encoded, as Ignition expects for inline contents. */
export function dataUrl(contents: string): string {
  return `data:,${encodeURIComponent(contents)}`;
}

/** Decodes a `data:,` URL written by dataUrl. */
export function fromDataUrl(source: string): string {
  if (!source.startsWith("data:,")) throw new Error(`not a plain data URL: ${source.slice(0, 20)}`);
  return decodeURIComponent(source.slice("data:,".length));
}

/** The text of a file as Ignition writes it: plain or gzip-compressed data URL. */
export function fileText(f: {
  readonly contents: { readonly source: string; readonly compression?: string };
}): string {
  if (f.contents.compression === "gzip") {
    const b64 = f.contents.source.replace(/^data:;base64,/, "");
    return gunzipSync(Buffer.from(b64, "base64")).toString("utf8");
  }
  return fromDataUrl(f.contents.source);
}

/**
 * A file entry. Its contents travel as a percent-encoded data URL, or gzipped
 * and base64-encoded when that is shorter (scripts, units): EC2 caps user data
 * at 16 KiB.
 */
export function file(path: string, contents: string, mode = 0o644): IgnitionFile {
  const plain = dataUrl(contents);
  const gzipped = `data:;base64,${gzipBase64(contents)}`;
  return gzipped.length < plain.length
    ? { path, mode, overwrite: true, contents: { source: gzipped, compression: "gzip" } }
    : { path, mode, overwrite: true, contents: { source: plain } };
}

/**
 * The same machine config in fewer bytes, for a channel with a size limit
 * (EC2 user data, 16 KiB): a config that replaces itself with `compactConfig`,
 * carried gzipped in a data URL (Ignition's `ignition.config.replace`, spec
 * ≥ 3.1). Inside, files travel as plain data URLs: one gzip over all the text
 * shrinks it further than gzip file by file.
 */
export function compressedIgnition(compactConfig: string): string {
  const config = JSON.parse(compactConfig) as IgnitionConfig;
  const plain = {
    ...config,
    storage: {
      ...config.storage,
      files: config.storage.files.map((f) => ({
        ...f,
        contents: { source: dataUrl(fileText(f)) },
      })),
    },
  };
  const source = `data:;base64,${gzipBase64(JSON.stringify(plain))}`;
  return JSON.stringify({
    ignition: { version: IGNITION_VERSION, config: { replace: { source, compression: "gzip" } } },
  });
}

/** Length of each machine's reboot window with RebootStrategy.STAGGERED. */
export const REBOOT_WINDOW_MINUTES = 30;

/** The daily reboot window of the machine in slot `slot`: hour slot mod 24, UTC. */
export function rebootWindowStart(slot: number): string {
  return `${String(slot % 24).padStart(2, "0")}:00`;
}

/** Flatcar's update settings (update_engine's group, locksmithd's strategy). */
export const FLATCAR_UPDATE_CONF = "/etc/flatcar/update.conf";

/**
 * Flatcar's update group (the channel) and reboot strategy as update.conf
 * names them: STAGGERED is locksmithd's `reboot` inside a reboot window.
 */
export function flatcarUpdateSettings(plan: ClusterPlan): {
  group: string;
  rebootStrategy: string;
} {
  const strategy =
    plan.rebootStrategy === RebootStrategy.STAGGERED ? RebootStrategy.REBOOT : plan.rebootStrategy;
  return { group: plan.os.channel, rebootStrategy: strategy };
}

/**
 * How a machine updates. `slot` staggers reboot windows: nodes take their
 * index, front machines the slots after the nodes.
 */
export function updateFiles(plan: ClusterPlan, slot: number): IgnitionFile[] {
  if (plan.os.family === OsFamily.FLATCAR) {
    const { group, rebootStrategy } = flatcarUpdateSettings(plan);
    return [file(FLATCAR_UPDATE_CONF, `GROUP=${group}\nREBOOT_STRATEGY=${rebootStrategy}\n`)];
  }
  let toml: string;
  if (plan.rebootStrategy === RebootStrategy.OFF) {
    toml = "[updates]\nenabled = false\n";
  } else if (plan.rebootStrategy === RebootStrategy.STAGGERED) {
    toml = `[updates]
strategy = "periodic"

[updates.periodic]
time_zone = "UTC"

[[updates.periodic.window]]
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
start_time = "${rebootWindowStart(slot)}"
length_minutes = ${REBOOT_WINDOW_MINUTES}
`;
  } else {
    toml = '[updates]\nstrategy = "immediate"\n';
  }
  return [file("/etc/zincati/config.d/55-updates-strategy.toml", toml)];
}

/**
 * locksmithd's settings on Flatcar: with ETCD_LOCK the lock in the members'
 * etcd (with the machine's client certificate); with STAGGERED the machine's
 * own reboot window; the maintenance window (ETCD_LOCK, REBOOT) for every
 * machine. Names as locksmithd reads them from its environment.
 */
export function locksmithSettings(plan: ClusterPlan, slot: number): EnvironmentSettings {
  if (plan.os.family !== OsFamily.FLATCAR) return [];
  const lock =
    plan.rebootStrategy === RebootStrategy.ETCD_LOCK
      ? etcdClientSettings(plan, {
          endpoints: "LOCKSMITHD_ENDPOINT",
          ca: "LOCKSMITHD_ETCD_CAFILE",
          cert: "LOCKSMITHD_ETCD_CERTFILE",
          key: "LOCKSMITHD_ETCD_KEYFILE",
        })
      : [];
  const window = plan.maintenanceWindow
    ? { start: plan.maintenanceWindow.start, minutes: plan.maintenanceWindow.lengthMinutes }
    : plan.rebootStrategy === RebootStrategy.STAGGERED
      ? { start: rebootWindowStart(slot), minutes: REBOOT_WINDOW_MINUTES }
      : undefined;
  const windowSettings: EnvironmentSettings = window
    ? [
        ["LOCKSMITHD_REBOOT_WINDOW_START", window.start],
        ["LOCKSMITHD_REBOOT_WINDOW_LENGTH", Duration.minutes(window.minutes).toGoMinutes()],
      ]
    : [];
  return [...lock, ...windowSettings];
}

/** locksmithd's unit and the drop-in with its settings. */
export const LOCKSMITHD_UNIT = "locksmithd.service";
export const LOCKSMITHD_DROPIN = "20-etcd-endpoints.conf";

/** locksmithd's drop-in with its settings (Ignition); none when it needs none. */
export function rebootLockUnits(plan: ClusterPlan, slot: number): IgnitionUnit[] {
  const settings = locksmithSettings(plan, slot);
  if (settings.length === 0) return [];
  return [
    {
      name: LOCKSMITHD_UNIT,
      dropins: [{ name: LOCKSMITHD_DROPIN, contents: renderEnvironmentDropin(settings) }],
    },
  ];
}

/** The machine's certificates, or none when etcd runs without TLS. */
export function machineTlsFiles(plan: ClusterPlan, machine: string): IgnitionFile[] {
  if (plan.etcd.scheme !== "https") return [];
  const tls = plan.etcd.tls;
  const credentials = tls?.machines[machine];
  if (!tls || !credentials) {
    throw new Error(`no etcd TLS credentials for ${machine} in cluster ${plan.name}`);
  }
  return etcdTlsFiles(tls.caCertificatePem, credentials).map((f) =>
    file(f.path, f.contents, f.mode),
  );
}

function etcdFiles(plan: ClusterPlan, node: NodePlan): IgnitionFile[] {
  return [
    ...machineTlsFiles(plan, node.name),
    ...(node.etcdMember
      ? [file(ETCD_ENV_FILE, renderEnvironmentFile(etcdMemberEnvironment(plan, node)))]
      : []),
    file(ETCD_JOIN_ENV_FILE, etcdJoinEnvironment(plan, node)),
    file(ETCD_JOIN_SCRIPT, ETCD_JOIN_SCRIPT_TEXT, 0o755),
    file(
      "/etc/profile.d/etcdctl.sh",
      etcdctlEnvironment(plan)
        .map(([k, v]) => `export ${k}=${v}\n`)
        .join(""),
    ),
  ];
}

function etcdUnits(plan: ClusterPlan, node: NodePlan): IgnitionUnit[] {
  const units: IgnitionUnit[] = [];
  if (node.etcdMember) {
    units.push(
      { name: "etcd-member.service", enabled: true, contents: etcdMemberUnit(plan) },
      { name: "etcd-member-promote.service", enabled: true, contents: etcdPromoteUnit(plan) },
    );
  } else {
    units.push({ name: "etcd-member-leave.service", enabled: true, contents: etcdLeaveUnit(plan) });
  }
  units.push(...rebootLockUnits(plan, node.index));
  return units;
}

/**
 * A machine's config as every target gets it: its ready check written, and
 * links for the units it enables, so they start on every boot however
 * Ignition came to run (see withEnabledUnitLinks).
 */
export function machineConfig(
  machine: string,
  plan: ClusterPlan,
  storage: { files: readonly IgnitionFile[] },
  units: readonly IgnitionUnit[],
  conditions: readonly ReadyCondition[],
): IgnitionConfig {
  const ready = renderReadyCheck(machine, bootUnitNames(units), conditions);
  return withEnabledUnitLinks({
    ignition: { version: IGNITION_VERSION },
    passwd: {
      users: [
        plan.sshPublicKeys.length
          ? { name: "core", sshAuthorizedKeys: [...plan.sshPublicKeys] }
          : { name: "core" },
      ],
    },
    storage: { files: [...storage.files, file(READY_CHECK_PATH, ready, 0o755)] },
    systemd: { units },
  });
}

/**
 * The Ignition config of one node: host name, SSH keys for `core`, etcd
 * member or client settings, update strategy, then the user's files and units;
 * its ready check tests the units and the node's etcd part.
 * Network addresses are left to the target (Vagrant, cloud DHCP).
 */
export function renderIgnition(plan: ClusterPlan, node: NodePlan): IgnitionConfig {
  const files: IgnitionFile[] = [
    file("/etc/hostname", `${node.name}\n`),
    ...updateFiles(plan, node.index),
    ...etcdFiles(plan, node),
    ...[...plan.files, ...node.files].map((f) => file(f.path, f.contents, f.mode ?? 0o644)),
  ];
  const userUnits: IgnitionUnit[] = plan.units.map((u) => ({
    name: u.name,
    ...(u.contents !== undefined ? { contents: u.contents } : {}),
    ...(u.enabled !== undefined || u.contents !== undefined ? { enabled: u.enabled ?? true } : {}),
    ...(u.dropins?.length
      ? { dropins: u.dropins.map((d) => ({ name: d.name, contents: d.contents })) }
      : {}),
  }));
  const units = mergeUnits([...etcdUnits(plan, node), ...userUnits]);
  return machineConfig(node.name, plan, { files }, units, etcdReadyConditions(plan, node));
}

/**
 * One entry per unit name (Ignition refuses duplicates): a user's drop-ins
 * for a unit the cluster configures (etcd-member.service) join its entry.
 */
function mergeUnits(units: readonly IgnitionUnit[]): IgnitionUnit[] {
  const byName = new Map<string, IgnitionUnit>();
  for (const u of units) {
    const first = byName.get(u.name);
    const dropins = [...(first?.dropins ?? []), ...(u.dropins ?? [])];
    byName.set(u.name, first ? { ...first, ...(dropins.length ? { dropins } : {}) } : u);
  }
  return [...byName.values()];
}

/** Ignition as the JSON text a machine reads: stable key order, trailing newline. */
export function renderIgnitionJson(plan: ClusterPlan, node: NodePlan): string {
  return `${JSON.stringify(renderIgnition(plan, node), null, 2)}\n`;
}

/** Ignition as compact JSON, for size-limited channels such as EC2 user data. */
export function renderIgnitionCompact(plan: ClusterPlan, node: NodePlan): string {
  return JSON.stringify(renderIgnition(plan, node));
}
