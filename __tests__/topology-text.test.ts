import {
  ClusterTopology,
  renderTopologyMarkdown,
  renderTopologyMermaid,
  shownNodes,
  TOPOLOGY_MAX_NODES,
  TopologyNode,
} from "../lib/render/topology";
import { OperatingSystem } from "../lib/cluster/operating-system";
import { HealthCheckProtocol } from "../lib/front/options";
import { FrontPlan } from "../lib/front/plan";
import { clusterTopology, healthCheckWords } from "../lib/topology/model";
import { renderPlan } from "./support/render-plans";

/*
 * topology.md as its readers take it: the Mermaid flowchart read back into
 * boxes, groups, arrows and classes (what GitHub draws), and the Markdown
 * around it (title, target, front, one table row per node). Pure: the model is
 * built here, no stack. The drawing itself is checked in Chromium by
 * topology-browser.test.ts.
 */

interface Flowchart {
  /** Box id → its label's lines. */
  readonly boxes: Map<string, string[]>;
  /** Group id → its label and the ids of the boxes and groups directly inside. */
  readonly groups: Map<string, { label: string; inside: string[] }>;
  readonly arrows: { from: string; to: string; style: string; label: string }[];
  /** Box id → its classes. */
  readonly classes: Map<string, string[]>;
  readonly classDefs: Map<string, string>;
}

const unquote = (q: string) => {
  expect(q).toMatch(/^"[^"]*"$/);
  return q.slice(1, -1).split("<br/>");
};

function readFlowchart(text: string): Flowchart {
  const lines = text.trimEnd().split("\n");
  expect(lines[0]).toBe("flowchart TB");
  const f: Flowchart = {
    boxes: new Map(),
    groups: new Map(),
    arrows: [],
    classes: new Map(),
    classDefs: new Map(),
  };
  const open: string[] = [];
  for (const line of lines.slice(1)) {
    const t = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^subgraph (\w+)\[("[^"]*")\]$/.exec(t))) {
      if (open.length) f.groups.get(open[open.length - 1])?.inside.push(m[1]);
      f.groups.set(m[1], { label: unquote(m[2]).join("\n"), inside: [] });
      open.push(m[1]);
    } else if (t === "end") {
      expect(open.pop()).toBeDefined();
    } else if (t === "direction TB") {
      continue;
    } else if ((m = /^(\w+) (-->|-\.->|-\.-x)\|("[^"]*")\| (\w+)$/.exec(t))) {
      f.arrows.push({ from: m[1], style: m[2], label: unquote(m[3]).join("\n"), to: m[4] });
    } else if ((m = /^(\w+)(?:\[("[^"]*")\]|\(\[("[^"]*")\]\))$/.exec(t))) {
      f.boxes.set(m[1], unquote(m[2] ?? m[3]));
      f.groups.get(open[open.length - 1])?.inside.push(m[1]);
    } else if ((m = /^class (\w+) ([\w,]+)$/.exec(t))) {
      f.classes.set(m[1], m[2].split(","));
    } else if ((m = /^classDef (\w+) (.+)$/.exec(t))) {
      f.classDefs.set(m[1], m[2]);
    } else {
      throw new Error(`not a line of this flowchart: ${line}`);
    }
  }
  expect(open).toEqual([]);
  return f;
}

const node = (name: string, etcdMember: boolean, more: Partial<TopologyNode> = {}) => ({
  name,
  address: `192.168.56.${100 + Number(name.slice(-2))}`,
  etcdMember,
  standby: false,
  draining: false,
  ...more,
});

