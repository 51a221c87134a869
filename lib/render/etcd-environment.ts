import { ClusterPlan, ETCD_CLIENT_PORT, ETCD_PEER_PORT, NodePlan } from "../cluster/plan";

/** Where the member keeps its data on the node. */
export const ETCD_DATA_DIR = "/var/lib/etcd";

/** Ordered `ETCD_*` settings; order is kept so rendered text is stable. */
export type EnvironmentSettings = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * The `ETCD_*` environment of one etcd member, as Flatcar's
 * `etcd-member.service` reads it: etcd takes every flag from an `ETCD_`
 * variable, and the unit takes `ETCD_IMAGE_TAG` to pick the image.
 * Static bootstrap: the full member list is known at synth time.
 */
export function etcdMemberEnvironment(plan: ClusterPlan, node: NodePlan): EnvironmentSettings {
  if (!node.etcdMember) {
    throw new Error(`${node.name} is not an etcd member of cluster ${plan.name}`);
  }
  const peer = `http://${node.address}:${ETCD_PEER_PORT}`;
  const client = `http://${node.address}:${ETCD_CLIENT_PORT}`;
  return [
    ["ETCD_IMAGE_TAG", plan.etcd.imageTag],
    ["ETCD_NAME", node.name],
    ["ETCD_DATA_DIR", ETCD_DATA_DIR],
    ["ETCD_LISTEN_PEER_URLS", peer],
    ["ETCD_LISTEN_CLIENT_URLS", client],
    ["ETCD_INITIAL_ADVERTISE_PEER_URLS", peer],
    ["ETCD_ADVERTISE_CLIENT_URLS", client],
    ["ETCD_INITIAL_CLUSTER", plan.etcd.initialCluster],
    ["ETCD_INITIAL_CLUSTER_TOKEN", plan.etcd.clusterToken],
    ["ETCD_INITIAL_CLUSTER_STATE", "new"],
  ];
}

/** Renders settings as a systemd `[Service]` section of `Environment=` lines. */
export function renderEnvironmentDropin(settings: EnvironmentSettings): string {
  const lines = settings.map(([k, v]) => `Environment="${k}=${v}"`);
  return `[Service]\n${lines.join("\n")}\n`;
}

/**
 * Reads `Environment="K=V"` lines back from a drop-in. The inverse of
 * renderEnvironmentDropin, for tools and tests that consume the artifact.
 */
export function parseEnvironmentDropin(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^Environment="([A-Za-z_][A-Za-z0-9_]*)=(.*)"$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}
