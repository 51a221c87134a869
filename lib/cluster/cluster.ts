import { TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { ClusterConfigError } from "../core/errors";
import { Policy } from "../policy/policy";
import { CoreOsClusterProps, NodeFile, SystemdUnit } from "./props";
import { FrontMember, IFrontTarget } from "../front/target";
import { OperatingSystem } from "./operating-system";
import { ClusterPlan, defaultClusterName, isClusterName, NodePlan, planCluster } from "./plan";
import { RebootStrategy } from "./reboot-strategy";
import { nodeConfig, nodeIgnitionJson, releaseRendered } from "../render/ignition-cache";
import { Provisioning } from "./provisioning";
import { renderPlanSummary } from "../render/plan-summary";
import { onSynthesize, SynthesizedFile, SynthesizedFiles } from "../core/synthesized-files";
import {
  MEMBERSHIP_RECORD,
  parseMembershipRecord,
  renderMembershipRecord,
} from "../etcd/membership";
import { clusterStateLocation, StateFiles } from "../etcd/state-directory";
import { CertificateIssuer, EtcdTlsMaterial, MachineCredentials } from "../etcd/tls";

/** Artifact folder of every cluster, relative to the stack folder. */
export const CLUSTERS_DIRECTORY = "clusters";
/** Folder of the nodes' cloud-configs (Provisioning.CLOUD_CONFIG) in an artifact folder. */
export const CLOUD_CONFIG_DIRECTORY = "cloud-config";

/** One node as targets and users see it. */
export interface ClusterNode extends NodePlan {
  /**
   * The node's Ignition config (JSON text). With Provisioning.CLOUD_CONFIG
   * the same model as Ignition, for reference; the machine gets `config`.
   */
  readonly ignition: string;
  /** Where the Ignition file lies, relative to the stack folder. */
  readonly ignitionPath: string;
  /** How the config reaches the machine. */
  readonly provisioning: Provisioning;
  /** The config the machine gets: Ignition JSON or `#cloud-config` YAML. */
  readonly config: string;
  /** Where `config` lies, relative to the stack folder. */
  readonly configPath: string;
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
  /**
   * The state folder: etcd's CA and certificates, the membership last
   * synthesized. Absolute; keep it like Terraform state, out of git.
   */
  public readonly stateDirectory: string;
  /**
   * False in a unit test's app without a state folder of its own: deploy-time
   * records (etcd membership, AWS rollout) are not kept.
   * @internal
   */
  public readonly _recordsDeployState: boolean;
  private readonly issuer?: CertificateIssuer;
  /** The plan as props gave it (with etcd's TLS material), before failover services add to it. */
  private readonly basePlan: ClusterPlan;
  private readonly added: { readonly by: string; readonly content: NodeContent }[] = [];
  /** Files targets add to the artifact folder, made when the stack is written. */
  private readonly targetArtifacts: (() => Record<string, SynthesizedFile>)[] = [];
  private finalPlan?: ClusterPlan;

  constructor(scope: Construct, id: string, props: CoreOsClusterProps = {}) {
    super(scope, id);
    // The state folder is named after the cluster: a name the props may not give is checked by the plan.
    const name = typeof props?.name === "string" ? props.name : defaultClusterName(id);
    const state = clusterStateLocation(this, name);
    this.stateDirectory = state.directory;
    const store = new StateFiles(this.stateDirectory);
    this._recordsDeployState = state.recordsDeployState;
    const recorded = state.recordsDeployState && isClusterName(name);
    const planned = planCluster(props, {
      id,
      path: this.node.path,
      isToken: (v) => Token.isUnresolved(v),
      // A name the plan will reject names no folder to read from.
      previousMembership: recorded
        ? parseMembershipRecord(store.read(MEMBERSHIP_RECORD))
        : undefined,
      membershipRecordFile: `${this.stateDirectory}/${MEMBERSHIP_RECORD}`,
    });
    this.clusterName = planned.name;
    // Before any key is made or record kept: another cluster of this name would share them.
    this.assertNameUnique();
    // What this synth decided about membership is remembered once the synth writes its output.
    if (recorded) {
      onSynthesize(this, () =>
        store.write(MEMBERSHIP_RECORD, renderMembershipRecord(planned.etcd.record)),
      );
    }
    const source = planned.etcd.tlsSource;
    let tls: EtcdTlsMaterial | undefined;
    if (source) {
      this.issuer = new CertificateIssuer(source.certificateAuthority(store, planned.name), store);
      const machines: Record<string, MachineCredentials> = {};
      for (const n of planned.nodes) {
        machines[n.name] = {
          member: n.etcdMember ? this.issuer.member(n.name, n.address) : undefined,
          client: this.issuer.client(n.name),
        };
      }
      tls = { caCertificatePem: this.issuer.caCertificatePem, machines };
    }
    this.basePlan = { ...planned, etcd: { ...planned.etcd, tls } };
    // The policy reads the cluster's own props; failover services are subjects of their own.
    Policy._declare(this, { kind: "cluster", plan: () => this.basePlan });
    this.os = this.basePlan.os;
    this.rebootStrategy = this.basePlan.rebootStrategy;
    this.etcdEndpoints = this.basePlan.etcd.clientEndpoints;
    this.artifactDirectory = `${CLUSTERS_DIRECTORY}/${this.basePlan.name}`;

    const ignitionDir = "ignition";
    const provisioning = this.basePlan.provisioning;
    const cloudConfig = provisioning === Provisioning.CLOUD_CONFIG;
    this.nodes = this.basePlan.nodes.map((n) => {
      const ignitionPath = `${this.artifactDirectory}/${ignitionDir}/${n.name}.ign`;
      const node = {
        ...n,
        ignitionPath,
        provisioning,
        configPath: cloudConfig
          ? `${this.artifactDirectory}/${CLOUD_CONFIG_DIRECTORY}/${n.name}.yml`
          : ignitionPath,
      };
      // Rendered on first read, from the final plan: reading it fixes the plan (failover
      // services can add no more), so the cache, keyed by that plan, never holds older text.
      Object.defineProperties(node, {
        ignition: {
          enumerable: true,
          get: () => nodeIgnitionJson(this.plan, this.plan.nodes[n.index]),
        },
        config: { enumerable: true, get: () => nodeConfig(this.plan, this.plan.nodes[n.index]) },
      });
      return node as ClusterNode;
    });
    this.activeNodes = this.nodes.filter((n) => !n.standby);
    this.standbyNodes = this.nodes.filter((n) => n.standby);

    // Node configs hold the nodes' private keys: readable by the owner only.
    const mode = tls ? 0o600 : 0o644;
    new SynthesizedFiles(this, "Artifacts", {
      directory: this.artifactDirectory,
      files: () => {
        const files: Record<string, string | SynthesizedFile> = {
          "cluster.json": renderPlanSummary(this.plan, ignitionDir, CLOUD_CONFIG_DIRECTORY),
          // Where the state folder is, for deploy-time steps (Terraform reads no absolute paths).
          "state-directory": `${this.stateDirectory}\n`,
        };
        for (const n of this.nodes) {
          files[`${ignitionDir}/${n.name}.ign`] = { contents: n.ignition, mode };
          if (n.configPath !== n.ignitionPath) {
            files[`${CLOUD_CONFIG_DIRECTORY}/${n.name}.yml`] = { contents: n.config, mode };
          }
        }
        for (const a of this.added) Object.assign(files, a.content.artifacts ?? {});
        for (const make of this.targetArtifacts) Object.assign(files, make());
        return files;
      },
      // The nodes' texts stay in memory until their files are written, not through the rest of the synth.
      onWritten: () => releaseRendered(this.plan),
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
   * a target (or anything else) has read the plan or a node's Ignition.
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

  /**
   * Adds files a target gives Terraform to the cluster's artifact folder (the
   * AWS target's user data), made when the stack is written: one folder, so
   * a removed node's file goes with the rest of its artifacts.
   * @internal
   */
  public _addTargetArtifacts(files: () => Record<string, SynthesizedFile>): void {
    this.targetArtifacts.push(files);
  }

  /**
   * etcd client credentials for another machine of this cluster's
   * environment (a front machine's reboot lock), issued by the cluster's CA
   * and kept in its state folder; undefined when etcd runs without TLS.
   */
  public etcdClientCredentials(machine: string): MachineCredentials | undefined {
    return this.issuer ? { client: this.issuer.client(machine) } : undefined;
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
      .find((c) => c instanceof CoreOsCluster && c !== this && c.clusterName === this.clusterName);
    if (other) {
      throw new ClusterConfigError(`CoreOsCluster "${this.node.path}"`, [
        {
          prop: "name",
          value: this.clusterName,
          allowed: `a name no other cluster of stack "${TerraformStack.of(this).node.id}" uses: CoreOsCluster "${other.node.path}" is already named ${this.clusterName} (artifact folders, Terraform ids and the etcd state folder would be shared)`,
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
