/*
 * The topology picture of a stack: every cluster a target runs in it, its
 * nodes with names and addresses, etcd members and clients, standby and
 * drained nodes, the front with its listeners and address, and the target.
 * Pure text: an SVG drawn by hand (every string escaped for XML) and the same
 * as a Mermaid flowchart in Markdown.
 */

/** One node as the picture shows it. */
export interface TopologyNode {
  readonly name: string;
  readonly address: string;
  readonly etcdMember: boolean;
  /** Standby (the I of N+I): traffic only while an active node is down. */
  readonly standby: boolean;
  /** Drained by the front: no new connections. */
  readonly draining: boolean;
}

/** One listener of the front and where it sends traffic. */
export interface TopologyListener {
  readonly name: string;
  readonly port: number;
  /** `tcp` or `http`. */
  readonly protocol: string;
  /** The target group's name. */
  readonly targetGroup: string;
  readonly targetPort: number;
  /** How targets are checked, in words (`HTTP GET / every 500ms`). */
  readonly healthCheck: string;
}

/** The front: where clients connect. */
export interface TopologyFront {
  readonly name: string;
  /** What runs it, e.g. `HAProxy + keepalived (VRRP)`, `AWS Network Load Balancer`. */
  readonly kind: string;
  /** Where clients connect (an address, or where to find it). */
  readonly address: string;
  /** The machines that run it, when the target runs machines for it. */
  readonly machines: readonly { readonly name: string; readonly address: string }[];
  readonly listeners: readonly TopologyListener[];
  /** Who may connect, or another line worth knowing. */
  readonly note?: string | undefined;
}

/** One cluster as a target runs it: a panel of the picture. */
export interface ClusterTopology {
  readonly cluster: string;
  /** `Flatcar stable`. */
  readonly os: string;
  /** The cluster network's CIDR. */
  readonly network: string;
  readonly target: {
    /** `vagrant`, `aws`. */
    readonly kind: string;
    /** `Vagrant + VirtualBox (local machines)`. */
    readonly title: string;
    /** Short facts: box, per-node size, region, instance type, folder. */
    readonly details: readonly string[];
  };
  readonly etcd: {
    readonly scheme: string;
    readonly clientPort: number;
    readonly peerPort: number;
  };
  readonly nodes: readonly TopologyNode[];
  /** @default - no front */
  readonly front?: TopologyFront | undefined;
}

/** Nodes drawn one by one; beyond, the rest is a summary box (etcd members, standby and drained first). */
export const TOPOLOGY_MAX_NODES = 48;

// ---------------------------------------------------------------- text

/** Characters XML 1.0 cannot hold at all, even escaped (and lone surrogates). */
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text that XML, Markdown tables and this picture take as it is. */
const PLAIN = /^[\w .:,/()=+·→…-]*$/;

