/**
 * One rejected prop: which prop, the value given and what is allowed.
 */
export interface PropIssue {
  /** Dotted path of the prop, e.g. `etcd.members`. */
  readonly prop: string;
  /** The value the user gave. */
  readonly value: unknown;
  /** What would have been accepted, and why, in words. */
  readonly allowed: string;
}

/** Formats a user value for an error message: short, unambiguous, never multi-line. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const oneLine = value.replace(/\s+/g, " ");
    return JSON.stringify(oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine);
  }
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Thrown at synth time when props cannot be turned into a plan. It lists every
 * rejected prop at once, so a user fixes them in one round, and it is thrown
 * before anything is written to the output folder.
 */
export class ClusterConfigError extends Error {
  public readonly issues: readonly PropIssue[];
  /** What was rejected: a construct (`CoreOsCluster "app/core"`) or a settings source. */
  public readonly subject: string;

  /**
   * @param subject the construct (or settings source) the issues belong to
   * @param kind what the issues are about, in the first line: "props" of a
   *   construct, "settings" of a file or the environment
   */
  constructor(subject: string, issues: readonly PropIssue[], kind = "props") {
    const lines = issues.map(
      (i) => `  - ${i.prop}: got ${describeValue(i.value)}; allowed: ${i.allowed}`,
    );
    super(`Invalid ${kind} for ${subject}:\n${lines.join("\n")}`);
    this.name = "ClusterConfigError";
    this.issues = issues;
    this.subject = subject;
  }
}

/**
 * Collects issues while a set of props is checked, then throws them together.
 */
export class IssueCollector {
  private readonly found: PropIssue[] = [];

  add(prop: string, value: unknown, allowed: string): void {
    this.found.push({ prop, value, allowed });
  }

  get issues(): readonly PropIssue[] {
    return this.found;
  }

  throwIfAny(construct: string): void {
    if (this.found.length > 0) throw new ClusterConfigError(construct, this.found);
  }
}
