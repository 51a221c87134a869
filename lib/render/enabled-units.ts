import {
  defaultInstallTarget,
  hasInstallTargets,
  InstallSection,
  parseInstallSection,
} from "../core/systemd-install";
import type { IgnitionConfig, IgnitionLink, IgnitionUnit } from "./ignition";

/** Where Ignition writes units and where `systemctl enable` puts its links. */
export const ETC_UNIT_DIR = "/etc/systemd/system";
/** Where the OS ships its units (Flatcar, Fedora CoreOS). */
export const OS_UNIT_DIR = "/usr/lib/systemd/system";

/** `foo@bar.service` → `foo@.service`; other names unchanged. */
function templateOf(name: string): string {
  return name.replace(/@[^@]*(\.[a-z]+)$/, "@$1");
}

/** The unit file on the machine: Ignition writes given contents to /etc; otherwise the OS ships it. */
function unitFilePath(unit: IgnitionUnit): string {
  return unit.contents !== undefined
    ? `${ETC_UNIT_DIR}/${unit.name}`
    : `${OS_UNIT_DIR}/${templateOf(unit.name)}`;
}

/**
 * The [Install] section systemd reads for a unit: its contents and drop-ins.
 * A unit the OS ships (no contents here) is taken as wanted by the target of
 * its type, multi-user.target for a service — what Flatcar's own units
 * declare (etcd-member.service: `WantedBy=multi-user.target`) — plus any
 * targets its drop-ins add.
 */
export function installSectionOf(unit: IgnitionUnit): InstallSection {
  const dropins = (unit.dropins ?? []).map((d) => d.contents);
  if (unit.contents !== undefined) return parseInstallSection(unit.contents, ...dropins);
  const fromDropins = parseInstallSection(...dropins);
  const wantedBy = [defaultInstallTarget(unit.name), ...fromDropins.wantedBy];
  return { ...fromDropins, wantedBy: [...new Set(wantedBy)] };
}

/** True when the unit is enabled and `systemctl enable` would link it somewhere. */
export function startsAtBoot(unit: IgnitionUnit): boolean {
  return unit.enabled === true && enablementLinks([unit]).length > 0;
}

/**
 * The links `systemctl enable` would create for every unit marked enabled:
 * `<target>.wants/<unit>` (and `.requires`, `.upholds`, aliases) in
 * /etc/systemd/system, pointing at the unit file. Ignition's `enabled: true`
 * alone only writes a systemd preset, which systemd applies on a machine's
 * very first boot (empty machine id) and never again — not when Ignition runs
 * once more on a machine that booted before (Flatcar's reprovisioning, the
 * Vagrant box), so the links are written as files of the config.
 */
export function enablementLinks(units: readonly IgnitionUnit[]): IgnitionLink[] {
  const links = new Map<string, IgnitionLink>();
  const add = (path: string, target: string) =>
    links.set(path, { path, target, hard: false, overwrite: true });
  for (const unit of units) {
    if (unit.enabled !== true) continue;
    const install = installSectionOf(unit);
    if (!hasInstallTargets(install)) continue; // systemctl enable does nothing either
    const isTemplate = unit.name === templateOf(unit.name) && unit.name.includes("@.");
    if (isTemplate && !install.defaultInstance) continue;
    const name = isTemplate ? unit.name.replace("@.", `@${install.defaultInstance}.`) : unit.name;
    const target = unitFilePath(unit);
    for (const t of install.wantedBy) add(`${ETC_UNIT_DIR}/${t}.wants/${name}`, target);
    for (const t of install.requiredBy) add(`${ETC_UNIT_DIR}/${t}.requires/${name}`, target);
    for (const t of install.upheldBy) add(`${ETC_UNIT_DIR}/${t}.upholds/${name}`, target);
    for (const a of install.alias) add(`${ETC_UNIT_DIR}/${a}`, target);
  }
  return [...links.values()];
}

/**
 * Every Ignition config of the project passes through here: the units it
 * marks enabled get the links that make systemd start them on every boot,
 * whether Ignition runs on the machine's first boot (EC2, a new VM) or on a
 * later one (VirtualBox, where the box booted once before Ignition sees the
 * cluster's config).
 */
export function withEnabledUnitLinks(config: IgnitionConfig): IgnitionConfig {
  const links = enablementLinks(config.systemd.units);
  if (links.length === 0) return config;
  const existing = config.storage.links ?? [];
  const taken = new Set(existing.map((l) => l.path));
  return {
    ...config,
    storage: {
      ...config.storage,
      links: [...existing, ...links.filter((l) => !taken.has(l.path))],
    },
  };
}
