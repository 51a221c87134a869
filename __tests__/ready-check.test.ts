import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ETCD_TLS_DIR, ETCD_TLS_FILES } from "../lib/render/etcd-environment";
import { READY_CHECK_PATH } from "../lib/render/ready-check";
import { EtcdTestCluster } from "./support/etcd-harness";
import { IGNITION_ENGINE, ScratchRoot } from "./support/ignition-engine";
import {
  sandboxAvailable,
  sandboxNetwork,
  SANDBOX_REQUIREMENT,
  spawnSyncInSandbox,
} from "./support/netns";
import { synthCluster } from "./support/synth";
import { describeWithRequirement, hasCommand } from "./support/tools";

/*
 * The ready check each machine's Ignition writes to /opt/bin/coreos-cluster-ready
 * (the Vagrant target waits on it after `vagrant up`) run against real etcd
 * members and real unit state: the node's config is applied by the real
 * Ignition engine to a scratch root (see enabled-units.test.ts), `systemctl`
 * answers for that root (`systemctl --root`), and the etcd members named in
 * its etcd settings run as real etcd processes, over mutual TLS (the
 * default): the check talks to them with the certificates Ignition wrote.
 * Stand-ins: the network is a namespace of the test where the nodes'
 * addresses are local (as in etcd-cluster.test.ts); the scratch root for the
 * machine (the check's paths to the machine's certificates point into it).
 */

const SYSTEMCTL = spawnSync("sh", ["-c", "command -v systemctl"], {
  encoding: "utf8",
}).stdout.trim();

const available =
  sandboxAvailable() &&
  hasCommand("etcd") &&
  hasCommand("curl") &&
  hasCommand("systemctl") &&
  fs.existsSync(IGNITION_ENGINE);

