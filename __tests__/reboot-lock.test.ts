import * as path from "node:path";
import { Duration, parseEnvironmentDropin, parseEnvironmentFile, RebootStrategy } from "../lib";
import { fileText, IgnitionConfig } from "../lib/render/ignition";
import { describeWithEtcd, EtcdTestCluster, readMachine, sleep } from "./support/etcd-harness";
import { LocksmithSettings, RebootLock, Semaphore } from "./support/locksmith";
import { sandboxNetwork, spawnSyncInSandbox } from "./support/netns";
import { synthCluster } from "./support/synth";

/*
 * Rolling updates coordinated through etcd: each node's locksmithd settings,
 * read from its synthesized config, used against real etcd members (mutual
 * TLS, the cluster's own certificates) by a lock client that speaks
 * locksmith's protocol (support/locksmith.ts, from flatcar/locksmith's
 * source), through etcd's v3 API (locksmith's current client) and its v2 API
 * (locksmith's older client, which is why members serve v2 with ETCD_LOCK).
 * Stand-ins: locksmithd itself (Flatcar's, not packaged here: its lock
 * protocol is spoken by the test), the update engine's "reboot needed" (the
 * test decides when a node wants to reboot) and the reboot (a pause while the
 * lock is held); the network is this file's namespace.
 */

const MACHINE_ID = (node: string) => node.replace(/[^0-9]/g, "").padStart(32, "a");

function locksmithSettings(ignitionFile: string, root: string): LocksmithSettings {
  const ign = readMachine(ignitionFile).ignition as IgnitionConfig;
  const dropin = ign.systemd.units
    .find((u) => u.name === "locksmithd.service")
    ?.dropins?.find((d) => d.name === "20-etcd-endpoints.conf");
  if (!dropin) throw new Error(`no locksmithd settings in ${ignitionFile}`);
  const env = parseEnvironmentDropin(dropin.contents);
  const at = (p: string) => path.join(root, p);
  return {
    endpoints: env.LOCKSMITHD_ENDPOINT.split(","),
    cafile: at(env.LOCKSMITHD_ETCD_CAFILE),
    certfile: at(env.LOCKSMITHD_ETCD_CERTFILE),
    keyfile: at(env.LOCKSMITHD_ETCD_KEYFILE),
  };
}

