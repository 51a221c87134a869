import { ClusterPlan, NodePlan } from "../cluster/plan";
import { OsFamily } from "../cluster/operating-system";
import { installSectionOf } from "./enabled-units";
import { gzipBase64 } from "./gzip";
import {
  etcdMemberEnvironment,
  ETCD_ENV_FILE,
  EnvironmentSettings,
  renderEnvironmentFile,
} from "./etcd-environment";
import {
  fileText,
  flatcarUpdateSettings,
  FLATCAR_UPDATE_CONF,
  IgnitionUnit,
  locksmithSettings,
  LOCKSMITHD_DROPIN,
  LOCKSMITHD_UNIT,
  renderIgnition,
} from "./ignition";
import { renderYamlDocument, Substituted, YamlValue } from "./yaml";

/*
 * The seed's `#cloud-config`, from the same model as the node's Ignition: the
 * files, units, host name and SSH keys renderIgnition decides, written with
 * the keys Flatcar's coreos-cloudinit reads (flatcar/coreos-cloudinit
 * config/config.go and the structs it embeds):
 * - the host name and `core`'s SSH keys: `hostname`, `ssh_authorized_keys`;
 * - update group and reboot strategy: `coreos.update` (it rewrites
 *   /etc/coreos/update.conf, /etc/flatcar/update.conf on Flatcar);
 * - locksmithd's etcd lock and reboot window: `coreos.locksmith` (a runtime
 *   drop-in for locksmithd, rewritten on every boot);
 * - files: `write_files` (root-owned; keys 0600);
 * - units: `coreos.units` with `enable: true` (the links of
 *   `systemctl enable`) and `command: start` for the units a boot target
 *   wants, as cloud-init runs once the system is up;
 * - etcd's settings name the node's own address as `$private_ipv4`, which
 *   coreos-cloudinit replaces (initialize/env.go) with the address the
 *   platform reports: Vagrant's private network (Vagrant's CoreOS guest writes
 *   COREOS_PRIVATE_IPV4 to /etc/environment), EC2's private IPv4.
 * Flatcar's `coreos.etcd`/`coreos.etcd2` keys are not used: coreos-cloudinit
 * marks them deprecated and turns them into drop-ins for etcd.service and
 * etcd2.service, which Flatcar does not ship; the cluster's own
 * etcd-member.service reads /etc/etcd/etcd.env instead.
 */

/** The placeholder coreos-cloudinit replaces with the node's private IPv4. */
export const PRIVATE_IPV4 = "$private_ipv4";

/** Header coreos-cloudinit requires on the first line (config.IsCloudConfig). */
export const CLOUD_CONFIG_HEADER = "#cloud-config";

/** locksmithd settings → coreos.locksmith keys (config/locksmith.go). */
const LOCKSMITH_KEYS: Readonly<Record<string, string>> = {
  LOCKSMITHD_ENDPOINT: "endpoint",
  LOCKSMITHD_ETCD_CAFILE: "etcd_cafile",
  LOCKSMITHD_ETCD_CERTFILE: "etcd_certfile",
  LOCKSMITHD_ETCD_KEYFILE: "etcd_keyfile",
  LOCKSMITHD_REBOOT_WINDOW_START: "window_start",
  LOCKSMITHD_REBOOT_WINDOW_LENGTH: "window_length",
};

function locksmith(settings: EnvironmentSettings): Record<string, string> | undefined {
  if (settings.length === 0) return undefined;
  return Object.fromEntries(settings.map(([k, v]) => [LOCKSMITH_KEYS[k], v]));
}

/** `0600`: permissions as coreos-cloudinit's `valid` pattern wants them (`^0?[0-7]{3,4}$`). */
function permissions(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

/** A file's content: gzip+base64 where shorter, plain where the platform must substitute. */
function fileEntry(path: string, contents: string | Substituted, mode: number): YamlValue {
  const plain = contents instanceof Substituted ? undefined : contents;
  const packed = plain === undefined ? undefined : gzipBase64(plain);
  const useGzip = packed !== undefined && plain !== undefined && packed.length < plain.length;
  return {
    path,
    owner: "root",
    permissions: permissions(mode),
    ...(useGzip ? { encoding: "gzip+base64", content: packed } : { content: contents }),
  };
}

/** A boot target wants the unit: cloud-init starts it now (the first boot is past that point). */
function startedByCloudInit(unit: IgnitionUnit): boolean {
  if (unit.enabled !== true) return false;
  const install = installSectionOf(unit);
  return [...install.wantedBy, ...install.requiredBy].some((t) => t.endsWith(".target"));
}

/** The name `systemctl start` takes: a template's default instance. */
function startName(unit: IgnitionUnit): string | undefined {
  if (!/@\.[a-z]+$/.test(unit.name)) return unit.name;
  const instance = installSectionOf(unit).defaultInstance;
  return instance ? unit.name.replace("@.", `@${instance}.`) : undefined;
}

function unitEntries(units: readonly IgnitionUnit[]): YamlValue[] {
  const out: YamlValue[] = [];
  for (const u of units) {
    const dropins = (u.dropins ?? []).filter(
      (d) => !(u.name === LOCKSMITHD_UNIT && d.name === LOCKSMITHD_DROPIN),
    );
    if (u.contents === undefined && u.enabled === undefined && dropins.length === 0) continue;
    const start = startedByCloudInit(u) ? startName(u) : undefined;
    out.push({
      name: u.name,
      ...(u.enabled === true ? { enable: true } : {}),
      ...(start === u.name ? { command: "start" } : {}),
      ...(u.contents !== undefined ? { content: u.contents } : {}),
      ...(dropins.length
        ? { "drop-ins": dropins.map((d) => ({ name: d.name, content: d.contents })) }
        : {}),
    });
    if (start !== undefined && start !== u.name) out.push({ name: start, command: "start" });
  }
  return out;
}

/**
 * The cloud-config of one Flatcar node: the same files and units as its
 * Ignition config, etcd's own address as `$private_ipv4`.
 */
export function renderCloudConfig(plan: ClusterPlan, node: NodePlan): string {
  if (plan.os.family !== OsFamily.FLATCAR) {
    throw new Error(`cluster ${plan.name}: cloud-config is Flatcar's (coreos-cloudinit)`);
  }
  const ignition = renderIgnition(plan, node);
  const files: YamlValue[] = [];
  for (const f of ignition.storage.files) {
    if (f.path === "/etc/hostname" || f.path === FLATCAR_UPDATE_CONF) continue;
    const contents =
      f.path === ETCD_ENV_FILE
        ? new Substituted(renderEnvironmentFile(etcdMemberEnvironment(plan, node, PRIVATE_IPV4)))
        : fileText(f);
    files.push(fileEntry(f.path, contents, f.mode));
  }
  const update = flatcarUpdateSettings(plan);
  const keys = ignition.passwd.users[0]?.sshAuthorizedKeys ?? [];
  return renderYamlDocument(
    [
      CLOUD_CONFIG_HEADER,
      `# ${node.name} of cluster ${plan.name}, generated by coreos-cluster-cdktf from the same model as its Ignition config.`,
      `# coreos-cloudinit replaces ${PRIVATE_IPV4} with this machine's private address.`,
    ],
    {
      hostname: node.name,
      ssh_authorized_keys: keys.length ? keys : undefined,
      coreos: {
        update: { group: update.group, "reboot-strategy": update.rebootStrategy },
        locksmith: locksmith(locksmithSettings(plan, node.index)),
        units: unitEntries(ignition.systemd.units),
      },
      write_files: files,
    },
  );
}