function model(more: Partial<ClusterTopology> = {}): ClusterTopology {
  return {
    cluster: "core",
    os: "Flatcar stable",
    network: "192.168.56.0/21",
    target: { kind: "vagrant", title: "Vagrant + VirtualBox", details: ["box flatcar", "2 CPU"] },
    etcd: { scheme: "https", clientPort: 2379, peerPort: 2380 },
    nodes: [
      node("core-01", true),
      node("core-02", true, { standby: true }),
      node("core-03", false),
      node("core-04", false, { draining: true }),
    ],
    front: {
      name: "front",
      kind: "HAProxy + keepalived (VRRP)",
      address: "192.168.56.10",
      machines: [
        { name: "front-01", address: "192.168.56.11" },
        { name: "front-02", address: "192.168.56.12" },
      ],
      listeners: [
        {
          name: "http",
          port: 80,
          protocol: "http",
          targetGroup: "web",
          targetPort: 8080,
          healthCheck: "HTTP GET / every 500ms",
        },
        {
          name: "raw",
          port: 9000,
          protocol: "tcp",
          targetGroup: "raw",
          targetPort: 9090,
          healthCheck: "TCP connect every 500ms",
        },
      ],
      note: "open to 0.0.0.0/0 on its listeners only",
    },
    ...more,
  };
}

/** The box id of a node by its name (its label's first line). */
const boxOf = (f: Flowchart, name: string) =>
  [...f.boxes].find(([, label]) => label[0] === name)?.[0] as string;

