import type { AwsPlan } from "../aws/plan";
import type { ClusterPlan } from "../cluster/plan";
import { RebootStrategy } from "../cluster/reboot-strategy";
import { DiscoveryKind, PUBLIC_DISCOVERY_SERVICE } from "../etcd/discovery";
import { parseCidr } from "../core/network";
import { parseSshPublicKey } from "../core/validate";
import type { FrontPlan } from "../front/plan";
import type { VagrantPlan } from "../vagrant/plan";
import type { FailoverServicePlan } from "../services/plan";
import type { ContainerImage } from "../core/container-image";

/** How bad a finding is. */
export enum PolicyLevel {
  /** Insecure, but a user may choose it: a cdktf warning, silenced by acknowledging the rule. */
  WARNING = "warning",
  /** Never acceptable: the synth stops. */
  ERROR = "error",
}

/** What a rule found: the prop, its value and what is wrong with it. */
export interface PolicyFinding {
  readonly prop: string;
  readonly value: unknown;
  readonly message: string;
}

/** What the constructs tell the policy check about themselves. */
export type PolicySubject =
  | { readonly kind: "cluster"; readonly plan: () => ClusterPlan | undefined }
  | { readonly kind: "front"; readonly plan: () => FrontPlan | undefined }
  | { readonly kind: "aws"; readonly plan: () => AwsPlan | undefined }
  | { readonly kind: "vagrant"; readonly plan: () => VagrantPlan | undefined }
  | { readonly kind: "service"; readonly plan: () => FailoverServicePlan | undefined };

type PlanOf<K extends PolicySubject["kind"]> = NonNullable<
  ReturnType<Extract<PolicySubject, { kind: K }>["plan"]>
>;

/** One rule of the policy check. */
export interface PolicyRule<K extends PolicySubject["kind"] = PolicySubject["kind"]> {
  /** Stable id, e.g. `CC-W1`: what users acknowledge and search for. */
  readonly id: string;
  readonly level: PolicyLevel;
  /** Short title. */
  readonly title: string;
  /** Which construct kind the rule reads. */
  readonly kind: K;
  check(plan: PlanOf<K>): PolicyFinding[];
}

/** A rule typed by the plan it reads, kept in one list with the others. */
function rule<K extends PolicySubject["kind"]>(r: PolicyRule<K>): PolicyRule {
  return r as unknown as PolicyRule;
}

/** Ports of remote administration and control APIs, by name. */
export const ADMIN_PORTS: Readonly<Record<number, string>> = {
  22: "SSH",
  23: "Telnet",
  135: "Microsoft RPC",
  139: "NetBIOS",
  445: "SMB",
  2376: "Docker API (TLS)",
  3389: "RDP",
  5900: "VNC",
  5985: "WinRM",
  5986: "WinRM (TLS)",
  6443: "Kubernetes API",
  10250: "kubelet",
};

/** Target ports that hand control of the nodes or the cluster's state to whoever reaches the front. */
export const UNAUTHENTICATED_CONTROL_PORTS: Readonly<Record<number, string>> = {
  2375: "the Docker API without TLS (root on the node)",
  2379: "etcd's client API without TLS or auth (the cluster's state and reboot lock)",
  2380: "etcd's peer API (cluster membership)",
  4001: "etcd's legacy client port (the cluster's state and reboot lock)",
  7001: "etcd's legacy peer port (cluster membership)",
};

/** Images pulled as `:latest`, or a script fetched and piped to a shell. */
const UNPINNED_DOWNLOAD = /\S+:latest\b|\b(curl|wget)\b[^\n|]*\|\s*(ba|z)?sh\b/;

/**
 * What a health-check command must not do, as it runs as root every few
 * seconds: fetch code for a shell, run or pull an image not pinned by digest,
 * or download from a host other than the service's own nodes. The part of
 * the command that does it, or undefined.
 */
