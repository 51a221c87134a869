import * as fs from "node:fs";
import * as path from "node:path";
import { App, TerraformOutput, TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { CoreOsCluster, CoreOsClusterProps, FrontProtocol, NlbFront } from "../lib";
import { AwsCluster, AwsClusterProps, AwsNetwork } from "../lib/aws";
import { ResourceBlocks, ResourceKind, ResourceReference } from "../lib/core/resource-blocks";
import {
  EC2_INSTANCE,
  SUBNET_CIDR_RESERVATION,
  TARGET_GROUP_ATTACHMENT,
} from "../lib/aws/resource-kinds";
import { TERRAFORM_DATA } from "../lib/vagrant/terraform-data";
import { freshTestState, removeTestStates, testApp } from "./support/state";
import { tempOutdir } from "./support/synth";

/*
 * ResourceBlocks emits per-node resources as blocks of one construct instead
 * of a construct each. What this proves: for every field the AWS target sets
 * (and the meta-arguments: depends_on on blocks and on constructs, an aliased
 * provider, lifecycle with replace_triggered_by and preconditions,
 * provisioners), the blocks are exactly what the provider classes synthesize
 * — compared with the same configs made as constructs — and whole AwsCluster
 * stacks (front, rollout markers, references from another stack) synthesize
 * to the same Terraform JSON either way.
 */

type Json = Record<string, unknown>;

afterAll(removeTestStates);

/** The `resource` section of a stack's Terraform JSON, with the `//` metadata (Testing.synth drops it). */
function resources(stack: TerraformStack): Record<string, Record<string, Json>> {
  stack.prepareStack();
  return JSON.parse(JSON.stringify(stack.toTerraform())).resource;
}

/** A stack with a VPC, a subnet, a security group, an aliased provider: things the configs refer to. */
function referencedStack(): {
  stack: TerraformStack;
  provider: AwsProvider;
  subnet: Subnet;
  group: SecurityGroup;
} {
  const stack = new TerraformStack(Testing.app(), "blocks");
  new AwsProvider(stack, "aws", { region: "eu-central-1" });
  const provider = new AwsProvider(stack, "west", { region: "eu-west-1", alias: "west" });
  const vpc = new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });
  const subnet = new Subnet(stack, "subnet", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24" });
  const group = new SecurityGroup(stack, "group", { vpcId: vpc.id });
  return { stack, provider, subnet, group };
}

/**
 * Both ways to emit `count` resources (`config(refs, emitted, i)` may name those
 * emitted before it): as blocks, and as the provider class's constructs (same ids).
 */
function bothWays<C>(
  kind: ResourceKind<C>,
  count: number,
  config: (refs: ReturnType<typeof referencedStack>, emitted: ResourceReference[], i: number) => C,
): { blocks: Record<string, Json>; constructs: Record<string, Json> } {
  const synth = (constructPerResource: boolean) => {
    const refs = referencedStack();
    const scope = new Construct(refs.stack, "owner");
    const set = new ResourceBlocks(scope, "Set", kind, { constructPerResource });
    const emitted: ResourceReference[] = [];
    for (let i = 0; i < count; i++) {
      emitted.push(set.add(`r-${i}`, `owner_r${i}`, config(refs, emitted, i)));
    }
    return resources(refs.stack)[kind.terraformResourceType];
  };
  return { blocks: synth(false), constructs: synth(true) };
}

