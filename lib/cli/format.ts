import { drainSource } from "../front/runtime";
import { ClusterStatus, FrontStatus } from "../ops/operations";

/** Left-aligned columns, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd(),
  );
}

/** Nodes this front machine does not send new traffic to, and why: so fronts that disagree show. */
function drainedHere(f: FrontStatus): string {
  const found = new Map<string, string>();
  for (const srv of f.servers) {
    const source = drainSource(srv);
    if (source) found.set(srv.server, source);
  }
  return [...found].map(([n, src]) => `${n} (${src})`).join(", ") || "-";
}

const time = (ms: number): string => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** `status` as a person reads it. */
export function formatStatus(s: ClusterStatus): string {
  const out: string[] = [
    `cluster ${s.cluster} (via ${s.transport}); etcd ${s.etcdHealthy ? "healthy" : "NO MAJORITY"}`,
    "",
  ];
  const backends = [...new Set(s.nodes.flatMap((n) => Object.keys(n.backends)))].sort();
  out.push(
    "NODES",
    ...table([
      ["node", "address", "etcd", "role", "drained", ...backends],
      ...s.nodes.map((n) => [
        n.name,
        n.address,
        n.etcd === "member" ? `${n.etcdHealth}${n.etcdLeader ? " (leader)" : ""}` : "client",
        n.standby ? "standby" : "active",
        n.drained.join("+") || "-",
        ...backends.map((b) => n.backends[b] ?? "-"),
      ]),
    ]),
    "",
    "FRONT",
    ...table([
      ["machine", "address", "HAProxy", "drained here"],
      ...s.fronts.map((f) => [
        f.name,
        f.holdsAddress ? "holds it" : "-",
        f.reachable ? `${f.servers.length} servers` : `unreachable: ${f.error ?? ""}`.slice(0, 80),
        drainedHere(f),
      ]),
    ]),
  );
  if (s.services.length > 0) {
    out.push(
      "",
      "SERVICES",
      ...table([
        ["service", "state", "runs on", "preferred", "failovers", "agents"],
        ...s.services.map((v) => [
          v.name,
          v.state + (v.target ? ` (moving to ${v.target})` : ""),
          v.owner ?? "-",
          v.preferredNodes.join(",") || "-",
          `${v.failoversInPeriod}/${v.maxFailovers}`,
          v.nodes.map((n) => `${n.name}:${n.agent}`).join(" "),
        ]),
      ]),
    );
    for (const v of s.services.filter((x) => x.failed)) out.push(`  ${v.name} failed: ${v.failed}`);
  }
  out.push("", "RECENT EVENTS");
  if (s.events.length === 0) out.push("  none");
  out.push(...s.events.map((e) => `  ${time(e.at)}  ${e.service}@${e.node}  ${e.text}`));
  return `${out.join("\n")}\n`;
}
