import * as fs from "node:fs";
import * as path from "node:path";
import { ClusterPlan, ETCD_PEER_PORT, NodePlan } from "../cluster/plan";
import { OsFamily } from "../cluster/operating-system";
import { ContainerImage } from "../core/container-image";
import { DISCOVERY_ENV_FILE, DiscoveryKind } from "../etcd/discovery";
import { MachineCredentials } from "../etcd/tls";
import {
  ETCD_DATA_DIR,
  ETCD_ENV_FILE,
  ETCD_RUNTIME_ENV_FILE,
  ETCD_TLS_DIR,
  ETCD_TLS_FILES,
} from "./etcd-environment";

/** Name of the member's container on the node. */
export const ETCD_CONTAINER = "etcd-member";

/** The container runtime each OS ships: Flatcar docker, Fedora CoreOS podman. */
export function containerRuntime(plan: ClusterPlan): {
  readonly bin: string;
  readonly label: string;
} {
  // podman on SELinux hosts relabels bind mounts with :z so the container may read them.
  return plan.os.family === OsFamily.FLATCAR
    ? { bin: "/usr/bin/docker", label: "" }
    : { bin: "/usr/bin/podman", label: ",z" };
}

/**
 * `etcd-member.service`, the same on both OSes: the member runs from the
 * cluster's (pinned) etcd image with exactly the settings of its runtime
 * environment file, its data dir and its certificates mounted. The cluster
 * writes the whole unit rather than Flatcar's shipped one, so both OSes run
 * the one image the deploy names. It restarts every 10 s for as long as it
 * fails (an image pull without network): StartLimitIntervalSec=0 keeps
 * systemd's start limit from giving up on it.
 */
export function etcdMemberUnit(plan: ClusterPlan): string {
  const rt = containerRuntime(plan);
  return `[Unit]
Description=etcd member (container)
Documentation=https://etcd.io/docs/
Wants=network-online.target
After=network-online.target${runtimeDependency(plan)}
StartLimitIntervalSec=0

[Service]
EnvironmentFile=${ETCD_ENV_FILE}
EnvironmentFile=${ETCD_JOIN_ENV_FILE}
ExecStartPre=/usr/bin/mkdir -p ${ETCD_DATA_DIR} /run/etcd
ExecStartPre=-${rt.bin} rm --force ${ETCD_CONTAINER}
# Joins a running cluster when this node's data is gone (a replaced node, a new member).
ExecStartPre=${ETCD_JOIN_SCRIPT} join
ExecStart=${rt.bin} run --name ${ETCD_CONTAINER} --rm --net=host --env-file ${ETCD_RUNTIME_ENV_FILE} --volume ${ETCD_DATA_DIR}:${ETCD_DATA_DIR}:rw${rt.label} --volume ${ETCD_TLS_DIR}:${ETCD_TLS_DIR}:ro${rt.label} ${imageRef(plan.etcd.image)} /usr/local/bin/etcd
ExecStop=${rt.bin} stop ${ETCD_CONTAINER}
Restart=always
RestartSec=10s
TimeoutStartSec=0
LimitNOFILE=40000

[Install]
WantedBy=multi-user.target
`;
}

function runtimeDependency(plan: ClusterPlan): string {
  return plan.os.family === OsFamily.FLATCAR ? " docker.service\nRequires=docker.service" : "";
}

/** The membership script on every node, and the settings it reads. */
export const ETCD_JOIN_SCRIPT = "/opt/etcd/etcd-member-join";
export const ETCD_JOIN_ENV_FILE = "/etc/etcd/join.env";

/**
 * The script as a node gets it: the shell file next to this module (which
 * shellcheck reads too) without its comment lines, since every byte counts
 * against EC2's 16 KiB of user data; its shellcheck directives stay.
 */
export const ETCD_JOIN_SCRIPT_TEXT = withoutCommentLines(
  fs.readFileSync(path.join(__dirname, "..", "etcd", "etcd-member-join.sh"), "utf8"),
  "# etcd-member-join, from coreos-cluster-cdktf (commented: lib/etcd/etcd-member-join.sh)",
);

/** `script` with its first line, `header`, and the rest without whole-line comments or blank lines. */
export function withoutCommentLines(script: string, header: string): string {
  const [shebang, ...rest] = script.split("\n");
  const kept = rest.filter((line) => {
    const t = line.trim();
    return t !== "" && (!t.startsWith("#") || t.startsWith("# shellcheck "));
  });
  return `${[shebang, header, ...kept].join("\n")}\n`;
}

