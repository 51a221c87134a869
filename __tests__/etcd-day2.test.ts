import * as fs from "node:fs";
import { CoreOsClusterProps } from "../lib";
import { EtcdFleet, Writer } from "./support/etcd-fleet";
import { describeWithEtcd } from "./support/etcd-harness";
import { sandboxNetwork } from "./support/netns";
import { synthCluster, tempOutdir } from "./support/synth";

/*
 * Day 2 with real etcd 3.4 and the generated membership script: a key
 * written on day 1 survives a member replaced with an empty disk, growing
 * etcd from 3 to 5 members, shrinking it back to 3, and every node replaced
 * one after another. Each change is synthesized the way a user changes
 * main.ts (same stack folder and state folder), and only the machines whose
 * Ignition changed are replaced, one at a time, each after the cluster is
 * whole again (what the targets' rolling order does). A writer keeps writing
 * through every change. Stand-ins: see support/etcd-fleet.ts.
 */
describeWithEtcd("day 2 with real etcd", () => {
  jest.setTimeout(300_000);
  const net = sandboxNetwork(31);
  const outdir = tempOutdir();
  const fleet = new EtcdFleet();
  const base: CoreOsClusterProps = { nodeCount: 5, ...net };
  const ignition: Record<string, string> = {};
  let texts: Record<string, string> = {};
  const figures: string[] = [];

  /** Synthesizes the next version of the cluster into the same folders; returns the nodes whose config changed. */
  function synth(props: CoreOsClusterProps): string[] {
    const { cluster, ignitionFiles } = synthCluster({ ...base, ...props }, "day2", outdir);
    const next: Record<string, string> = {};
    cluster.nodes.forEach((n, i) => {
      ignition[n.name] = ignitionFiles[i];
      next[n.name] = fs.readFileSync(ignitionFiles[i], "utf8");
    });
    const changed = Object.keys(next).filter((n) => texts[n] !== next[n]);
    texts = next;
    return changed;
  }

  /** Every possible member endpoint: the writer fails over among those that answer. */
  const allEndpoints = () =>
    [1, 2, 3, 4, 5].map((i) => `https://${net.networkCidr.replace(/0\/24$/, String(i))}:2379`);

  /** Replaces `nodes` one at a time, each after the cluster has `members` again; writes through it. */
  async function roll(label: string, nodes: string[], members: (after: number) => string[]) {
    const writer = new Writer(fleet.root, allEndpoints(), fleet.clientFlags());
    const steps: number[] = [];
    for (const [i, node] of nodes.entries()) {
      const since = Date.now();
      await fleet.replace(node, ignition[node]);
      await fleet.waitMembers(members(i));
      steps.push(Date.now() - since);
    }
    const w = await writer.stop();
    const line = `${label}: ${nodes.join(", ")} replaced; fewer than all members for ${steps.map((s) => `${s} ms`).join(", ")}; ${w.writes} writes, ${w.failed} failed, longest stretch without a successful write ${w.longestGapMs} ms`;
    figures.push(line);
    console.log(`etcd day 2 — ${line}`);
    return w;
  }

  function expectKeyOn(node: string) {
    const url = texts[node] && `https://${net.networkCidr.replace(/0\/24$/, node.slice(-1))}:2379`;
    const r = fleet.etcdctl(["get", "day1", "--print-value-only", "--consistency=s"], [url]);
    expect({ node, value: r.out.trim() }).toEqual({ node, value: "written before" });
  }

  beforeAll(async () => {
    synth({ etcd: { members: 3 } });
    const names = Object.keys(ignition);
    await Promise.all(names.slice(0, 3).map((n) => fleet.boot(ignition[n])));
    await fleet.waitMembers(["core-01", "core-02", "core-03"]);
    await Promise.all(names.slice(3).map((n) => fleet.boot(ignition[n])));
    expect(fleet.etcdctl(["put", "day1", "written before"]).ok).toBe(true);
  });

  afterAll(async () => {
    await fleet.stop();
    fs.rmSync(outdir, { recursive: true, force: true });
    console.log(`etcd day 2 figures:\n${figures.join("\n")}`);
  });

  it("a member replaced with an empty data dir rejoins with the data (remove, add, existing)", async () => {
    const w = await roll("replace core-02", ["core-02"], () => ["core-01", "core-02", "core-03"]);
    expectKeyOn("core-02");
    // Quorum held: writes resumed within a bounded time (an election), and never stopped for good.
    expect(w.writes).toBeGreaterThan(0);
    expect(w.longestGapMs).toBeLessThan(15_000);
  });

  it("3 → 5 members: only core-04 and core-05 change; each joins as learner, then votes", async () => {
    expect(synth({ etcd: { members: 5 } })).toEqual(["core-04", "core-05"]);
    const all = ["core-01", "core-02", "core-03", "core-04", "core-05"];
    const w = await roll("grow 3 → 5", ["core-04", "core-05"], (i) => all.slice(0, 4 + i));
    expectKeyOn("core-04");
    expectKeyOn("core-05");
    expect(w.longestGapMs).toBeLessThan(15_000);
  });

  it("5 → 3 members: only core-04 and core-05 change; each leaves etcd when it comes back as a client", async () => {
    expect(synth({ etcd: { members: 3 } })).toEqual(["core-04", "core-05"]);
    const w = await roll("shrink 5 → 3", ["core-04", "core-05"], (i) =>
      ["core-01", "core-02", "core-03", "core-05"].slice(0, 4 - i),
    );
    expect(
      fleet
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(["core-01", "core-02", "core-03"]);
    expectKeyOn("core-01");
    expect(w.longestGapMs).toBeLessThan(15_000);
  });

  it("a change to every node replaces them one after another; the data stays", async () => {
    const changed = synth({
      etcd: { members: 3 },
      files: [{ path: "/etc/motd", contents: "version 2\n" }],
    });
    expect(changed).toEqual(["core-01", "core-02", "core-03", "core-04", "core-05"]);
    const w = await roll("every node", changed, () => ["core-01", "core-02", "core-03"]);
    for (const n of ["core-01", "core-02", "core-03"]) expectKeyOn(n);
    expect(w.longestGapMs).toBeLessThan(15_000);
  });
});