describeWithRequirement(
  available,
  "etcd, curl, systemctl, the Ignition engine and network namespaces",
  `etcd, curl, systemctl, the Ignition engine or network namespaces missing: install the Debian packages "etcd-server", "curl", "systemd", "ignition"; ${SANDBOX_REQUIREMENT}`,
  "the ready check against real etcd members",
  () => {
    jest.setTimeout(120_000);
    const { ignitionFiles } = synthCluster(
      {
        nodeCount: 4,
        etcd: { members: 3 },
        ...sandboxNetwork(17),
        units: [
          {
            name: "hello.service",
            contents:
              "[Service]\nExecStart=/usr/bin/echo hi\n[Install]\nWantedBy=multi-user.target\n",
          },
        ],
      },
      "ready",
    );
    const etcd = new EtcdTestCluster(ignitionFiles);
    const roots = new Map<string, ScratchRoot>();
    afterAll(async () => {
      await etcd.stop();
      for (const r of roots.values()) r.cleanup();
    });

    type Variant = "as-made" | "no-links" | "client-as-member";

    /**
     * Applies a node's config and returns its root. Variants: without its unit
     * links; with its client pair written where its member pair belongs (a
     * certificate of the cluster's CA, but not a member's).
     */
    function machine(node: string, variant: Variant = "as-made"): ScratchRoot {
      const key = `${node}-${variant}`;
      const known = roots.get(key);
      if (known) return known;
      const root = new ScratchRoot();
      const config = JSON.parse(
        fs.readFileSync(ignitionFiles.find((f) => f.endsWith(`${node}.ign`)) as string, "utf8"),
      );
      if (variant === "no-links") delete config.storage.links;
      if (variant === "client-as-member") {
        const files: Array<{ path: string; contents: unknown }> = config.storage.files;
        const at = (p: string) => files.find((f) => f.path === p) as { contents: unknown };
        at(ETCD_TLS_FILES.memberCert).contents = at(ETCD_TLS_FILES.clientCert).contents;
        at(ETCD_TLS_FILES.memberKey).contents = at(ETCD_TLS_FILES.clientKey).contents;
      }
      const file = path.join(root.dir, "config.ign");
      fs.writeFileSync(file, JSON.stringify(config));
      root.applyIgnition(file);
      // `systemctl` on this machine = systemctl reading the scratch root.
      const bin = path.join(root.dir, "machine-bin");
      fs.mkdirSync(bin);
      fs.writeFileSync(
        path.join(bin, "systemctl"),
        `#!/bin/sh\nexec ${SYSTEMCTL} --root=${root.root} "$@"\n`,
        { mode: 0o755 },
      );
      roots.set(key, root);
      return root;
    }

    /** Runs the node's ready check as written by Ignition, in the test's network. */
    function ready(
      node: string,
      variant: Variant = "as-made",
    ): { status: number | null; out: string } {
      const root = machine(node, variant);
      const script = path.join(root.dir, "ready.sh");
      const text = fs.readFileSync(root.at(READY_CHECK_PATH), "utf8");
      // The machine's certificates lie in its scratch root.
      fs.writeFileSync(script, text.replaceAll(`${ETCD_TLS_DIR}/`, `${root.at(ETCD_TLS_DIR)}/`));
      const r = spawnSyncInSandbox("sh", [script], {
        encoding: "utf8",
        timeout: 30_000,
        env: { PATH: `${path.join(root.dir, "machine-bin")}:${process.env.PATH}` },
      });
      return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
    }

    async function until(node: string, deadlineMs: number) {
      let last = ready(node);
      while (last.status !== 0 && Date.now() < deadlineMs) {
        await new Promise((r) => setTimeout(r, 200));
        last = ready(node);
      }
      return last;
    }

    it("before its member runs, a node says its etcd member is not up", () => {
      expect(ready("core-01")).toEqual({
        status: 1,
        out: "core-01: etcd member not serving its peers at https://10.17.0.1:2380/version (or, once a quorum of members runs, not healthy at https://10.17.0.1:2379/health)",
      });
    });

    it("the first member is up once it serves its peers over TLS, before the cluster has quorum", async () => {
      etcd.start(["core-01"]);
      expect(await until("core-01", Date.now() + 30_000)).toEqual({
        status: 0,
        out: "core-01: up",
      });
      expect(ready("core-02")).toEqual({
        status: 1,
        out: "core-02: etcd member not healthy at https://10.17.0.2:2379/health",
      });
    });

    it("with a client certificate in place of its member certificate it is not up: the peer port takes members only", () => {
      expect(ready("core-01", "client-as-member")).toEqual({
        status: 1,
        out: "core-01: etcd member not serving its peers at https://10.17.0.1:2380/version (or, once a quorum of members runs, not healthy at https://10.17.0.1:2379/health)",
      });
    });

    it("the member that completes the quorum is up once it is healthy; so is the first", async () => {
      etcd.start(["core-02"]);
      expect(await until("core-02", Date.now() + 30_000)).toEqual({
        status: 0,
        out: "core-02: up",
      });
      expect(ready("core-01")).toEqual({ status: 0, out: "core-01: up" });
    });

    it("an etcd client is up once it reaches a healthy member with its client certificate", () => {
      expect(ready("core-04")).toEqual({ status: 0, out: "core-04: up" });
    });

    it("a node whose units were not enabled is not up, whatever etcd says", () => {
      expect(ready("core-02", "no-links")).toEqual({
        status: 1,
        out: "core-02: etcd-member.service is not enabled",
      });
    });

    it("a member that joins the running cluster is up only once it is healthy and promoted from learner", async () => {
      // How a replaced node joins (its membership script): remove the old entry, add as learner.
      const live = [etcd.member("core-01").clientUrl, etcd.member("core-02").clientUrl];
      // core-03 never started: its entry has no name yet, only its peer URL.
      const peerUrl = etcd.member("core-03").peerUrl;
      const list = etcd.etcdctl(live, ["member", "list"]);
      const id = list.out
        .split("\n")
        .find((l) => l.includes(peerUrl))
        ?.split(", ")[0];
      expect(etcd.etcdctl(live, ["member", "remove", id as string]).ok).toBe(true);
      const m = etcd.member("core-03");
      const addArgs = ["member", "add", "core-03", "--learner", `--peer-urls=${m.peerUrl}`];
      // etcd refuses reconfiguration until its leader has seen every member for a few seconds.
      let add = etcd.etcdctl(live, addArgs);
      for (let i = 0; i < 60 && /unhealthy cluster/.test(add.out); i++) {
        await new Promise((r) => setTimeout(r, 500));
        add = etcd.etcdctl(live, addArgs);
      }
      expect(add.out).toContain("ETCD_INITIAL_CLUSTER=");
      const initial = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(add.out)?.[1] as string;
      etcd.startMember(m, {
        ...m.env,
        ETCD_INITIAL_CLUSTER: initial,
        ETCD_INITIAL_CLUSTER_STATE: "existing",
      });
      // Bounded: until it answers at all (its first start as a learner catches up with the leader).
      let r = ready("core-03");
      for (let i = 0; i < 60 && / not healthy at /.test(r.out); i++) {
        await new Promise((res) => setTimeout(res, 500));
        r = ready("core-03");
      }
      expect(r).toEqual({
        status: 1,
        out: "core-03: etcd member is still a learner: not yet promoted to a voting member",
      });
      const learner = etcd
        .etcdctl(live, ["member", "list"])
        .out.split("\n")
        .find((l) => l.includes(peerUrl));
      const learnerId = learner?.split(", ")[0] as string;
      // etcd promotes a learner once it has caught up with the leader.
      let promoted = etcd.etcdctl(live, ["member", "promote", learnerId]);
      for (let i = 0; i < 40 && !promoted.ok; i++) {
        await new Promise((r) => setTimeout(r, 250));
        promoted = etcd.etcdctl(live, ["member", "promote", learnerId]);
      }
      expect(promoted.out).toContain("promoted");
      expect(await until("core-03", Date.now() + 30_000)).toEqual({
        status: 0,
        out: "core-03: up",
      });
    });

    it("with every member down, a client says the cluster is not reachable", async () => {
      for (const m of ["core-01", "core-02", "core-03"]) await etcd.kill(m);
      expect(ready("core-04")).toEqual({
        status: 1,
        out: "core-04: etcd cluster not reachable: no healthy member among https://10.17.0.1:2379 https://10.17.0.2:2379 https://10.17.0.3:2379",
      });
    });
  },
);
