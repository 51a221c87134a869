import {
  ClusterPlan,
  FedoraCoreOsStream,
  FlatcarChannel,
  OperatingSystem,
  OsFamily,
  planCluster,
  RebootStrategy,
} from "../lib";

const ctx = { id: "core", path: "stack/core" };

describe("planCluster defaults", () => {
  // Planned in each test (not once per describe): mutation testing then runs only the tests
  // that reach a mutant instead of every test of the run.
  let plan: ClusterPlan;
  beforeEach(() => {
    plan = planCluster({}, ctx);
  });

  it("is the seed's cluster: 3 Flatcar stable nodes core-01..core-03", () => {
    expect(plan.nodes.map((n) => n.name)).toEqual(["core-01", "core-02", "core-03"]);
    expect(plan.os.family).toBe(OsFamily.FLATCAR);
    expect(plan.os.channel).toBe(FlatcarChannel.STABLE);
    expect(plan.cpus).toBe(1);
    expect(plan.memoryMiB).toBe(1024);
  });

  it("gives deterministic addresses inside VirtualBox's host-only range", () => {
    expect(plan.network.cidr).toBe("192.168.56.0/21");
    expect(plan.nodes.map((n) => n.address)).toEqual([
      "192.168.56.101",
      "192.168.56.102",
      "192.168.56.103",
    ]);
  });

  it("makes every node an etcd member and builds the static initial cluster", () => {
    expect(plan.etcd.members.map((n) => n.name)).toEqual(["core-01", "core-02", "core-03"]);
    expect(plan.etcd.initialCluster).toBe(
      "core-01=https://192.168.56.101:2380,core-02=https://192.168.56.102:2380,core-03=https://192.168.56.103:2380",
    );
    expect(plan.etcd.clientEndpoints[0]).toBe("https://192.168.56.101:2379");
  });

  it("rolls Flatcar updates through an etcd lock and has no standby", () => {
    expect(plan.rebootStrategy).toBe(RebootStrategy.ETCD_LOCK);
    expect(plan.nodes.every((n) => !n.standby)).toBe(true);
  });

  it("derives a token that is stable per construct path and differs between clusters", () => {
    expect(planCluster({}, ctx).etcd.clusterToken).toBe(plan.etcd.clusterToken);
    expect(planCluster({}, { id: "core", path: "other/core" }).etcd.clusterToken).not.toBe(
      plan.etcd.clusterToken,
    );
  });
});

describe("planCluster sizing", () => {
  it.each([
    [1, "core-01", 1],
    [2, "core-02", 1],
    [9, "core-09", 3],
    [99, "core-99", 3],
    [100, "core-100", 3],
    [1000, "core-1000", 3],
  ])("%i nodes: last is %s, %i etcd members by default", (count, last, members) => {
    const plan = planCluster({ nodeCount: count }, ctx);
    expect(plan.nodes).toHaveLength(count);
    expect(plan.nodes[count - 1].name).toBe(last);
    expect(plan.etcd.members).toHaveLength(members);
    expect(new Set(plan.nodes.map((n) => n.address)).size).toBe(count);
  });

  it("pads to two digits only, so no node is renamed when the cluster grows past 99", () => {
    const plan = planCluster({ nodeCount: 120, namePrefix: "web" }, ctx);
    expect(plan.nodes[0].name).toBe("web-01");
    expect(plan.nodes[98].name).toBe("web-99");
    expect(plan.nodes[119].name).toBe("web-120");
    expect(planCluster({ nodeCount: 99, namePrefix: "web" }, ctx).nodes[0].name).toBe("web-01");
  });

  it("puts 1000 nodes at consecutive addresses across the /21", () => {
    const plan = planCluster({ nodeCount: 1000 }, ctx);
    expect(plan.nodes[999].address).toBe("192.168.60.76");
  });

  it("places etcd members first and standby nodes last (N+I)", () => {
    const plan = planCluster({ nodeCount: 7, standby: 2, etcd: { members: 5 } }, ctx);
    expect(plan.nodes.filter((n) => n.etcdMember).map((n) => n.index)).toEqual([0, 1, 2, 3, 4]);
    expect(plan.nodes.filter((n) => n.standby).map((n) => n.name)).toEqual(["core-06", "core-07"]);
  });

  it("spreads nodes round-robin over subnets (one per availability zone)", () => {
    const p = planCluster(
      { nodeCount: 5, networkCidr: "10.0.0.0/16", subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"] },
      ctx,
    );
    expect(p.nodes.map((n) => [n.address, n.subnetIndex])).toEqual([
      ["10.0.1.101", 0],
      ["10.0.2.101", 1],
      ["10.0.1.102", 0],
      ["10.0.2.102", 1],
      ["10.0.1.103", 0],
    ]);
    expect(p.subnets.map((s) => s.cidr)).toEqual(["10.0.1.0/24", "10.0.2.0/24"]);
    expect(p.etcd.initialCluster).toBe(
      "core-01=https://10.0.1.101:2380,core-02=https://10.0.2.101:2380,core-03=https://10.0.1.102:2380",
    );
  });

  it("honours a custom network and first host number", () => {
    const plan = planCluster({ networkCidr: "10.20.0.0/24", firstHostNumber: 10 }, ctx);
    expect(plan.nodes.map((n) => n.address)).toEqual(["10.20.0.10", "10.20.0.11", "10.20.0.12"]);
  });

  it("defaults Fedora CoreOS to staggered reboot windows (no etcd lock there)", () => {
    const plan = planCluster({ os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.NEXT) }, ctx);
    expect(plan.rebootStrategy).toBe(RebootStrategy.STAGGERED);
    expect(plan.os.toString()).toBe("fedora-coreos/next");
  });
});