describe("topology.md's Mermaid flowchart, read back", () => {
  const f = readFlowchart(renderTopologyMermaid([model()]));

  it("one panel: the cluster, its OS, network and target in the title", () => {
    expect(f.groups.get("c0_panel")?.label).toBe(
      "cluster core · Flatcar stable · 192.168.56.0/21 · target: Vagrant + VirtualBox",
    );
    expect(f.groups.get("c0_panel")?.inside).toEqual([
      "c0_clients",
      "c0_front",
      "c0_members",
      "c0_etcdclients",
    ]);
  });

  it("clients reach the front through each listener; the front box names its machines", () => {
    expect(f.boxes.get("c0_clients")).toEqual(["clients"]);
    expect(f.boxes.get("c0_front")).toEqual([
      "front · HAProxy + keepalived (VRRP)",
      "192.168.56.10",
      "front-01 192.168.56.11",
      "front-02 192.168.56.12",
    ]);
    expect(f.arrows.filter((a) => a.from === "c0_clients")).toEqual([
      { from: "c0_clients", to: "c0_front", style: "-->", label: "http :80 HTTP" },
      { from: "c0_clients", to: "c0_front", style: "-->", label: "raw :9000 TCP" },
    ]);
    expect(f.classes.get("c0_front")).toEqual(["front"]);
  });

  it("etcd members and etcd clients in their own groups; clients talk to the members", () => {
    const names = (group: string) =>
      f.groups.get(group)?.inside.map((id) => (f.boxes.get(id) as string[])[0]);
    expect(f.groups.get("c0_members")?.label).toBe("etcd members · https :2379 :2380");
    expect(names("c0_members")).toEqual(["core-01", "core-02"]);
    expect(f.groups.get("c0_etcdclients")?.label).toBe("etcd clients");
    expect(names("c0_etcdclients")).toEqual(["core-03", "core-04"]);
    expect(f.arrows).toContainEqual({
      from: "c0_etcdclients",
      to: "c0_members",
      style: "-->",
      label: "etcd :2379",
    });
  });

  it("each node: name, address and traffic state, drawn and coloured by what it does", () => {
    const expected = {
      "core-01": { status: "active", classes: ["member"], style: "-->", label: ":8080 :9090" },
      "core-02": {
        status: "standby",
        classes: ["member", "standby"],
        style: "-.->",
        label: "standby :8080 :9090",
      },
      "core-03": { status: "active", classes: ["client"], style: "-->", label: ":8080 :9090" },
      "core-04": { status: "drained", classes: ["drained"], style: "-.-x", label: "drained" },
    };
    for (const [name, e] of Object.entries(expected)) {
      const id = boxOf(f, name);
      expect(f.boxes.get(id)).toEqual([name, node(name, true).address, e.status]);
      expect(f.classes.get(id)).toEqual(e.classes);
      expect(f.arrows.filter((a) => a.to === id)).toEqual([
        { from: "c0_front", to: id, style: e.style, label: e.label },
      ]);
    }
  });

  it("defines every class it uses, the standby one as a dashed outline", () => {
    const used = new Set([...f.classes.values()].flat());
    expect([...f.classDefs.keys()].sort()).toEqual([...used].sort());
    expect(f.classDefs.get("standby")).toBe("stroke-dasharray:6 4");
    for (const c of ["member", "client", "drained", "front"]) {
      expect(f.classDefs.get(c)).toMatch(/^fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#0f172a$/);
    }
    // Each kind of box has its own colour.
    const fills = ["member", "client", "drained", "front"].map((c) => f.classDefs.get(c));
    expect(new Set(fills).size).toBe(4);
  });

  it("without a front: no clients, no front, no arrows to the nodes", () => {
    const g = readFlowchart(renderTopologyMermaid([model({ front: undefined })]));
    expect(g.boxes.has("c0_front")).toBe(false);
    expect(g.boxes.has("c0_clients")).toBe(false);
    expect(g.arrows.map((a) => a.from)).toEqual(["c0_etcdclients"]);
  });

  it("every node an etcd member: no group of etcd clients", () => {
    const g = readFlowchart(
      renderTopologyMermaid([model({ nodes: [node("core-01", true), node("core-02", true)] })]),
    );
    expect(g.groups.has("c0_etcdclients")).toBe(false);
    expect(g.arrows.filter((a) => a.to === "c0_members")).toEqual([]);
  });

  it("two panels: ids of their own, each panel's boxes inside it", () => {
    const g = readFlowchart(
      renderTopologyMermaid([model(), model({ cluster: "edge", front: undefined })]),
    );
    expect(g.groups.get("c1_panel")?.label).toMatch(/^cluster edge · /);
    expect(g.groups.get("c1_members")?.inside.every((id) => id.startsWith("c1_"))).toBe(true);
    expect(g.boxes.size).toBe(2 + 4 + 4);
  });

  it("a large cluster: the nodes beyond the picture's limit summed up in one box among the clients", () => {
    const nodes = Array.from({ length: TOPOLOGY_MAX_NODES + 12 }, (_, i) =>
      node(`core-${String(i + 1).padStart(2, "0")}`, i < 3),
    );
    const g = readFlowchart(renderTopologyMermaid([model({ nodes })]));
    const { shown, hidden } = shownNodes(nodes);
    expect(shown).toHaveLength(TOPOLOGY_MAX_NODES);
    expect(hidden).toBe(
      `+12 more nodes (core-${TOPOLOGY_MAX_NODES + 1} … core-${TOPOLOGY_MAX_NODES + 12}): 12 active`,
    );
    expect(g.boxes.get("c0_more")).toEqual([hidden]);
    expect(g.groups.get("c0_etcdclients")?.inside).toContain("c0_more");
    expect(g.boxes.size).toBe(2 + TOPOLOGY_MAX_NODES + 1);
  });

  it("exactly at the limit every node is drawn", () => {
    const nodes = Array.from({ length: TOPOLOGY_MAX_NODES }, (_, i) =>
      node(`core-${String(i + 1).padStart(2, "0")}`, i < 3),
    );
    expect(shownNodes(nodes)).toEqual({ shown: nodes, hidden: undefined });
  });
});

describe("topology.md around the flowchart", () => {
  const md = renderTopologyMarkdown("dev", [model()], "pic.svg");
  const lines = md.split("\n");

  it("says it is generated, names the stack, shows the SVG, then the Mermaid block", () => {
    expect(lines[0]).toBe(
      "<!-- Generated by coreos-cluster-cdktf on every synth; edits are overwritten. -->",
    );
    expect(lines[1]).toBe("# Topology of stack `dev`");
    expect(lines).toContain("![Topology of stack dev](pic.svg)");
    expect(md).toContain(`\`\`\`mermaid\n${renderTopologyMermaid([model()])}\`\`\`\n`);
    expect(renderTopologyMarkdown("dev", [model()])).toContain("(topology.svg)");
  });

  it("per cluster: its title, the target with its details, the front, its listeners and note", () => {
    const from = lines.indexOf("## cluster core · Flatcar stable · 192.168.56.0/21");
    expect(lines.slice(from, from + 8)).toEqual([
      "## cluster core · Flatcar stable · 192.168.56.0/21",
      "",
      "Target: Vagrant + VirtualBox · box flatcar · 2 CPU.",
      "",
      "Front `front` (HAProxy + keepalived (VRRP)) at 192.168.56.10:",
      "- http :80 (HTTP) → web :8080 · HTTP GET / every 500ms",
      "- raw :9000 (TCP) → raw :9090 · TCP connect every 500ms",
      "- open to 0.0.0.0/0 on its listeners only",
    ]);
  });

  it("a table row per node: name, address, etcd role, traffic", () => {
    const header = lines.indexOf("| node | address | etcd | traffic |");
    expect(lines[header + 1]).toBe("| --- | --- | --- | --- |");
    expect(lines.slice(header + 2, header + 6)).toEqual([
      "| core-01 | 192.168.56.101 | member | active |",
      "| core-02 | 192.168.56.102 | member | standby |",
      "| core-03 | 192.168.56.103 | client | active |",
      "| core-04 | 192.168.56.104 | client | drained |",
    ]);
  });

  it("without a front or a note, no front lines", () => {
    expect(renderTopologyMarkdown("dev", [model({ front: undefined })])).not.toContain("Front `");
    const noNote = model();
    const front = { ...noNote.front!, note: undefined };
    const text = renderTopologyMarkdown("dev", [{ ...noNote, front }]);
    expect(text).toContain("- raw :9000 (TCP) → raw :9090 · TCP connect every 500ms\n\n| node");
  });

  it("a cell with a | or a backtick keeps the table and the code span intact", () => {
    const text = renderTopologyMarkdown("a|b", [
      model({ nodes: [node("core-01", true, { address: "x|`y`" })] }),
    ]);
    expect(text).toContain("# Topology of stack `a&#124;b`");
    expect(text).toContain("| core-01 | x&#124;&#96;y&#96; | member | active |");
  });
});

describe("the picture's model of a cluster plan", () => {
  it("health checks in words: HTTP with its path (/ when none), TCP a connect", () => {
    expect(healthCheckWords(HealthCheckProtocol.HTTP, "/healthz", "2s")).toBe(
      "HTTP GET /healthz every 2s",
    );
    expect(healthCheckWords(HealthCheckProtocol.HTTP, undefined, "2s")).toBe("HTTP GET / every 2s");
    expect(healthCheckWords(HealthCheckProtocol.TCP, "/ignored", "10s")).toBe(
      "TCP connect every 10s",
    );
  });

  it("the OS family and channel, the network, etcd, and the nodes the front drains", () => {
    const plan = renderPlan({ nodeCount: 3, os: OperatingSystem.fedoraCoreOs() });
    const target = { kind: "vagrant", title: "Vagrant", details: [] };
    const front = {
      plan: { draining: ["core-02"] } as unknown as FrontPlan,
      kind: "HAProxy",
      address: "192.168.56.10",
      machines: [],
      listeners: [],
    };
    const t = clusterTopology(plan, target, front);
    expect(t.os).toBe(`Fedora CoreOS ${plan.os.channel}`);
    expect(clusterTopology(renderPlan(), target).os).toBe("Flatcar stable");
    expect(t.network).toBe(plan.network.cidr);
    expect(t.etcd).toEqual({ scheme: plan.etcd.scheme, clientPort: 2379, peerPort: 2380 });
    expect(t.nodes.map((n) => [n.name, n.draining])).toEqual([
      ["core-01", false],
      ["core-02", true],
      ["core-03", false],
    ]);
    expect(clusterTopology(plan, target).nodes.some((n) => n.draining)).toBe(false);
    expect(clusterTopology(plan, target).front).toBeUndefined();
  });
});
