import { TerraformResource, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import type { Resource as NullResourceType } from "@cdktf/provider-null/lib/resource";
import type { NullProvider as NullProviderType } from "@cdktf/provider-null/lib/provider";
import { CoreOsCluster } from "../cluster/cluster";
import { checkTargetProps } from "../cluster/target-props";
import { ClusterConfigError } from "../core/errors";
import { NlbFront } from "../front/front";
import { LifecycleResource, VagrantClusterOptions, VagrantProvider } from "./options";
import { planVagrant, VagrantPlan } from "./plan";
import { Policy } from "../policy/policy";
import {
  boxAddCommand,
  frontConfigCommand,
  GENERATION_ENV,
  nodeDestroyCommand,
  nodeUpCommand,
  pruneCommand,
  renderConfigRb,
  renderVagrantfile,
} from "../render/vagrant";
import { SynthesizedFile, SynthesizedFiles } from "../core/synthesized-files";
import { literalTerraformString } from "../render/terraform-template";
import { discoveryRetireCommand, discoveryTokenCommand } from "../render/discovery-token";
import { DISCOVERY_ENV_ARTIFACT, DiscoveryKind } from "../etcd/discovery";
import { TerraformData } from "./terraform-data";
import { fqnWithoutTrace, withoutTokenTraces } from "../core/token-traces";
import { TopologyPicture } from "../topology/picture";
import { vagrantTopology } from "./topology";

/** Artifact folder of every Vagrant environment, relative to the stack folder. */
export const VAGRANT_DIRECTORY = "vagrant";

const NULL_PROVIDER_ID = "null-provider";

/** Folder of the front's configs inside the Vagrant folder. */
const FRONT_DIRECTORY = "front";

/** haproxy.cfg of the front machines, relative to the Vagrant folder. */
const FRONT_CONFIG = `${FRONT_DIRECTORY}/haproxy.cfg`;

/** What one lifecycle resource does. */
interface LifecycleSpec {
  /** Replaces the resource when it changes. */
  readonly trigger: string;
  /** Kept in the resource for destroy-time provisioners, which may read only `self`. */
  readonly input: {
    readonly dir: string;
    readonly name?: string;
    readonly box?: string;
  };
  readonly create: string;
  /** A machine: destroyed with the resource, replaced create-first, its generation the resource id. */
  readonly destroy?: boolean;
  /** A command run when the resource is destroyed (not a machine). */
  readonly onDestroy?: string;
  readonly dependsOn: TerraformResource[];
}

/** Props of VagrantCluster. */
export interface VagrantClusterProps extends VagrantClusterOptions {
  /** The cluster to run as local VMs. */
  readonly cluster: CoreOsCluster;
  /**
   * The front to run in this environment: HAProxy on front machines
   * `front-01` (and `front-02`), rendered from the front model.
   * @default - no front
   */
  readonly front?: NlbFront | undefined;
}

/**
 * Runs a CoreOsCluster as local Vagrant machines, driven by Terraform: one
 * lifecycle resource per node (`vagrant up <node>` on create,
 * `vagrant destroy -f <node>` on destroy) whose trigger is the hash of that
 * node's inputs, after a box step all nodes depend on.
 */
export class VagrantCluster extends Construct {
  /** The validated Vagrant plan. */
  public readonly plan: VagrantPlan;
  /** The Vagrant folder, relative to the stack folder (Terraform's working directory). */
  public readonly directory: string;
  public readonly provider: VagrantProvider;
  public readonly lifecycle: LifecycleResource;
  /** The box step. */
  public readonly box: TerraformResource;
  /** Destroys machines that are no longer nodes (scale down, renames); runs when the node list changes. */
  public readonly prune: TerraformResource;
  /** One lifecycle resource per node, in node order. */
  public readonly machines: readonly TerraformResource[];
  /** Where clients reach the front (virtual address of the pair), when there is one. */
  public readonly frontAddress?: string;
  /** One lifecycle resource per front machine. */
  public readonly frontMachines: readonly TerraformResource[];
  /**
   * Makes the etcd discovery token of this cluster generation before any
   * machine (etcd.discovery other than static bootstrap); destroying it
   * retires the token.
   */
  public readonly discoveryToken?: TerraformResource;

  constructor(scope: Construct, id: string, props: VagrantClusterProps) {
    super(scope, id);
    const where = `VagrantCluster "${this.node.path}"`;
    const { cluster, front, ...options } = checkTargetProps(props, where, "VagrantClusterProps");
    const frontPlan = front?.plan(where);
    this.plan = planVagrant(
      cluster.plan,
      {
        ...options,
        front: frontPlan,
        frontCredentials: (machine) => cluster.etcdClientCredentials(machine),
      },
      this.node.path,
      (v) => Token.isUnresolved(v),
    );
    Policy._declare(this, { kind: "vagrant", plan: () => this.plan });
    this.frontAddress = this.plan.front?.address;
    this.provider = this.plan.provider;
    this.lifecycle = this.plan.lifecycle;
    this.directory = `${VAGRANT_DIRECTORY}/${cluster.clusterName}`;
    TopologyPicture.of(this).add(() => vagrantTopology(this.plan, this.directory));

    const files: Record<string, string | SynthesizedFile> = {
      Vagrantfile: renderVagrantfile(this.plan),
      "config.rb": renderConfigRb(this.plan),
    };
    // Node configs hold private keys (etcd's certificates): only the owner reads them.
    const secret = (contents: string) => ({ contents, mode: 0o600 });
    for (const n of this.plan.nodes) files[n.configFile] = secret(n.config);
    if (this.plan.front) {
      files[FRONT_CONFIG] = this.plan.front.haproxyCfg;
      for (const m of this.plan.front.machines) {
        files[m.configFile] = secret(m.config);
        if (m.keepalivedConf)
          files[`${FRONT_DIRECTORY}/${m.name}-keepalived.conf`] = m.keepalivedConf;
      }
    }
    new SynthesizedFiles(this, "Files", { directory: this.directory, files });

    const resources = withoutTokenTraces(() => this.lifecycleResources());
    this.box = resources.box;
    this.prune = resources.prune;
    this.discoveryToken = resources.discoveryToken;
    this.machines = resources.machines;
    this.frontMachines = resources.frontMachines;
  }

  /** The box step, the prune step, one lifecycle resource per node and per front machine. */
  private lifecycleResources() {
    const dir = this.directory;
    const timeout = this.plan.readyTimeoutSeconds;
    const box = this.lifecycleResource("box", {
      trigger: `${this.plan.provider} ${this.plan.boxName} ${this.plan.boxUrl}`,
      input: { box: this.plan.boxName, dir },
      create: boxAddCommand(this.plan),
      dependsOn: [],
    });

    const names = [...this.plan.nodes, ...(this.plan.front?.machines ?? [])].map((n) => n.name);
    const prune = this.lifecycleResource("prune", {
      trigger: names.join(" "),
      input: { dir },
      create: pruneCommand(names),
      dependsOn: [box],
    });

    // A discovery token per cluster generation, made before any machine: this
    // resource is the generation (destroy retires the token, a new deploy makes one).
    const discovery = this.plan.cluster.etcd.discovery;
    const discoveryToken =
      discovery.kind === DiscoveryKind.STATIC
        ? undefined
        : this.lifecycleResource("discovery", {
            trigger: `${discovery.kind} ${discovery.endpoints.join(",")} ${discovery.size} ${this.plan.cluster.etcd.clusterToken}`,
            input: { dir },
            create: discoveryTokenCommand(discovery, DISCOVERY_ENV_ARTIFACT),
            onDestroy: discoveryRetireCommand(DISCOVERY_ENV_ARTIFACT),
            dependsOn: [prune],
          });
    const first = discoveryToken ? [prune, discoveryToken] : [prune];

    const machines: TerraformResource[] = [];
    for (const [i, node] of this.plan.nodes.entries()) {
      // Old machines go before new ones come up. VirtualBox: one node at a time, in order.
      const previous = machines[machines.length - 1];
      const after = this.plan.parallel || !previous ? first : [...first, previous];
      machines.push(
        this.lifecycleResource(node.name, {
          trigger: node.inputsHash,
          input: { name: node.name, dir },
          create: nodeUpCommand(
            this.plan.provider,
            node.name,
            timeout,
            this.plan.cluster.nodes[i].etcdMember ? "etcd member" : "etcd client",
          ),
          destroy: true,
          dependsOn: after,
        }),
      );
    }

    const frontMachines: TerraformResource[] = [];
    let previousConfig: TerraformResource | undefined;
    for (const m of this.plan.front?.machines ?? []) {
      const previous = frontMachines[frontMachines.length - 1] ?? machines[machines.length - 1];
      const machine = this.lifecycleResource(m.name, {
        trigger: m.inputsHash,
        input: { name: m.name, dir },
        create: nodeUpCommand(this.plan.provider, m.name, timeout, "front"),
        destroy: true,
        dependsOn: this.plan.parallel ? [prune] : [prune, previous],
      });
      frontMachines.push(machine);
      // The config step reloads HAProxy when only haproxy.cfg changed (a drain): no new machine.
      previousConfig = this.lifecycleResource(`${m.name}-config`, {
        trigger: this.plan.front?.haproxyCfgHash as string,
        input: { dir },
        create: frontConfigCommand(m.name, FRONT_CONFIG),
        dependsOn: previousConfig ? [machine, previousConfig] : [machine],
      });
    }
    return { box, prune, discoveryToken, machines, frontMachines };
  }

  private lifecycleResource(id: string, spec: LifecycleSpec): TerraformResource {
    const resource = this.createLifecycleResource(id, spec);
    // Readable, stable addresses in `terraform plan`: null_resource.vagrant_core_core-01.
    resource.overrideLogicalId(`vagrant_${this.plan.cluster.name}_${id}`);
    return fqnWithoutTrace(resource);
  }

  private createLifecycleResource(id: string, spec: LifecycleSpec): TerraformResource {
    const terraformData = this.plan.lifecycle === LifecycleResource.TERRAFORM_DATA;
    // Destroy-time provisioners may only read `self`: the name and folder travel in the resource.
    const selfRef = terraformData ? "self.input" : "self.triggers";
    // Text from the plan is literal for Terraform: "${" in a URL must not be interpolated.
    const input = Object.fromEntries(
      Object.entries(spec.input).map(([k, v]) => [k, literalTerraformString(v)]),
    );
    const trigger = literalTerraformString(spec.trigger);
    // A machine's steps know which resource instance made it (see nodeUpCommand).
    const environment = spec.destroy ? { [GENERATION_ENV]: "${self.id}" } : undefined;
    const provisioners = [
      {
        type: "local-exec" as const,
        command: literalTerraformString(spec.create),
        workingDir: input.dir,
        environment,
      },
      ...(spec.destroy
        ? [
            {
              type: "local-exec" as const,
              when: "destroy" as const,
              command: nodeDestroyCommand(`\${${selfRef}.name}`),
              workingDir: `\${${selfRef}.dir}`,
              environment,
            },
          ]
        : []),
      ...(spec.onDestroy
        ? [
            {
              type: "local-exec" as const,
              when: "destroy" as const,
              command: literalTerraformString(spec.onDestroy),
              workingDir: `\${${selfRef}.dir}`,
            },
          ]
        : []),
    ];
    // Machines are replaced create-first: the create step replaces the running machine itself,
    // so with the chain of dependencies nodes are replaced one after another, never all at once.
    const lifecycle = spec.destroy ? { createBeforeDestroy: true } : undefined;
    if (terraformData) {
      return new TerraformData(this, id, {
        input,
        triggersReplace: { inputs: trigger },
        provisioners,
        dependsOn: spec.dependsOn,
        lifecycle,
      });
    }
    const { NullResource, NullProvider } = loadNullProvider(this.node.path);
    // One default null provider per stack, however many Vagrant clusters it holds.
    const stack = TerraformStack.of(this);
    if (!stack.node.tryFindChild(NULL_PROVIDER_ID)) new NullProvider(stack, NULL_PROVIDER_ID);
    return new NullResource(this, id, {
      triggers: { ...input, inputs: trigger },
      provisioners,
      dependsOn: spec.dependsOn,
      lifecycle,
    });
  }
}

/** The package `LifecycleResource.NULL_RESOURCE` needs; loaded only when it is chosen. */
export const NULL_PROVIDER_PACKAGE = "@cdktf/provider-null";

/**
 * Loads @cdktf/provider-null on first use, so that users of the default
 * lifecycle (terraform_data) need not install it.
 */
function loadNullProvider(constructPath: string): {
  NullResource: typeof NullResourceType;
  NullProvider: typeof NullProviderType;
} {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return {
      NullResource: require(`${NULL_PROVIDER_PACKAGE}/lib/resource`).Resource,
      NullProvider: require(`${NULL_PROVIDER_PACKAGE}/lib/provider`).NullProvider,
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch (e) {
    if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
    throw new ClusterConfigError(`VagrantCluster "${constructPath}"`, [
      {
        prop: "lifecycle",
        value: LifecycleResource.NULL_RESOURCE,
        allowed: `${LifecycleResource.TERRAFORM_DATA} (the default, built into Terraform), or ${LifecycleResource.NULL_RESOURCE} with the package ${NULL_PROVIDER_PACKAGE} installed (npm install ${NULL_PROVIDER_PACKAGE})`,
      },
    ]);
  }
}
