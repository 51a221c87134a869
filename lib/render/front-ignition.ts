import { ClusterPlan } from "../cluster/plan";
import {
  file,
  IgnitionConfig,
  IgnitionFile,
  IgnitionUnit,
  machineConfig,
  rebootLockUnits,
  updateFiles,
} from "./ignition";
import { ReadyCondition } from "./ready-check";

/** Container images of the front machines; HAProxy matches the version the tests run. */
export const HAPROXY_IMAGE = "docker.io/library/haproxy:2.6";
export const KEEPALIVED_BASE_IMAGE = "docker.io/library/alpine:3.20";

/** Where the front machine keeps its configs. */
export const FRONT_HAPROXY_CFG = "/etc/haproxy/haproxy.cfg";
export const FRONT_STATS_SOCKET = "/run/haproxy/admin.sock";
export const FRONT_MONITOR_PORT = 8404;

/** What one front machine runs. */
export interface FrontMachineSpec {
  readonly name: string;
  readonly haproxyCfg: string;
  /** keepalived.conf of an HA pair; absent for a single front. */
  readonly keepalivedConf?: string;
}

// HAProxy in master-worker mode (the image's entrypoint adds -W -db); reload = SIGUSR2, which
// starts new workers with the new config while the old ones finish their open connections.
// Restarts every 5 s for as long as it fails (an image pull without network):
// StartLimitIntervalSec=0 keeps systemd's start limit from giving up on it.
const HAPROXY_UNIT = `[Unit]
Description=HAProxy: the cluster's front (container)
Wants=network-online.target docker.service
After=network-online.target docker.service
StartLimitIntervalSec=0

[Service]
ExecStartPre=/usr/bin/mkdir -p /run/haproxy
ExecStartPre=-/usr/bin/docker rm --force haproxy
ExecStart=/usr/bin/docker run --name haproxy --rm --net host --user root --cap-drop ALL --cap-add NET_BIND_SERVICE --volume /etc/haproxy:/usr/local/etc/haproxy:ro --volume /run/haproxy:/run/haproxy ${HAPROXY_IMAGE} -f /usr/local/etc/haproxy/haproxy.cfg
ExecReload=/usr/bin/docker kill --signal USR2 haproxy
ExecStop=/usr/bin/docker stop haproxy
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
`;

// Flatcar ships no keepalived: a small image is built once on the machine from Alpine's package.
const KEEPALIVED_DOCKERFILE = `FROM ${KEEPALIVED_BASE_IMAGE}
RUN apk add --no-cache keepalived
`;

// The first start builds the image (an Alpine package download): up to 10 minutes.
const KEEPALIVED_UNIT = `[Unit]
Description=keepalived: the front's virtual address (container)
Wants=network-online.target docker.service haproxy.service
After=network-online.target docker.service haproxy.service
StartLimitIntervalSec=0

[Service]
TimeoutStartSec=10min
ExecStartPre=-/usr/bin/docker rm --force keepalived
ExecStartPre=/bin/sh -c 'docker image inspect local/keepalived:1 >/dev/null 2>&1 || docker build --tag local/keepalived:1 /etc/keepalived'
ExecStart=/usr/bin/docker run --name keepalived --rm --net host --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_BROADCAST --cap-add NET_RAW --volume /etc/keepalived/keepalived.conf:/etc/keepalived/keepalived.conf:ro local/keepalived:1 keepalived --dont-fork --log-console --log-detail --use-file /etc/keepalived/keepalived.conf
ExecStop=/usr/bin/docker stop keepalived
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
`;

/** A front machine is up when HAProxy (and keepalived) run and HAProxy answers its health check. */
function frontReadyConditions(keepalived: boolean): ReadyCondition[] {
  const healthz = `http://127.0.0.1:${FRONT_MONITOR_PORT}/healthz`;
  return [
    { test: "systemctl is-active --quiet haproxy.service", failure: "haproxy.service not running" },
    ...(keepalived
      ? [
          {
            test: "systemctl is-active --quiet keepalived.service",
            failure: "keepalived.service not running",
          },
        ]
      : []),
    {
      test: `curl -fsS --max-time 5 -o /dev/null ${healthz} 2>/dev/null`,
      failure: `HAProxy does not answer ${healthz}`,
    },
  ];
}

/**
 * Ignition of a front machine: Flatcar like the nodes (same SSH keys, same
 * update channel and reboot strategy), running HAProxy and, in an HA pair,
 * keepalived as containers started by systemd.
 */
export function renderFrontIgnition(cluster: ClusterPlan, spec: FrontMachineSpec): IgnitionConfig {
  const files: IgnitionFile[] = [
    file("/etc/hostname", `${spec.name}\n`),
    ...updateFiles(cluster),
    file(FRONT_HAPROXY_CFG, spec.haproxyCfg),
  ];
  const units: IgnitionUnit[] = [
    { name: "haproxy.service", enabled: true, contents: HAPROXY_UNIT },
    ...rebootLockUnits(cluster),
  ];
  if (spec.keepalivedConf !== undefined) {
    files.push(
      // HAProxy on the backup machine binds the virtual address before it owns it.
      file("/etc/sysctl.d/90-front-nonlocal-bind.conf", "net.ipv4.ip_nonlocal_bind = 1\n"),
      file("/etc/keepalived/keepalived.conf", spec.keepalivedConf),
      file("/etc/keepalived/Dockerfile", KEEPALIVED_DOCKERFILE),
    );
    units.push({ name: "keepalived.service", enabled: true, contents: KEEPALIVED_UNIT });
  }
  const conditions = frontReadyConditions(spec.keepalivedConf !== undefined);
  return machineConfig(spec.name, cluster, { files }, units, conditions);
}

export function renderFrontIgnitionJson(cluster: ClusterPlan, spec: FrontMachineSpec): string {
  return `${JSON.stringify(renderFrontIgnition(cluster, spec), null, 2)}\n`;
}