/**
 * `/etc/etcd/join.env`: what the membership script needs. It depends only on
 * the node itself and the bootstrap members, so a membership change leaves
 * the file of every node whose role stays the same as it was.
 */
export function etcdJoinEnvironment(plan: ClusterPlan, node: NodePlan): string {
  const rt = containerRuntime(plan);
  const bootstrap = plan.etcd.bootstrap.some((b) => b.name === node.name);
  const etcdctl = `${rt.bin} run --rm --net=host --volume ${ETCD_TLS_DIR}:${ETCD_TLS_DIR}:ro${rt.label} ${imageRef(plan.etcd.image)} /usr/local/bin/etcdctl`;
  const tls =
    plan.etcd.scheme === "https"
      ? [
          `ETCD_JOIN_CACERT=${ETCD_TLS_FILES.ca}`,
          `ETCD_JOIN_CERT=${ETCD_TLS_FILES.clientCert}`,
          `ETCD_JOIN_KEY=${ETCD_TLS_FILES.clientKey}`,
        ]
      : [];
  return `${[
    `ETCD_NAME=${node.name}`,
    `ETCD_JOIN_PEER_URL=${plan.etcd.scheme}://${node.address}:${ETCD_PEER_PORT}`,
    `ETCD_JOIN_ENDPOINTS=${plan.etcd.seedEndpoints.join(",")}`,
    `ETCD_JOIN_BOOTSTRAP=${node.etcdMember && bootstrap}`,
    `ETCD_JOIN_STATIC_ENV=${ETCD_ENV_FILE}`,
    `ETCD_JOIN_RUNTIME_ENV=${ETCD_RUNTIME_ENV_FILE}`,
    ...(plan.etcd.discovery.kind !== DiscoveryKind.STATIC
      ? [`ETCD_JOIN_DISCOVERY_ENV=${DISCOVERY_ENV_FILE}`]
      : []),
    ...tls,
    `ETCD_JOIN_ETCDCTL="${etcdctl}"`,
  ].join("\n")}\n`;
}

/** Promotes a member added as a learner once etcd runs and has caught up. */
export function etcdPromoteUnit(plan: ClusterPlan): string {
  return `[Unit]
Description=Promote this node's etcd member from learner to voting member
After=etcd-member.service${runtimeDependency(plan)}
BindsTo=etcd-member.service

[Service]
Type=oneshot
EnvironmentFile=${ETCD_ENV_FILE}
EnvironmentFile=${ETCD_JOIN_ENV_FILE}
ExecStart=${ETCD_JOIN_SCRIPT} promote
TimeoutStartSec=1000

[Install]
WantedBy=etcd-member.service
`;
}

/** On a node that is not a member: removes the member entry an earlier incarnation left. */
export function etcdLeaveUnit(plan: ClusterPlan): string {
  return `[Unit]
Description=Remove this node's old etcd member entry (it is no longer an etcd member)
Wants=network-online.target
After=network-online.target${runtimeDependency(plan)}

[Service]
Type=oneshot
EnvironmentFile=${ETCD_JOIN_ENV_FILE}
ExecStart=${ETCD_JOIN_SCRIPT} leave
TimeoutStartSec=1000

[Install]
WantedBy=multi-user.target
`;
}

function imageRef(image: ContainerImage): string {
  return image.reference;
}

/** One machine's TLS files: the CA, its client pair and, on members, its member pair. Keys 0600. */
export function etcdTlsFiles(
  caCertificatePem: string,
  credentials: MachineCredentials,
): ReadonlyArray<{ readonly path: string; readonly contents: string; readonly mode: number }> {
  return [
    { path: ETCD_TLS_FILES.ca, contents: caCertificatePem, mode: 0o644 },
    ...(credentials.member
      ? [
          {
            path: ETCD_TLS_FILES.memberCert,
            contents: credentials.member.certificatePem,
            mode: 0o644,
          },
          {
            path: ETCD_TLS_FILES.memberKey,
            contents: credentials.member.privateKeyPem,
            mode: 0o600,
          },
        ]
      : []),
    { path: ETCD_TLS_FILES.clientCert, contents: credentials.client.certificatePem, mode: 0o644 },
    { path: ETCD_TLS_FILES.clientKey, contents: credentials.client.privateKeyPem, mode: 0o600 },
  ];
}
