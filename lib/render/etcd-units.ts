import { ClusterPlan } from "../cluster/plan";
import { OsFamily } from "../cluster/operating-system";
import { ContainerImage } from "../core/container-image";
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
 * the one image the deploy names.
 */
export function etcdMemberUnit(plan: ClusterPlan, prepare: readonly string[]): string {
  const rt = containerRuntime(plan);
  const docker = plan.os.family === OsFamily.FLATCAR;
  return `[Unit]
Description=etcd member (container)
Documentation=https://etcd.io/docs/
Wants=network-online.target
After=network-online.target${docker ? " docker.service\nRequires=docker.service" : ""}

[Service]
ExecStartPre=/usr/bin/mkdir -p ${ETCD_DATA_DIR} /run/etcd
ExecStartPre=-${rt.bin} rm --force ${ETCD_CONTAINER}
${prepare.map((p) => `ExecStartPre=${p}`).join("\n")}
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

/** How the unit prepares the runtime settings when no membership script runs. */
export const COPY_STATIC_SETTINGS = `/usr/bin/install -m 0644 ${ETCD_ENV_FILE} ${ETCD_RUNTIME_ENV_FILE}`;

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