describeWithEtcd("rolling updates: locksmithd's etcd lock on the cluster's members", () => {
  jest.setTimeout(180_000);
  const { cluster, ignitionFiles } = synthCluster(
    { nodeCount: 4, etcd: { members: 3 }, ...sandboxNetwork(51) },
    "locks",
  );
  const nodes = cluster.nodes.map((n) => n.name);
  const etcd = new EtcdTestCluster(ignitionFiles);
  const settings = Object.fromEntries(
    ignitionFiles.map((f, i) => [nodes[i], locksmithSettings(f, path.join(etcd.root, nodes[i]))]),
  );
  beforeAll(async () => {
    etcd.start();
    await etcd.waitHealthy(Date.now());
  });
  afterAll(() => etcd.stop());

  it("every node's locksmithd takes the lock in the bootstrap members' etcd with its own client certificate; update.conf says etcd-lock", () => {
    for (const [i, n] of nodes.entries()) {
      const s = settings[n];
      expect(s.endpoints).toEqual(cluster.plan.etcd.seedEndpoints);
      expect(s.certfile).toBe(path.join(etcd.root, n, "/etc/ssl/etcd/client.crt"));
      const ign = readMachine(ignitionFiles[i]).ignition as IgnitionConfig;
      const update = ign.storage.files.find((f) => f.path === "/etc/flatcar/update.conf")!;
      expect(parseEnvironmentFile(fileText(update)).REBOOT_STRATEGY).toBe("etcd-lock");
    }
  });

  describe.each(["v3", "v2"] as const)("through etcd's %s API", (api) => {
    const locks = () => nodes.map((n) => new RebootLock(settings[n], MACHINE_ID(n), api));

    it("of every node wanting to reboot at once, exactly one gets the lock", async () => {
      const all = locks();
      await all[0].init();
      // A round may have no winner (every swap lost to a read a follower served stale, as v2
      // reads may be): locksmithd tries again later, so does the test. Never two at once.
      let won: boolean[] = [];
      for (let round = 0; round < 20 && !won.includes(true); round++) {
        won = await Promise.all(all.map((l) => l.tryLock()));
        expect(won.filter(Boolean).length).toBeLessThanOrEqual(1);
      }
      expect(won.filter(Boolean)).toHaveLength(1);
      const { sem } = await all[0].get();
      expect(sem).toEqual({ semaphore: 0, max: 1, holders: [all[won.indexOf(true)].machineId] });
      await all[won.indexOf(true)].unlock();
    });

    it("a rolling update: each node reboots in turn, never two at once", async () => {
      const all = locks();
      await all[0].init();
      const spans: Array<{ node: string; from: number; to: number }> = [];
      await Promise.all(
        all.map(async (lock, i) => {
          const deadline = Date.now() + 90_000;
          while (!(await lock.tryLock())) {
            if (Date.now() > deadline) throw new Error(`${nodes[i]} never got the lock`);
            await sleep(50);
          }
          const from = Date.now();
          await sleep(300); // the reboot, with the lock held
          const to = Date.now();
          await lock.unlock();
          spans.push({ node: nodes[i], from, to });
        }),
      );
      expect(spans.map((s) => s.node).sort()).toEqual(nodes);
      const ordered = [...spans].sort((a, b) => a.from - b.from);
      for (let i = 1; i < ordered.length; i++) {
        expect(ordered[i].from).toBeGreaterThanOrEqual(ordered[i - 1].to);
      }
      const { sem } = await all[0].get();
      expect(sem).toEqual<Semaphore>({ semaphore: 1, max: 1, holders: [] });
    });

    it("a holder that died keeps the lock until an operator releases it (locksmithctl unlock)", async () => {
      const [first, second, , operator] = locks();
      await first.init();
      expect(await first.tryLock()).toBe(true);
      // core-01 never comes back: nobody else may reboot.
      expect(await second.tryLock()).toBe(false);
      await operator.unlock(first.machineId);
      expect(await second.tryLock()).toBe(true);
      await second.unlock();
    });
  });

  it("a client without a certificate of the cluster's CA cannot read or take the lock", () => {
    const s = settings[nodes[0]];
    for (const api of ["/v3/kv/range", "/v2/keys/coreos.com/updateengine/rebootlock/semaphore"]) {
      const r = spawnSyncInSandbox(
        "curl",
        ["-sS", "--max-time", "5", "--cacert", s.cafile, "-X", "POST", `${s.endpoints[0]}${api}`],
        { encoding: "utf8", timeout: 20_000 },
      );
      expect(r.status).not.toBe(0); // the TLS handshake needs a client certificate
    }
  });
});

describeWithEtcd("the etcd v2 API is served for the lock only", () => {
  jest.setTimeout(120_000);
  it("members of a cluster that does not take the etcd lock refuse v2 (so the lock test can fail)", async () => {
    const { ignitionFiles } = synthCluster(
      { nodeCount: 1, rebootStrategy: RebootStrategy.REBOOT, ...sandboxNetwork(52) },
      "nolock",
    );
    const etcd = new EtcdTestCluster(ignitionFiles);
    try {
      etcd.start();
      await etcd.waitHealthy(Date.now());
      const c = etcd.client;
      const r = spawnSyncInSandbox(
        "curl",
        [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--max-time",
          "5",
          "--cacert",
          c.cacert,
          "--cert",
          c.cert!,
          "--key",
          c.key!,
          `${etcd.members[0].clientUrl}/v2/keys/`,
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
      expect(r.stdout).toBe("404");
    } finally {
      await etcd.stop();
    }
  });
});

describe("the maintenance window reaches locksmithd as its reboot window", () => {
  it.each([
    [{ start: "Sun 03:00", length: Duration.hours(1) }, "Sun 03:00", "1h"],
    [{ start: "22:30", length: Duration.minutes(90) }, "22:30", "1h30m"],
  ])("%o", (window, start, length) => {
    const { cluster } = synthCluster({ maintenanceWindow: window });
    const ign = JSON.parse(cluster.nodes[0].ignition) as IgnitionConfig;
    const dropin = ign.systemd.units.find((u) => u.name === "locksmithd.service")!.dropins![0];
    const env = parseEnvironmentDropin(dropin.contents);
    expect(env.LOCKSMITHD_REBOOT_WINDOW_START).toBe(start);
    expect(env.LOCKSMITHD_REBOOT_WINDOW_LENGTH).toBe(length);
    expect(env.LOCKSMITHD_ENDPOINT).toBe(cluster.plan.etcd.seedEndpoints.join(","));
  });
});
