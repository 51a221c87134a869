import {
  ClusterPlan,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  NodePlan,
  READY_CHECK_PATH,
} from "../cluster/plan";
import { startsAtBoot } from "./enabled-units";
import { DISCOVERY_ENV_FILE, DiscoveryKind } from "../etcd/discovery";
import { ETCD_TLS_FILES } from "./etcd-environment";
import type { IgnitionUnit } from "./ignition";
import { shellQuote } from "./shell";

export { READY_CHECK_PATH };

/** One thing a machine must show before it counts as up. */
export interface ReadyCondition {
  /** A POSIX shell condition, true when this part is up. */
  readonly test: string;
  /** What is not up when the condition is false, for the operator. */
  readonly failure: string;
  /** True when the test reads files only root may (the machine's etcd keys). */
  readonly asRoot?: boolean;
}

/** The units of a config that start at boot: all must be enabled on the machine. */
export function bootUnitNames(units: readonly IgnitionUnit[]): string[] {
  return units.filter(startsAtBoot).map((u) => u.name);
}

/**
 * curl's options to reach etcd as this machine: with TLS, the cluster's CA and
 * the machine's client certificate, or its member certificate for the peer
 * port (members accept peers only with the members' common name). HTTP/1.1:
 * etcd's peer listener breaks off HTTP/2 requests that TLS would negotiate.
 */
function curlEtcd(plan: ClusterPlan, as: "client" | "member"): string {
  const curl = "curl -fsS --http1.1 --max-time 5";
  if (plan.etcd.scheme !== "https") return curl;
  const [cert, key] =
    as === "member"
      ? [ETCD_TLS_FILES.memberCert, ETCD_TLS_FILES.memberKey]
      : [ETCD_TLS_FILES.clientCert, ETCD_TLS_FILES.clientKey];
  return `${curl} --cacert ${ETCD_TLS_FILES.ca} --cert ${cert} --key ${key}`;
}

const etcdHealthy = (plan: ClusterPlan, clientUrl: string) =>
  `${curlEtcd(plan, "client")} ${clientUrl}/health 2>/dev/null | grep -q '"health":"true"'`;

/**
 * True (exit 0) when the first member among `urls` that answers lists `node`
 * as a voting member; false when it lists it as a learner (added, not yet
 * promoted) or no member answers. A learner's own answer is not asked first.
 */
const etcdVoting = (plan: ClusterPlan, urls: readonly string[], node: string) =>
  `for endpoint in ${urls.join(" ")}; do out=$(${curlEtcd(plan, "client")} -X POST -d '{}' "$endpoint/v3/cluster/member/list" 2>/dev/null) || continue; printf '%s' "$out" | tr '}' '\\n' | grep -F '"name":"${node}"' | grep -q '"isLearner":true' && exit 1; exit 0; done; exit 1`;

/**
 * What "up" means for a node's etcd part. It depends only on the node and the
 * members the cluster was bootstrapped with (like the node's etcd settings),
 * so a change of `etcd.members` changes no other node's config.
 *
 * A member is up when it is healthy and a voting member (not a learner that
 * joined and waits for promotion): only then does replacing the next node
 * keep quorum. On the first deploy members come up one at a time and none is
 * healthy before a quorum runs: a bootstrap member before the quorum is up
 * once it serves its peers, as long as no other member is healthy yet (a
 * cluster that already runs wants it healthy). An etcd client is up once it
 * reaches a healthy member.
 */
export function etcdReadyConditions(plan: ClusterPlan, node: NodePlan): ReadyCondition[] {
  const asRoot = plan.etcd.scheme === "https";
  return etcdTests(plan, node).map((c) => ({ ...c, asRoot }));
}

