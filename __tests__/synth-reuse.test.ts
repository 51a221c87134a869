import * as fs from "node:fs";
import * as path from "node:path";
import { TerraformStack } from "cdktf";
import { CoreOsCluster, renderIgnitionJson } from "../lib";
import { renderIgnitionCompact } from "../lib/render/ignition";
import { nodeIgnitionCompact, nodeIgnitionJson } from "../lib/render/ignition-cache";
import { testApp } from "./support/state";
import { synthVagrant, tempOutdir } from "./support/synth";

/** Modification times of every file below `dir`, by relative path. */
function mtimes(dir: string, base = dir): Record<string, number> {
  return Object.fromEntries(
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory()
        ? Object.entries(mtimes(p, base))
        : [[path.relative(base, p), fs.statSync(p).mtimeMs]];
    }),
  );
}

describe("a synth into the folder of an earlier synth (cdktf synth again)", () => {
  const outdir = tempOutdir();
  const first = synthVagrant({ nodeCount: 3 }, {}, outdir);
  const ignition = path.join(first.vagrantDir, "ignition");
  const past = new Date(Date.now() - 3_600_000);
  for (const [rel] of Object.entries(mtimes(first.stackDir))) {
    fs.utimesSync(path.join(first.stackDir, rel), past, past);
  }
  const before = mtimes(first.stackDir);
  // The user edits one generated file and deletes another; then synthesizes again.
  fs.writeFileSync(path.join(ignition, "core-02.ign"), "edited by hand");
  fs.rmSync(path.join(ignition, "core-03.ign"));
  const second = synthVagrant({ nodeCount: 3 }, {}, outdir);
  const after = mtimes(second.stackDir);

  it("leaves files whose text is unchanged alone", () => {
    for (const rel of ["vagrant/core/Vagrantfile", "vagrant/core/config.rb"]) {
      expect(after[rel]).toBe(before[rel]);
    }
    expect(after["vagrant/core/ignition/core-01.ign"]).toBe(
      before["vagrant/core/ignition/core-01.ign"],
    );
    expect(after["clusters/core/ignition/core-02.ign"]).toBe(
      before["clusters/core/ignition/core-02.ign"],
    );
  });

  it("writes an edited file and a deleted one again, with the text the first synth wrote", () => {
    const text = fs.readFileSync(
      path.join(second.stackDir, "clusters/core/ignition/core-02.ign"),
      "utf8",
    );
    expect(fs.readFileSync(path.join(ignition, "core-02.ign"), "utf8")).toBe(text);
    expect(after["vagrant/core/ignition/core-02.ign"]).toBeGreaterThan(
      before["vagrant/core/ignition/core-02.ign"],
    );
    expect(fs.readFileSync(path.join(ignition, "core-03.ign"), "utf8")).toBe(
      fs.readFileSync(path.join(second.stackDir, "clusters/core/ignition/core-03.ign"), "utf8"),
    );
  });

  it("writes files whose text changed", () => {
    const third = synthVagrant({ nodeCount: 3, cpus: 2 }, {}, outdir);
    const changed = mtimes(third.stackDir);
    expect(changed["vagrant/core/config.rb"]).toBeGreaterThan(before["vagrant/core/config.rb"]);
    expect(fs.readFileSync(path.join(third.vagrantDir, "config.rb"), "utf8")).toContain(
      "$vm_cpus = 2",
    );
    expect(changed["vagrant/core/ignition/core-01.ign"]).toBe(
      before["vagrant/core/ignition/core-01.ign"],
    );
  });
});

describe("each node's Ignition is rendered once per plan", () => {
  // A plan as the cluster makes it: with the etcd TLS credentials the renderers need.
  const plan = new CoreOsCluster(new TerraformStack(testApp(), "test"), "core", {
    nodeCount: 4,
    files: [{ path: "/etc/motd", contents: 'héllo "${x}" %{y} \u2028 <tag>\n' }],
    units: [
      {
        name: "a.service",
        // Spaces, quotes and backslashes inside JSON strings stay when the whitespace between tokens goes.
        contents:
          '[Service]\nExecStart=/bin/sh -c "echo \\"a  b\\" \\\\ \t end"\n[Install]\nWantedBy=multi-user.target\n',
      },
    ],
  }).plan;

  it("gives the text renderIgnitionJson gives, the same string to every caller", () => {
    for (const node of plan.nodes) {
      const text = nodeIgnitionJson(plan, node);
      expect(text).toBe(renderIgnitionJson(plan, node));
      expect(nodeIgnitionJson(plan, node)).toBe(text);
    }
  });

  it("gives the compact text renderIgnitionCompact gives", () => {
    for (const node of plan.nodes) {
      expect(nodeIgnitionCompact(plan, node)).toBe(renderIgnitionCompact(plan, node));
    }
  });

  it("is shared by a cluster and its Vagrant target", () => {
    const { vagrant } = synthVagrant({ nodeCount: 2 });
    const cluster = vagrant.node.scope?.node.findChild("core") as CoreOsCluster;
    vagrant.plan.nodes.forEach((n, i) => expect(n.ignition).toBe(cluster.nodes[i].ignition));
  });
});
