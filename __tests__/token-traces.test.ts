import { TerraformStack, Testing, Tokenization } from "cdktf";
import {
  TOKEN_TRACE_MARKER,
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

  test("tokens made inside carry the marker; tokens made outside the full stack", () => {
    const stack = new TerraformStack(Testing.app(), "inside");
    const cluster = new CoreOsCluster(stack, "core", { nodeCount: 1 });
    const local = new VagrantCluster(stack, "local", { cluster });
    const inside = withoutTokenTraces(() => local.machines[0].fqn);
    expect(creationStack(inside)).toEqual([TOKEN_TRACE_MARKER]);
    const outside = local.box.fqn;
    expect(creationStack(outside).length).toBeGreaterThan(3);
    expect(creationStack(outside).join("\n")).toContain("token-traces.test.ts");
  });

  test("the AWS target makes its resources without stacks; tokens the user makes later keep theirs", () => {
    delete process.env[TOKEN_TRACES_VARIABLE];
    const aws = awsCluster();
    // A nested block made by the provider class inside AwsCluster.
    const block = aws.instances[0].metadataOptions as unknown as { creationStack: string[] };
    expect(block.creationStack).toEqual([TOKEN_TRACE_MARKER]);
    expect(creationStack(aws.nodes[0].instanceId)).toEqual([TOKEN_TRACE_MARKER]);
    expect(creationStack(aws.instances[0].privateDns).length).toBeGreaterThan(3);
  });

  test(`${TOKEN_TRACES_VARIABLE}=1 records every stack`, () => {
    process.env[TOKEN_TRACES_VARIABLE] = "1";
    const aws = awsCluster();
    const block = aws.instances[0].metadataOptions as unknown as { creationStack: string[] };
    expect(block.creationStack.join("\n")).toContain("aws-cluster.ts");
    expect(creationStack(aws.nodes[0].instanceId).join("\n")).toContain("aws-cluster.ts");
  });

  test("errors keep their stacks, read inside or outside", () => {
    let readInside = "";
    let thrown: Error | undefined;
    function failsInside(): never {
      const e = new Error("inner");
      readInside = e.stack ?? "";
      throw new Error("outer");
    }
    try {
      withoutTokenTraces(failsInside);
    } catch (e) {
      thrown = e as Error;
    }
    expect(readInside).toMatch(/^Error: inner\n\s+at failsInside/);
    expect(thrown?.stack).toMatch(/^Error: outer\n\s+at failsInside/);
  });

  test("the stack formatter is put back after a return, a throw and a nested call", () => {
    const before = Error.prepareStackTrace;
    expect(withoutTokenTraces(() => withoutTokenTraces(() => 42))).toBe(42);
    expect(Error.prepareStackTrace).toBe(before);
    expect(() =>
      withoutTokenTraces(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(Error.prepareStackTrace).toBe(before);
  });
});
