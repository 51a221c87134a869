import { ClusterPlan, ETCD_PEER_PORT, NodePlan } from "../cluster/plan";
import { DiscoveryKind } from "../etcd/discovery";
import { MEMBER_COMMON_NAME } from "../etcd/tls";

/** Where the member keeps its data on the node. */
export const ETCD_DATA_DIR = "/var/lib/etcd";

/** Where etcd's certificates and keys lie on every machine. */
export const ETCD_TLS_DIR = "/etc/ssl/etcd";
export const ETCD_TLS_FILES = {
  ca: `${ETCD_TLS_DIR}/ca.crt`,
  memberCert: `${ETCD_TLS_DIR}/member.crt`,
  memberKey: `${ETCD_TLS_DIR}/member.key`,
  clientCert: `${ETCD_TLS_DIR}/client.crt`,
  clientKey: `${ETCD_TLS_DIR}/client.key`,
} as const;

/** The member's settings as written by Ignition, and as etcd reads them at run time. */
export const ETCD_ENV_FILE = "/etc/etcd/etcd.env";
export const ETCD_RUNTIME_ENV_FILE = "/run/etcd/etcd.env";

/** Ordered `ETCD_*` settings; order is kept so rendered text is stable. */
export type EnvironmentSettings = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * The `ETCD_*` environment of one etcd member: etcd takes every flag from an
 * `ETCD_` variable. Static bootstrap: the member list is known at synth time;
 * with a discovery service the deploy adds the token (discovery.env) and a
 * member that finds the token's cluster full exits instead of turning into a
 * proxy. With TLS, clients and peers must present a certificate of the
 * cluster's CA, and peers one whose common name is the members' own.
 *
 * `address` is what the settings name as the node's own address: the planned
 * address, or a placeholder the platform substitutes (cloud-config's
 * `$private_ipv4`).
 */
export function etcdMemberEnvironment(
  plan: ClusterPlan,
  node: NodePlan,
  address: string = node.address,
): EnvironmentSettings {
  if (!node.etcdMember) {
    throw new Error(`${node.name} is not an etcd member of cluster ${plan.name}`);
  }
  const { scheme, ports, discovery } = plan.etcd;
  const urls = (list: readonly number[]) =>
    list.map((p) => `${scheme}://${address}:${p}`).join(",");
  const tls: EnvironmentSettings =
    scheme === "https"
      ? [
          ["ETCD_TRUSTED_CA_FILE", ETCD_TLS_FILES.ca],
          ["ETCD_CERT_FILE", ETCD_TLS_FILES.memberCert],
          ["ETCD_KEY_FILE", ETCD_TLS_FILES.memberKey],
          ["ETCD_CLIENT_CERT_AUTH", "true"],
          ["ETCD_PEER_TRUSTED_CA_FILE", ETCD_TLS_FILES.ca],
          ["ETCD_PEER_CERT_FILE", ETCD_TLS_FILES.memberCert],
          ["ETCD_PEER_KEY_FILE", ETCD_TLS_FILES.memberKey],
          ["ETCD_PEER_CLIENT_CERT_AUTH", "true"],
          ["ETCD_PEER_CERT_ALLOWED_CN", MEMBER_COMMON_NAME],
        ]
      : [];
  const bootstrap: EnvironmentSettings =
    discovery.kind === DiscoveryKind.STATIC
      ? [["ETCD_INITIAL_CLUSTER", plan.etcd.initialCluster]]
      : discovery.kind === DiscoveryKind.V3
        ? []
        : [["ETCD_DISCOVERY_FALLBACK", "exit"]];
  return [
    ["ETCD_NAME", node.name],
    ["ETCD_DATA_DIR", ETCD_DATA_DIR],
    ["ETCD_LISTEN_PEER_URLS", urls(ports.peer)],
    ["ETCD_LISTEN_CLIENT_URLS", urls(ports.client)],
    ["ETCD_INITIAL_ADVERTISE_PEER_URLS", `${scheme}://${address}:${ETCD_PEER_PORT}`],
    ["ETCD_ADVERTISE_CLIENT_URLS", urls(ports.client)],
    ...bootstrap,
    ["ETCD_INITIAL_CLUSTER_TOKEN", plan.etcd.clusterToken],
    ["ETCD_INITIAL_CLUSTER_STATE", "new"],
    // A member cut off by a partition asks before it campaigns: when it comes back it does not
    // force an election on the healthy majority (leases, failover agents and writers would stall
    // for an election). etcd 3.5 turns it on by default, 3.4 does not: said outright, every
    // image behaves alike.
    ["ETCD_PRE_VOTE", "true"],
    ...(plan.etcd.enableV2 ? ([["ETCD_ENABLE_V2", "true"]] as const) : []),
    ...tls,
  ];
}

/**
 * An etcd client's settings: the endpoints of the members the cluster was
 * bootstrapped with (they stay the same when etcd.members changes, so this
 * node's config does too; clients fail over among them), and with TLS the CA
 * and the machine's client pair, under the names a tool reads them by.
 */
export function etcdClientSettings(
  plan: ClusterPlan,
  names: { endpoints: string; ca: string; cert: string; key: string },
): EnvironmentSettings {
  const tls: EnvironmentSettings =
    plan.etcd.scheme === "https"
      ? [
          [names.ca, ETCD_TLS_FILES.ca],
          [names.cert, ETCD_TLS_FILES.clientCert],
          [names.key, ETCD_TLS_FILES.clientKey],
        ]
      : [];
  return [[names.endpoints, plan.etcd.seedEndpoints.join(",")], ...tls];
}

/** Client settings of one machine for etcdctl (`ETCDCTL_*`), as the profile exports them. */
export function etcdctlEnvironment(plan: ClusterPlan): EnvironmentSettings {
  return [
    ["ETCDCTL_API", "3"],
    ...etcdClientSettings(plan, {
      endpoints: "ETCDCTL_ENDPOINTS",
      ca: "ETCDCTL_CACERT",
      cert: "ETCDCTL_CERT",
      key: "ETCDCTL_KEY",
    }),
  ];
}

/** Renders settings as a systemd `[Service]` section of `Environment=` lines. */
export function renderEnvironmentDropin(settings: EnvironmentSettings): string {
  const lines = settings.map(([k, v]) => `Environment="${k}=${v}"`);
  return `[Service]\n${lines.join("\n")}\n`;
}

/**
 * Renders settings as an environment file of `K=V` lines, read alike by
 * systemd's EnvironmentFile= and by docker/podman `--env-file` (no quotes:
 * container runtimes take values literally).
 */
export function renderEnvironmentFile(settings: EnvironmentSettings): string {
  return `${settings.map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
}

/** Reads `K=V` lines back from an environment file (comments and blank lines skipped). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
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
