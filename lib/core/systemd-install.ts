/**
 * The [Install] section of a systemd unit: what `systemctl enable` reads to
 * decide which symlinks to create (systemd.unit(5), "[Install] Section
 * Options").
 */
export interface InstallSection {
  /** `WantedBy=`: a link in `<target>.wants/`. */
  readonly wantedBy: readonly string[];
  /** `RequiredBy=`: a link in `<target>.requires/`. */
  readonly requiredBy: readonly string[];
  /** `UpheldBy=`: a link in `<target>.upholds/`. */
  readonly upheldBy: readonly string[];
  /** `Alias=`: another name for the unit, a link next to it. */
  readonly alias: readonly string[];
  /** `Also=`: units `systemctl enable` enables together with this one. */
  readonly also: readonly string[];
  /** `DefaultInstance=` of a template unit. */
  readonly defaultInstance?: string;
}

const LIST_KEYS = {
  WantedBy: "wantedBy",
  RequiredBy: "requiredBy",
  UpheldBy: "upheldBy",
  Alias: "alias",
  Also: "also",
} as const;

type ListKey = (typeof LIST_KEYS)[keyof typeof LIST_KEYS];

/**
 * Joins continuation lines (a trailing backslash) and drops comments, as systemd does: a
 * comment line inside a continuation is dropped too (systemd.syntax(7)).
 */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = "";
  }
  if (pending) lines.push(pending);
  return lines;
}

/**
 * Reads the [Install] sections of a unit file and its drop-ins, in order: an
 * empty assignment (`WantedBy=`) resets the list, as in systemd.
 */
export function parseInstallSection(...texts: readonly string[]): InstallSection {
  const lists: Record<ListKey, string[]> = {
    wantedBy: [],
    requiredBy: [],
    upheldBy: [],
    alias: [],
    also: [],
  };
  let defaultInstance: string | undefined;
  for (const text of texts) {
    let section = "";
    for (const line of logicalLines(text)) {
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        section = header[1];
        continue;
      }
      const eq = line.indexOf("=");
      if (section !== "Install" || eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key === "DefaultInstance") {
        defaultInstance = value || undefined;
        continue;
      }
      const list = LIST_KEYS[key as keyof typeof LIST_KEYS];
      if (!list) continue;
      if (value === "") lists[list] = [];
      else lists[list].push(...value.split(/\s+/));
    }
  }
  return { ...lists, defaultInstance };
}

/** True when `systemctl enable` would create at least one link for the unit. */
export function hasInstallTargets(install: InstallSection): boolean {
  return (
    install.wantedBy.length + install.requiredBy.length + install.upheldBy.length > 0 ||
    install.alias.length > 0
  );
}

/** The target a unit of this type is conventionally wanted by (systemd.special(7)). */
export function defaultInstallTarget(unitName: string): string {
  if (unitName.endsWith(".socket")) return "sockets.target";
  if (unitName.endsWith(".timer")) return "timers.target";
  if (unitName.endsWith(".path")) return "paths.target";
  return "multi-user.target";
}
