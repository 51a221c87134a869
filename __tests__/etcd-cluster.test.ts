import {
  describeWithEtcd,
  EtcdTestCluster,
  memberSettingsFromIgnition,
} from "./support/etcd-harness";
import { sandboxNetwork } from "./support/netns";
import { synthCluster } from "./support/synth";

/*
 * Proves the synthesized etcd settings bootstrap a real cluster: each
 * member's /etc/etcd/etcd.env and certificates are read back from the
 * Ignition files `cdktf synth` wrote and handed to real etcd processes as
 * their only configuration (mutual TLS, the default). Stand-ins: the nodes'
 * network is a /24 local inside the test's network namespace (the cluster is
 * synthesized with it, so the certificates name those addresses); each
 * machine's files lie in a folder.
 */
function etcdScenario(members: number, nodeCount: number, net: number): void {
  describe(`${members} etcd members on ${nodeCount} nodes`, () => {
    let etcd: EtcdTestCluster;
    let healthyAfterMs = -1;

    beforeAll(async () => {
      const { ignitionFiles } = synthCluster(
        { nodeCount, etcd: { members }, ...sandboxNetwork(net) },
        `etcd${members}`,
      );
      const settings = memberSettingsFromIgnition(ignitionFiles);
      expect(settings).toHaveLength(members);
      expect(settings[0].ETCD_CLIENT_CERT_AUTH).toBe("true");
      etcd = new EtcdTestCluster(ignitionFiles);
      const started = Date.now();
      etcd.start();
      healthyAfterMs = await etcd.waitHealthy(started);
      console.log(`etcd: ${members} members healthy ${healthyAfterMs} ms after start`);
    });

    afterAll(async () => {
      await etcd?.stop();
    });

    it("forms one healthy cluster with every member", () => {
      expect(healthyAfterMs).toBeGreaterThanOrEqual(0);
      const list = etcd.etcdctl([etcd.members[0].clientUrl], ["member", "list"]);
      expect(list.ok).toBe(true);
      for (const m of etcd.members) expect(list.out).toContain(m.name);
      expect(list.out.trim().split("\n")).toHaveLength(members);
    });

    it("replicates a write to every member", () => {
      expect(etcd.etcdctl([etcd.members[0].clientUrl], ["put", "seed", "cluster"]).ok).toBe(true);
      for (const m of etcd.members) {
        const r = etcd.etcdctl([m.clientUrl], ["get", "seed", "--print-value-only"]);
        expect(r.out.trim()).toBe("cluster");
      }
    });

    it("still accepts writes with one member killed", async () => {
      await etcd.kill(etcd.members[0].name);
      const live = etcd.liveEndpoints();
      expect(live).toHaveLength(members - 1);
      // A new leader may need an election first; writes must resume within the bound.
      const writableAfterMs = await etcd.waitWritable(live, "after-failure", "still-here", 15000);
      console.log(
        `etcd: ${members - 1}/${members} members accept writes ${writableAfterMs} ms after the kill`,
      );
      const get = etcd.etcdctl(
        [live[live.length - 1]],
        ["get", "after-failure", "--print-value-only"],
      );
      expect(get.out.trim()).toBe("still-here");
    });

    it("refuses writes once quorum is lost (so the check above can fail)", async () => {
      const quorum = Math.floor(members / 2) + 1;
      // Kill members until fewer than a quorum remain.
      while (etcd.liveEndpoints().length >= quorum) {
        const victim = etcd.members.find((m) => etcd.liveEndpoints().includes(m.clientUrl));
        await etcd.kill(victim!.name);
      }
      // Without a quorum no leader commits the write: it runs into the command timeout. One second
      // shows that as well as etcdctl's default five (nothing commits later), and the message says
      // it timed out (client or server side), not a refused connection or a TLS error.
      const put = etcd.etcdctl(etcd.liveEndpoints(), [
        "--command-timeout=1s",
        "put",
        "no-quorum",
        "x",
      ]);
      expect(put.ok).toBe(false);
      expect(put.out).toMatch(/context deadline exceeded|etcdserver: request timed out/);
    });
  });
}

describeWithEtcd("real etcd members from synthesized settings", () => {
  etcdScenario(3, 3, 3);
  etcdScenario(5, 6, 5);
});
