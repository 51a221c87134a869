import { TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { ClusterConfigError } from "../core/errors";
import { Policy } from "../policy/policy";
import { CoreOsClusterProps } from "./props";
import { FrontMember, IFrontTarget } from "../front/target";
import { OperatingSystem } from "./operating-system";
import { ClusterPlan, NodePlan, planCluster } from "./plan";
import { RebootStrategy } from "./reboot-strategy";
import { nodeIgnitionJson } from "../render/ignition-cache";
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

/**
 * A CoreOS cluster, described independently of where it runs: N nodes (plus
 * I standby), their OS, addresses, etcd topology and per-node Ignition.
 * Targets such as the Vagrant and AWS constructs take it and create machines.
 *
 * Props are validated when the construct is created, so bad input stops the
 * synth before anything is written.
 */
export class CoreOsCluster extends Construct implements IFrontTarget {
  /** The validated plan every renderer and target reads. */
  public readonly plan: ClusterPlan;
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

  constructor(scope: Construct, id: string, props: CoreOsClusterProps = {}) {
    super(scope, id);
    this.plan = planCluster(props, {
      id,
      path: this.node.path,
      isToken: (v) => Token.isUnresolved(v),
    });
    this.assertNameUnique();
    Policy._declare(this, { kind: "cluster", plan: () => this.plan });
    this.clusterName = this.plan.name;
    this.os = this.plan.os;
    this.rebootStrategy = this.plan.rebootStrategy;
    this.etcdEndpoints = this.plan.etcd.clientEndpoints;
    this.artifactDirectory = `${CLUSTERS_DIRECTORY}/${this.plan.name}`;

    const ignitionDir = "ignition";
    this.nodes = this.plan.nodes.map((n) => ({
      ...n,
      ignition: nodeIgnitionJson(this.plan, n),
      ignitionPath: `${this.artifactDirectory}/${ignitionDir}/${n.name}.ign`,
    }));
    this.activeNodes = this.nodes.filter((n) => !n.standby);
    this.standbyNodes = this.nodes.filter((n) => n.standby);

    const files: Record<string, string> = {
      "cluster.json": renderPlanSummary(this.plan, ignitionDir),
    };
    for (const n of this.nodes) files[`${ignitionDir}/${n.name}.ign`] = n.ignition;
    new SynthesizedFiles(this, "Artifacts", { directory: this.artifactDirectory, files });
  }

  /** Every node as a front target; standby nodes take traffic only while active ones are down. */
  public frontMembers(): readonly FrontMember[] {
    return this.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      standby: n.standby,
      cluster: this.node.path,
    }));
  }

  // Two clusters of one name in one stack would write one artifact folder and one set of logical ids.
  private assertNameUnique(): void {
    const other = TerraformStack.of(this)
      .node.findAll()
      .find((c) => c instanceof CoreOsCluster && c !== this && c.clusterName === this.plan.name);
    if (other) {
      throw new ClusterConfigError(`CoreOsCluster "${this.node.path}"`, [
        {
          prop: "name",
          value: this.plan.name,
          allowed: `a name no other cluster of stack "${TerraformStack.of(this).node.id}" uses: CoreOsCluster "${other.node.path}" is already named ${this.plan.name} (artifact folders and Terraform ids would overwrite each other)`,
        },
      ]);
    }
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
}
