import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalBackend, TerraformStack } from "cdktf";
import { testApp } from "./state";
import {
  CoreOsCluster,
  CoreOsClusterProps,
  FrontProtocol,
  NlbFront,
  VagrantCluster,
  VagrantClusterProps,
} from "../../lib";

/** A synthesized stack holding one cluster, with its folder on disk. */
export interface SynthesizedCluster {
  readonly cluster: CoreOsCluster;
  /** The stack's working folder (cdktf.out/stacks/<id>). */
  readonly stackDir: string;
  /** Absolute paths of the node Ignition files, in node order. */
  readonly ignitionFiles: string[];
}

/** A fresh temporary folder for synth output. */
export function tempOutdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "cdktf.outdir."));
}

/** Synthesizes a stack with one cluster to a temporary folder, as `cdktf synth` does. */
export function synthCluster(
  props: CoreOsClusterProps,
  id = "core",
  outdir?: string,
): SynthesizedCluster {
  // A given outdir is a cluster synthesized again (its state carries over); none: a fresh one.
  const app = outdir ? testApp({ outdir }) : testApp({ outdir: tempOutdir() });
  const dir = app.outdir;
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

/** A synthesized stack with a cluster run by Vagrant. */
export interface SynthesizedVagrant {
  readonly vagrant: VagrantCluster;
  readonly stackDir: string;
  /** Absolute path of the Vagrant folder. */
  readonly vagrantDir: string;
  /** The parsed cdk.tf.json. */
  readonly config: {
    resource: Record<string, Record<string, Record<string, unknown>>>;
    [key: string]: unknown;
  };
}

/** The default app's front over `cluster`: HTTP on port 80 to port 8080 of each node. */
export function httpFront(scope: TerraformStack, cluster: CoreOsCluster): NlbFront {
  const front = new NlbFront(scope, "front");
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("hello", { targets: [cluster], port: 8080 });
  return front;
}

/**
 * Synthesizes cluster + VagrantCluster, like `cdktf synth`, into `outdir`
 * (reused across steps); `options.front: true` adds the default app's front.
 */
export function synthVagrant(
  props: CoreOsClusterProps,
  options: Omit<VagrantClusterProps, "cluster" | "front"> & { front?: boolean } = {},
  outdir = tempOutdir(),
  stateDir?: string,
): SynthesizedVagrant {
  const app = testApp({ outdir, stateDir });
  const stack = new TerraformStack(app, "test");
  // State next to the synth output: cdktf's default is the project folder, shared by all tests.
  new LocalBackend(stack, { path: path.join(outdir, "terraform.tfstate") });
  const cluster = new CoreOsCluster(stack, "core", props);
  const { front, ...rest } = options;
  const vagrant = new VagrantCluster(stack, "local", {
    cluster,
    ...rest,
    front: front ? httpFront(stack, cluster) : undefined,
  });
  app.synth();
  const stackDir = path.join(outdir, "stacks", "test");
  const config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  return { vagrant, stackDir, vagrantDir: path.join(stackDir, vagrant.directory), config };
}

const FILE_EXPRESSION = /^\$\{file\("\$\{path\.module\}\/([^"]+)"\)\}$/;

/**
 * The text Terraform gives an attribute written as `${file("${path.module}/…")}`
 * (the AWS target's user data): the file of the stack folder it names, read
 * as `file()` reads it. Fails on any other value.
 */
export function fileAttribute(stackDir: string, value: unknown): string {
  const match = FILE_EXPRESSION.exec(String(value));
  if (!match) throw new Error(`not a file() of the stack folder: ${String(value)}`);
  return fs.readFileSync(path.join(stackDir, match[1]), "utf8");
}