describe("ResourceBlocks: the blocks the provider classes would synthesize", () => {
  test("aws_instance: every field the AWS target sets, depends_on, provider alias, lifecycle", () => {
    const { blocks, constructs } = bothWays(
      EC2_INSTANCE,
      3,
      ({ subnet, group, provider }, emitted, i) => ({
        ami: "ami-0123456789abcdef0",
        instanceType: "t3.small",
        subnetId: subnet.id,
        privateIp: `10.0.1.${10 + i}`,
        vpcSecurityGroupIds: [group.id],
        associatePublicIpAddress: i % 2 === 0,
        userData: `\${file("\${path.module}/clusters/core/aws-user-data/core-0${i}.ign")}`,
        userDataReplaceOnChange: true,
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
        rootBlockDevice: {
          volumeType: "gp3",
          volumeSize: 20 + i,
          encrypted: true,
          deleteOnTermination: true,
        },
        tags: { Name: `core-0${i}`, "coreos-cluster": "core", CostCenter: "a b" },
        // depends_on names a construct and (from the second on) a block of the same set.
        dependsOn: i === 0 ? [subnet] : [subnet, emitted[0]],
        provider: i === 2 ? provider : undefined,
        lifecycle:
          i === 1
            ? undefined
            : {
                ignoreChanges: ["ami"],
                createBeforeDestroy: i === 2,
                precondition: [{ condition: "${true}", errorMessage: "never" }],
              },
      }),
    );
    expect(Object.keys(blocks)).toEqual(["owner_r0", "owner_r1", "owner_r2"]);
    expect(blocks).toEqual(constructs);
    // What is compared is there: the reference, the alias, a dependency on a block.
    expect(blocks.owner_r2.subnet_id).toBe("${aws_subnet.subnet.id}");
    expect(blocks.owner_r2.provider).toBe("aws.west");
    expect(blocks.owner_r1.depends_on).toEqual(["aws_subnet.subnet", "aws_instance.owner_r0"]);
    expect(blocks.owner_r0["//"]).toEqual({
      metadata: { path: "blocks/owner/r-0", uniqueId: "owner_r0" },
    });
  });

  test("aws_ec2_subnet_cidr_reservation and aws_lb_target_group_attachment", () => {
    const reservations = bothWays(SUBNET_CIDR_RESERVATION, 1, ({ subnet, provider }) => ({
      subnetId: subnet.id,
      cidrBlock: "10.0.1.10/32",
      reservationType: "explicit",
      description: "Address of node core-01",
      provider,
    }));
    expect(reservations.blocks).toEqual(reservations.constructs);
    expect(reservations.blocks.owner_r0.reservation_type).toBe("explicit");
    const targets = bothWays(TARGET_GROUP_ATTACHMENT, 1, ({ group }) => ({
      targetGroupArn: group.arn,
      targetId: "10.0.1.10",
      port: 8080,
      dependsOn: [group],
      lifecycle: {
        replaceTriggeredBy: [
          "aws_instance.core_core-01.id",
          "aws_instance.core_core-01.instance_type",
        ],
      },
    }));
    expect(targets.blocks).toEqual(targets.constructs);
    expect(targets.blocks.owner_r0.lifecycle).toEqual({
      replace_triggered_by: [
        "aws_instance.core_core-01.id",
        "aws_instance.core_core-01.instance_type",
      ],
    });
  });

  test("terraform_data with a provisioner, and the Terraform version check once per stack", () => {
    const { blocks, constructs } = bothWays(TERRAFORM_DATA, 2, ({ subnet }, _, i) => ({
      input: { node: `core-0${i + 1}`, config: "abc" },
      triggersReplace: { config: "abc" },
      dependsOn: [subnet],
      provisioners: [{ type: "local-exec" as const, command: `echo 'core-0${i + 1}' > marker` }],
    }));
    expect(blocks).toEqual(constructs);
    expect(blocks.owner_r1.provisioner).toEqual([
      { "local-exec": { command: "echo 'core-02' > marker" } },
    ]);
    const { stack } = referencedStack();
    // (constructs keeps a node's validations in a private field)
    const validations = () => (stack.node as unknown as { _validations: unknown[] })._validations;
    const before = validations().length;
    new ResourceBlocks(stack, "One", TERRAFORM_DATA);
    new ResourceBlocks(stack, "Two", TERRAFORM_DATA);
    expect(validations().length).toBe(before + 1);
  });

  test.each([
    ["aws_instance", EC2_INSTANCE],
    ["aws_ec2_subnet_cidr_reservation", SUBNET_CIDR_RESERVATION],
    ["aws_lb_target_group_attachment", TARGET_GROUP_ATTACHMENT],
    ["terraform_data", TERRAFORM_DATA],
  ] as [string, ResourceKind<object>][])(
    "%s: a config field the kind does not synthesize is an error naming both",
    (type, kind) => {
      expect(() => kind.toJson({ typo: "x" })).toThrow(
        new Error(`${type}: config key typo is not synthesized by its ResourceKind`),
      );
      // An optional field left undefined is no field.
      expect(() => kind.toJson({ typo: undefined })).not.toThrow();
    },
  );

  test("a name given twice is an error; an empty set emits nothing", () => {
    const { stack, subnet } = referencedStack();
    new ResourceBlocks(stack, "Empty", EC2_INSTANCE);
    const set = new ResourceBlocks(stack, "Set", SUBNET_CIDR_RESERVATION);
    const config = { subnetId: subnet.id, cidrBlock: "10.0.1.10/32", reservationType: "explicit" };
    set.add("b", "b", config);
    expect(() => set.add("c", "b", config)).toThrow(
      /aws_ec2_subnet_cidr_reservation\.b is emitted twice by blocks\/Set/,
    );
    expect(resources(stack).aws_instance).toBeUndefined();
  });

  test("a reference: its address, an attribute (the same token each time), a dependency", () => {
    const { stack } = referencedStack();
    const set = new ResourceBlocks(stack, "Set", EC2_INSTANCE);
    const node = set.add("core-01", "core_core-01", { ami: "ami-0123456789abcdef0" });
    expect(node.address).toBe("aws_instance.core_core-01");
    expect(node.get("private_dns")).toBe(node.get("private_dns"));
    new TerraformOutput(stack, "dns", { value: node.get("private_dns") });
    new Subnet(stack, "after", { vpcId: "vpc-1", cidrBlock: "10.0.2.0/24", dependsOn: [node] });
    const config = JSON.parse(Testing.synth(stack));
    expect(config.output.dns.value).toBe("${aws_instance.core_core-01.private_dns}");
    expect(config.resource.aws_subnet.after.depends_on).toEqual(["aws_instance.core_core-01"]);
  });

  test("a reference to another stack inside the blocks is found when cdktf prepares the stacks", () => {
    const emit = (constructPerResource: boolean) => {
      const app = Testing.app();
      const other = new TerraformStack(app, "network");
      new AwsProvider(other, "aws", { region: "eu-central-1" });
      const vpc = new Vpc(other, "vpc", { cidrBlock: "10.0.0.0/16" });
      const subnet = new Subnet(other, "subnet", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24" });
      const stack = new TerraformStack(app, "nodes");
      new AwsProvider(stack, "aws", { region: "eu-central-1" });
      const set = new ResourceBlocks(stack, "Set", SUBNET_CIDR_RESERVATION, {
        constructPerResource,
      });
      for (const host of [10, 11]) {
        set.add(`r-${host}`, `r${host}`, {
          subnetId: subnet.id,
          cidrBlock: `10.0.1.${host}/32`,
          reservationType: "explicit",
        });
      }
      app.synth();
      return { nodes: Testing.synth(stack), network: Testing.synth(other) };
    };
    const blocks = emit(false);
    expect(blocks).toEqual(emit(true));
    const config = JSON.parse(blocks.nodes);
    expect(config.resource.aws_ec2_subnet_cidr_reservation.r11.subnet_id).toMatch(
      /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-network\.outputs\./,
    );
    expect(Object.keys(JSON.parse(blocks.network).output)).toHaveLength(1);
  });

  test.each(["true", "1"])(
    "with SYNTH_HCL_OUTPUT=%s each resource is its provider class's construct",
    (hcl) => {
      const saved = process.env.SYNTH_HCL_OUTPUT;
      process.env.SYNTH_HCL_OUTPUT = hcl;
      try {
        const { stack, subnet } = referencedStack();
        const set = new ResourceBlocks(stack, "Set", EC2_INSTANCE);
        set.add("core-01", "core_core-01", { ami: "ami-0123456789abcdef0", subnetId: subnet.id });
        const made = stack.node.findAll().filter((c) => c instanceof Instance) as Instance[];
        expect(made.map((i) => i.friendlyUniqueId)).toEqual(["core_core-01"]);
        expect(stack.toHclTerraform().hcl).toContain('resource "aws_instance" "core_core-01"');
      } finally {
        if (saved === undefined) delete process.env.SYNTH_HCL_OUTPUT;
        else process.env.SYNTH_HCL_OUTPUT = saved;
      }
    },
  );
});

describe("AwsCluster: the same Terraform JSON with blocks or a construct per resource", () => {
  const CLUSTER: CoreOsClusterProps = {
    nodeCount: 4,
    networkCidr: "10.0.0.0/16",
    subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
    firstHostNumber: 10,
  };

  /**
   * The second synth gets a copy of the first one's state folder (the same
   * keys and certificates) without the rollout record: a first deploy both times.
   */
  function stateLike(first?: string): string {
    const dir = freshTestState();
    if (!first) return dir;
    fs.rmSync(dir, { recursive: true });
    fs.cpSync(first, dir, {
      recursive: true,
      filter: (source) => !path.basename(source).startsWith("aws-rollout"),
    });
    return dir;
  }

  function synthAws(
    constructPerResource: boolean,
    build: (app: App) => { stack: TerraformStack; props: Omit<AwsClusterProps, "cluster"> },
    stateDir: string,
  ): { stacks: Record<string, string>; aws: AwsCluster } {
    const app = testApp({ outdir: tempOutdir(), stateDir });
    const { stack, props } = build(app);
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    const front = new NlbFront(stack, "front");
    front
      .addListener("web", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("hello", { targets: [cluster], port: 8080 });
    const aws = new AwsCluster(stack, "aws", { cluster, front, ...props, constructPerResource });
    app.synth();
    const stacks = Object.fromEntries(
      app.node
        .findAll()
        .filter((c): c is TerraformStack => c instanceof TerraformStack)
        .map((s) => [s.node.id, Testing.synth(s)]),
    );
    return { stacks, aws };
  }

  test("its own network, a front, rollout markers", () => {
    const build = (app: App) => ({
      stack: new TerraformStack(app, "aws"),
      props: { network: AwsNetwork.create() },
    });
    const state = stateLike();
    const blocks = synthAws(false, build, state);
    const constructs = synthAws(true, build, stateLike(state));
    expect(blocks.stacks).toEqual(constructs.stacks);
    const config = JSON.parse(blocks.stacks.aws);
    for (const type of [
      "aws_instance",
      "aws_ec2_subnet_cidr_reservation",
      "aws_lb_target_group_attachment",
      "terraform_data",
    ]) {
      expect(Object.keys(config.resource[type])).toHaveLength(4);
    }
    // Blocks: one construct per kind; constructs: one per resource.
    const instances = (a: AwsCluster) =>
      a.node.findAll().filter((c) => c instanceof Instance).length;
    expect(instances(blocks.aws)).toBe(0);
    expect(instances(constructs.aws)).toBe(4);
    expect(blocks.aws.instances.map((i) => i.address)).toEqual(
      ["core-01", "core-02", "core-03", "core-04"].map((n) => `aws_instance.core_${n}`),
    );
  });

  test("subnets of another stack: the same references to its outputs", () => {
    const build = (app: App) => {
      const shared = new TerraformStack(app, "network");
      new AwsProvider(shared, "aws", { region: "eu-central-1" });
      const vpc = new Vpc(shared, "vpc", { cidrBlock: "10.0.0.0/16" });
      const subnets = CLUSTER.subnetCidrs!.map(
        (cidrBlock, i) => new Subnet(shared, `subnet-${i}`, { vpcId: vpc.id, cidrBlock }),
      );
      return {
        stack: new TerraformStack(app, "aws"),
        props: {
          network: AwsNetwork.existing({ vpcId: vpc.id, subnetIds: subnets.map((s) => s.id) }),
          publicAddresses: true,
        },
      };
    };
    const state = stateLike();
    const blocks = synthAws(false, build, state);
    const constructs = synthAws(true, build, stateLike(state));
    expect(blocks.stacks).toEqual(constructs.stacks);
    const config = JSON.parse(blocks.stacks.aws);
    expect(config.data.aws_subnet.core_subnet_0.id).toMatch(/^\$\{data\.terraform_remote_state\./);
  });
});
