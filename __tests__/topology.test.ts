import * as fs from "node:fs";
import * as path from "node:path";
import { Document, DOMParser, Element } from "@xmldom/xmldom";
import { TerraformStack } from "cdktf";
import {
  ClusterTopology,
  CoreOsCluster,
  NlbFront,
  parseAppSettings,
  readConfigFile,
  renderTopologyMarkdown,
  renderTopologyMermaid,
  renderTopologySvg,
  TOPOLOGY_MARKDOWN,
  TOPOLOGY_MAX_NODES,
  TOPOLOGY_SVG,
  VagrantCluster,
} from "../lib";
import { escapeMermaid, xmlText } from "../lib/render/topology";
import { CoreOsAwsStack, CoreOsClusterStack } from "../main";
import { testApp } from "./support/state";
import { tempOutdir } from "./support/synth";

/*
 * The topology picture every synth writes next to cdk.tf.json: topology.svg
 * (parsed here as XML, as a browser parses it; topology-browser.test.ts draws
 * it in Chromium) and topology.md with the same picture as a Mermaid block.
 */

const ROOT = path.resolve(__dirname, "..");

/**
 * Parses XML strictly: any warning or error of the parser fails, but its
 * guess that U+FFFD (what the renderer writes for a character XML cannot
 * hold) means a wrong encoding.
 */
function parseXml(text: string): Document {
  const problems: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, message: string) => {
      if (/replacement character/.test(message)) return;
      problems.push(`${level}: ${message}`);
    },
  }).parseFromString(text, "image/svg+xml");
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return doc;
}

const texts = (doc: Document) =>
  Array.from(doc.getElementsByTagName("text")).map((t: Element) => t.textContent ?? "");
/** `<name> <state>` of each node drawn. */
const nodesDrawn = (doc: Document) =>
  Array.from(doc.getElementsByTagName("g"))
    .filter((g: Element) => g.getAttribute("data-node") !== null)
    .map(
      (g: Element) =>
        `${g.getAttribute("data-node")} ${(g.getAttribute("class") ?? "").replace("node ", "")}`,
    );

/** The default app's stack from cdktf.json's settings (`change` merged in), synthesized. */
function synthDefault(change: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const outdir = tempOutdir();
  const settings = parseAppSettings({ ...(readConfigFile(ROOT) as object), ...change }, env);
  const app = testApp({ outdir });
  const aws = settings.target === "aws";
  const stack = aws
    ? new CoreOsAwsStack(app, "coreos-aws", { settings })
    : new CoreOsClusterStack(app, "coreos-cluster", { settings });
  app.synth();
  const dir = path.join(outdir, "stacks", stack.node.id);
  const svg = fs.readFileSync(path.join(dir, TOPOLOGY_SVG), "utf8");
  const markdown = fs.readFileSync(path.join(dir, TOPOLOGY_MARKDOWN), "utf8");
  return { dir, svg, doc: parseXml(svg), markdown, app };
}

