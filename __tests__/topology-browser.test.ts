import * as fs from "node:fs";
import * as path from "node:path";
import { PNG } from "pngjs";
import { parseAppSettings, readConfigFile, renderTopologyMermaid, TOPOLOGY_SVG } from "../lib";
import { CoreOsClusterStack } from "../main";
import { CHROMIUM_PACKAGE, runChromium, screenshot } from "./support/chromium";
import { testApp } from "./support/state";
import { tempOutdir } from "./support/synth";
import { describeWithTool } from "./support/tools";

/*
 * The picture as its readers see it: Debian's Chromium (headless, no network,
 * a new empty profile, each run bounded by `timeout`) draws topology.svg,
 * and the mermaid package — the library GitHub and most Markdown viewers draw
 * Mermaid blocks with — renders topology.md's block in the same browser. A
 * screenshot is not blank and holds the boxes in their colours; draining and
 * adding a node changes the pixels.
 */

const ROOT = path.resolve(__dirname, "..");
const MERMAID = path.join(ROOT, "node_modules", "mermaid", "dist", "mermaid.min.js");

/** Fill colours of the picture's boxes (lib/render/topology.ts). */
const FILLS = {
  background: [255, 255, 255],
  member: [219, 234, 254],
  client: [241, 245, 249],
  drained: [254, 226, 226],
  front: [220, 252, 231],
} as const;

/** The default app's stack from cdktf.json (`change` merged in), synthesized: its topology files. */
function synthesized(change: Record<string, unknown>, env: Record<string, string> = {}) {
  const outdir = tempOutdir();
  const app = testApp({ outdir });
  const settings = parseAppSettings({ ...(readConfigFile(ROOT) as object), ...change }, env);
  new CoreOsClusterStack(app, "coreos-cluster", { settings });
  app.synth();
  const dir = path.join(outdir, "stacks", "coreos-cluster");
  return {
    svg: path.join(dir, TOPOLOGY_SVG),
    markdown: fs.readFileSync(path.join(dir, "topology.md"), "utf8"),
  };
}

/** Pixels of a screenshot: how many differ from the background, how many have each fill. */
function pixels(file: string): Record<keyof typeof FILLS | "total" | "drawn", number> {
  const png = PNG.sync.read(fs.readFileSync(file));
  const counts = {
    total: png.width * png.height,
    drawn: 0,
    background: 0,
    member: 0,
    client: 0,
    drained: 0,
    front: 0,
  };
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    const near = (c: readonly number[]) =>
      Math.abs(r - c[0]) <= 1 && Math.abs(g - c[1]) <= 1 && Math.abs(b - c[2]) <= 1;
    if (!near(FILLS.background)) counts.drawn += 1;
    for (const key of ["member", "client", "drained", "front"] as const) {
      if (near(FILLS[key])) counts[key] += 1;
    }
  }
  return counts;
}

/** Screenshot of an SVG file in a window of its own size. */
function draw(svgFile: string, png: string) {
  const svg = fs.readFileSync(svgFile, "utf8");
  const [, width, height] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
  screenshot(`file://${svgFile}`, png, Number(width), Number(height));
  return pixels(png);
}

