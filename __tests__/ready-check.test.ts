import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { READY_CHECK_PATH } from "../lib/render/ready-check";
import { EtcdTestCluster, memberSettingsFromIgnition } from "./support/etcd-harness";
import { IGNITION_ENGINE, ScratchRoot } from "./support/ignition-engine";
import { synthCluster } from "./support/synth";
import { describeWithRequirement, hasCommand } from "./support/tools";

/*
 * The ready check each machine's Ignition writes to /opt/bin/coreos-cluster-ready
 * (the Vagrant target waits on it after `vagrant up`) run against real etcd
 * members and real unit state: the node's config is applied by the real
 * Ignition engine to a scratch root (see enabled-units.test.ts), `systemctl`
 * answers for that root (`systemctl --root`), and the etcd members named in
 * the drop-ins run as real etcd processes. Stand-ins: node addresses →
 * loopback addresses (as in etcd-cluster.test.ts), the scratch root for the
 * machine.
 */

const SYSTEMCTL = spawnSync("sh", ["-c", "command -v systemctl"], {
  encoding: "utf8",
}).stdout.trim();

const available =
  hasCommand("etcd") &&
  hasCommand("curl") &&
  hasCommand("systemctl") &&
  fs.existsSync(IGNITION_ENGINE);

describeWithRequirement(
  available,
  "etcd, curl, systemctl and the Ignition engine",
  'etcd, curl, systemctl or the Ignition engine missing: install the Debian packages "etcd-server", "curl", "systemd", "ignition"',
  "the ready check against real etcd members",
  () => {
    jest.setTimeout(120_000);
    const { ignitionFiles } = synthCluster(
      {
        nodeCount: 4,
        etcd: { members: 3 },
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
    const etcd = new EtcdTestCluster(memberSettingsFromIgnition(ignitionFiles), 17);
    const roots = new Map<string, ScratchRoot>();
    afterAll(async () => {
      await etcd.stop();
      for (const r of roots.values()) r.cleanup();
    });

    /** Applies a node's config (optionally without its unit links) and returns its root. */
    function machine(node: string, withoutLinks = false): ScratchRoot {
      const key = `${node}${withoutLinks ? "-nolinks" : ""}`;
      const known = roots.get(key);
      if (known) return known;
      const root = new ScratchRoot();
      const config = JSON.parse(
        fs.readFileSync(ignitionFiles.find((f) => f.endsWith(`${node}.ign`)) as string, "utf8"),
      );
      if (withoutLinks) delete config.storage.links;
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

    /** Runs the node's ready check as written by Ignition, addresses mapped to loopback. */
    function ready(node: string, withoutLinks = false): { status: number | null; out: string } {
      const root = machine(node, withoutLinks);
      const script = path.join(root.dir, "ready.sh");
      fs.writeFileSync(script, etcd.remap(fs.readFileSync(root.at(READY_CHECK_PATH), "utf8")));
      const r = spawnSync("sh", [script], {
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
        out: expect.stringMatching(
          /^core-01: etcd member not serving its peers at http:\/\/127\.0\.17\.1:2380\/version$/,
        ),
      });
    });

    it("the first member is up once it serves its peers, before the cluster has quorum", async () => {
      etcd.start(["core-01"]);
      expect(await until("core-01", Date.now() + 30_000)).toEqual({
        status: 0,
        out: "core-01: up",
      });
      expect(ready("core-02")).toEqual({
        status: 1,
        out: "core-02: etcd member not healthy at http://127.0.17.2:2379/health",
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

    it("an etcd client is up once it reaches a healthy member", () => {
      expect(ready("core-04")).toEqual({ status: 0, out: "core-04: up" });
    });

    it("a node whose units were not enabled is not up, whatever etcd says", () => {
      expect(ready("core-02", true)).toEqual({
        status: 1,
        out: "core-02: etcd-member.service is not enabled",
      });
    });

    it("with every member down, a client says the cluster is not reachable", async () => {
      for (const m of ["core-01", "core-02"]) await etcd.kill(m);
      expect(ready("core-04")).toEqual({
        status: 1,
        out: "core-04: etcd cluster not reachable: no healthy member among http://127.0.17.1:2379 http://127.0.17.2:2379 http://127.0.17.3:2379",
      });
    });
  },
);
