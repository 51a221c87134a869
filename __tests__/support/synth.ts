import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Testing, TerraformStack } from "cdktf";
import { CoreOsCluster, CoreOsClusterProps } from "../../lib";

/** A synthesized stack holding one cluster, with its folder on disk. */
export interface SynthesizedCluster {
  readonly cluster: CoreOsCluster;
  /** The stack's working folder (cdktf.out/stacks/<id>). */
  readonly stackDir: string;
  /** Absolute paths of the node Ignition files, in node order. */
  readonly ignitionFiles: string[];
}

/** Synthesizes a stack with one cluster to a temporary folder, as `cdktf synth` does. */
export function synthCluster(
  props: CoreOsClusterProps,
  id = "core",
  outdir?: string,
): SynthesizedCluster {
  const dir = outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), "cdktf.outdir."));
  const app = Testing.app({ outdir: dir });
  const stack = new TerraformStack(app, "test");
  const cluster = new CoreOsCluster(stack, id, props);
  app.synth();
  const stackDir = path.join(dir, "stacks", "test");
  const ignitionFiles = cluster.nodes.map((n) => path.join(stackDir, n.ignitionPath));
  for (const f of ignitionFiles) {
    if (!fs.existsSync(f)) throw new Error(`synth did not write ${f}`);
  }
  return { cluster, stackDir, ignitionFiles };
}