function etcdTests(plan: ClusterPlan, node: NodePlan): ReadyCondition[] {
  const seeds = plan.etcd.seedEndpoints;
  const anyHealthy = (urls: readonly string[]) =>
    `for endpoint in ${urls.join(" ")}; do ${etcdHealthy(plan, '"$endpoint"')} && exit 0; done; exit 1`;
  if (!node.etcdMember) {
    return [
      {
        test: anyHealthy(seeds),
        failure: `etcd cluster not reachable: no healthy member among ${seeds.join(" ")}`,
      },
    ];
  }
  const clientUrl = `${plan.etcd.scheme}://${node.address}:${ETCD_CLIENT_PORT}`;
  const bootstrap = plan.etcd.bootstrap;
  const position = bootstrap.findIndex((m) => m.name === node.name) + 1;
  const quorum = Math.floor(bootstrap.length / 2) + 1;
  const healthy: ReadyCondition = {
    test: etcdHealthy(plan, clientUrl),
    failure: `etcd member not healthy at ${clientUrl}/health`,
  };
  const voting: ReadyCondition = {
    // Asked only of a healthy member: without quorum the member list cannot answer.
    test: `! (${healthy.test}) || (${etcdVoting(plan, [...seeds.filter((u) => u !== clientUrl), clientUrl], node.name)})`,
    failure: "etcd member is still a learner: not yet promoted to a voting member",
  };
  const others = seeds.filter((u) => u !== clientUrl);
  const noOtherHealthy = `! (${others.length ? anyHealthy(others) : "exit 1"})`;
  const discovery = plan.etcd.discovery.kind;
  if (discovery !== DiscoveryKind.STATIC) {
    // Through discovery the cluster forms once every bootstrap member registered; until then a
    // member waits there without serving, so the ones before the last are up once registered.
    if (position === 0 || position >= bootstrap.length) return [healthy, voting];
    const waiting =
      discovery === DiscoveryKind.V3
        ? {
            test: "systemctl is-active --quiet etcd-member.service",
            what: "running (waiting for the other members through v3 discovery)",
          }
        : {
            test: registeredOnToken(node.name),
            what: `registered on the discovery token of ${DISCOVERY_ENV_FILE}`,
          };
    return [
      {
        test: `${healthy.test} || { ${waiting.test} && ${noOtherHealthy}; }`,
        failure: `etcd member not ${waiting.what} (or, once the cluster formed, not healthy at ${clientUrl}/health)`,
      },
      voting,
    ];
  }
  if (position === 0 || position >= quorum) return [healthy, voting];
  const peer = `${plan.etcd.scheme}://${node.address}:${ETCD_PEER_PORT}/version`;
  const servesPeers = `${curlEtcd(plan, "member")} -o /dev/null ${peer} 2>/dev/null`;
  return [
    {
      test: `${healthy.test} || { ${servesPeers} && ${noOtherHealthy}; }`,
      failure: `etcd member not serving its peers at ${peer} (or, once a quorum of members runs, not healthy at ${clientUrl}/health)`,
    },
    voting,
  ];
}

/** True when the member registered itself on the v2 discovery token the deploy gave the node. */
function registeredOnToken(node: string): string {
  return `url=$(sed -n 's/^ETCD_DISCOVERY=//p' ${DISCOVERY_ENV_FILE} 2>/dev/null) && [ -n "$url" ] && curl -fsS --max-time 5 "$url" 2>/dev/null | grep -q '"value":"${node}='`;
}

/**
 * The ready check of one machine: every unit that starts at boot is enabled,
 * then each condition in order. Prints `<machine>: up` and exits 0, or prints
 * the first thing that is not up and exits 1. Each condition runs in a
 * subshell, so one may `exit` without ending the check.
 */
export function renderReadyCheck(
  machine: string,
  bootUnits: readonly string[],
  conditions: readonly ReadyCondition[],
): string {
  const lines = [
    "#!/bin/sh",
    `# ${READY_CHECK_PATH} - generated by coreos-cluster-cdktf for ${machine}.`,
    "# Exits 0 when this machine is up; otherwise prints what is not up and exits 1.",
    ...(conditions.some((c) => c.asRoot)
      ? [
          "# It talks to etcd with this machine's keys, which only root reads (core may sudo).",
          '[ "$(id -u)" = 0 ] || exec sudo -n "$0" "$@"',
        ]
      : []),
    `fail() { echo "${machine}: $*"; exit 1; }`,
  ];
  if (bootUnits.length > 0) {
    lines.push(
      `for unit in ${bootUnits.join(" ")}; do`,
      '  systemctl is-enabled --quiet "$unit" || fail "$unit is not enabled"',
      "done",
    );
  }
  for (const c of conditions) lines.push(`(${c.test}) || fail ${shellQuote(c.failure)}`);
  lines.push(`echo "${machine}: up"`, "");
  return lines.join("\n");
}