describe("topology.svg and topology.md on every synth", () => {
  const base = synthDefault();
  // The docs' picture (docs/topology-example.svg): two nodes added, the last on standby, core-02 drained.
  const changed = synthDefault(
    {
      front: {
        listeners: [{ name: "http", port: 80, protocol: "http", targets: { port: 8080 } }],
        drain: ["core-02"],
      },
    },
    { NUM_INSTANCES: "5", COREOS_CLUSTER_STANDBY: "1" },
  );

  it("the default app: nodes, etcd members, the front with its listener and address, the target", () => {
    expect(base.doc.documentElement?.tagName).toBe("svg");
    expect(base.doc.documentElement?.getAttribute("xmlns")).toBe("http://www.w3.org/2000/svg");
    expect(nodesDrawn(base.doc)).toEqual(["core-01 active", "core-02 active", "core-03 active"]);
    const t = texts(base.doc);
    expect(t).toEqual(
      expect.arrayContaining([
        "cluster core · Flatcar stable · 192.168.56.0/21",
        "target: vagrant",
        "etcd members (3) · https · clients :2379, peers :2380",
        "front · HAProxy + keepalived (VRRP)",
        "192.168.56.10 (virtual address, moves between the front machines)",
        "listener http :80 (HTTP) → hello :8080 · HTTP GET / every 500ms",
        "machines: front-01 192.168.56.11 · front-02 192.168.56.12",
        "core-01",
        "192.168.56.101",
        "192.168.56.103",
        "etcd member",
      ]),
    );
    expect(t.join("\n")).toContain("Vagrant + VirtualBox (local machines) · box flatcar-stable");
  });

  it("topology.md shows the SVG, the same picture as a Mermaid block, and a table of the nodes", () => {
    expect(base.markdown).toContain(`![Topology of stack coreos-cluster](${TOPOLOGY_SVG})`);
    expect(base.markdown).toMatch(/```mermaid\nflowchart TB\n[\s\S]*\n```\n/);
    expect(base.markdown).toContain('c0_front -->|":8080"| c0_n0');
    expect(base.markdown).toContain("| core-02 | 192.168.56.102 | member | active |");
    expect(base.markdown).not.toMatch(/\/(tmp|home|root|work)\//);
  });

  it("changes when a node is drained, added, or stands by", () => {
    expect(changed.svg).not.toEqual(base.svg);
    expect(nodesDrawn(changed.doc)).toEqual([
      "core-01 active",
      "core-02 drained",
      "core-03 active",
      "core-04 active",
      "core-05 standby",
    ]);
    expect(texts(changed.doc)).toEqual(
      expect.arrayContaining([
        "etcd clients (2)",
        "traffic to the active nodes; standby only while an active node is down; drained: core-02",
      ]),
    );
    expect(changed.markdown).toContain('c0_front -.-x|"drained"| c0_n1');
    expect(changed.markdown).toContain('c0_front -.->|"standby :8080"| c0_n4');
    expect(changed.markdown).toContain("| core-05 | 192.168.56.105 | client | standby |");
  });

  it("docs/topology-example.svg is this picture (UPDATE_DOCS=1 writes it again)", () => {
    const example = path.join(ROOT, "docs", "topology-example.svg");
    if (process.env.UPDATE_DOCS === "1") fs.writeFileSync(example, changed.svg);
    expect(fs.readFileSync(example, "utf8")).toEqual(changed.svg);
  });

  it("is left alone when nothing changed, rewritten when something did", () => {
    const outdir = tempOutdir();
    const synth = (nodeCount: number) => {
      const app = testApp({ outdir });
      new CoreOsClusterStack(app, "coreos-cluster", {
        settings: parseAppSettings({ ...(readConfigFile(ROOT) as object), nodeCount }),
      });
      app.synth();
      const file = path.join(outdir, "stacks", "coreos-cluster", TOPOLOGY_SVG);
      return { mtime: fs.statSync(file).mtimeMs, text: fs.readFileSync(file, "utf8") };
    };
    const first = synth(3);
    fs.utimesSync(
      path.join(outdir, "stacks", "coreos-cluster", TOPOLOGY_SVG),
      new Date(0),
      new Date(0),
    );
    expect(synth(3).mtime).toBe(0);
    expect(synth(4).text).not.toEqual(first.text);
  });

  it("AWS: EC2 in its subnets, the Network Load Balancer whose DNS name comes with the deploy", () => {
    const aws = synthDefault({}, { COREOS_CLUSTER_TARGET: "aws" });
    expect(nodesDrawn(aws.doc)).toEqual(["core-01 active", "core-02 active", "core-03 active"]);
    expect(texts(aws.doc)).toEqual(
      expect.arrayContaining([
        "cluster core · Flatcar stable · 10.42.0.0/16",
        "target: aws",
        "front · AWS Network Load Balancer, internet-facing",
        "DNS name of load balancer core-front, known after deploy",
        "listener http :80 (HTTP) → hello :8080 · HTTP GET / every 5s",
        "10.42.3.10",
      ]),
    );
    expect(texts(aws.doc).join("\n")).toContain(
      "subnets 10.42.1.0/24, 10.42.2.0/24, 10.42.3.0/24 (one per zone)",
    );
  });

  it("one picture per stack: a panel for each cluster a target runs", () => {
    const app = testApp({ outdir: tempOutdir() });
    const stack = new TerraformStack(app, "two");
    for (const [id, first] of [
      ["blue", 101],
      ["green", 201],
    ] as const) {
      const cluster = new CoreOsCluster(stack, id, {
        nodeCount: 2,
        namePrefix: id,
        firstHostNumber: first,
      });
      new VagrantCluster(stack, `${id}-local`, { cluster });
    }
    app.synth();
    const doc = parseXml(
      fs.readFileSync(path.join(app.outdir, "stacks", "two", TOPOLOGY_SVG), "utf8"),
    );
    const panels = Array.from(doc.getElementsByTagName("g")).map((g: Element) =>
      g.getAttribute("data-cluster"),
    );
    expect(panels.filter(Boolean)).toEqual(["blue", "green"]);
    expect(nodesDrawn(doc)).toEqual([
      "blue-01 active",
      "blue-02 active",
      "green-01 active",
      "green-02 active",
    ]);
  });

  it("a front without listeners' targets run elsewhere still draws the cluster (no front)", () => {
    const app = testApp({ outdir: tempOutdir() });
    const stack = new TerraformStack(app, "solo");
    new VagrantCluster(stack, "local", {
      cluster: new CoreOsCluster(stack, "core", { nodeCount: 1 }),
    });
    new NlbFront(stack, "unused");
    app.synth();
    const doc = parseXml(
      fs.readFileSync(path.join(app.outdir, "stacks", "solo", TOPOLOGY_SVG), "utf8"),
    );
    expect(nodesDrawn(doc)).toEqual(["core-01 active"]);
    expect(texts(doc).some((t) => t.includes("HAProxy"))).toBe(false);
  });
});

// ---------------------------------------------------------------- the renderers themselves

/** A model whose every string is `h`. */
function hostileModel(h: string): ClusterTopology {
  return {
    cluster: h,
    os: h,
    network: h,
    target: { kind: h, title: h, details: [h, h] },
    etcd: { scheme: h, clientPort: 2379, peerPort: 2380 },
    nodes: [
      { name: h, address: h, etcdMember: true, standby: false, draining: false },
      { name: `${h}2`, address: h, etcdMember: false, standby: true, draining: true },
    ],
    front: {
      name: h,
      kind: h,
      address: h,
      machines: [{ name: h, address: h }],
      listeners: [
        { name: h, port: 80, protocol: h, targetGroup: h, targetPort: 8080, healthCheck: h },
      ],
      note: h,
    },
  };
}

const HOSTILE = [
  "<script>alert(1)</script>",
  "a&b",
  "]]>",
  'a"b',
  "a'b",
  "a\nb",
  "a\u0000b",
  "\u0007",
  "\ud800",
  "é ü 日本 🙂",
  "#quot;",
  "a|b",
  "`x`",
  "[x]",
  "{x}",
  "--> x",
  "%%{init: {}}%%",
  "end",
  "\u202eevil",
];

describe("the renderers with hostile strings in every field", () => {
  it.each(HOSTILE.map((h) => [JSON.stringify(h), h]))("%s", (_l, h) => {
    const model = hostileModel(h);
    const doc = parseXml(renderTopologySvg(h, [model]));
    expect(texts(doc)).toContain(xmlText(h));
    expect(doc.getElementsByTagName("g")[0].getAttribute("data-cluster")).toBe(xmlText(h));
    expect(nodesDrawn(doc)).toEqual([`${xmlText(h)} active`, `${xmlText(`${h}2`)} drained`]);
    // Mermaid: every label is quoted and holds only plain characters and #<code>; escapes.
    const mermaid = renderTopologyMermaid([model]);
    expect(escapeMermaid(h)).toMatch(/^[A-Za-z0-9 .:/_()+,=·→…#;-]*$/);
    for (const line of mermaid.split("\n").slice(1, -1)) {
      // Outside its quoted labels a line is Mermaid's own syntax only.
      expect(line.replace(/"[^"\n]*"/g, "")).toMatch(/^[ \w[\]()|>.,:;#=-]*$/);
    }
    // Markdown: each table row keeps its five cell borders.
    const md = renderTopologyMarkdown(h, [model]);
    for (const row of md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---"))) {
      expect(row.split("|")).toHaveLength(6);
    }
  });
});

describe("a large cluster", () => {
  it(`draws ${TOPOLOGY_MAX_NODES} nodes (etcd members, standby and drained first) and sums up the rest`, () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => ({
      name: `core-${String(i + 1).padStart(2, "0")}`,
      address: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      etcdMember: i < 5,
      standby: i >= 990,
      draining: i === 500,
    }));
    const model: ClusterTopology = { ...hostileModel("big"), nodes };
    const svg = renderTopologySvg("big", [model]);
    const doc = parseXml(svg);
    const drawn = nodesDrawn(doc);
    expect(drawn).toHaveLength(TOPOLOGY_MAX_NODES);
    expect(drawn).toEqual(
      expect.arrayContaining(["core-01 active", "core-501 drained", "core-1000 standby"]),
    );
    expect(texts(doc)).toContain(
      `+${1000 - TOPOLOGY_MAX_NODES} more nodes (core-${String(TOPOLOGY_MAX_NODES - 10).padStart(2, "0")} … core-990): ${1000 - TOPOLOGY_MAX_NODES} active`,
    );
    expect(texts(doc)).toContain("etcd clients (995)");
    expect(svg.length).toBeLessThan(200_000);
  });
});
