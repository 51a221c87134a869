import { testApp } from "./support/state";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { Testing } from "cdktf";
import { CoreOsCluster, VagrantCluster } from "../lib";
import { CoreOsClusterStack } from "../main";
import { synthCluster } from "./support/synth";

/** An Ignition data URL's contents as text (percent-encoded or base64, gzipped or not). */
function dataUrlText(source: string, compression?: string): string {
  const m = /^data:([^,]*),(.*)$/s.exec(source);
  if (!m) throw new Error(`not a data URL: ${source.slice(0, 40)}`);
  const bytes = m[1].endsWith(";base64")
    ? Buffer.from(m[2], "base64")
    : Buffer.from(decodeURIComponent(m[2]), "utf8");
  return (compression === "gzip" ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** The config with every file's data URL replaced by its text (`compression` kept, to show it). */
function readableIgnition(config: {
  storage?: { files?: { contents?: { source?: string; compression?: string } }[] };
}): unknown {
  for (const f of config.storage?.files ?? []) {
    const c = f.contents;
    if (c?.source?.startsWith("data:")) {
      const { source, ...rest } = c;
      f.contents = { ...rest, text: dataUrlText(source, c.compression) } as typeof c;
    }
  }
  return config;
}

function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? listFiles(path.join(dir, e.name), base)
        : [path.relative(base, path.join(dir, e.name))],
    )
    .sort();
}

describe("the default stack of main.ts", () => {
  const app = testApp();
  const stack = new CoreOsClusterStack(app, "coreos-cluster");
  const json = Testing.synth(stack);

  it("matches the snapshot", () => {
    expect(JSON.parse(json)).toMatchSnapshot();
  });

  it("snapshots the front's haproxy.cfg and keepalived.conf as text (the resources hold only their digests)", () => {
    const vagrant = stack.node.findAll().find((c) => c instanceof VagrantCluster) as VagrantCluster;
    const front = vagrant.plan.front!;
    const files: Record<string, string> = { "front/haproxy.cfg": front.haproxyCfg };
    for (const m of front.machines) files[`front/${m.name}-keepalived.conf`] = m.keepalivedConf!;
    expect(Object.keys(files)).toHaveLength(3);
    expect(files).toMatchSnapshot();
    // The config steps' triggers are the digest of exactly this haproxy.cfg.
    const digest = createHash("sha256").update(front.haproxyCfg).digest("hex");
    const data = JSON.parse(json).resource.terraform_data;
    for (const m of front.machines) {
      expect(data[`vagrant_core_${m.name}-config`].triggers_replace.inputs).toBe(digest);
    }
  });

  it("is machine-independent: no absolute paths, no timestamps", () => {
    expect(json).not.toMatch(/"\/(tmp|home|root|work|Users)\//);
    expect(json).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it("exposes node addresses and etcd endpoints as outputs", () => {
    const out = JSON.parse(json).output;
    expect(out.node_addresses.value).toEqual({
      "core-01": "192.168.56.101",
      "core-02": "192.168.56.102",
      "core-03": "192.168.56.103",
    });
    expect(out.etcd_endpoints.value).toHaveLength(3);
  });
});

describe("artifact layout in the synthesized stack folder", () => {
  it("writes cluster.json and one Ignition file per node under clusters/<name>/", () => {
    const { stackDir } = synthCluster({ nodeCount: 3 });
    expect(listFiles(path.join(stackDir, "clusters"))).toEqual([
      "core/.synthesized-files.json",
      "core/cluster.json",
      "core/ignition/core-01.ign",
      "core/ignition/core-02.ign",
      "core/ignition/core-03.ign",
      "core/state-directory",
    ]);
    const summary = JSON.parse(
      fs.readFileSync(path.join(stackDir, "clusters/core/cluster.json"), "utf8"),
    );
    expect(summary.nodes[0]).toEqual({
      name: "core-01",
      address: "192.168.56.101",
      etcd: "member",
      state: "active",
      ignition: "ignition/core-01.ign",
    });
  });

  it("snapshots the default node configs (stable across machines and runs)", () => {
    const a = synthCluster({});
    const b = synthCluster({});
    const texts = a.ignitionFiles.map((f) => fs.readFileSync(f, "utf8"));
    expect(b.ignitionFiles.map((f) => fs.readFileSync(f, "utf8"))).toEqual(texts);
    // Files as text, not as base64 of gzip: a diff of the snapshot shows what changed on the node.
    expect(texts.map((t) => readableIgnition(JSON.parse(t)))).toMatchSnapshot();
  });

  it("drops the files of removed nodes, and only those, when synthesized again", () => {
    const { stackDir } = synthCluster({ nodeCount: 2 });
    fs.writeFileSync(path.join(stackDir, "clusters/core/keep.txt"), "not ours");
    // A second synth into the same folder, as `cdktf synth` does after scaling down.
    const again = synthCluster({ nodeCount: 1 }, "core", path.dirname(path.dirname(stackDir)));
    expect(again.stackDir).toBe(stackDir);
    expect(listFiles(path.join(again.stackDir, "clusters/core/ignition"))).toEqual(["core-01.ign"]);
    expect(fs.readFileSync(path.join(stackDir, "clusters/core/keep.txt"), "utf8")).toBe("not ours");
  });

  it("keeps two clusters of one stack apart", () => {
    const app = testApp();
    const stack = new CoreOsClusterStack(app, "two");
    new CoreOsCluster(stack, "edge", { nodeCount: 1, firstHostNumber: 201 });
    const outdir = Testing.fullSynth(stack);
    expect(
      listFiles(path.join(outdir, "stacks/two/clusters")).filter((f) => f.endsWith("cluster.json")),
    ).toEqual(["core/cluster.json", "edge/cluster.json"]);
  });
});
