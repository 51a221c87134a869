import * as fs from "node:fs";
import * as path from "node:path";
import { Construct } from "constructs";
import { TerraformStack } from "cdktf";

/** Construct context key that names the state folder (e.g. in cdktf.json's "context"). */
export const STATE_DIRECTORY_CONTEXT = "coreos-cluster:stateDirectory";
/** Environment variable that names the state folder when the context does not. */
export const STATE_DIRECTORY_ENV = "COREOS_CLUSTER_STATE_DIR";
/** Default state folder, relative to the folder cdktf runs in (the one holding cdktf.json). */
export const DEFAULT_STATE_DIRECTORY = ".coreos-cluster";

/** Subfolder of the default state folder for apps made by cdktf's `Testing.app()`. */
export const TESTING_STATE_SUBDIRECTORY = "testing";

/** Where a cluster keeps its state, and whether its etcd membership is recorded there. */
export interface StateLocation {
  /** `<state>/<stack>/<cluster>`, absolute. */
  readonly directory: string;
  /**
   * Whether the etcd membership and the AWS rollout are recorded: not for an
   * app of cdktf's `Testing.app()` with no state folder set, since unit tests
   * reuse stack and cluster names with other addresses and sizes, which a
   * record would refuse or hold back as day-2 changes.
   */
  readonly recordsDeployState: boolean;
}

/**
 * The folder that keeps what must survive between synths of one cluster: its
 * etcd CA and certificates, and the etcd membership last synthesized. It lies
 * outside cdktf.out (which synth rewrites) and must be kept like Terraform
 * state: `<state>/<stack>/<cluster>/`. A unit test's app (cdktf's
 * `Testing.app()`, whose version is stubbed) without a state folder of its own
 * uses `<default>/testing/`, never a real deployment's state.
 */
export function clusterStateLocation(scope: Construct, clusterName: string): StateLocation {
  const fromContext = scope.node.tryGetContext(STATE_DIRECTORY_CONTEXT);
  const configured =
    typeof fromContext === "string" && fromContext.length > 0
      ? fromContext
      : process.env[STATE_DIRECTORY_ENV];
  const testing = scope.node.tryGetContext("cdktfVersion") === "stubbed";
  const root =
    configured ??
    (testing
      ? path.join(DEFAULT_STATE_DIRECTORY, TESTING_STATE_SUBDIRECTORY)
      : DEFAULT_STATE_DIRECTORY);
  const stack = TerraformStack.of(scope).node.id;
  return {
    directory: path.resolve(root, stack, clusterName),
    recordsDeployState: configured !== undefined || !testing,
  };
}

/** Files in the state folder: the folder 0700, every file 0600, whatever the umask. */
export class StateFiles {
  constructor(public readonly directory: string) {}

  exists(relative: string): boolean {
    return fs.existsSync(path.join(this.directory, relative));
  }

  read(relative: string): string | undefined {
    const file = path.join(this.directory, relative);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  }

  write(relative: string, contents: string): void {
    const file = path.join(this.directory, relative);
    let dir = path.dirname(file);
    const made: string[] = [];
    while (!fs.existsSync(dir)) {
      made.push(dir);
      dir = path.dirname(dir);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    for (const d of made) fs.chmodSync(d, 0o700);
    fs.chmodSync(this.directory, 0o700);
    // Write to a private temporary file, then rename: never a half-written or readable key.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, contents, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
  }
}
