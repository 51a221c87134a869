/**
 * Environment variable that keeps the creation stack of every token (set it
 * to 1 when a Terraform reference fails to resolve and you need to see which
 * code made it).
 */
export const TOKEN_TRACES_VARIABLE = "COREOS_CLUSTER_TOKEN_TRACES";

/** What a token made by `withoutTokenTraces` has as its creation stack. */
export const TOKEN_TRACE_MARKER = `(not recorded: set ${TOKEN_TRACES_VARIABLE}=1 to record where tokens are made)`;

type PrepareStackTrace = NonNullable<ErrorConstructor["prepareStackTrace"]>;

let active = false;

/**
 * Runs `build` — code that creates many cdktf resources — without cdktf
 * recording a creation stack for each token (reference, nested block)
 * made meanwhile. cdktf captures and formats the full call stack of every
 * token it makes (aws-cdk does so only with CDK_DEBUG): for an EC2 instance
 * that is some 30 stacks, the larger part of the synth's time and memory.
 * Here cdktf's capture gets one marker line instead. Errors keep their
 * stacks: V8 formats an error's stack when it is read, and stacks of errors
 * read inside go to the formatter in place before. The formatter is put back
 * when `build` returns or throws.
 */
export function withoutTokenTraces<T>(build: () => T): T {
  const flag = process.env[TOKEN_TRACES_VARIABLE];
  if (active || (flag !== undefined && flag !== "" && flag !== "0")) return build();
  const previous = Error.prepareStackTrace;
  const skipTokenTraces: PrepareStackTrace = (target, callSites) => {
    // cdktf (and constructs) capture into plain objects; errors are Error instances.
    if (target instanceof Error) {
      return previous
        ? previous(target, callSites)
        : [String(target), ...callSites.map((c) => `    at ${c}`)].join("\n");
    }
    return `Error\n${TOKEN_TRACE_MARKER}`;
  };
  active = true;
  Error.prepareStackTrace = skipTokenTraces;
  try {
    return build();
  } finally {
    Error.prepareStackTrace = previous;
    active = false;
  }
}
