import { Construct } from "constructs";
import { CoreOsClusterProps, NodeFile, SystemdUnit } from "./props";
import { FrontMember, IFrontTarget } from "../front/target";
import { OperatingSystem } from "./operating-system";
import { ClusterPlan, NodePlan, planCluster } from "./plan";
import { RebootStrategy } from "./reboot-strategy";
import { renderIgnitionJson } from "../render/ignition";
import { renderPlanSummary } from "../render/plan-summary";
import { SynthesizedFiles } from "../core/synthesized-files";

/** Artifact folder of every cluster, relative to the stack folder. */
export const CLUSTERS_DIRECTORY = "clusters";

/** One node as targets and users see it. */
export interface ClusterNode extends NodePlan {
  /** The node's Ignition config (JSON text). */
  readonly ignition: string;
  /** Where the Ignition file lies, relative to the stack folder. */
  readonly ignitionPath: string;
}

/** Units and files a part of the cluster (a failover service) adds to every node. */
export interface NodeContent {
  readonly units: readonly SystemdUnit[];
  readonly files: readonly NodeFile[];
  /** Files for the cluster's artifact folder (relative path → contents), e.g. a service's summary. */
  readonly artifacts?: Readonly<Record<string, string>>;
}

/**
 * A CoreOS cluster, described independently of where it runs: N nodes (plus
 * I standby), their OS, addresses, etcd topology and per-node Ignition.
 * Targets such as the Vagrant and AWS constructs take it and create machines.
 *
 * Props are validated when the construct is created, so bad input stops the
 * synth before anything is written. Add failover services before passing the
 * cluster to a target: the target reads `plan` once, and later additions are refused.
 */
export class CoreOsCluster extends Construct implements IFrontTarget {
  /** Cluster name. */
  public readonly clusterName: string;
  /** OS and channel of every node. */
  public readonly os: OperatingSystem;
  /** Every node in order, standby nodes last. */
  public readonly nodes: readonly ClusterNode[];
  /** Nodes that take traffic from a front. */
  public readonly activeNodes: readonly ClusterNode[];
  /** Standby nodes: traffic only when active nodes are down. */
  public readonly standbyNodes: readonly ClusterNode[];
  /** Client URLs of the etcd members. */
  public readonly etcdEndpoints: readonly string[];
  /** The resolved reboot strategy. */
  public readonly rebootStrategy: RebootStrategy;
  /** Artifact folder of this cluster, relative to the stack folder. */
  public readonly artifactDirectory: string;

  private readonly basePlan: ClusterPlan;
  private readonly added: { readonly by: string; readonly content: NodeContent }[] = [];
  private finalPlan?: ClusterPlan;

  constructor(scope: Construct, id: string, props: CoreOsClusterProps = {}) {
    super(scope, id);
    this.basePlan = planCluster(props, { id, path: this.node.path });
    this.clusterName = this.basePlan.name;
    this.os = this.basePlan.os;
    this.rebootStrategy = this.basePlan.rebootStrategy;
    this.etcdEndpoints = this.basePlan.etcd.clientEndpoints;
    this.artifactDirectory = `${CLUSTERS_DIRECTORY}/${this.basePlan.name}`;

    const ignitionDir = "ignition";
    const ignitions = new Map<string, string>();
    this.nodes = this.basePlan.nodes.map((n) => {
      const node = { ...n, ignitionPath: `${this.artifactDirectory}/${ignitionDir}/${n.name}.ign` };
      // Rendered on first read, from the final plan (with what failover services added).
      Object.defineProperty(node, "ignition", {
        enumerable: true,
        get: () => {
          if (!ignitions.has(n.name)) {
            ignitions.set(n.name, renderIgnitionJson(this.plan, this.plan.nodes[n.index]));
          }
          return ignitions.get(n.name);
        },
      });
      return node as ClusterNode;
    });
    this.activeNodes = this.nodes.filter((n) => !n.standby);
    this.standbyNodes = this.nodes.filter((n) => n.standby);

    new SynthesizedFiles(this, "Artifacts", {
      directory: this.artifactDirectory,
      files: () => {
        const files: Record<string, string> = {
          "cluster.json": renderPlanSummary(this.plan, ignitionDir),
        };
        for (const n of this.nodes) files[`${ignitionDir}/${n.name}.ign`] = n.ignition;
        for (const a of this.added) Object.assign(files, a.content.artifacts ?? {});
        return files;
      },
    });
  }

  /**
   * The validated plan every renderer and target reads, with the units and
   * files failover services added. Reading it fixes the cluster's node content.
   */
  public get plan(): ClusterPlan {
    if (!this.finalPlan) {
      const units = this.added.flatMap((a) => a.content.units);
      const files: NodeFile[] = [];
      for (const f of this.added.flatMap((a) => a.content.files)) {
        // Services share the agent script: one copy of each identical file.
        if (!files.some((o) => o.path === f.path && o.contents === f.contents)) files.push(f);
      }
      this.finalPlan = {
        ...this.basePlan,
        units: [...this.basePlan.units, ...units],
        files: [...this.basePlan.files, ...files],
      };
    }
    return this.finalPlan;
  }

  /** Every node as a front target; standby nodes take traffic only while active ones are down. */
  public frontMembers(): readonly FrontMember[] {
    return this.nodes.map((n) => ({ name: n.name, address: n.address, standby: n.standby }));
  }

  /** A node by name; throws with the known names when there is none. */
  public nodeNamed(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) {
      throw new Error(
        `cluster ${this.clusterName} has no node ${JSON.stringify(name)}; nodes: ${this.nodes.map((n) => n.name).join(", ")}`,
      );
    }
    return node;
  }

  /**
   * The plan as props gave it, before failover services added to it, and the
   * unit names taken so far. For parts of the cluster that add to it.
   * @internal
   */
  public _contentSoFar(): { plan: ClusterPlan; units: string[]; services: string[] } {
    return {
      plan: this.basePlan,
      units: [...this.basePlan.units, ...this.added.flatMap((a) => a.content.units)].map(
        (u) => u.name,
      ),
      services: this.added.map((a) => a.by),
    };
  }

  /**
   * Adds units and files to every node (a failover service does). Refused once
   * a target has read the plan.
   * @internal
   */
  public _addNodeContent(by: string, content: NodeContent): void {
    if (this.finalPlan) {
      throw new Error(
        `CoreOsCluster "${this.node.path}": failover service "${by}" added after a target read the cluster. Add failover services before passing the cluster to a target (VagrantCluster, AwsCluster).`,
      );
    }
    const clash = content.files.find((f) =>
      [...this.basePlan.files, ...this.added.flatMap((a) => a.content.files)].some(
        (o) => o.path === f.path && o.contents !== f.contents,
      ),
    );
    if (clash) {
      throw new Error(
        `CoreOsCluster "${this.node.path}": failover service "${by}" writes ${clash.path}, which the cluster's files already hold`,
      );
    }
    this.added.push({ by, content });
  }
}
