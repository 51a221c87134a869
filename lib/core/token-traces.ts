import type { TerraformElement } from "cdktf";

/**
 * Environment variable that keeps the creation stack of every token (set it
 * to 1 when a Terraform reference fails to resolve and you need to see which
 * code made it).
 */
export const TOKEN_TRACES_VARIABLE = "COREOS_CLUSTER_TOKEN_TRACES";

let active = false;

/**
 * Runs `build` — code that creates many cdktf resources — without V8
 * capturing call stacks meanwhile, so that cdktf records no creation stack
 * for the tokens (references, nested blocks, dependencies) made then.
 *
 * cdktf captures and formats the whole call stack of every token it makes
 * (aws-cdk does so only with CDK_DEBUG): some 30 per EC2 instance, the
 * larger part of the synth's time and of the construct tree's memory.
 * `Error.stackTraceLimit` is made an accessor for the duration: V8 captures
 * a stack only while it is a plain number, and cdktf's own assignments to it
 * are ignored. The limit is put back when `build` returns or throws; an error
 * thrown without a stack gets the stack of this call.
 */
export function withoutTokenTraces<T>(build: () => T): T {
  const flag = process.env[TOKEN_TRACES_VARIABLE];
  const limit = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
  if (active || !limit?.configurable || (flag !== undefined && flag !== "" && flag !== "0")) {
    return build();
  }
  active = true;
  Object.defineProperty(Error, "stackTraceLimit", {
    configurable: true,
    enumerable: limit.enumerable,
    get: () => limit.value,
    set: () => undefined,
  });
  try {
    return build();
  } catch (e) {
    Object.defineProperty(Error, "stackTraceLimit", limit);
    if (e instanceof Error && e.stack === undefined) Error.captureStackTrace(e, withoutTokenTraces);
    throw e;
  } finally {
    Object.defineProperty(Error, "stackTraceLimit", limit);
    active = false;
  }
}

/** Per class of element: a prototype below the class's whose `fqn` runs without traces. */
const untracedPrototypes = new WeakMap<object, object>();

/**
 * Makes the first `element.fqn` (its address, `aws_instance.core_core-01`,
 * a token cdktf makes when something depends on the element, usually while
 * it resolves the stack, deep in the call stack) run without a stack trace
 * too. The element's logical id stays free to override until then. (The
 * element gets a prototype below its class's: an own accessor per element
 * would turn each into a slow dictionary object.)
 */
export function fqnWithoutTrace<T extends TerraformElement>(element: T): T {
  const proto = Object.getPrototypeOf(element) as object;
  let untraced = untracedPrototypes.get(proto);
  if (!untraced) {
    let owner: object | null = proto;
    let getter: (() => string) | undefined;
    while (owner && !getter) {
      getter = Object.getOwnPropertyDescriptor(owner, "fqn")?.get;
      owner = Object.getPrototypeOf(owner);
    }
    if (!getter) return element;
    const fqn = getter;
    untraced = Object.create(proto, {
      fqn: {
        configurable: true,
        get(this: TerraformElement) {
          return withoutTokenTraces(() => fqn.call(this));
        },
      },
    }) as object;
    untracedPrototypes.set(proto, untraced);
    // A class whose instances already get the untraced prototype keeps it.
    untracedPrototypes.set(untraced, untraced);
  }
  if (untraced !== proto) Object.setPrototypeOf(element, untraced);
  return element;
}
