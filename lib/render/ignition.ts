import { ClusterPlan, NodePlan } from "../cluster/plan";
import { OsFamily } from "../cluster/operating-system";
import { RebootStrategy } from "../cluster/reboot-strategy";
import { etcdMemberEnvironment, ETCD_DATA_DIR, renderEnvironmentDropin } from "./etcd-environment";
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

/** Name of the drop-in that carries a member's etcd settings. */
export const ETCD_DROPIN = "20-etcd-member.conf";

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
  readonly contents: { readonly source: string };
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

export function file(path: string, contents: string, mode = 0o644): IgnitionFile {
  return { path, mode, overwrite: true, contents: { source: dataUrl(contents) } };
}

// Fedora CoreOS ships no etcd unit: run the same image with podman and hand
// it every ETCD_* variable of the drop-in, so both OSes read one drop-in.
// Restarts every 10 s for as long as it fails (an image pull without network):
// StartLimitIntervalSec=0 keeps systemd's start limit from giving up on it.
const FCOS_ETCD_UNIT = `[Unit]
Description=etcd member (container)
Documentation=https://etcd.io/docs/
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Environment="ETCD_IMAGE=quay.io/coreos/etcd"
ExecStartPre=/usr/bin/mkdir -p ${ETCD_DATA_DIR}
ExecStartPre=-/usr/bin/podman rm --force etcd
ExecStart=/usr/bin/podman run --name etcd --net=host --env 'ETCD_*' --volume ${ETCD_DATA_DIR}:${ETCD_DATA_DIR}:z \${ETCD_IMAGE}:\${ETCD_IMAGE_TAG} /usr/local/bin/etcd
ExecStop=/usr/bin/podman stop etcd
Restart=always
RestartSec=10s

[Install]
WantedBy=multi-user.target
`;

export function updateFiles(plan: ClusterPlan): IgnitionFile[] {
  if (plan.os.family === OsFamily.FLATCAR) {
    return [
      file(
        "/etc/flatcar/update.conf",
        `GROUP=${plan.os.channel}\nREBOOT_STRATEGY=${plan.rebootStrategy}\n`,
      ),
    ];
  }
  const toml =
    plan.rebootStrategy === RebootStrategy.OFF
      ? "[updates]\nenabled = false\n"
      : '[updates]\nstrategy = "immediate"\n';
  return [file("/etc/zincati/config.d/55-updates-strategy.toml", toml)];
}

/** Flatcar with ETCD_LOCK: locksmithd takes its reboot lock in the members' etcd, from every machine. */
export function rebootLockUnits(plan: ClusterPlan): IgnitionUnit[] {
  if (plan.os.family !== OsFamily.FLATCAR || plan.rebootStrategy !== RebootStrategy.ETCD_LOCK) {
    return [];
  }
  const endpoints = plan.etcd.clientEndpoints.join(",");
  return [
    {
      name: "locksmithd.service",
      dropins: [
        {
          name: "20-etcd-endpoints.conf",
          contents: renderEnvironmentDropin([["LOCKSMITHD_ENDPOINT", endpoints]]),
        },
      ],
    },
  ];
}

function etcdUnits(plan: ClusterPlan, node: NodePlan): IgnitionUnit[] {
  const units: IgnitionUnit[] = [];
  if (node.etcdMember) {
    const dropins = [
      { name: ETCD_DROPIN, contents: renderEnvironmentDropin(etcdMemberEnvironment(plan, node)) },
    ];
    units.push(
      plan.os.family === OsFamily.FLATCAR
        ? { name: "etcd-member.service", enabled: true, dropins }
        : { name: "etcd-member.service", enabled: true, contents: FCOS_ETCD_UNIT, dropins },
    );
  }
  units.push(...rebootLockUnits(plan));
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
    ...updateFiles(plan),
    file(
      "/etc/profile.d/etcdctl.sh",
      `export ETCDCTL_API=3\nexport ETCDCTL_ENDPOINTS=${plan.etcd.clientEndpoints.join(",")}\n`,
    ),
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