/** Text as XML character data or an attribute value: escaped, unrepresentable characters as U+FFFD. */
export function escapeXml(text: string): string {
  if (PLAIN.test(text)) return text; // the common case: nothing to escape
  return (
    text
      .replace(NOT_XML, "\ufffd")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
      // Kept as written: a parser would turn them into spaces in attributes and \r\n into \n.
      .replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`)
  );
}

/** What a reader of the XML gets back from escapeXml(text). */
export function xmlText(text: string): string {
  return text.replace(NOT_XML, "\ufffd");
}

/** Text for a Mermaid label in quotes: everything but plain characters as `#<code point>;`. */
export function escapeMermaid(text: string): string {
  return [...text]
    .map((c) => (/^[A-Za-z0-9 .:/_()+,=·→…-]$/.test(c) ? c : `#${c.codePointAt(0)};`))
    .join("");
}

/** A Markdown table cell: one line, no `|`, HTML-escaped. */
function cell(text: string): string {
  if (PLAIN.test(text)) return text;
  return escapeXml(text.replace(/\s+/g, " ")).replace(/\|/g, "&#124;").replace(/`/g, "&#96;");
}

// ---------------------------------------------------------------- what is shown

const statusOf = (n: TopologyNode) => (n.draining ? "drained" : n.standby ? "standby" : "active");

/** The nodes drawn one by one, and what the summary box says of the others. */
export function shownNodes(
  nodes: readonly TopologyNode[],
  max = TOPOLOGY_MAX_NODES,
): { readonly shown: readonly TopologyNode[]; readonly hidden: string | undefined } {
  if (nodes.length <= max) return { shown: nodes, hidden: undefined };
  const special = (n: TopologyNode) => n.etcdMember || n.standby || n.draining;
  const first = new Set(
    [...nodes.filter(special), ...nodes.filter((n) => !special(n))].slice(0, max),
  );
  const shown = nodes.filter((n) => first.has(n));
  const rest = nodes.filter((n) => !first.has(n));
  const counts = ["active", "standby", "drained"]
    .map((s) => [s, rest.filter((n) => statusOf(n) === s).length] as const)
    .filter(([, c]) => c > 0)
    .map(([s, c]) => `${c} ${s}`);
  return {
    shown,
    hidden: `+${rest.length} more nodes (${rest[0].name} … ${rest[rest.length - 1].name}): ${counts.join(", ")}`,
  };
}

const listenerLine = (l: TopologyListener) =>
  `${l.name} :${l.port} (${l.protocol.toUpperCase()}) → ${l.targetGroup} :${l.targetPort} · ${l.healthCheck}`;

const panelTitle = (t: ClusterTopology) => `cluster ${t.cluster} · ${t.os} · ${t.network}`;

/** Characters per line of the picture's running text before it wraps. */
const LINE_CHARS = 110;

/** `parts` joined with " · " into lines of at most LINE_CHARS (a longer part keeps its own line). */
function wrapParts(parts: readonly string[]): string[] {
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 3 + part.length <= LINE_CHARS) {
      lines[lines.length - 1] = `${last} · ${part}`;
    } else {
      lines.push(part);
    }
  }
  return lines;
}

// ---------------------------------------------------------------- SVG

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const MONO = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace";
const NODE_W = 180;
const NODE_H = 80;
const GAP = 12;
const PAD = 20;
const COLS = 6;
/** Roughly how wide a character of 12-13 px text is: sizes boxes to their longest line. */
const CHAR_W = 7;

const COLOURS = {
  member: { fill: "#dbeafe", stroke: "#1d4ed8" },
  client: { fill: "#f1f5f9", stroke: "#475569" },
  drained: { fill: "#fee2e2", stroke: "#b91c1c" },
  front: { fill: "#dcfce7", stroke: "#15803d" },
  status: { active: "#16a34a", standby: "#d97706", drained: "#b91c1c" },
};

/** An SVG element with escaped attributes; `body` is already markup. */
function el(name: string, attrs: Record<string, string | number>, body?: string): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("");
  return body === undefined ? `<${name}${a}/>` : `<${name}${a}>${body}</${name}>`;
}

function text(
  x: number,
  y: number,
  value: string,
  style: { size?: number; weight?: string; mono?: boolean; fill?: string; anchor?: string } = {},
): string {
  return el(
    "text",
    {
      x,
      y,
      "font-family": style.mono ? MONO : FONT,
      "font-size": style.size ?? 12,
      ...(style.weight ? { "font-weight": style.weight } : {}),
      fill: style.fill ?? "#0f172a",
      ...(style.anchor ? { "text-anchor": style.anchor } : {}),
    },
    escapeXml(value),
  );
}

function arrow(x1: number, y1: number, x2: number, y2: number, label?: string): string {
  const line = el("line", {
    x1,
    y1,
    x2,
    y2,
    stroke: "#334155",
    "stroke-width": 1.5,
    "marker-end": "url(#arrow)",
  });
  return label
    ? line + text(Math.max(x1, x2) + 8, (y1 + y2) / 2 + 4, label, { size: 11, fill: "#334155" })
    : line;
}

function nodeBox(n: TopologyNode, x: number, y: number): string {
  const colour = n.draining ? COLOURS.drained : n.etcdMember ? COLOURS.member : COLOURS.client;
  const status = statusOf(n);
  return el(
    "g",
    { class: `node ${status}`, "data-node": n.name },
    [
      el("rect", {
        x,
        y,
        width: NODE_W,
        height: NODE_H,
        rx: 8,
        fill: colour.fill,
        stroke: colour.stroke,
        "stroke-width": n.standby ? 2 : 1.5,
        ...(n.standby ? { "stroke-dasharray": "6 4" } : {}),
      }),
      text(x + 10, y + 20, n.name, { size: 14, weight: "bold" }),
      text(x + 10, y + 38, n.address, { mono: true }),
      text(x + 10, y + 56, n.etcdMember ? "etcd member" : "etcd client", { fill: "#334155" }),
      el("circle", { cx: x + 14, cy: y + 68, r: 4, fill: COLOURS.status[status] }),
      text(x + 24, y + 72, status, {
        size: 11,
        fill: COLOURS.status[status],
      }),
    ].join(""),
  );
}

/** A group of nodes (etcd members or clients): its box and node grid; returns the markup and height. */
function nodeGroup(
  title: string,
  nodes: readonly TopologyNode[],
  hidden: string | undefined,
  x: number,
  y: number,
  width: number,
): { svg: string; height: number } {
  const cols = Math.max(1, Math.floor((width - 2 * PAD + GAP) / (NODE_W + GAP)));
  const boxes = nodes.map((n, i) =>
    nodeBox(
      n,
      x + PAD + (i % cols) * (NODE_W + GAP),
      y + 34 + Math.floor(i / cols) * (NODE_H + GAP),
    ),
  );
  const rows = Math.ceil(nodes.length / cols);
  let height = 34 + rows * (NODE_H + GAP) + PAD - GAP;
  if (hidden) {
    boxes.push(text(x + PAD, y + height + 4, hidden, { fill: "#334155" }));
    height += 22;
  }
  const frame = el("rect", {
    x,
    y,
    width,
    height,
    rx: 10,
    fill: "none",
    stroke: "#94a3b8",
    "stroke-dasharray": "4 3",
  });
  return {
    svg: frame + text(x + 12, y + 22, title, { size: 13, weight: "bold" }) + boxes.join(""),
    height,
  };
}

function frontBox(
  f: TopologyFront,
  x: number,
  y: number,
  width: number,
): { svg: string; height: number } {
  const lines = [
    ...f.listeners.map((l) => `listener ${listenerLine(l)}`),
    ...(f.machines.length
      ? [`machines: ${f.machines.map((m) => `${m.name} ${m.address}`).join(" · ")}`]
      : []),
    ...(f.note ? [f.note] : []),
  ];
  const height = 50 + lines.length * 18;
  const body = [
    el("rect", {
      x,
      y,
      width,
      height,
      rx: 10,
      fill: COLOURS.front.fill,
      stroke: COLOURS.front.stroke,
      "stroke-width": 1.5,
    }),
    text(x + 12, y + 22, `${f.name} · ${f.kind}`, { size: 14, weight: "bold" }),
    text(x + 12, y + 40, f.address, { mono: true, size: 13 }),
    ...lines.map((l, i) => text(x + 12, y + 60 + i * 18, l)),
  ];
  return { svg: el("g", { class: "front" }, body.join("")), height };
}

function panelWidth(t: ClusterTopology, shown: number): number {
  const cols = Math.min(COLS, Math.max(1, shown));
  const longest = Math.max(
    panelTitle(t).length + 24,
    ...wrapParts([t.target.title, ...t.target.details]).map((l) => l.length),
    ...(t.front?.listeners.map((l) => `listener ${listenerLine(l)}`.length + 24) ?? []),
    (t.front?.machines.map((m) => `${m.name} ${m.address} · `).join("").length ?? 0) + 34,
  );
  return Math.max(760, cols * (NODE_W + GAP) - GAP + 4 * PAD, longest * CHAR_W + 4 * PAD);
}

/** One panel: returns the markup and its height. */
function panel(t: ClusterTopology, y: number, width: number): { svg: string; height: number } {
  const { shown, hidden } = shownNodes(t.nodes);
  const parts: string[] = [];
  const x = PAD;
  const inner = width - 2 * PAD;
  parts.push(text(x, y + 24, panelTitle(t), { size: 18, weight: "bold" }));
  parts.push(
    el("rect", { x: x + inner - 150, y: y + 6, width: 150, height: 26, rx: 13, fill: "#0f172a" }),
    text(x + inner - 75, y + 24, `target: ${t.target.kind}`, {
      size: 13,
      weight: "bold",
      fill: "#ffffff",
      anchor: "middle",
    }),
  );
  const about = wrapParts([t.target.title, ...t.target.details]);
  about.forEach((line, i) =>
    parts.push(text(x, y + 46 + i * 18, line, { size: 13, fill: "#334155" })),
  );
  let cursor = y + 46 + about.length * 18;
  if (t.front) {
    parts.push(
      el("rect", {
        x,
        y: cursor + 14,
        width: 110,
        height: 36,
        rx: 18,
        fill: "#ffffff",
        stroke: "#334155",
      }),
      text(x + 55, cursor + 37, "clients", { size: 13, anchor: "middle" }),
      arrow(x + 110, cursor + 32, x + 150, cursor + 32),
    );
    const box = frontBox(t.front, x + 154, cursor, inner - 154);
    parts.push(box.svg);
    cursor += box.height;
    const drained = t.nodes.filter((n) => n.draining).map((n) => n.name);
    parts.push(
      arrow(
        x + 154 + 40,
        cursor,
        x + 154 + 40,
        cursor + 44,
        `traffic to the active nodes; standby only while an active node is down${drained.length ? `; drained: ${drained.join(", ")}` : ""}`,
      ),
    );
    cursor += 48;
  }
  const members = shown.filter((n) => n.etcdMember);
  const clients = shown.filter((n) => !n.etcdMember);
  const group = (title: string, nodes: readonly TopologyNode[], more?: string) => {
    const g = nodeGroup(title, nodes, more, x, cursor, inner);
    parts.push(g.svg);
    cursor += g.height;
  };
  const memberCount = t.nodes.filter((n) => n.etcdMember).length;
  group(
    `etcd members (${memberCount}) · ${t.etcd.scheme} · clients :${t.etcd.clientPort}, peers :${t.etcd.peerPort}`,
    members,
  );
  if (clients.length > 0 || hidden) {
    const label = `etcd clients use the members (:${t.etcd.clientPort})`;
    parts.push(arrow(x + inner / 2, cursor + 40, x + inner / 2, cursor + 4, label));
    cursor += 44;
    group(`etcd clients (${t.nodes.length - memberCount})`, clients, hidden);
  }
  return {
    svg: el("g", { class: "cluster", "data-cluster": t.cluster }, parts.join("")),
    height: cursor - y,
  };
}

function legend(y: number): { svg: string; height: number } {
  const items: [string, Record<string, string | number>][] = [
    ["etcd member", { fill: COLOURS.member.fill, stroke: COLOURS.member.stroke }],
    ["etcd client", { fill: COLOURS.client.fill, stroke: COLOURS.client.stroke }],
    [
      "standby (N+I)",
      {
        fill: "#ffffff",
        stroke: COLOURS.client.stroke,
        "stroke-dasharray": "6 4",
        "stroke-width": 2,
      },
    ],
    ["drained", { fill: COLOURS.drained.fill, stroke: COLOURS.drained.stroke }],
    ["front", { fill: COLOURS.front.fill, stroke: COLOURS.front.stroke }],
  ];
  const svg = items
    .map(([label, style], i) => {
      const x = PAD + i * 140;
      return (
        el("rect", { x, y, width: 22, height: 14, rx: 3, ...style }) + text(x + 28, y + 12, label)
      );
    })
    .join("");
  return { svg: el("g", { class: "legend" }, svg), height: 30 };
}

/**
 * The picture of a stack as SVG: one panel per cluster a target runs (its
 * target, front, etcd members and clients, each node's name, address and
 * state) and a legend. Strings are escaped; nothing depends on the machine.
 */
export function renderTopologySvg(stack: string, panels: readonly ClusterTopology[]): string {
  const width = Math.max(
    ...panels.map((t) => panelWidth(t, shownNodes(t.nodes).shown.length)),
    760,
  );
  const parts: string[] = [text(PAD, 30, `stack ${stack}`, { size: 13, fill: "#64748b" })];
  let y = 42;
  for (const t of panels) {
    const p = panel(t, y, width);
    parts.push(p.svg);
    y += p.height + 28;
  }
  const l = legend(y);
  parts.push(l.svg);
  const height = y + l.height;
  const defs = el(
    "defs",
    {},
    el(
      "marker",
      {
        id: "arrow",
        viewBox: "0 0 10 10",
        refX: 9,
        refY: 5,
        markerWidth: 8,
        markerHeight: 8,
        orient: "auto-start-reverse",
      },
      el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#334155" }),
    ),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(`topology of stack ${stack}`)}">
<title>${escapeXml(`Topology of stack ${stack}, generated by coreos-cluster-cdktf`)}</title>
${defs}
${el("rect", { width, height, fill: "#ffffff" })}
${parts.join("\n")}
</svg>
`;
}

// ---------------------------------------------------------------- Mermaid and Markdown

/** The Mermaid flowchart of the same picture (no fence). */
export function renderTopologyMermaid(panels: readonly ClusterTopology[]): string {
  const out = ["flowchart TB"];
  const classes: string[] = [];
  const label = (...lines: string[]) => `"${lines.map(escapeMermaid).join("<br/>")}"`;
  panels.forEach((t, p) => {
    const id = (s: string) => `c${p}_${s}`;
    const { shown, hidden } = shownNodes(t.nodes);
    out.push(`  subgraph ${id("panel")}[${label(`${panelTitle(t)} · target: ${t.target.title}`)}]`);
    out.push("    direction TB");
    if (t.front) {
      const f = t.front;
      out.push(`    ${id("clients")}([${label("clients")}])`);
      out.push(
        `    ${id("front")}[${label(`${f.name} · ${f.kind}`, f.address, ...f.machines.map((m) => `${m.name} ${m.address}`))}]`,
      );
      for (const l of f.listeners) {
        out.push(
          `    ${id("clients")} -->|${label(`${l.name} :${l.port} ${l.protocol.toUpperCase()}`)}| ${id("front")}`,
        );
      }
      classes.push(`  class ${id("front")} front`);
    }
    const group = (name: string, title: string, nodes: readonly TopologyNode[], more?: string) => {
      out.push(`    subgraph ${id(name)}[${label(title)}]`);
      for (const n of nodes) {
        const i = t.nodes.indexOf(n);
        out.push(`      ${id(`n${i}`)}[${label(n.name, n.address, statusOf(n))}]`);
        classes.push(
          `  class ${id(`n${i}`)} ${n.draining ? "drained" : n.etcdMember ? "member" : "client"}${n.standby ? ",standby" : ""}`,
        );
      }
      if (more) out.push(`      ${id("more")}[${label(more)}]`);
      out.push("    end");
    };
    const members = shown.filter((n) => n.etcdMember);
    const clients = shown.filter((n) => !n.etcdMember);
    group(
      "members",
      `etcd members · ${t.etcd.scheme} :${t.etcd.clientPort} :${t.etcd.peerPort}`,
      members,
    );
    if (clients.length > 0 || hidden) {
      group("etcdclients", "etcd clients", clients, hidden);
      out.push(
        `    ${id("etcdclients")} -->|${label(`etcd :${t.etcd.clientPort}`)}| ${id("members")}`,
      );
    }
    if (t.front) {
      const port = t.front.listeners.map((l) => `:${l.targetPort}`).join(" ");
      for (const n of shown) {
        const to = id(`n${t.nodes.indexOf(n)}`);
        if (n.draining) out.push(`    ${id("front")} -.-x|${label("drained")}| ${to}`);
        else if (n.standby) out.push(`    ${id("front")} -.->|${label(`standby ${port}`)}| ${to}`);
        else out.push(`    ${id("front")} -->|${label(port)}| ${to}`);
      }
    }
    out.push("  end");
  });
  out.push(
    `  classDef member fill:${COLOURS.member.fill},stroke:${COLOURS.member.stroke},color:#0f172a`,
    `  classDef client fill:${COLOURS.client.fill},stroke:${COLOURS.client.stroke},color:#0f172a`,
    `  classDef drained fill:${COLOURS.drained.fill},stroke:${COLOURS.drained.stroke},color:#0f172a`,
    `  classDef front fill:${COLOURS.front.fill},stroke:${COLOURS.front.stroke},color:#0f172a`,
    "  classDef standby stroke-dasharray:6 4",
    ...classes,
  );
  return `${out.join("\n")}\n`;
}

/**
 * topology.md: the SVG, the same picture as a Mermaid block (GitHub and most
 * Markdown viewers draw it), and per cluster a table of its nodes.
 */
export function renderTopologyMarkdown(
  stack: string,
  panels: readonly ClusterTopology[],
  svgFile = "topology.svg",
): string {
  const tables = panels.map((t) => {
    const rows = t.nodes.map(
      (n) =>
        `| ${cell(n.name)} | ${cell(n.address)} | ${n.etcdMember ? "member" : "client"} | ${statusOf(n)} |`,
    );
    const front = t.front
      ? [
          "",
          `Front \`${cell(t.front.name)}\` (${cell(t.front.kind)}) at ${cell(t.front.address)}:`,
          ...t.front.listeners.map((l) => `- ${cell(listenerLine(l))}`),
          ...(t.front.note ? [`- ${cell(t.front.note)}`] : []),
        ]
      : [];
    return [
      `## ${cell(panelTitle(t))}`,
      "",
      `Target: ${cell([t.target.title, ...t.target.details].join(" · "))}.`,
      ...front,
      "",
      "| node | address | etcd | traffic |",
      "| --- | --- | --- | --- |",
      ...rows,
    ].join("\n");
  });
  return `<!-- Generated by coreos-cluster-cdktf on every synth; edits are overwritten. -->
# Topology of stack \`${cell(stack)}\`

![Topology of stack ${cell(stack)}](${svgFile})

\`\`\`mermaid
${renderTopologyMermaid(panels)}\`\`\`

${tables.join("\n\n")}
`;
}
