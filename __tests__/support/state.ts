import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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
