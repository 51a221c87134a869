import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

/**
 * Runs `script` in plain Node (jest's process.env does not reach child
 * processes) with a recording `terraform` first on PATH that reports
 * `version`; returns the recorded calls and the script's output.
 */
function withRecordingTerraform(version: string, script: string): { calls: string; out: string } {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "tf-version."));
  try {
    const log = path.join(bin, "calls");
    fs.writeFileSync(log, "");
    fs.writeFileSync(
      path.join(bin, "terraform"),
      `#!/bin/sh\necho "$*" >> ${log}\necho "Terraform v${version}"\n`,
      { mode: 0o755 },
    );
    const r = spawnSync(process.execPath, ["-r", "./scripts/ts-register.cjs", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(r.stderr).toBe("");
    return { calls: fs.readFileSync(log, "utf8"), out: r.stdout };
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

/** Two apps, each with two stacks holding a Vagrant cluster; prints each synth's outcome. */
const SYNTHS = `
const fs = require("fs");
const { App, TerraformStack } = require("cdktf");
const { CoreOsCluster, VagrantCluster } = require("./lib");
for (const run of [1, 2]) {
  const app = new App({ outdir: fs.mkdtempSync(require("os").tmpdir() + "/tfv-") });
  for (const name of ["one", "two"]) {
    const stack = new TerraformStack(app, name);
    new VagrantCluster(stack, "local", { cluster: new CoreOsCluster(stack, "core", { nodeCount: 2 }) });
  }
  try {
    app.synth();
    console.log("synth " + run + ": ok");
  } catch (e) {
    console.log("synth " + run + ": " + String(e.message).split("\\n").find((l) => l.includes("version")));
  }
  fs.rmSync(app.outdir, { recursive: true, force: true });
}
`;

describe("the Terraform version check of terraform_data", () => {
  it("runs `terraform version` once for two synths of two stacks each", () => {
    const { calls, out } = withRecordingTerraform("1.11.0", SYNTHS);
    expect(calls).toBe("version\n");
    expect(out).toBe("synth 1: ok\nsynth 2: ok\n");
  });

  it("still stops every synth when Terraform is older than 1.4", () => {
    const { calls, out } = withRecordingTerraform("1.3.9", SYNTHS);
    expect(calls).toBe("version\n");
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatch(
        /^synth \d: .*terraform version 1\.3\.9 is lower than the required version >=1\.4/,
      );
    }
  });
});
