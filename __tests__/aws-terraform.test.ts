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
import { AwsCluster, AwsClusterProps, AwsNetwork } from "../lib/aws";
import { literalTerraformString } from "../lib/render/terraform-template";
import { CoreOsAwsStack } from "../main";
import { tempOutdir } from "./support/synth";
import {
  distinctMockIds,
  findAwsProviderMirror,
  runTerraform,
  securitySweepTest,
  terraformOk,
  TERRAFORM_RELEASE,
  writeMirrorCliConfig,
} from "./support/terraform";
import { describeWithRequirement, hasCommand } from "./support/tools";
import { ProviderServer, startProviderServer } from "./support/provider-server";

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
/** The test files of the default front stack (frontStack() unchanged): one run for the three. */
const DEFAULT_FRONT_TESTS = [
  "aws-front.tftest.hcl",
  "aws-replace.tftest.hcl",
  "aws-image-kept.tftest.hcl",
] as const;

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
    // One hashicorp/aws process for every command of this file (see startProviderServer).
    let provider: ProviderServer | undefined;
    beforeAll(async () => {
      provider = await startProviderServer(mirror as string, "hashicorp/aws", outdir);
    });
    afterAll(async () => {
      await provider?.stop();
      fs.rmSync(outdir, { recursive: true, force: true });
    });

    /** `terraform init` installs the provider from the mirror; the other commands use the running one. */
    const envFor = (args: readonly string[]) => ({
      TF_CLI_CONFIG_FILE: cliConfig,
      ...(args[0] === "init" ? {} : provider?.env),
    });
    const terraform = (stackDir: string, ...args: string[]) =>
      runTerraform(args, stackDir, envFor(args));

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
      const config = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
      for (const t of tests) {
        const text = fs.readFileSync(path.join(TESTS_DIR, t), "utf8");
        fs.writeFileSync(path.join(testsDir, t), text + distinctMockIds(config));
      }
      const front = JSON.parse(config).resource.aws_security_group?.core_front
        ? "core_front"
        : undefined;
      // The sweep joins the first test file, which has the overrides the config needs.
      const sweep = securitySweepTest(config, front, tests.length === 0);
      const sweepFile = path.join(testsDir, tests[0] ?? "security.tftest.hcl");
      fs.appendFileSync(sweepFile, sweep);
      return stackDir;
    }

    /** A stack with 4 nodes in 10.0.1.0/24 and 10.0.2.0/24 and an HTTP front on 80 -> web:8080. */
    function webStack(
      app: App,
      id: string,
      os: OperatingSystem,
      standby: number,
    ): { stack: TerraformStack; cluster: CoreOsCluster; front: NlbFront } {
      const stack = new TerraformStack(app, id);
      const cluster = new CoreOsCluster(stack, "core", {
        nodeCount: 4,
        standby,
        os,
        networkCidr: "10.0.0.0/16",
        subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
        firstHostNumber: 10,
        // systemd's own ${...} must reach the node as it is, not as a Terraform interpolation.
        units: [
          {
            name: "env.service",
            contents:
              "[Service]\nExecStart=/bin/echo ${HOME}\n[Install]\nWantedBy=multi-user.target\n",
          },
        ],
      });
      const front = new NlbFront(stack, "front");
      front
        .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
        .addTargets("web", { targets: [cluster], port: 8080 });
      return { stack, cluster, front };
    }

    /** The stack of aws-front.tftest.hcl (see its header). */
    function frontStack(app: App, props: Partial<AwsClusterProps> = {}): TerraformStack {
      const { stack, cluster, front } = webStack(
        app,
        "aws-front",
        OperatingSystem.fedoraCoreOs(),
        1,
      );
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

    /** The stack of aws-existing.tftest.hcl: private nodes behind NAT, a public load balancer apart. */
    function existingStack(app: App): TerraformStack {
      const { stack, cluster, front } = webStack(app, "aws-existing", OperatingSystem.flatcar(), 0);
      new AwsCluster(stack, "aws", {
        cluster,
        front,
        network: AwsNetwork.existing({
          vpcId: "vpc-0a1b2c3d4e5f60718",
          subnetIds: ["subnet-0000000000000000a", "subnet-0000000000000000b"],
          loadBalancerSubnetIds: ["subnet-00000000000000a01", "subnet-00000000000000b01"],
        }),
        publicAddresses: false,
        region: "eu-central-1",
      });
      return stack;
    }

    const expectPass = (stackDir: string, ...args: string[]) =>
      terraformOk(args, stackDir, envFor(args));

    /**
     * frontStack() as it is, with the three test files written for exactly
     * that configuration: synthesized, initialized and tested (-verbose: the
     * plans) once for the three describes that read it.
     */
    let defaultFront: { stackDir: string; init: string; test: string } | undefined;
    function frontTested(): { stackDir: string; init: string; test: string } {
      if (!defaultFront) {
        const stackDir = synthStack("front", (app) => frontStack(app), DEFAULT_FRONT_TESTS);
        const init = expectPass(stackDir, "init", "-no-color");
        const test = expectPass(stackDir, "test", "-no-color", "-verbose");
        defaultFront = { stackDir, init, test };
      }
      return defaultFront;
    }

    /** What `terraform test` printed about one test file: from its start to its verdict. */
    function fileOutput(output: string, testFile: string): string {
      const start = output.indexOf(`tests/${testFile}... in progress`);
      expect(start).toBeGreaterThanOrEqual(0);
      const rest = output.slice(start);
      const verdict = new RegExp(
        `^tests/${testFile.replaceAll(".", "\\.")}\\.\\.\\. (pass|fail)$`,
        "m",
      ).exec(rest);
      expect(verdict).not.toBeNull();
      return rest.slice(0, (verdict?.index ?? 0) + (verdict?.[0].length ?? 0));
    }

    /** The run blocks of a test file, in order (blocks as `terraform fmt` writes them). */
    const runBlocks = (text: string) => [...text.matchAll(/^run "([^"]+)" \{\n[\s\S]*?^\}\n/gm)];

    /**
     * For each of `runs` (which expect their failures), a copy of the test
     * file in which that run no longer expects it: the file's mocks and
     * overrides, the apply runs before it (its state), and the run. Run with
     * the file itself in one `terraform test`, each copy must fail on our
     * check, with its message (see expectCheckMessage).
     */
    function writeCheckFiles(stackDir: string, testFile: string, runs: readonly string[]): void {
      const text = fs.readFileSync(path.join(stackDir, "tests", testFile), "utf8");
      const blocks = runBlocks(text);
      const shared = blocks.reduce((rest, b) => rest.replace(b[0], ""), text);
      for (const run of runs) {
        const index = blocks.findIndex((b) => b[1] === run);
        expect(blocks[index]?.[0]).toMatch(/\n\s*expect_failures = /);
        const before = blocks.slice(0, index).filter((b) => /^\s*command = apply$/m.test(b[0]));
        const target = blocks[index][0].replace(/\n\s*expect_failures = [^\n]*/, "");
        fs.writeFileSync(
          path.join(stackDir, "tests", `check-${run}.tftest.hcl`),
          [shared, ...before.map((b) => b[0]), target].join("\n"),
        );
      }
    }

    /** What one `terraform test -json` found: verdicts of files and runs, and the errors of each run. */
    interface TestReport {
      /** "pass", "fail", "error" or "skip", by test file (tests/…). */
      readonly files: Map<string, string>;
      /** The same by "<test file> <run>". */
      readonly runs: Map<string, string>;
      readonly diagnostics: { file: string; run?: string; summary: string; detail: string }[];
    }

    function terraformTestReport(stackDir: string): TestReport {
      const report: TestReport = { files: new Map(), runs: new Map(), diagnostics: [] };
      const { output } = terraform(stackDir, "test", "-no-color", "-json");
      for (const line of output.split("\n").filter((l) => l.startsWith("{"))) {
        const event = JSON.parse(line);
        const file = event["@testfile"] as string;
        if (event.test_file?.progress === "complete")
          report.files.set(file, event.test_file.status);
        if (event.test_run?.progress === "complete") {
          report.runs.set(`${file} ${event.test_run.run}`, event.test_run.status);
        }
        if (event.type === "diagnostic" && file) {
          const { summary, detail } = event.diagnostic;
          report.diagnostics.push({ file, run: event["@testrun"], summary, detail });
        }
      }
      expect(report.files.size).toBeGreaterThan(0);
      return report;
    }

    /** Every run of `testFile` passed (expected failures included). */
    function expectAllPass(report: TestReport, testFile: string, runs: readonly string[]): void {
      const file = `tests/${testFile}`;
      expect(runs.map((run) => [run, report.runs.get(`${file} ${run}`)])).toEqual(
        runs.map((run) => [run, "pass"]),
      );
      expect(report.files.get(file)).toBe("pass");
    }

    /** The copy of writeCheckFiles for `run` failed on our check, with its message. */
    function expectCheckMessage(
      report: TestReport,
      run: string,
      kind: string,
      message: string,
    ): void {
      const file = `tests/check-${run}.tftest.hcl`;
      expect(report.runs.get(`${file} ${run}`)).toBe("error");
      const errors = report.diagnostics
        .filter((d) => d.file === file && d.run === run)
        .map((d) => `${d.summary}: ${d.detail.replace(/\s+/g, " ")}`);
      expect(errors).toContainEqual(expect.stringContaining(`${kind}: ${message}`));
    }

    /** init, then the test file and its copies with one check each unexpected, in one terraform test. */
    function initAndTest(
      stackDir: string,
      testFile: string,
      checks: readonly (readonly [run: string, ...rest: string[]])[],
    ): TestReport {
      expectPass(stackDir, "init", "-no-color");
      writeCheckFiles(
        stackDir,
        testFile,
        checks.map(([run]) => run),
      );
      return terraformTestReport(stackDir);
    }

    /** `terraform graph`: which node depends on which (edges "a" -> "b": a waits for b). */
    function dependencyGraph(stackDir: string): Map<string, string[]> {
      const dot = expectPass(stackDir, "graph");
      const edges = new Map<string, string[]>();
      for (const [, from, to] of dot.matchAll(/"([^"]+)" -> "([^"]+)"/g)) {
        edges.set(from, [...(edges.get(from) ?? []), to]);
      }
      return edges;
    }

    /** Whether `from` waits for `to`, directly or through others. */
    function waitsFor(graph: Map<string, string[]>, from: string, to: string): boolean {
      const seen = new Set<string>();
      const todo = [from];
      while (todo.length) {
        const next = todo.pop() as string;
        if (next === to) return true;
        if (seen.has(next)) continue;
        seen.add(next);
        todo.push(...(graph.get(next) ?? []));
      }
      return false;
    }

    describe("a created VPC with the front (Fedora CoreOS, standby, drain)", () => {
      let stackDir = "";
      let init = "";
      beforeAll(() => {
        ({ stackDir, init } = frontTested());
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
        const out = fileOutput(frontTested().test, "aws-front.tftest.hcl");
        expect(out).toContain('run "mocked_apply"... pass');
        expect(out).toContain('run "security_sweep"... pass');
        // Those two runs and no other.
        expect(out.match(/^\s*run "[^"]+"\.\.\. \w+$/gm)).toHaveLength(2);
        expect(out).toMatch(/\.\.\. pass$/);
      });

      it("terraform graph: the load balancer and nodes wait for the routes, the gateway and the reservations", () => {
        const graph = dependencyGraph(stackDir);
        for (const waiter of ["aws_lb.core_front", "aws_instance.core_core-02"]) {
          expect(waitsFor(graph, waiter, "aws_route_table_association.core_public_1")).toBe(true);
          expect(waitsFor(graph, waiter, "aws_internet_gateway.core_gateway")).toBe(true);
          expect(
            waitsFor(graph, waiter, "aws_ec2_subnet_cidr_reservation.core_reserved_core-02"),
          ).toBe(true);
        }
        expect(
          waitsFor(
            graph,
            "aws_lb.core_front",
            "aws_ec2_subnet_cidr_reservation.core_reserved_core-04",
          ),
        ).toBe(true);
        expect(
          waitsFor(
            graph,
            "aws_instance.core_core-02",
            "aws_ec2_subnet_cidr_reservation.core_reserved_core-01",
          ),
        ).toBe(false);
      });
    });

    describe("day 2: a target group or a node replaced", () => {
      /** The plan terraform test -verbose prints for `run`: resource header lines. */
      function planOf(output: string, run: string): string[] {
        const start = output.indexOf(`run "${run}"... pass`);
        expect(start).toBeGreaterThanOrEqual(0);
        const rest = output.slice(start + 1);
        const end = rest.search(/\n\s*run "/);
        const plan = end < 0 ? rest : rest.slice(0, end);
        return plan
          .split("\n")
          .filter((l) => /^\s*(\+\/-|-\/\+|~|\+|-) resource /.test(l))
          .map((l) => l.trim());
      }

      function replacementPlans(out: string) {
        return { group: planOf(out, "target_group_replaced"), node: planOf(out, "node_replaced") };
      }

      let plans = { group: [] as string[], node: [] as string[] };
      beforeAll(() => {
        plans = replacementPlans(fileOutput(frontTested().test, "aws-replace.tftest.hcl"));
      });

      it("a replaced target group is created before the old one goes; its listener moves over in place", () => {
        const { group } = plans;
        expect(group).toContain('+/- resource "aws_lb_target_group" "core_front_web" {');
        expect(group).toContain('~ resource "aws_lb_listener" "core_front_http" {');
        expect(group.filter((l) => l.includes('"aws_lb_target_group"'))).toHaveLength(1);
      });

      it("a replaced node goes first (its fixed address), deregistered before; its reservation stays", () => {
        const { node } = plans;
        // Not create-before-destroy: a second instance could not take the same address.
        expect(node).toContain('-/+ resource "aws_instance" "core_core-01" {');
        expect(node).toContain(
          '-/+ resource "aws_lb_target_group_attachment" "core_web_core-01" {',
        );
        expect(node).toContain(
          '-/+ resource "aws_lb_target_group_attachment" "core_raw_core-01" {',
        );
        expect(
          node.filter((l) => /cidr_reservation|core_core-0[234]|_core-0[234]"/.test(l)),
        ).toEqual([]);
      });

      it("without create_before_destroy the same check fails: the old group would go first", () => {
        const stackDir = synthStack("replace-unsafe", (app) => frontStack(app), [
          "aws-replace.tftest.hcl",
        ]);
        const file = path.join(stackDir, "cdk.tf.json");
        const config = JSON.parse(fs.readFileSync(file, "utf8"));
        delete config.resource.aws_lb_target_group.core_front_web.lifecycle;
        fs.writeFileSync(file, JSON.stringify(config));
        expectPass(stackDir, "init", "-no-color");
        const { group } = replacementPlans(
          expectPass(
            stackDir,
            "test",
            "-no-color",
            "-verbose",
            "-filter=tests/aws-replace.tftest.hcl",
          ),
        );
        expect(group).toContain('-/+ resource "aws_lb_target_group" "core_front_web" {');
        expect(group).not.toContain('+/- resource "aws_lb_target_group" "core_front_web" {');
      });
    });

    describe("the composition example of main.ts (coreos-aws)", () => {
      const checks: [run: string, kind: string, message: string][] = [
        [
          "a_public_subnet_without_a_route_stops_the_deploy",
          "Resource postcondition failed",
          "subnet subnet-00000000000000002 (subnetCidrs[1] of cluster core) has no default route (0.0.0.0/0) to an internet gateway (igw-…) in its route table rtb-0000000000000a0b1: nodes with public addresses (publicAddresses: true) reach the internet through one",
        ],
        [
          "a_subnet_with_another_cidr_stops_the_deploy",
          "Resource postcondition failed",
          "subnet 1 of cluster core must have the CIDR 10.42.2.0/24 (the cluster's subnetCidrs[1])",
        ],
        [
          "subnets_sharing_a_zone_stop_the_deploy",
          "Resource precondition failed",
          "the load balancer subnets of cluster core must lie in distinct availability zones",
        ],
      ];
      let stackDir = "";
      let tests: TestReport;
      beforeAll(() => {
        stackDir = synthStack("example", (app) => new CoreOsAwsStack(app, "coreos-aws"), [
          "aws-example.tftest.hcl",
        ]);
        tests = initAndTest(stackDir, "aws-example.tftest.hcl", checks);
      });

      it("validates", () => {
        expect(expectPass(stackDir, "validate", "-no-color")).toContain(
          "The configuration is valid",
        );
      });

      it("applies (mocked) with the stack's outputs, reservations, wiring; bad networks are expected failures", () => {
        expectAllPass(tests, "aws-example.tftest.hcl", [
          "composed_into_the_stacks_vpc",
          "a_subnet_without_its_own_route_table_is_checked_against_the_main_one",
          "a_public_subnet_without_a_route_stops_the_deploy",
          "a_subnet_with_another_cidr_stops_the_deploy",
          "subnets_sharing_a_zone_stop_the_deploy",
          "security_sweep",
        ]);
      });

      it.each(checks)(
        "run %s fails on our check, with its message, when the failure is not expected",
        (run, kind, message) => expectCheckMessage(tests, run, kind, message),
      );

      it("terraform graph: nodes and load balancer wait for the routes to the gateway and the reservations", () => {
        const graph = dependencyGraph(stackDir);
        const lb = "aws_lb.core_front";
        for (const i of [0, 1, 2]) {
          const node = `aws_instance.core_core-0${i + 1}`;
          for (const waiter of [lb, node]) {
            expect({
              waiter,
              i,
              routed: waitsFor(graph, waiter, `aws_route_table_association.public-${i}`),
            }).toEqual({ waiter, i, routed: true });
            expect(waitsFor(graph, waiter, "aws_internet_gateway.gateway")).toBe(true);
            expect(waitsFor(graph, waiter, `data.aws_route_table.core_subnet_${i}_routes`)).toBe(
              true,
            );
          }
          expect(
            waitsFor(graph, node, `aws_ec2_subnet_cidr_reservation.core_reserved_core-0${i + 1}`),
          ).toBe(true);
          expect(
            waitsFor(graph, lb, `aws_ec2_subnet_cidr_reservation.core_reserved_core-0${i + 1}`),
          ).toBe(true);
          // The route check reads the subnet's table only once it is associated.
          expect(
            waitsFor(
              graph,
              `data.aws_route_tables.core_subnet_${i}_route_tables`,
              `aws_route_table_association.public-${i}`,
            ),
          ).toBe(true);
          // A target is registered after its node exists, and deregistered before it goes.
          expect(
            waitsFor(graph, `aws_lb_target_group_attachment.core_hello_core-0${i + 1}`, node),
          ).toBe(true);
          expect(
            waitsFor(
              graph,
              "aws_lb_listener.core_front_http",
              `aws_lb_target_group_attachment.core_hello_core-0${i + 1}`,
            ),
          ).toBe(true);
        }
        // Not everything waits for everything: the check can fail.
        expect(waitsFor(graph, lb, "aws_lb_listener.core_front_http")).toBe(false);
        expect(
          waitsFor(
            graph,
            "aws_instance.core_core-01",
            "aws_ec2_subnet_cidr_reservation.core_reserved_core-02",
          ),
        ).toBe(false);
      });

      it("terraform graph: without dependsOn nothing would wait for the routes (the race of issue 19)", () => {
        const file = path.join(stackDir, "cdk.tf.json");
        const text = fs.readFileSync(file, "utf8");
        const config = JSON.parse(text);
        for (const block of [config.resource, config.data]) {
          for (const byName of Object.values(block) as Record<
            string,
            { depends_on?: string[] }
          >[]) {
            for (const r of Object.values(byName)) {
              r.depends_on = r.depends_on?.filter(
                (d) => !d.startsWith("aws_route_table_association."),
              );
            }
          }
        }
        fs.writeFileSync(file, JSON.stringify(config));
        try {
          const graph = dependencyGraph(stackDir);
          expect(waitsFor(graph, "aws_lb.core_front", "aws_route_table_association.public-0")).toBe(
            false,
          );
          expect(waitsFor(graph, "aws_instance.core_core-01", "aws_internet_gateway.gateway")).toBe(
            false,
          );
        } finally {
          fs.writeFileSync(file, text);
        }
      });
    });

    describe("a network the user brings: private nodes behind NAT, a public load balancer apart", () => {
      const checks: [run: string, kind: string, message: string][] = [
        [
          "a_node_subnet_without_a_route_out_stops_the_deploy",
          "Resource postcondition failed",
          "subnet subnet-0000000000000000b (subnetCidrs[1] of cluster core) has no default route (0.0.0.0/0) through a NAT gateway (or a transit gateway, a NAT instance) in its route table rtb-000000000000000b1: nodes without public addresses (publicAddresses: false) need NAT to pull their images at boot",
        ],
        [
          "a_node_subnet_routed_only_to_an_internet_gateway_stops_the_deploy",
          "Resource postcondition failed",
          "subnet subnet-0000000000000000a (subnetCidrs[0] of cluster core) has no default route (0.0.0.0/0) through a NAT gateway",
        ],
        [
          "a_load_balancer_in_private_subnets_stops_the_deploy",
          "Resource postcondition failed",
          "subnet subnet-00000000000000a01 (loadBalancerSubnetIds[0] of cluster core) has no default route (0.0.0.0/0) to an internet gateway (igw-…) in its route table rtb-0f0f0f0f0f0f0f0f0: an internet-facing Network Load Balancer needs public subnets",
        ],
        [
          "load_balancer_subnets_missing_a_node_zone_stop_the_deploy",
          "Resource precondition failed",
          "the load balancer subnets of cluster core must cover every availability zone with nodes (cross-zone balancing reaches only zones the load balancer is in); missing: eu-central-1b",
        ],
      ];
      let stackDir = "";
      let tests: TestReport;
      beforeAll(() => {
        stackDir = synthStack("existing", existingStack, ["aws-existing.tftest.hcl"]);
        tests = initAndTest(stackDir, "aws-existing.tftest.hcl", checks);
      });

      it("validates and applies (mocked); each bad route or zone is an expected failure", () => {
        expect(expectPass(stackDir, "validate", "-no-color")).toContain(
          "The configuration is valid",
        );
        expectAllPass(tests, "aws-existing.tftest.hcl", [
          "private_nodes_behind_nat_and_a_public_load_balancer",
          "a_transit_gateway_is_a_way_out_too",
          "a_node_subnet_without_a_route_out_stops_the_deploy",
          "a_node_subnet_routed_only_to_an_internet_gateway_stops_the_deploy",
          "a_load_balancer_in_private_subnets_stops_the_deploy",
          "load_balancer_subnets_missing_a_node_zone_stop_the_deploy",
          "security_sweep",
        ]);
      });

      it.each(checks)(
        "run %s fails on our check, with its message, when the failure is not expected",
        (run, kind, message) => expectCheckMessage(tests, run, kind, message),
      );
    });

    describe("drift guard", () => {
      it("by default a newer AMI does not replace running nodes", () => {
        const out = fileOutput(frontTested().test, "aws-image-kept.tftest.hcl");
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
