import { TerraformElement, TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { AwsPlan } from "./plan";
import { fqnWithoutTrace } from "../core/token-traces";

/**
 * What every part of the AWS target (network, security, nodes, load
 * balancer) shares: the construct that owns the resources, the plan, the
 * provider, and how resources are named and tagged.
 */
export interface AwsParts {
  readonly scope: Construct;
  readonly plan: AwsPlan;
  readonly clusterName: string;
  readonly provider?: TerraformProvider;
  /** Tags of a resource called `name`: Name, the cluster, the user's tags. */
  tags(name: string): { [key: string]: string };
  /** Gives `element` the readable, stable logical id `<cluster>_<name>` (aws_instance.core_core-01). */
  named<T extends TerraformElement>(element: T, name: string): T;
  /** The logical id `named` gives: `<cluster>_<name>`. */
  logicalId(name: string): string;
  /** Per-node resources as one construct per resource (see ResourceBlocks). */
  readonly constructPerResource: boolean;
}

/** The AwsParts of a cluster construct. */
export function awsParts(
  scope: Construct,
  plan: AwsPlan,
  provider: TerraformProvider | undefined,
  constructPerResource = false,
): AwsParts {
  const clusterName = plan.cluster.name;
  return {
    scope,
    plan,
    clusterName,
    provider,
    tags: (name) => ({ Name: name, "coreos-cluster": clusterName, ...plan.tags }),
    named: (element, name) => {
      element.overrideLogicalId(`${clusterName}_${name}`);
      return fqnWithoutTrace(element);
    },
    logicalId: (name) => `${clusterName}_${name}`,
    constructPerResource,
  };
}
