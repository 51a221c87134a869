import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TerraformStack, Testing } from "cdktf";
import { CoreOsCluster, CoreOsClusterProps } from "../lib";
import { MEMBERSHIP_RECORD } from "../lib/etcd/membership";
import { ETCD_JOIN_SCRIPT } from "../lib/render/etcd-units";
import { fileText, IgnitionConfig } from "../lib/render/ignition";
import { synthCluster, tempOutdir } from "./support/synth";
import { describeWithTool } from "./support/tools";

/*
 * etcd membership across synths: the state folder remembers the members the
 * cluster was bootstrapped with and the last synth's members, so a change of
 * etcd.members touches only the nodes whose role changes, and a change that
 * the cluster cannot make one member at a time without losing quorum stops
 * the synth with the prop, the value and why.
 */
function steps(id: string) {
  const outdir = tempOutdir();
  let last: ReturnType<typeof synthCluster> | undefined;
  return {
    synth(props: CoreOsClusterProps) {
      last = synthCluster(props, id, outdir);
      return last.cluster.nodes.map((n) => n.ignition);
    },
    mode() {
      const dir = last!.cluster.stateDirectory;
      return fs.statSync(path.join(dir, MEMBERSHIP_RECORD)).mode & 0o777;
    },
    record() {
      const dir = last!.cluster.stateDirectory;
      return JSON.parse(fs.readFileSync(path.join(dir, MEMBERSHIP_RECORD), "utf8"));
    },
  };
}

describe("etcd membership across synths", () => {
  it("records the bootstrap members on the first synth, 0600", () => {
    const s = steps("rec");
    s.synth({ nodeCount: 4 });
    expect(s.record()).toEqual({
      bootstrap: [
        { name: "core-01", address: "192.168.56.101" },
        { name: "core-02", address: "192.168.56.102" },
        { name: "core-03", address: "192.168.56.103" },
      ],
      members: ["core-01", "core-02", "core-03"],
      nodes: ["core-01", "core-02", "core-03", "core-04"],
    });
    expect(s.mode()).toBe(0o600);
  });

  it("3 → 5 → 3 members changes only the nodes whose role changes", () => {
    const s = steps("grow");
    const three = s.synth({ nodeCount: 6 });
    const five = s.synth({ nodeCount: 6, etcd: { members: 5 } });
    const changed = (a: string[], b: string[]) =>
      a.map((t, i) => (t === b[i] ? "" : `core-0${i + 1}`)).filter(Boolean);
    expect(changed(three, five)).toEqual(["core-04", "core-05"]);
    expect(s.record().bootstrap).toHaveLength(3);
    expect(s.record().members).toHaveLength(5);
    const back = s.synth({ nodeCount: 6, etcd: { members: 3 } });
    expect(changed(five, back)).toEqual(["core-04", "core-05"]);
    expect(back).toEqual(three);
  });

  it("refuses shrinking to 1 member from 3 (the last step would lose quorum)", () => {
    const s = steps("one");
    s.synth({ nodeCount: 3 });
    expect(() => s.synth({ nodeCount: 3, etcd: { members: 1 } })).toThrow(
      /etcd\.members: got 1; allowed: 3 or more while the cluster has 3 members/,
    );
    expect(s.record().members).toHaveLength(3);
  });

  it("refuses removing nodes that are still etcd members", () => {
    const s = steps("drop");
    s.synth({ nodeCount: 5, etcd: { members: 5 } });
    expect(() => s.synth({ nodeCount: 3, etcd: { members: 3 } })).toThrow(
      /nodeCount: got 3; allowed: a count that keeps the etcd members of the last synth \(core-04, core-05 would go .*lower etcd\.members first and deploy, then nodeCount/,
    );
    // The way it works: members first, then nodes.
    s.synth({ nodeCount: 5, etcd: { members: 3 } });
    expect(() => s.synth({ nodeCount: 3, etcd: { members: 3 } })).not.toThrow();
  });

  it("refuses moving the members to other addresses", () => {
    const s = steps("move");
    s.synth({ nodeCount: 3 });
    expect(() => s.synth({ nodeCount: 3, firstHostNumber: 120 })).toThrow(
      /core-01 at 192\.168\.56\.120.*etcd members cannot move/,
    );
  });
});

describe("a unit test's app (cdktf Testing.app) without a state folder of its own", () => {
  it("keeps certificates apart from real deployments, records no membership, holds no cert per address twice", () => {
    const cwd = process.cwd();
    const configured = process.env.COREOS_CLUSTER_STATE_DIR;
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "user-project-"));
    try {
      // A user's project: no state folder configured; tests reuse a stack and cluster name.
      delete process.env.COREOS_CLUSTER_STATE_DIR;
      process.chdir(project);
      const synth = (props: CoreOsClusterProps) => {
        const stack = new TerraformStack(Testing.app(), "test");
        const cluster = new CoreOsCluster(stack, "core", props);
        Testing.fullSynth(stack);
        return cluster;
      };
      const local = synth({});
      const aws = synth({ networkCidr: "10.42.0.0/16", firstHostNumber: 10, nodeCount: 5 });
      const again = synth({});
      const testing = path.join(project, ".coreos-cluster", "testing", "test", "core");
      expect(local.stateDirectory).toBe(testing);
      expect(fs.readdirSync(path.join(project, ".coreos-cluster"))).toEqual(["testing"]);
      expect(fs.existsSync(path.join(testing, MEMBERSHIP_RECORD))).toBe(false);
      expect(aws.nodes).toHaveLength(5);
      // Each address keeps its member certificate: a snapshot test sees the same config again.
      expect(again.nodes.map((n) => n.ignition)).toEqual(local.nodes.map((n) => n.ignition));
    } finally {
      process.chdir(cwd);
      process.env.COREOS_CLUSTER_STATE_DIR = configured;
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});

describeWithTool("shellcheck", "shellcheck", "the membership script as the nodes get it", () => {
  it("passes shellcheck (bash)", () => {
    const { ignitionFiles } = synthCluster({ nodeCount: 1 });
    const ign: IgnitionConfig = JSON.parse(fs.readFileSync(ignitionFiles[0], "utf8"));
    const script = ign.storage.files.find((f) => f.path === ETCD_JOIN_SCRIPT)!;
    expect(script.mode).toBe(0o755);
    const file = path.join(path.dirname(ignitionFiles[0]), "etcd-member-join");
    fs.writeFileSync(file, fileText(script));
    const r = spawnSync("shellcheck", ["--shell=bash", file], { encoding: "utf8" });
    expect({ status: r.status, out: r.stdout }).toEqual({ status: 0, out: "" });
  });
});
