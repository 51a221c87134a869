import { ClusterPlan } from "../cluster/plan";
import { ContainerImage } from "../core/container-image";
import { MachineCredentials } from "../etcd/tls";
import { etcdTlsFiles } from "./etcd-units";
import { FRONT_SERVER_STATE_FILE } from "./haproxy";
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

/** Where the front machine keeps its configs. */
export const FRONT_HAPROXY_CFG = "/etc/haproxy/haproxy.cfg";
export const FRONT_STATS_SOCKET = "/run/haproxy/admin.sock";
export const FRONT_MONITOR_PORT = 8404;

/** What one front machine runs. */
export interface FrontMachineSpec {
  readonly name: string;
  /** Reboot-window slot (RebootStrategy.STAGGERED): after the nodes'. */
  readonly slot: number;
  readonly haproxyCfg: string;
  readonly images: { readonly haproxy: ContainerImage; readonly keepalived: ContainerImage };
  /** keepalived.conf of an HA pair; absent for a single front. */
  readonly keepalivedConf?: string;
  /** The other front machine's address: the only source of VRRP this machine accepts. */
  readonly vrrpPeer?: string;
  /** etcd client credentials (locksmithd's reboot lock), when etcd speaks TLS. */
  readonly etcdCredentials?: MachineCredentials;
}

// HAProxy in master-worker mode (the image's entrypoint adds -W -db); reload = SIGUSR2, which
// starts new workers with the new config while the old ones finish their open connections.
// Restarts every 5 s for as long as it fails (an image pull without network):
// StartLimitIntervalSec=0 keeps systemd's start limit from giving up on it.
const haproxyUnit = (image: ContainerImage) => `[Unit]
Description=HAProxy: the cluster's front (container)
Wants=network-online.target docker.service
After=network-online.target docker.service
StartLimitIntervalSec=0

[Service]
ExecStartPre=/usr/bin/mkdir -p /run/haproxy /var/lib/haproxy
ExecStartPre=-/usr/bin/docker rm --force haproxy
ExecStart=/usr/bin/docker run --name haproxy --rm --net host --user root --cap-drop ALL --cap-add NET_BIND_SERVICE --volume /etc/haproxy:/usr/local/etc/haproxy:ro --volume /run/haproxy:/run/haproxy --volume /var/lib/haproxy:/var/lib/haproxy:ro ${image.reference} -f /usr/local/etc/haproxy/haproxy.cfg
# Servers' runtime states (a node drained at runtime) go to the state file the new process reads.
ExecReload=-/bin/sh -c 'echo "show servers state" | socat stdio unix-connect:${FRONT_STATS_SOCKET} > ${FRONT_SERVER_STATE_FILE}.new && mv ${FRONT_SERVER_STATE_FILE}.new ${FRONT_SERVER_STATE_FILE}'
ExecReload=/usr/bin/docker kill --signal USR2 haproxy
ExecStop=/usr/bin/docker stop haproxy
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
`;

// Flatcar ships no keepalived: it runs from a prebuilt image the deploy names (nothing is built
// or installed on the machine). Restarts like HAProxy while the image cannot be pulled.
const keepalivedUnit = (image: ContainerImage) => `[Unit]
Description=keepalived: the front's virtual address (container)
Wants=network-online.target docker.service haproxy.service vrrp-peer-only.service
After=network-online.target docker.service haproxy.service vrrp-peer-only.service
StartLimitIntervalSec=0

[Service]
ExecStartPre=-/usr/bin/docker rm --force keepalived
ExecStart=/usr/bin/docker run --name keepalived --rm --net host --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_BROADCAST --cap-add NET_RAW --volume /etc/keepalived/keepalived.conf:/etc/keepalived/keepalived.conf:ro --entrypoint keepalived ${image.reference} --dont-fork --log-console --log-detail --use-file /etc/keepalived/keepalived.conf
ExecStop=/usr/bin/docker stop keepalived
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
`;

// keepalived's own check (check_unicast_src) drops adverts from others; the firewall drops them
// before they reach it. VRRP's PASS/AH authentication is not used: PASS sends the secret in clear
// text and AH is deprecated; the peer's address plus the firewall is the control that holds.
const vrrpFirewallUnit = (peer: string) => `[Unit]
Description=Accept VRRP (IP protocol 112) only from the front peer ${peer}
Before=keepalived.service
After=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/iptables -I INPUT -p vrrp ! -s ${peer} -j DROP
ExecStop=/usr/sbin/iptables -D INPUT -p vrrp ! -s ${peer} -j DROP

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
    ...updateFiles(cluster, spec.slot),
    ...(cluster.etcd.tls && spec.etcdCredentials
      ? etcdTlsFiles(cluster.etcd.tls.caCertificatePem, spec.etcdCredentials).map((f) =>
          file(f.path, f.contents, f.mode),
        )
      : []),
    file(FRONT_HAPROXY_CFG, spec.haproxyCfg),
  ];
  const units: IgnitionUnit[] = [
    { name: "haproxy.service", enabled: true, contents: haproxyUnit(spec.images.haproxy) },
    ...rebootLockUnits(cluster, spec.slot),
  ];
  if (spec.keepalivedConf !== undefined) {
    files.push(
      // HAProxy on the backup machine binds the virtual address before it owns it.
      file("/etc/sysctl.d/90-front-nonlocal-bind.conf", "net.ipv4.ip_nonlocal_bind = 1\n"),
      file("/etc/keepalived/keepalived.conf", spec.keepalivedConf),
    );
    units.push({
      name: "keepalived.service",
      enabled: true,
      contents: keepalivedUnit(spec.images.keepalived),
    });
    if (spec.vrrpPeer) {
      units.push({
        name: "vrrp-peer-only.service",
        enabled: true,
        contents: vrrpFirewallUnit(spec.vrrpPeer),
      });
    }
  }
  const conditions = frontReadyConditions(spec.keepalivedConf !== undefined);
  return machineConfig(spec.name, cluster, { files }, units, conditions);
}

export function renderFrontIgnitionJson(cluster: ClusterPlan, spec: FrontMachineSpec): string {
  return `${JSON.stringify(renderFrontIgnition(cluster, spec), null, 2)}\n`;
}