function checkDownload(command: string, ownHosts: readonly string[]): string | undefined {
  const piped = UNPINNED_DOWNLOAD.exec(command);
  if (piped) return piped[0];
  const image = /\b(docker|podman)\s+(run|pull|create)\b[^;&|]*/.exec(command);
  if (image && !/@sha256:[0-9a-f]{64}/.test(image[0])) return image[0];
  const fetches = command.matchAll(
    /\b(curl|wget)\b[^;&|]*?\b(?:https?|ftp):\/\/(\[[^\]]*\]|[^:/\s'"]+)/g,
  );
  for (const m of fetches) {
    const host = m[2];
    if (!/^(localhost$|127\.|\[::1\]$|\$)/.test(host) && !ownHosts.includes(host)) return m[0];
  }
  return undefined;
}

const userTexts = (plan: { readonly units: ClusterPlan["units"] }) =>
  plan.units.flatMap((u, i) => [
    ...(u.contents !== undefined ? [{ prop: `units[${i}].contents`, text: u.contents }] : []),
    ...(u.dropins ?? []).map((d, j) => ({
      prop: `units[${i}].dropins[${j}].contents`,
      text: d.contents,
    })),
  ]);

const allFiles = (plan: ClusterPlan) => [
  ...plan.files.map((f, i) => ({ prop: `files[${i}]`, file: f })),
  ...plan.nodes.flatMap((n) =>
    n.files.map((f, i) => ({ prop: `nodeFiles[${JSON.stringify(n.name)}][${i}]`, file: f })),
  ),
];

/** A finding for an image named by tag only. */
function unpinned(prop: string, image: ContainerImage | undefined): PolicyFinding[] {
  if (!image || image.pinned) return [];
  return [
    {
      prop,
      value: image.reference,
      message: `machines run whatever the tag points to when they boot, not what the deploy named; pin it: ContainerImage.pinned("${image.reference}@sha256:<digest>")`,
    },
  ];
}

/** Every rule, in id order. docs/security.md's policy table lists the same. */
export const POLICY_RULES: readonly PolicyRule[] = [
  rule({
    id: "CC-W1",
    level: PolicyLevel.WARNING,
    title: "SSH open to the whole internet",
    kind: "aws",
    check: (plan) =>
      plan.sshAllowedCidrs
        .map((cidr, i) => ({ cidr, i, net: parseCidr(cidr) }))
        .filter(({ net }) => !("reason" in net) && net.prefixLength === 0)
        .map(({ cidr, i }) => ({
          prop: `sshAllowedCidrs[${i}]`,
          value: cidr,
          message:
            "anyone on the internet can reach the nodes' SSH port; list your own networks (or a bastion's) instead",
        })),
  }),
  rule({
    id: "CC-W2",
    level: PolicyLevel.WARNING,
    title: "Nodes have public addresses",
    kind: "aws",
    check: (plan) =>
      plan.publicAddresses
        ? [
            {
              prop: "publicAddresses",
              value: true,
              message:
                "every node gets a public IPv4 address: one security-group mistake away from the internet; private subnets with NAT (AwsNetwork.existing, publicAddresses: false) keep nodes unreachable",
            },
          ]
        : [],
  }),
  rule({
    id: "CC-W3",
    level: PolicyLevel.WARNING,
    title: "Front listener on a well-known admin port",
    kind: "front",
    check: (plan) =>
      plan.listeners
        .filter((l) => l.port in ADMIN_PORTS)
        .map((l) => ({
          prop: `listeners.${l.name}.port`,
          value: l.port,
          message: `port ${l.port} is ${ADMIN_PORTS[l.port]}'s: scanners probe it first; the front's listeners are open to every client`,
        })),
  }),
  rule({
    id: "CC-W4",
    level: PolicyLevel.WARNING,
    title: "OS updates switched off",
    kind: "cluster",
    check: (plan) =>
      plan.rebootStrategy === RebootStrategy.OFF
        ? [
            {
              prop: "rebootStrategy",
              value: plan.rebootStrategy,
              message:
                "nodes never apply OS security updates (Flatcar never reboots into them, Fedora CoreOS does not fetch them); ETCD_LOCK (Flatcar) or STAGGERED roll them one node at a time",
            },
          ]
        : [],
  }),
  rule({
    id: "CC-W5",
    level: PolicyLevel.WARNING,
    title: "Unpinned download at boot",
    kind: "cluster",
    check: (plan) =>
      userTexts(plan)
        .filter(({ text }) => UNPINNED_DOWNLOAD.test(text))
        .map(({ prop, text }) => ({
          prop,
          value: (UNPINNED_DOWNLOAD.exec(text) as RegExpExecArray)[0],
          message:
            "a unit fetches something the deploy does not pin (an image tagged :latest, a script piped to a shell): nodes booted on different days run different code; pin a version or digest",
        })),
  }),
  rule({
    id: "CC-W6",
    level: PolicyLevel.WARNING,
    title: "etcd without TLS",
    kind: "cluster",
    check: (plan) =>
      plan.etcd.scheme === "http"
        ? [
            {
              prop: "etcd.tls",
              value: "EtcdTls.disabled()",
              message:
                "etcd speaks plain http without authentication: whoever reaches port 2379 on the network reads and writes every key, takes the reboot lock or adds a member; the default EtcdTls.generatedCa() keeps it to holders of the cluster's certificates",
            },
          ]
        : [],
  }),
  rule({
    id: "CC-W7",
    level: PolicyLevel.WARNING,
    title: "etcd image not pinned by digest",
    kind: "cluster",
    check: (plan) => unpinned("etcd.image", plan.etcd.image),
  }),
  rule({
    id: "CC-W8",
    level: PolicyLevel.WARNING,
    title: "Front image not pinned by digest",
    kind: "vagrant",
    check: (plan) => [
      ...unpinned("frontImages.haproxy", plan.front?.images.haproxy),
      ...(plan.front?.highAvailability
        ? unpinned("frontImages.keepalived", plan.front.images.keepalived)
        : []),
    ],
  }),
  rule({
    id: "CC-W9",
    level: PolicyLevel.WARNING,
    title: "Failover service fetches what the deploy does not pin",
    kind: "service",
    check: (plan) => [
      ...userTexts(plan)
        .filter(({ text }) => UNPINNED_DOWNLOAD.test(text))
        .map(({ prop, text }) => ({
          prop,
          value: (UNPINNED_DOWNLOAD.exec(text) as RegExpExecArray)[0],
          message:
            "a unit of the service fetches something the deploy does not pin (an image tagged :latest, a script piped to a shell): each failover may start different code; pin a version or digest",
        })),
      ...[plan.healthCheck?.command]
        .map(
          (c) =>
            c &&
            checkDownload(
              c,
              plan.candidates.map((n) => n.address),
            ),
        )
        .filter((part): part is string => part !== undefined)
        .map((part) => ({
          prop: "healthCheck.command",
          value: part,
          message: `the check runs as root every ${(plan.healthCheck?.intervalMs ?? 0) / 1000} s on the service's node: a command that downloads (from another host, an image not pinned by digest, a script for a shell) runs whatever that server hands out and fails the service when the server is down; probe the service itself (ServiceHealthCheck.tcp/.http, or a command on the node)`,
        })),
    ],
  }),
  rule({
    id: "CC-W10",
    level: PolicyLevel.WARNING,
    title: "Public etcd discovery service",
    kind: "cluster",
    check: (plan) =>
      plan.etcd.discovery.kind === DiscoveryKind.PUBLIC_SERVICE ||
      (plan.etcd.discovery.kind === DiscoveryKind.EXISTING_TOKEN &&
        plan.etcd.discovery.endpoints.some((u) => u.startsWith(`${PUBLIC_DISCOVERY_SERVICE}/`)))
        ? [
            {
              prop: "etcd.discovery",
              value: plan.etcd.discovery.endpoints.join(","),
              message:
                "the cluster's first boot depends on discovery.etcd.io, a deprecated service without guarantees: when it is down or slow no new cluster forms, and whoever learns the token can register members into it; static bootstrap (the default) needs no outside service, EtcdDiscovery.selfHosted(url) keeps it on your network",
            },
          ]
        : [],
  }),
  rule({
    id: "CC-E1",
    level: PolicyLevel.ERROR,
    title: "Unauthenticated control API behind the front",
    kind: "front",
    check: (plan) =>
      plan.listeners.flatMap((l) =>
        [l.targetGroup.port, l.targetGroup.healthCheck.port]
          .filter((p, i, all) => p in UNAUTHENTICATED_CONTROL_PORTS && all.indexOf(p) === i)
          .map((p) => ({
            prop: `listeners.${l.name}.targets.port`,
            value: p,
            message: `the front would forward clients to ${UNAUTHENTICATED_CONTROL_PORTS[p]}; it stays inside the cluster`,
          })),
      ),
  }),
  rule({
    id: "CC-E2",
    level: PolicyLevel.ERROR,
    title: "World-writable file on the nodes",
    kind: "cluster",
    check: (plan) =>
      allFiles(plan)
        .filter(({ file }) => ((file.mode ?? 0o644) & 0o002) !== 0)
        .map(({ prop, file }) => ({
          prop: `${prop}.mode`,
          value: `0o${(file.mode as number).toString(8)}`,
          message: `any process on the node can rewrite ${file.path}; drop the write bit for others (e.g. 0o644, 0o664)`,
        })),
  }),
  rule({
    id: "CC-E3",
    level: PolicyLevel.ERROR,
    title: "RSA SSH key shorter than 2048 bits",
    kind: "cluster",
    check: (plan) =>
      plan.sshPublicKeys.flatMap((line, i) => {
        const key = parseSshPublicKey(line);
        return "rsaBits" in key && key.rsaBits !== undefined && key.rsaBits < 2048
          ? [
              {
                prop: `sshPublicKeys[${i}]`,
                value: `ssh-rsa (${key.rsaBits} bits)`,
                message:
                  "RSA keys under 2048 bits can be factored; use ssh-ed25519 or RSA of 3072 bits or more",
              },
            ]
          : [];
      }),
  }),
];
