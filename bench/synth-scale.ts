/*
 * Synth time of a large local cluster: one stack, NODES nodes run by Vagrant
 * with the default lifecycle resource (or LIFECYCLE), synthesized like `cdktf synth` into a
 * temporary folder (removed afterwards). Run under /usr/bin/time -v for
 * wall time and peak memory:
 *
 *   NODES=1000 /usr/bin/time -v npm run bench:synth
 *   LIFECYCLE=null_resource NODES=1000 /usr/bin/time -v npm run bench:synth
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App, TerraformStack } from "cdktf";
import { CoreOsCluster, LifecycleResource, VagrantCluster } from "../lib";

const nodes = Number(process.env.NODES ?? 1000);
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth."));
try {
  const started = Date.now();
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "scale");
  const cluster = new CoreOsCluster(stack, "core", { nodeCount: nodes, etcd: { members: 5 } });
  const lifecycle = process.env.LIFECYCLE as LifecycleResource | undefined;
  new VagrantCluster(stack, "local", { cluster, lifecycle });
  app.synth();
  const files = fs.readdirSync(path.join(outdir, "stacks", "scale", "vagrant", "core", "ignition"));
  console.log(
    `synth of ${nodes} nodes: ${Date.now() - started} ms, ${files.length} Ignition files`,
  );
} finally {
  fs.rmSync(outdir, { recursive: true, force: true });
}
