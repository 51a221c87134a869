import {
  anyToHclTerraform,
  anyToTerraform,
  hashMapper,
  hashMapperHcl,
  TerraformMetaArguments,
  TerraformResource,
  TerraformStack,
} from "cdktf";
import { Construct, IValidation } from "constructs";
import { ValidateTerraformVersion } from "cdktf/lib/validations/validate-terraform-version";
import {
  META_ARGUMENT_KEYS,
  metaArgumentsJson,
  onlyKnownKeys,
  ResourceKind,
} from "../core/resource-blocks";

/** Props of TerraformData: the `input` and `triggers_replace` of a `terraform_data` resource. */
export interface TerraformDataConfig extends TerraformMetaArguments {
  readonly input?: Readonly<Record<string, string>>;
  readonly triggersReplace?: Readonly<Record<string, string>>;
}

/** Stacks that already validate the Terraform version for terraform_data. */
const validatedStacks = new WeakSet<TerraformStack>();

/** What the version check found, by PATH: `terraform version` runs once per process. */
const versionChecks = new Map<string, string[]>();

/**
 * cdktf's check that Terraform is 1.4 or newer (what DataResource adds to
 * each resource), run once per process and PATH however many stacks and
 * synths ask: an app with two Vagrant stacks, or a test synthesizing a
 * hundred, runs `terraform version` once.
 */
class TerraformVersionCheck implements IValidation {
  private readonly check = new ValidateTerraformVersion(
    ">=1.4",
    "The built-in Terraform data resource is only supported for Terraform >=1.4. Please upgrade your Terraform version.",
  );

  public validate(): string[] {
    const key = process.env.PATH ?? "";
    let found = versionChecks.get(key);
    if (!found) {
      found = this.check.validate();
      versionChecks.set(key, found);
    }
    return [...found];
  }
}

/** Adds the Terraform version check to `stack` unless it has it. */
function checkTerraformVersionOnce(stack: TerraformStack): void {
  if (!validatedStacks.has(stack)) {
    validatedStacks.add(stack);
    stack.node.addValidation(new TerraformVersionCheck());
  }
}

/**
 * Terraform's built-in `terraform_data` resource, synthesized exactly like
 * cdktf's DataResource. DataResource adds a validation to every resource that
 * runs `terraform version` during synth (≈ 50 ms each: 50 s for 1,000 nodes);
 * this adds the same validation (Terraform >= 1.4) once per stack, and it
 * runs once per process.
 */
export class TerraformData extends TerraformResource {
  private readonly input?: Readonly<Record<string, string>>;
  private readonly triggersReplace?: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, config: TerraformDataConfig) {
    super(scope, id, {
      terraformResourceType: "terraform_data",
      terraformGeneratorMetadata: { providerName: "terraform" },
      dependsOn: config.dependsOn,
      provisioners: config.provisioners,
      lifecycle: config.lifecycle,
    });
    this.input = config.input;
    this.triggersReplace = config.triggersReplace;
    checkTerraformVersionOnce(TerraformStack.of(this));
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.input),
      triggers_replace: hashMapper(anyToTerraform)(this.triggersReplace),
    };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return {
      input: hashMapperHcl(anyToHclTerraform)(this.input),
      triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggersReplace),
    };
  }
}

/** `terraform_data` as a ResourceKind (many in one ResourceBlocks), with TerraformData's version check. */
export const TERRAFORM_DATA: ResourceKind<TerraformDataConfig> = {
  terraformResourceType: "terraform_data",
  toJson(c) {
    onlyKnownKeys("terraform_data", c, ["input", "triggersReplace", ...META_ARGUMENT_KEYS]);
    return {
      input: hashMapper(anyToTerraform)(c.input),
      triggers_replace: hashMapper(anyToTerraform)(c.triggersReplace),
      ...metaArgumentsJson(c),
    };
  },
  construct: (scope, id, c) => new TerraformData(scope, id, c),
  prepareStack: checkTerraformVersionOnce,
};
