import {
  dependable,
  IResolvable,
  IResolveContext,
  ITerraformDependable,
  lifecycleToTerraform,
  ref,
  TerraformElement,
  TerraformMetaArguments,
  TerraformResource,
  TerraformStack,
  Token,
  Tokenization,
} from "cdktf";
import { keysToSnakeCase } from "cdktf/lib/util";
import { Construct } from "constructs";
import { fqnWithoutTrace, withoutTokenTraces } from "./token-traces";

/**
 * A resource emitted by a ResourceBlocks: its Terraform address and
 * references to it, as a provider class's construct would give them.
 */
export class ResourceReference implements ITerraformDependable {
  private fqnToken?: string;
  private attributes?: Map<string, string>;

  constructor(
    private readonly stack: TerraformStack,
    /** Terraform resource type, e.g. `aws_instance`. */
    public readonly terraformResourceType: string,
    /** Its name in the configuration (the logical id), e.g. `core_core-01`. */
    public readonly logicalId: string,
  ) {}

  /** The resource's address, e.g. `aws_instance.core_core-01`. */
  public get address(): string {
    return `${this.terraformResourceType}.${this.logicalId}`;
  }

  /** For `dependsOn` (ITerraformDependable): a reference to the resource. */
  public get fqn(): string {
    this.fqnToken ??= withoutTokenTraces(() => Token.asString(ref(this.address, this.stack)));
    return this.fqnToken;
  }

  /**
   * A reference to one of its attributes by Terraform name (`id`,
   * `public_ip`), made on the first call (with that call's stack, unless
   * made inside withoutTokenTraces) and the same token after.
   */
  public get(attribute: string): string {
    this.attributes ??= new Map();
    let token = this.attributes.get(attribute);
    if (token === undefined) {
      token = Token.asString(ref(`${this.address}.${attribute}`, this.stack));
      this.attributes.set(attribute, token);
    }
    return token;
  }
}

/** How a kind of resource is synthesized: as a block of JSON, or (for HCL output) as its provider class. */
export interface ResourceKind<C> {
  readonly terraformResourceType: string;
  /**
   * The resource's attributes in Terraform JSON, meta-arguments included:
   * what the provider class synthesizes for the same config
   * (__tests__/resource-blocks.test.ts compares them).
   */
  toJson(config: C): Record<string, unknown>;
  /** The provider class's construct for `config`. */
  construct(scope: Construct, id: string, config: C): TerraformResource;
  /** Once per stack that emits this kind (e.g. a validation the provider class would add). */
  prepareStack?(stack: TerraformStack): void;
}

/** `cdktf synth --hcl` writes HCL, one construct's resource per fragment (cdktf's HCL renderer). */
const hclOutput = () =>
  process.env.SYNTH_HCL_OUTPUT === "true" || process.env.SYNTH_HCL_OUTPUT === "1";

interface Entry<C> {
  readonly id: string;
  readonly logicalId: string;
  readonly config: C;
}

/**
 * Many resources of one kind (one per node) emitted by one construct, with
 * the addresses, attributes and `//` metadata (construct path) each would
 * have as a construct of its own under `scope`.
 *
 * A construct per resource costs cdktf about 0.5 ms and 33 KiB each from
 * construction to synth (20,000 EC2 instances: 12.8 s and 890 MiB; as JSON
 * blocks of one element 2.6 s and 220 MiB), and 5,000 nodes have 20,000
 * such resources (instance, address reservation, target, rollout marker).
 * With HCL output, or when `constructPerResource` is set, each resource is
 * its provider class's construct instead (same configuration).
 */
export class ResourceBlocks<C> extends TerraformElement {
  private readonly entries: Entry<C>[] = [];
  private readonly names = new Set<string>();
  private readonly parent: Construct;
  private readonly stack: TerraformStack;
  private readonly asConstructs: boolean;

  constructor(
    scope: Construct,
    id: string,
    private readonly kind: ResourceKind<C>,
    options: { readonly constructPerResource?: boolean } = {},
  ) {
    super(scope, id, kind.terraformResourceType);
    this.parent = scope;
    this.stack = TerraformStack.of(scope);
    this.asConstructs = options.constructPerResource === true || hclOutput();
    kind.prepareStack?.(this.stack);
  }

