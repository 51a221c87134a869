import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App, Testing } from "cdktf";
import { STATE_DIRECTORY_CONTEXT } from "../../lib/etcd/state-directory";

/**
 * A committed, TEST-ONLY state folder: the etcd CAs and certificates of the
 * snapshot stacks (coreos-cluster/core, coreos-aws/core, test/core). With it
 * snapshots do not change from run to run or machine to machine. Its keys are
 * public and protect nothing; never use them for a real cluster.
 */
export const TEST_STATE_FIXTURE = path.join(__dirname, "..", "fixtures", "state");

const made: string[] = [];

/** A private copy of the fixture state folder (synth may add certificates to it). */
export function freshTestState(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coreos-state-"));
  fs.cpSync(TEST_STATE_FIXTURE, dir, { recursive: true });
  made.push(dir);
  return dir;
}

/** Removes every state folder this test file made. */
export function removeTestStates(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

const byOutdir = new Map<string, string>();

/** The state folder of a synth folder that a test synthesizes into more than once (day 2). */
export function stateFor(outdir: string): string {
  let dir = byOutdir.get(outdir);
  if (!dir) {
    dir = freshTestState();
    byOutdir.set(outdir, dir);
  }
  return dir;
}

/**
 * A cdktf Testing app with its own copy of the fixture state folder: clusters
 * of unrelated tests never see each other's etcd membership or certificates.
 */
export function testApp(
  options: { outdir?: string; stateDir?: string; context?: Record<string, unknown> } = {},
): App {
  const stateDir =
    options.stateDir ?? (options.outdir ? stateFor(options.outdir) : freshTestState());
  return Testing.app({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: { ...options.context, [STATE_DIRECTORY_CONTEXT]: stateDir },
  });
}

/**
 * Apps for a table of cases that each build a stack (hostile strings,
 * properties): one state folder for all of them, so etcd's CA and each
 * machine's certificates are made once per file, not once per case (about
 * 70 ms each). Without an outdir the apps share one output folder too: for
 * cases that never write it (Testing.synth, construction only). A case that
 * synthesizes into a folder passes its own outdir; it then shares the
 * membership record with the others, so keep its cluster's nodes the same.
 */
export function sharedStateApps(): (options?: { outdir?: string }) => App {
  const stateDir = freshTestState();
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), "cdktf.outdir."));
  made.push(shared);
  return (options = {}) => testApp({ outdir: options.outdir ?? shared, stateDir });
}
