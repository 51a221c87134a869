import { ClusterPlan, ETCD_CLIENT_PORT, ETCD_PEER_PORT } from "../cluster/plan";
import { OsFamily } from "../cluster/operating-system";
import { HealthCheckProtocol } from "../front/options";
import { FrontPlan } from "../front/plan";
import { ClusterTopology, TopologyFront, TopologyListener } from "../render/topology";

const FAMILY_TITLES: Record<OsFamily, string> = {
  [OsFamily.FLATCAR]: "Flatcar",
  [OsFamily.FEDORA_COREOS]: "Fedora CoreOS",
};

/** A health check in words: `HTTP GET /healthz every 500ms`, `TCP connect every 10s`. */
export function healthCheckWords(
  protocol: string,
  path: string | undefined,
  every: string,
): string {
  return protocol === HealthCheckProtocol.HTTP
    ? `HTTP GET ${path ?? "/"} every ${every}`
    : `TCP connect every ${every}`;
}

/** The listeners of a front plan, each check's interval or `defaultInterval` (the target's). */
export function frontListeners(front: FrontPlan, defaultInterval: string): TopologyListener[] {
  return front.listeners.map((l) => {
    const hc = l.targetGroup.healthCheck;
    return {
      name: l.name,
      port: l.port,
      protocol: l.protocol,
      targetGroup: l.targetGroup.name,
      targetPort: l.targetGroup.port,
      healthCheck: healthCheckWords(
        hc.protocol,
        hc.path,
        hc.interval?.toString() ?? defaultInterval,
      ),
    };
  });
}

/**
 * The picture's panel of a cluster a target runs: its nodes (drained by
 * `front`'s plan), etcd, the target and the front as the target runs it.
 */
export function clusterTopology(
  cluster: ClusterPlan,
  target: ClusterTopology["target"],
  front?: { readonly plan: FrontPlan } & Omit<TopologyFront, "name">,
): ClusterTopology {
  const draining = new Set(front?.plan.draining ?? []);
  return {
    cluster: cluster.name,
    os: `${FAMILY_TITLES[cluster.os.family]} ${cluster.os.channel}`,
    network: cluster.network.cidr,
    target,
    etcd: { scheme: cluster.etcd.scheme, clientPort: ETCD_CLIENT_PORT, peerPort: ETCD_PEER_PORT },
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      etcdMember: n.etcdMember,
      standby: n.standby,
      draining: draining.has(n.name),
    })),
    front: front && {
      name: front.plan.name,
      kind: front.kind,
      address: front.address,
      machines: front.machines,
      listeners: front.listeners,
      note: front.note,
    },
  };
}