  /**
   * Adds the resource `logicalId` made from `config`; `id` is the construct
   * id it would have under this element's scope (its path in the metadata).
   */
  public add(id: string, logicalId: string, config: C): ResourceReference {
    if (this.names.has(logicalId)) {
      throw new Error(
        `${this.kind.terraformResourceType}.${logicalId} is emitted twice by ${this.node.path}`,
      );
    }
    this.names.add(logicalId);
    if (this.asConstructs) {
      const resource = this.kind.construct(this.parent, id, config);
      resource.overrideLogicalId(logicalId);
      fqnWithoutTrace(resource);
    } else {
      this.entries.push({ id, logicalId, config });
    }
    return new ResourceReference(this.stack, this.kind.terraformResourceType, logicalId);
  }

  public toTerraform(): Record<string, unknown> {
    if (this.entries.length === 0) return {};
    return {
      resource: { [this.kind.terraformResourceType]: new BlocksValue(() => this.blocks()) },
    };
  }

  private blocks(): Record<string, Record<string, unknown>> {
    // Tokens made here (dependencies) would otherwise each capture a call stack.
    return withoutTokenTraces(() => {
      const blocks: Record<string, Record<string, unknown>> = {};
      const path = this.parent.node.path;
      for (const e of this.entries) {
        blocks[e.logicalId] = {
          ...this.kind.toJson(e.config),
          "//": { metadata: { path: `${path}/${e.id}`, uniqueId: e.logicalId } },
        };
      }
      return blocks;
    });
  }
}

/**
 * The blocks as a value cdktf resolves. cdktf resolves every element's
 * configuration once to prepare the stack (to find references to other
 * stacks) and throws it away, and then once more for the output: in the
 * preparing pass this gives only the distinct references the blocks hold,
 * which is all that pass looks for, and not 5,000 blocks to copy.
 */
class BlocksValue implements IResolvable {
  public readonly creationStack: string[] = [];

  constructor(private readonly build: () => Record<string, Record<string, unknown>>) {}

  public resolve(context: IResolveContext): unknown {
    const blocks = this.build();
    return context.preparing ? distinctReferences(blocks) : blocks;
  }

  public toString(): string {
    return Token.asString(this);
  }
}

/** Every distinct value in `blocks` that holds a token (a reference to resolve), in a list. */
function distinctReferences(blocks: Record<string, Record<string, unknown>>): unknown[] {
  const found = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (Token.isUnresolved(v)) found.add(v);
    } else if (Tokenization.isResolvable(v)) {
      found.add(v);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (typeof v === "object" && v !== null) {
      Object.values(v).forEach(visit);
    }
  };
  Object.values(blocks).forEach(visit);
  return [...found];
}

/** The meta-arguments a ResourceKind's JSON carries (metaArgumentsJson). */
export const META_ARGUMENT_KEYS = ["dependsOn", "provider", "lifecycle", "provisioners"] as const;

/** Config of the meta-arguments a ResourceKind's JSON carries. */
export type MetaArgumentsConfig = Pick<TerraformMetaArguments, (typeof META_ARGUMENT_KEYS)[number]>;

/**
 * One `depends_on` token per dependency however many resources name it
 * (cdktf keeps every token it makes until the process ends).
 */
const dependencyTokens = new WeakMap<ITerraformDependable, string>();

/** What `depends_on` lists for `d`: its address (resolved later when it is a construct). */
function dependency(d: ITerraformDependable): string {
  if (d instanceof ResourceReference) return d.address;
  let token = dependencyTokens.get(d);
  if (token === undefined) dependencyTokens.set(d, (token = dependable(d)));
  return token;
}

/**
 * `depends_on`, `provider`, `lifecycle` and `provisioner` in Terraform JSON,
 * as TerraformResource synthesizes them.
 */
export function metaArgumentsJson(config: MetaArgumentsConfig): Record<string, unknown> {
  return {
    ...keysToSnakeCase({
      dependsOn: config.dependsOn?.map(dependency),
      provider: config.provider?.fqn,
      lifecycle: lifecycleToTerraform(config.lifecycle),
    }),
    provisioner: config.provisioners?.map(({ type, ...props }) => ({
      [type]: keysToSnakeCase(props),
    })),
  };
}

/**
 * Throws when `config` has a key the kind's JSON does not carry: a new
 * field in the config must be added to its toJson (and its test), not
 * dropped silently.
 */
export function onlyKnownKeys(kind: string, config: object, known: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (!known.includes(key) && (config as Record<string, unknown>)[key] !== undefined) {
      throw new Error(`${kind}: config key ${key} is not synthesized by its ResourceKind`);
    }
  }
}
