/**
 * The local front's runtime side: HAProxy's runtime API (the admin socket),
 * as the operations CLI uses it. Pure: commands to send and parsers of what
 * HAProxy answers, no I/O.
 */

/** Bits of `srv_admin_state` in `show servers state` (HAProxy's SRV_ADMF_*). */
export const SERVER_ADMIN = {
  /** Maintenance forced at runtime (`set server … state maint`). */
  FORCED_MAINT: 0x01,
  /** Maintenance inherited from a tracked server. */
  INHERITED_MAINT: 0x02,
  /** `disabled` in haproxy.cfg: the front's declarative drain (`front.drain(node)`). */
  CONFIG_MAINT: 0x04,
  /** Drain forced at runtime (`set server … state drain`): the CLI's runtime drain. */
  FORCED_DRAIN: 0x08,
  /** Drain inherited from a tracked server. */
  INHERITED_DRAIN: 0x10,
} as const;

/** One server of one backend, as HAProxy sees it now. */
export interface RuntimeServer {
  readonly backend: string;
  readonly server: string;
  /** `show stat` status: UP, DOWN, DRAIN, MAINT, `UP 1/2` (going down), `no check`… */
  readonly status: string;
  /** Open sessions on the server. */
  readonly sessions: number;
  /** Times the balancer picked it. */
  readonly selected: number;
  /** `srv_admin_state` bits (SERVER_ADMIN). */
  readonly adminState: number;
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/** Names that may appear in a runtime command: what the front model allows for backends and nodes. */
export function assertRuntimeName(kind: string, name: string): void {
  if (!NAME.test(name)) throw new Error(`not a valid ${kind} name: ${JSON.stringify(name)}`);
}

/** `set server <backend>/<server> state ready|drain|maint`. */
export function setServerState(
  backend: string,
  server: string,
  state: "ready" | "drain" | "maint",
): string {
  assertRuntimeName("backend", backend);
  assertRuntimeName("server", server);
  return `set server ${backend}/${server} state ${state}`;
}

/** Parses `show stat` (CSV) into servers; frontend and backend summary lines are left out. */
export function parseShowStat(csv: string): Omit<RuntimeServer, "adminState">[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0 || !lines[0].startsWith("# ")) {
    throw new Error(`not HAProxy "show stat" output: ${csv.slice(0, 80)}`);
  }
  const header = lines[0].slice(2).split(",");
  const col = (row: string[], name: string) => row[header.indexOf(name)] ?? "";
  return lines
    .slice(1)
    .map((l) => l.split(","))
    .filter((f) => !["FRONTEND", "BACKEND"].includes(col(f, "svname")))
    .map((f) => ({
      backend: col(f, "pxname"),
      server: col(f, "svname"),
      status: col(f, "status"),
      sessions: Number(col(f, "scur") || 0),
      selected: Number(col(f, "lbtot") || 0),
    }));
}

/** Parses `show servers state` (format 1) into backend, server and admin bits. */
export function parseServersState(
  text: string,
): { backend: string; server: string; adminState: number }[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => l.startsWith("# be_id"));
  if (!header) throw new Error(`not HAProxy "show servers state" output: ${text.slice(0, 80)}`);
  const names = header.slice(2).split(" ");
  const at = (name: string) => names.indexOf(name);
  return lines
    .filter((l) => !l.startsWith("#") && l.split(" ").length >= names.length)
    .map((l) => {
      const f = l.split(" ");
      return {
        backend: f[at("be_name")],
        server: f[at("srv_name")],
        adminState: Number(f[at("srv_admin_state")]),
      };
    });
}

/** Joins the two views of one front. */
export function runtimeServers(showStat: string, serversState: string): RuntimeServer[] {
  const admin = parseServersState(serversState);
  return parseShowStat(showStat).map((s) => ({
    ...s,
    adminState:
      admin.find((a) => a.backend === s.backend && a.server === s.server)?.adminState ?? 0,
  }));
}

/** How a server is drained: by the front's code (haproxy.cfg `disabled`), at runtime, or not. */
export function drainSource(s: RuntimeServer): "code" | "runtime" | undefined {
  if (s.adminState & SERVER_ADMIN.CONFIG_MAINT) return "code";
  if (s.adminState & (SERVER_ADMIN.FORCED_DRAIN | SERVER_ADMIN.FORCED_MAINT)) return "runtime";
  return undefined;
}