describeWithTool("chromium", CHROMIUM_PACKAGE, "the topology picture in a browser", () => {
  jest.setTimeout(150_000);
  const shots = tempOutdir();
  const base = synthesized({});
  const changed = synthesized(
    {
      front: {
        listeners: [{ name: "http", port: 80, protocol: "http", targets: { port: 8080 } }],
        drain: ["core-02"],
      },
    },
    { NUM_INSTANCES: "5", COREOS_CLUSTER_STANDBY: "1" },
  );
  afterAll(() => fs.rmSync(shots, { recursive: true, force: true }));

  it("Chromium draws topology.svg: not blank, the boxes in their colours; a drained and added node change it", () => {
    const before = draw(base.svg, path.join(shots, "before.png"));
    const after = draw(changed.svg, path.join(shots, "after.png"));
    // Not blank, and no XML error page: the boxes' own fills are there.
    expect(before.drawn / before.total).toBeGreaterThan(0.1);
    const box = 150 * 60; // most of a node box's inside
    expect(before.member).toBeGreaterThan(3 * box);
    expect(before.front).toBeGreaterThan(box);
    // core-02 drained (its box red instead of blue), core-04 and core-05 added as etcd clients.
    expect(before.member - after.member).toBeGreaterThan(box * 0.9);
    expect(after.drained - before.drained).toBeGreaterThan(box);
    expect(after.client - before.client).toBeGreaterThan(2 * box);
  });

  it("the mermaid package renders topology.md's block; its labels read back; hostile strings stay text", () => {
    const block = (md: string) => /```mermaid\n([\s\S]*?)```/.exec(md)?.[1] ?? "";
    const hostile = ["<img src=x onerror=window.pwned=1>", 'a"b]', "é 日本 🙂", "a\nb", "end"];
    const model = (h: string) => ({
      cluster: h,
      os: h,
      network: h,
      target: { kind: h, title: h, details: [h] },
      etcd: { scheme: h, clientPort: 2379, peerPort: 2380 },
      nodes: [{ name: h, address: h, etcdMember: true, standby: false, draining: false }],
      front: {
        name: h,
        kind: h,
        address: h,
        machines: [],
        listeners: [
          { name: h, port: 80, protocol: h, targetGroup: h, targetPort: 8080, healthCheck: h },
        ],
      },
    });
    const blocks = [
      { name: "default", src: block(base.markdown) },
      { name: "changed", src: block(changed.markdown) },
      ...hostile.map((h) => ({ name: h, src: renderTopologyMermaid([model(h)]) })),
    ];
    const page = path.join(shots, "mermaid.html");
    // The blocks go in as JSON with "<" escaped: a hostile string cannot end the script.
    fs.writeFileSync(
      page,
      `<!doctype html><html><head><meta charset="utf-8"><script src="file://${MERMAID}"></script></head>
<body><pre id="result"></pre><script>
const blocks = ${JSON.stringify(blocks).replace(/</g, "\\u003c")};
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
(async () => {
  const results = [];
  for (const [i, b] of blocks.entries()) {
    try {
      const { svg } = await mermaid.render("m" + i, b.src);
      const div = document.createElement("div");
      div.innerHTML = svg;
      document.body.appendChild(div);
      const labels = [...div.querySelectorAll(".nodeLabel, .edgeLabel, .cluster-label")].map((e) => e.textContent);
      results.push({ name: b.name, ok: true, labels });
    } catch (e) {
      results.push({ name: b.name, ok: false, error: String((e && e.message) || e) });
    }
  }
  document.getElementById("result").textContent = JSON.stringify({ results, pwned: !!window.pwned });
})();
</script></body></html>`,
    );
    const r = runChromium(
      ["--allow-file-access-from-files", "--virtual-time-budget=30000", "--dump-dom"],
      `file://${page}`,
    );
    const dumped = /<pre id="result">([^<]*)<\/pre>/.exec(r.stdout)?.[1];
    if (!dumped)
      throw new Error(`mermaid gave no result (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    const { results, pwned } = JSON.parse(
      dumped
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&"),
    ) as {
      results: { name: string; ok: boolean; error?: string; labels: string[] }[];
      pwned: boolean;
    };
    expect(results.filter((x) => !x.ok)).toEqual([]);
    expect(pwned).toBe(false);
    const [before, after, ...strange] = results;
    for (const n of ["core-01", "core-02", "core-03", "192.168.56.10", "http :80 HTTP"]) {
      expect(before.labels.join("\n")).toContain(n);
    }
    expect(after.labels.join("\n")).toContain("core-05192.168.56.105standby");
    expect(after.labels).toContain("drained");
    // A node label is name, address, state on lines of their own (a newline in a name is a line
    // break too): compared without white space.
    const bare = (t: string) => t.replace(/\s/g, "");
    strange.forEach((x, i) =>
      expect(x.labels.map(bare)).toContain(bare(`${hostile[i]}${hostile[i]}active`)),
    );
  });
});
