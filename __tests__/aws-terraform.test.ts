import { testApp } from "./support/state";
import * as fs from "node:fs";
import * as path from "node:path";
import { App, TerraformStack } from "cdktf";
import {
  ClientAffinity,
  CoreOsCluster,
  Duration,
  FrontProtocol,
  NlbFront,
  OperatingSystem,
} from "../lib";
import { AwsCluster, AwsClusterProps } from "../lib/aws";
import { literalTerraformString } from "../lib/render/terraform-template";
import { CoreOsAwsStack } from "../main";
import { tempOutdir } from "./support/synth";
import {
  findAwsProviderMirror,
  runTerraform,
  securitySweepTest,
  terraformOk,
  TERRAFORM_RELEASE,
  writeMirrorCliConfig,
} from "./support/terraform";
import { describeWithRequirement, hasCommand } from "./support/tools";

/*
 * Real Terraform 1.11 on the synthesized AWS stacks: `terraform init` against
 * the offline filesystem mirror of hashicorp/aws 5.100.0 (the version the
 * @cdktf/provider-aws 20.1.0 bindings were generated from), `terraform
 * validate` with the real provider schema, and `terraform test` with
 * `mock_provider "aws"`: a mocked apply whose assertions Terraform evaluates
 * on the planned and applied values. The mock stands in for the AWS API only;
 * it proves what Terraform would ask AWS to create, not that AWS accepts it.
 */
const mirror = hasCommand("terraform") ? findAwsProviderMirror() : undefined;
const TESTS_DIR = path.join(__dirname, "terraform");

