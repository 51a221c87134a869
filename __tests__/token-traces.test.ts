import { Fn, TerraformStack, Testing, Tokenization } from "cdktf";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import {
  fqnWithoutTrace,
  TOKEN_TRACES_VARIABLE,
  withoutTokenTraces,
} from "../lib/core/token-traces";
import { CoreOsCluster, VagrantCluster } from "../lib";
import { AwsCluster } from "../lib/aws";

/** The creation stack cdktf recorded for the (first) token in `value`. */
function creationStack(value: string): string[] {
  const token = Tokenization.reverseString(value).firstToken as unknown as {
    creationStack: string[];
  };
  return token.creationStack;
}

function awsCluster(): AwsCluster {
  const stack = new TerraformStack(Testing.app(), "traces");
  const cluster = new CoreOsCluster(stack, "core", {
    nodeCount: 2,
    networkCidr: "10.0.0.0/16",
    subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
    firstHostNumber: 10,
  });
  return new AwsCluster(stack, "ec2", { cluster });
}

describe("token creation stacks", () => {
  const saved = process.env[TOKEN_TRACES_VARIABLE];
  afterEach(() => {
    if (saved === undefined) delete process.env[TOKEN_TRACES_VARIABLE];
    else process.env[TOKEN_TRACES_VARIABLE] = saved;
  });

  test("tokens made inside carry no creation stack; tokens made outside the full stack", () => {
    const inside = withoutTokenTraces(() => Fn.upper("inside"));
    expect(creationStack(inside)).toEqual([]);
    const outside = Fn.upper("outside");
    expect(creationStack(outside).length).toBeGreaterThan(3);
    expect(creationStack(outside).join("\n")).toContain("token-traces.test.ts");
  });

  /** A nested block the provider class made inside AwsCluster (the nodes' security group's timeouts). */
  function nestedBlock(aws: AwsCluster): { creationStack: string[] } {
    const group = aws.node.findAll().find((c) => c instanceof SecurityGroup) as SecurityGroup;
    return group.timeouts as unknown as { creationStack: string[] };
  }

  test("the AWS target makes its resources without stacks; references the user reads keep theirs", () => {
    delete process.env[TOKEN_TRACES_VARIABLE];
    const aws = awsCluster();
    expect(nestedBlock(aws).creationStack).toEqual([]);
    // Made when read, by the reader.
    expect(creationStack(aws.nodes[0].instanceId).join("\n")).toContain("token-traces.test.ts");
    expect(creationStack(aws.instances[0].get("private_dns")).length).toBeGreaterThan(3);
    // Read twice, the same reference.
    expect(aws.nodes[0].instanceId).toBe(aws.nodes[0].instanceId);
  });

  test(`${TOKEN_TRACES_VARIABLE}=1 records every stack`, () => {
    process.env[TOKEN_TRACES_VARIABLE] = "1";
    const aws = awsCluster();
    expect(nestedBlock(aws).creationStack.join("\n")).toContain("aws-cluster.ts");
    expect(creationStack(aws.nodes[0].instanceId).join("\n")).toContain("aws-cluster.ts");
  });

  test("an error thrown inside gets the stack of the call; errors made outside keep theirs", () => {
    let inner: Error | undefined;
    let thrown: Error | undefined;
    function callsInside(): void {
      withoutTokenTraces(() => {
        inner = new Error("inner");
        throw inner;
      });
    }
    try {
      callsInside();
    } catch (e) {
      thrown = e as Error;
    }
    expect(thrown).toBe(inner);
    expect(thrown?.stack).toMatch(/^Error: inner\n\s+at callsInside/);
    expect(new Error("outside").stack).toMatch(/^Error: outside\n\s+at /);
  });

  test("Error.stackTraceLimit is put back after a return, a throw and a nested call", () => {
    const before = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
    expect(withoutTokenTraces(() => withoutTokenTraces(() => Error.stackTraceLimit))).toBe(
      before?.value,
    );
    expect(Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")).toEqual(before);
    expect(() =>
      withoutTokenTraces(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")).toEqual(before);
  });

  test("an element's address is made without a stack when first asked for, and its logical id stays free until then", () => {
    const stack = new TerraformStack(Testing.app(), "fqn");
    const cluster = new CoreOsCluster(stack, "core", { nodeCount: 1 });
    const local = new VagrantCluster(stack, "local", { cluster });
    // The user renames one of the target's resources (an escape hatch), after the target made it.
    local.machines[0].overrideLogicalId("renamed");
    const later = fqnWithoutTrace(new Instance(stack, "later", { ami: "ami-0123456789abcdef0" }));
    expect(later).toBeInstanceOf(Instance);
    expect(later.constructor).toBe(Instance);
    expect(creationStack(later.fqn)).toEqual([]);
    expect(creationStack(local.prune.fqn)).toEqual([]);
    const config = JSON.parse(Testing.synth(stack));
    expect(Object.keys(config.resource.terraform_data)).toContain("renamed");
    expect(config.resource.terraform_data.vagrant_core_prune.depends_on).toEqual([
      "terraform_data.vagrant_core_box",
    ]);
    expect(config.resource.terraform_data.renamed.depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
    ]);
  });
});
