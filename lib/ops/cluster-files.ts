import * as fs from "node:fs";
import * as path from "node:path";
import { CLUSTERS_DIRECTORY } from "../cluster/cluster";
import { SERVICES_DIRECTORY } from "../services/failover-service";

/** A failover service as its `services/<name>.json` describes it. */
export interface ServiceSummary {
  readonly name: string;
  readonly keyPrefix: string;
  readonly units: readonly string[];
  readonly nodes: readonly string[];
  readonly preferredNodes: readonly string[];
  readonly failback: {
    readonly mode: string;
    readonly startHour?: number;
    readonly endHour?: number;
  };
  readonly maxFailovers: number;
  readonly failoverPeriodSeconds: number;
  readonly listener?: { readonly name: string; readonly port: number };
}

/** What the operations know about a deployed cluster, from the synthesized stack. */
export interface ClusterDescription {
  readonly name: string;
  readonly stackDir: string;
  readonly nodes: readonly {
    readonly name: string;
    readonly address: string;
    readonly etcdMember: boolean;
    readonly standby: boolean;
  }[];
  readonly etcdEndpoints: readonly string[];
  /** The image the members run (etcdctl comes from it where a node has none). */
  readonly etcdImage: string;
  /** True when etcd speaks mutual TLS: etcdctl needs the node's client certificate. */
  readonly etcdTls: boolean;
  /** etcd prefix of the runtime state (drains, services). */
  readonly keyPrefix: string;
  readonly services: readonly ServiceSummary[];
  /** The Vagrant folder, when the stack runs the cluster with Vagrant. */
  readonly vagrantDir?: string;
  /** The front's haproxy.cfg as synthesized (its `disabled` servers are the code's drains). */
  readonly haproxyCfg?: string;
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** Clusters in a cdktf output folder: [stack, cluster name]. */
export function listClusters(outdir: string): [string, string][] {
  const stacks = path.join(outdir, "stacks");
  if (!fs.existsSync(stacks)) return [];
  return fs.readdirSync(stacks).flatMap((stack) => {
    const dir = path.join(stacks, stack, CLUSTERS_DIRECTORY);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((c) => fs.existsSync(path.join(dir, c, "cluster.json")))
      .map((c) => [stack, c] as [string, string]);
  });
}

/**
 * Finds the cluster in the synthesized stack (`cdktf synth` output, the same
 * files `cdktf deploy` used): cluster.json, the services' summaries, the
 * Vagrant folder and the front's haproxy.cfg.
 */
export function findCluster(outdir: string, stack?: string, cluster?: string): ClusterDescription {
  const all = listClusters(outdir).filter(
    ([s, c]) => (!stack || s === stack) && (!cluster || c === cluster),
  );
  if (all.length !== 1) {
    const found = listClusters(outdir).map(([s, c]) => `--stack ${s} --cluster ${c}`);
    throw new Error(
      all.length === 0
        ? `no synthesized cluster in ${outdir}${stack ? ` for stack ${stack}` : ""}${cluster ? ` named ${cluster}` : ""}: run cdktf synth (or deploy) first${found.length ? `; found: ${found.join("; ")}` : ""}`
        : `several clusters in ${outdir}: choose one with ${found.join(" | ")}`,
    );
  }
  const [stackName, clusterName] = all[0];
  const stackDir = path.join(outdir, "stacks", stackName);
  const clusterDir = path.join(stackDir, CLUSTERS_DIRECTORY, clusterName);
  const summary = readJson(path.join(clusterDir, "cluster.json")) as {
    name: string;
    etcd: { clientEndpoints: string[]; imageTag: string; image?: string };
    nodes: { name: string; address: string; etcd: string; state: string }[];
  };
  const servicesDir = path.join(clusterDir, SERVICES_DIRECTORY);
  const services = fs.existsSync(servicesDir)
    ? fs
        .readdirSync(servicesDir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => readJson(path.join(servicesDir, f)) as ServiceSummary)
    : [];
  const vagrantDir = path.join(stackDir, "vagrant", summary.name);
  const haproxyCfg = path.join(vagrantDir, "front", "haproxy.cfg");
  return {
    name: summary.name,
    stackDir,
    nodes: summary.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      etcdMember: n.etcd === "member",
      standby: n.state === "standby",
    })),
    etcdEndpoints: summary.etcd.clientEndpoints,
    etcdImage: summary.etcd.image ?? `quay.io/coreos/etcd:${summary.etcd.imageTag}`,
    etcdTls: summary.etcd.clientEndpoints.some((e) => e.startsWith("https://")),
    keyPrefix: services[0]?.keyPrefix ?? `/coreos-cluster/${summary.name}`,
    services,
    ...(fs.existsSync(path.join(vagrantDir, "Vagrantfile")) ? { vagrantDir } : {}),
    ...(fs.existsSync(haproxyCfg) ? { haproxyCfg: fs.readFileSync(haproxyCfg, "utf8") } : {}),
  };
}

/** Servers the synthesized haproxy.cfg disables: the front's declarative drains. */
export function drainedInCode(haproxyCfg: string | undefined): string[] {
  if (!haproxyCfg) return [];
  const names = new Set<string>();
  for (const m of haproxyCfg.matchAll(/^\s*server (\S+) .* disabled\b/gm)) names.add(m[1]);
  return [...names].sort();
}

/** The addresses the front's listeners bind to (its virtual address). */
export function frontBindAddresses(haproxyCfg: string | undefined): string[] {
  if (!haproxyCfg) return [];
  const found = [...haproxyCfg.matchAll(/^\s*bind (\d+\.\d+\.\d+\.\d+):\d+/gm)].map((m) => m[1]);
  return [...new Set(found.filter((a) => !a.startsWith("127.")))];
}