describeWithRequirement(
  mirror !== undefined,
  "terraform and the hashicorp/aws mirror",
  hasCommand("terraform")
    ? "no offline filesystem mirror of hashicorp/aws found (set TF_AWS_PROVIDER_MIRROR to the folder holding registry.terraform.io/hashicorp/aws)"
    : `terraform not found on PATH: ${TERRAFORM_RELEASE.install}`,
  "AWS target under real Terraform (hashicorp/aws 5.100.0, mocked API)",
  () => {
    jest.setTimeout(120_000);
    const outdir = tempOutdir();
    const cliConfig = writeMirrorCliConfig(outdir, mirror as string);
    afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

    const terraform = (stackDir: string, ...args: string[]) =>
      runTerraform(args, stackDir, { TF_CLI_CONFIG_FILE: cliConfig });

    /** Synthesizes `build`'s stack like `cdktf synth` and installs the given test files. */
    function synthStack(
      name: string,
      build: (app: App) => TerraformStack,
      tests: readonly string[],
    ): string {
      const app = testApp({ outdir: path.join(outdir, name) });
      const stack = build(app);
      app.synth();
      const stackDir = path.join(outdir, name, "stacks", stack.node.id);
      const testsDir = path.join(stackDir, "tests");
      fs.mkdirSync(path.join(testsDir, "mocks"), { recursive: true });
      fs.copyFileSync(
        path.join(TESTS_DIR, "mocks", "aws.tfmock.hcl"),
        path.join(testsDir, "mocks", "aws.tfmock.hcl"),
      );
      for (const t of tests) fs.copyFileSync(path.join(TESTS_DIR, t), path.join(testsDir, t));
      const config = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
      const front = JSON.parse(config).resource.aws_security_group?.core_front
        ? "core_front"
        : undefined;
      // The sweep joins the first test file, which has the overrides the config needs.
      const sweep = securitySweepTest(config, front, tests.length === 0);
      const sweepFile = path.join(testsDir, tests[0] ?? "security.tftest.hcl");
      fs.appendFileSync(sweepFile, sweep);
      return stackDir;
    }

    /** The stack of aws-front.tftest.hcl (see its header). */
    function frontStack(app: App, props: Partial<AwsClusterProps> = {}): TerraformStack {
      const stack = new TerraformStack(app, "aws-front");
      const cluster = new CoreOsCluster(stack, "core", {
        nodeCount: 4,
        standby: 1,
        os: OperatingSystem.fedoraCoreOs(),
        networkCidr: "10.0.0.0/16",
        subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
        firstHostNumber: 10,
        // systemd's own ${...} must reach the node as it is, not as a Terraform interpolation.
        units: [{ name: "env.service", contents: "[Service]\nExecStart=/bin/echo ${HOME}\n" }],
      });
      const front = new NlbFront(stack, "front");
      front
        .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
        .addTargets("web", { targets: [cluster], port: 8080 });
      front.addListener("raw", { port: 9000 }).addTargets("raw", {
        targets: [cluster],
        port: 9000,
        affinity: ClientAffinity.SINGLE,
        healthCheck: { interval: Duration.seconds(5), unhealthyThreshold: 3 },
      });
      front.drain(cluster.nodeNamed("core-02"));
      new AwsCluster(stack, "aws", {
        cluster,
        front,
        sshAllowedCidrs: ["198.51.100.0/24"],
        region: "eu-central-1",
        ...props,
      });
      return stack;
    }

    const expectPass = (stackDir: string, ...args: string[]) =>
      terraformOk(args, stackDir, { TF_CLI_CONFIG_FILE: cliConfig });

    describe("a created VPC with the front (Fedora CoreOS, standby, drain)", () => {
      let stackDir = "";
      let init = "";
      beforeAll(() => {
        stackDir = synthStack("front", (app) => frontStack(app), ["aws-front.tftest.hcl"]);
        init = expectPass(stackDir, "init", "-no-color");
      });

      it("terraform init installs hashicorp/aws 5.100.0 from the offline mirror", () => {
        const out = init;
        expect(out).toMatch(/Installing hashicorp\/aws v5\.100\.0/);
        expect(out).toContain("Terraform has been successfully initialized");
      });

      it("terraform validate accepts the configuration against the provider's schema", () => {
        expect(expectPass(stackDir, "validate", "-no-color")).toContain(
          "The configuration is valid",
        );
      });

      it("terraform test: mocked apply, front, nodes and security assertions pass", () => {
        const out = expectPass(stackDir, "test", "-no-color");
        expect(out).toContain('run "mocked_apply"... pass');
        expect(out).toContain('run "security_sweep"... pass');
        expect(out).toMatch(/Success! 2 passed, 0 failed\./);
      });
    });

    describe("the composition example of main.ts (coreos-aws)", () => {
      let stackDir = "";
      beforeAll(() => {
        stackDir = synthStack("example", (app) => new CoreOsAwsStack(app, "coreos-aws"), [
          "aws-example.tftest.hcl",
        ]);
        expectPass(stackDir, "init", "-no-color");
      });

      it("validates", () => {
        expect(expectPass(stackDir, "validate", "-no-color")).toContain(
          "The configuration is valid",
        );
      });

      it("applies (mocked) with the stack's outputs; wrong subnets are expected failures", () => {
        const out = expectPass(stackDir, "test", "-no-color");
        expect(out).toContain('run "composed_into_the_stacks_vpc"... pass');
        expect(out).toContain('run "a_subnet_with_another_cidr_stops_the_deploy"... pass');
        expect(out).toContain('run "subnets_sharing_a_zone_stop_the_deploy"... pass');
        expect(out).toContain('run "security_sweep"... pass');
      });

      it.each([
        [
          "a_subnet_with_another_cidr_stops_the_deploy",
          "Resource postcondition failed",
          /subnet 1 of cluster core must have the CIDR 10\.42\.2\.0\/24 \(the cluster's\s+subnetCidrs\[1\]\)/,
        ],
        [
          "subnets_sharing_a_zone_stop_the_deploy",
          "Resource precondition failed",
          /the subnets of cluster core must lie in\s+distinct\s+availability\s+zones/,
        ],
      ])(
        "run %s fails on our check, with its message, when the failure is not expected",
        (run, kind, message) => {
          const file = path.join(stackDir, "tests", "aws-example.tftest.hcl");
          const text = fs.readFileSync(file, "utf8");
          const block = new RegExp(`(run "${run}" \\{[\\s\\S]*?)\\n\\s*expect_failures = [^\\n]*`);
          expect(text).toMatch(block);
          fs.writeFileSync(file, text.replace(block, "$1"));
          try {
            const r = terraform(stackDir, "test", "-no-color");
            expect(r.status).not.toBe(0);
            expect(r.output).toContain(`run "${run}"... fail`);
            expect(r.output).toContain(kind);
            expect(r.output).toMatch(message);
          } finally {
            fs.writeFileSync(file, text);
          }
        },
      );
    });

    describe("drift guard", () => {
      it("by default a newer AMI does not replace running nodes", () => {
        const stackDir = synthStack("kept", (app) => frontStack(app), [
          "aws-image-kept.tftest.hcl",
        ]);
        expectPass(stackDir, "init", "-no-color");
        const out = expectPass(
          stackDir,
          "test",
          "-no-color",
          "-filter=tests/aws-image-kept.tftest.hcl",
        );
        expect(out).toContain('run "newer_image_published"... pass');
      });

      it("with replaceOnImageChange the same assertion fails: the nodes move to the newer AMI", () => {
        const stackDir = synthStack(
          "unguarded",
          (app) => frontStack(app, { replaceOnImageChange: true }),
          ["aws-image-kept.tftest.hcl"],
        );
        expectPass(stackDir, "init", "-no-color");
        const r = terraform(
          stackDir,
          "test",
          "-no-color",
          "-filter=tests/aws-image-kept.tftest.hcl",
        );
        expect(r.status).not.toBe(0);
        expect(r.output).toContain('run "newer_image_published"... fail');
        expect(r.output).toContain('aws_instance.core_core-01.ami is "ami-0bbbbbbbbbbbbbbb2"');
        expect(r.output).toContain("a newer AMI must not replace running nodes unasked");
      });
    });

    it("text made literal for Terraform comes out of Terraform unchanged", () => {
      const dir = path.join(outdir, "literal");
      fs.mkdirSync(dir);
      const texts = ["${ETCD_IMAGE}", "$${kept}", "%{ if x }", "100%{", "a$b{c", "$$", "end$"];
      const output = Object.fromEntries(
        texts.map((t, i) => [`t${i}`, { value: literalTerraformString(t) }]),
      );
      fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ output }));
      expectPass(dir, "init", "-no-color");
      expectPass(dir, "apply", "-auto-approve", "-no-color");
      const values = JSON.parse(expectPass(dir, "output", "-json")) as Record<
        string,
        { value: string }
      >;
      expect(texts.map((_, i) => values[`t${i}`].value)).toEqual(texts);
    });

    it("the security sweep fails on a stack that opens SSH to the world", () => {
      const stackDir = synthStack(
        "open",
        (app) => frontStack(app, { sshAllowedCidrs: ["0.0.0.0/0"] }),
        [],
      );
      expectPass(stackDir, "init", "-no-color");
      const r = terraform(stackDir, "test", "-no-color");
      expect(r.status).not.toBe(0);
      expect(r.output).toContain("core_ssh_0 opens SSH or etcd (22, 2379, 2380) to the world");
      expect(r.output).toContain(
        "core_ssh_0 opens something other than a front listener to the world",
      );
    });
  },
);
