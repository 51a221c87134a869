import { Annotations, Aspects, IAspect, TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { describeValue, IssueCollector } from "../core/errors";
import { isPlainObject } from "../core/validate";
import { POLICY_RULES, PolicyFinding, PolicyLevel, PolicyRule, PolicySubject } from "./rules";

/** Context key (cdktf.json "context", or app context) listing rule ids acknowledged app-wide. */
export const ACKNOWLEDGED_RULES_CONTEXT = "coreos-cluster:acknowledged-rules";

const SUBJECT = Symbol.for("coreos-cluster/policy-subject");
const ACKNOWLEDGED = Symbol.for("coreos-cluster/policy-acknowledged");

interface Marked {
  [SUBJECT]?: PolicySubject;
  [ACKNOWLEDGED]?: Map<string, string>;
}

/** One finding of one rule on one construct. */
export interface PolicyReport extends PolicyFinding {
  readonly rule: PolicyRule;
  readonly construct: IConstruct;
}

/** Thrown at synth when a rule of level ERROR finds something; nothing has been written. */
export class PolicyError extends Error {
  constructor(public readonly reports: readonly PolicyReport[]) {
    super(
      `Policy check failed (settings that are never acceptable):\n${reports
        .map((r) => `  - ${formatReport(r)}`)
        .join("\n")}`,
    );
    this.name = "PolicyError";
  }
}

function formatReport(r: PolicyReport): string {
  const kind = r.construct.constructor.name;
  return `[${r.rule.id}] ${r.rule.title}: ${kind} "${r.construct.node.path}" ${r.prop} = ${describeValue(r.value)}: ${r.message}`;
}

/**
 * The policy check, in the spirit of cdk-nag: an Aspect the constructs add
 * to their stack, so it runs on every synth. Warnings become cdktf
 * annotations (acknowledge a rule with `Policy.acknowledge` or the context
 * key to silence it); errors stop the synth before any file is written.
 */
export class Policy implements IAspect {
  /** Every rule, in id order. */
  public static readonly rules: readonly PolicyRule[] = POLICY_RULES;

  /**
   * Silences warnings of the given rules on `scope` and everything below it,
   * for a stated reason (shown as an info annotation). Error rules cannot be
   * acknowledged.
   */
  public static acknowledge(scope: IConstruct, ruleIds: readonly string[], reason: string): void {
    const issues = new IssueCollector();
    const ids: readonly string[] = Array.isArray(ruleIds)
      ? ruleIds
      : [ruleIds as unknown as string];
    if (typeof reason !== "string" || reason.trim().length === 0) {
      issues.add("reason", reason, "why the warning is acceptable here, in words");
    }
    for (const id of ids) {
      const found = POLICY_RULES.find((r) => r.id === id);
      if (!found) {
        issues.add("ruleIds", id, `a rule id: ${POLICY_RULES.map((r) => r.id).join(", ")}`);
      } else if (found.level === PolicyLevel.ERROR) {
        issues.add("ruleIds", id, "a warning rule: errors are never acceptable");
      }
    }
    issues.throwIfAny(`Policy.acknowledge on "${scope.node.path}"`);
    const marked = scope as Marked;
    marked[ACKNOWLEDGED] ??= new Map();
    for (const id of ids) marked[ACKNOWLEDGED].set(id, reason);
  }

  /**
   * Called by the library's constructs: tells the check what the construct
   * is and makes sure the check runs on its stack.
   * @internal
   */
  public static _declare(construct: IConstruct, subject: PolicySubject): void {
    Object.defineProperty(construct, SUBJECT, { value: subject, enumerable: false });
    const stack = TerraformStack.of(construct);
    if (!Aspects.of(stack).all.some((a) => a instanceof Policy))
      Aspects.of(stack).add(new Policy());
  }

  /** Every finding of every rule in the app (or below `scope`), acknowledged or not. */
  public static evaluate(scope: IConstruct): PolicyReport[] {
    return scope.node.findAll().flatMap((construct) => {
      const subject = (construct as Marked)[SUBJECT];
      const plan = subject?.plan();
      if (!subject || !plan) return [];
      return POLICY_RULES.filter((r) => r.kind === subject.kind).flatMap((rule) =>
        (rule.check as (p: typeof plan) => PolicyFinding[])(plan).map((f) => ({
          ...f,
          rule,
          construct,
        })),
      );
    });
  }

  /** Why a rule is acknowledged for a construct (itself, an ancestor, or the context), if it is. */
  public static acknowledgement(construct: IConstruct, ruleId: string): string | undefined {
    for (const c of construct.node.scopes.slice().reverse()) {
      const reason = (c as Marked)[ACKNOWLEDGED]?.get(ruleId);
      if (reason !== undefined) return reason;
    }
    const listed: unknown = construct.node.tryGetContext(ACKNOWLEDGED_RULES_CONTEXT);
    const ids = Array.isArray(listed) ? listed : isPlainObject(listed) ? Object.keys(listed) : [];
    if (!ids.includes(ruleId)) return undefined;
    const why = isPlainObject(listed) ? listed[ruleId] : undefined;
    return typeof why === "string" ? why : `listed in context ${ACKNOWLEDGED_RULES_CONTEXT}`;
  }

  public visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    // The whole app is checked before this stack writes anything, so a failing check
    // leaves no stack half written.
    const app = node.node.root;
    const reports = Policy.evaluate(app);
    const errors = reports.filter((r) => r.rule.level === PolicyLevel.ERROR);
    if (errors.length) throw new PolicyError(errors);
    for (const r of reports) {
      if (TerraformStack.of(r.construct) !== node) continue;
      const acknowledged = Policy.acknowledgement(r.construct, r.rule.id);
      const annotations = Annotations.of(r.construct);
      if (acknowledged !== undefined) {
        annotations.addInfo(`[${r.rule.id}] acknowledged: ${acknowledged}`);
      } else {
        annotations.addWarning(
          `${formatReport(r)}. Acknowledge it if intended: Policy.acknowledge(construct, ["${r.rule.id}"], "why"), or context "${ACKNOWLEDGED_RULES_CONTEXT}": ["${r.rule.id}"]`,
        );
      }
    }
  }
}
