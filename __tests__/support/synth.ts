import * as fs from "node:fs";
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
export function synthCluster(props: CoreOsClusterProps, id = "core"): SynthesizedCluster {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const cluster = new CoreOsCluster(stack, id, props);
  const outdir = Testing.fullSynth(stack);
  const stackDir = path.join(outdir, "stacks", "test");
  const ignitionFiles = cluster.nodes.map((n) => path.join(stackDir, n.ignitionPath));
  for (const f of ignitionFiles) {
    if (!fs.existsSync(f)) throw new Error(`synth did not write ${f}`);
  }
  return { cluster, stackDir, ignitionFiles };
}
