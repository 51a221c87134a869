/*
 * Where a cluster keeps what must survive between synths (lib/etcd/state-directory.ts): the
 * folder chosen by context, environment or default, whether unit-test apps record deploy state,
 * and the modes of what is written there (etcd's CA key lives in it: 0700 folders, 0600 files).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App, TerraformStack, Testing } from "cdktf";
import {
  clusterStateLocation,
  DEFAULT_STATE_DIRECTORY,
  STATE_DIRECTORY_CONTEXT,
  STATE_DIRECTORY_ENV,
  StateFiles,
} from "../lib/etcd/state-directory";

const envBefore = process.env[STATE_DIRECTORY_ENV];
afterEach(() => {
  if (envBefore === undefined) delete process.env[STATE_DIRECTORY_ENV];
  else process.env[STATE_DIRECTORY_ENV] = envBefore;
});

const roots: string[] = [];
afterAll(() => roots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tempRoot(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "validate-state-"));
  roots.push(d);
  return d;
}

describe("clusterStateLocation", () => {
  it("is set by the names users write in cdktf.json and the environment", () => {
    // Public names (README): renaming them silently moves every user's CA and records.
    expect(STATE_DIRECTORY_CONTEXT).toBe("coreos-cluster:stateDirectory");
    expect(STATE_DIRECTORY_ENV).toBe("COREOS_CLUSTER_STATE_DIR");
    expect(DEFAULT_STATE_DIRECTORY).toBe(".coreos-cluster");
  });

  it("uses the folder the context names, for any app, and records there", () => {
    const app = Testing.app({ context: { [STATE_DIRECTORY_CONTEXT]: "/srv/state" } });
    process.env[STATE_DIRECTORY_ENV] = "/from/env";
    expect(clusterStateLocation(new TerraformStack(app, "prod"), "core")).toEqual({
      directory: "/srv/state/prod/core",
      recordsDeployState: true,
    });
  });

  it("falls back to the environment when the context is empty or not a string", () => {
    process.env[STATE_DIRECTORY_ENV] = "/from/env";
    for (const value of ["", 42]) {
      const app = Testing.app({ context: { [STATE_DIRECTORY_CONTEXT]: value } });
      expect(clusterStateLocation(new TerraformStack(app, "s"), "c")).toEqual({
        directory: "/from/env/s/c",
        recordsDeployState: true,
      });
    }
  });

  it("gives a unit-test app without a folder of its own testing/, recording nothing", () => {
    delete process.env[STATE_DIRECTORY_ENV];
    const loc = clusterStateLocation(new TerraformStack(Testing.app(), "s"), "c");
    expect(loc).toEqual({
      directory: path.resolve(DEFAULT_STATE_DIRECTORY, "testing", "s", "c"),
      recordsDeployState: false,
    });
  });

  it("gives a real app the default folder next to cdktf.json, recording there", () => {
    delete process.env[STATE_DIRECTORY_ENV];
    const app = new App({ outdir: tempRoot(), skipValidation: true });
    expect(clusterStateLocation(new TerraformStack(app, "s"), "c")).toEqual({
      directory: path.resolve(".coreos-cluster", "s", "c"),
      recordsDeployState: true,
    });
  });

  it("names the stack a nested construct belongs to", () => {
    const app = Testing.app({ context: { [STATE_DIRECTORY_CONTEXT]: "/st" } });
    const stack = new TerraformStack(app, "outer");
    const inner = new TerraformStack(app, "other");
    expect(clusterStateLocation(stack, "a").directory).toBe("/st/outer/a");
    expect(clusterStateLocation(inner, "b").directory).toBe("/st/other/b");
  });
});

describe("StateFiles", () => {
  const mode = (p: string) => fs.statSync(p).mode & 0o777;

  it("writes files 0600 in folders 0700 whatever the umask, and reads them back", () => {
    const root = tempRoot();
    const dir = path.join(root, "state", "stack", "cluster");
    const files = new StateFiles(dir);
    expect(files.exists("pki/ca.key")).toBe(false);
    expect(files.read("pki/ca.key")).toBeUndefined();
    // A umask that takes the owner's write and run bits: the folders made are still 0700.
    const umask = process.umask(0o277);
    try {
      files.write("pki/nodes/core-01/member.key", "secret\n");
    } finally {
      process.umask(umask);
    }
    expect(files.exists("pki/nodes/core-01/member.key")).toBe(true);
    expect(files.read("pki/nodes/core-01/member.key")).toBe("secret\n");
    expect(mode(path.join(dir, "pki/nodes/core-01/member.key"))).toBe(0o600);
    for (const d of [
      "state",
      "state/stack",
      "state/stack/cluster",
      "state/stack/cluster/pki/nodes/core-01",
    ]) {
      expect([d, mode(path.join(root, d))]).toEqual([d, 0o700]);
    }
    expect(fs.readdirSync(path.join(dir, "pki/nodes/core-01"))).toEqual(["member.key"]);
  });

  it("makes an existing state folder private and replaces a file whole", () => {
    const dir = tempRoot();
    fs.chmodSync(dir, 0o755);
    const other = path.join(dir, "keep");
    fs.mkdirSync(other, { mode: 0o755 });
    fs.chmodSync(other, 0o755);
    const files = new StateFiles(dir);
    fs.writeFileSync(path.join(dir, "keep", "r.json"), "old", { mode: 0o644 });
    files.write("keep/r.json", "new");
    expect(files.read("keep/r.json")).toBe("new");
    expect(mode(path.join(dir, "keep", "r.json"))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(mode(other)).toBe(0o755); // a folder that was there is not the deploy's to change
    expect(fs.readdirSync(other)).toEqual(["r.json"]);
  });
});
