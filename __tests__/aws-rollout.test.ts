import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TerraformStack } from "cdktf";
import { CoreOsCluster, CoreOsClusterProps } from "../lib";
import { AwsCluster, AwsNetwork } from "../lib/aws";
import { configHash } from "../lib/etcd/rollout";
import { testApp } from "./support/state";
import { fileAttribute, tempOutdir } from "./support/synth";

/*
 * AWS: Terraform destroys every replaced instance before it creates any, so
 * a change for every node is rolled one node per deploy. Each synth here is
 * a `cdktf deploy` of the same stack (same outdir, same state folder); "apply"
 * runs the marker commands Terraform would run after creating the instances
 * whose config changed (the real commands, read from cdk.tf.json). User data
 * is the file each instance's user_data reads. What this
 * proves: which instance's user data changes in each deploy, not that AWS
 * replaces it (see aws-terraform.test.ts for Terraform's own checks).
 */
const CLUSTER: CoreOsClusterProps = {
  nodeCount: 3,
  networkCidr: "10.0.0.0/16",
  subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
  firstHostNumber: 10,
};

type Config = { resource: Record<string, Record<string, Record<string, unknown>>> };

describe("AWS rolling replacement: one node per deploy", () => {
  const outdir = tempOutdir();
  let stackDir = "";
  let last: Record<string, string> = {};
  let warnings: string[] = [];

  function deploySynth(props: CoreOsClusterProps = CLUSTER): { changed: string[]; config: Config } {
    const app = testApp({ outdir });
    const stack = new TerraformStack(app, "roll");
    const cluster = new CoreOsCluster(stack, "core", props);
    new AwsCluster(stack, "aws", {
      cluster,
      network: AwsNetwork.create(),
    });
    app.synth();
    warnings = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === "@cdktf/warn" || m.type === "aws:cdk:warning")
      .map((m) => String(m.data))
      .filter((t) => t.includes("rolling"));
    stackDir = path.join(outdir, "stacks", "roll");
    const config: Config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const now = Object.fromEntries(
      Object.entries(config.resource.aws_instance).map(([k, v]) => [
        k,
        fileAttribute(stackDir, v.user_data),
      ]),
    );
    // Each node's marker records the config its instance gets in this deploy (held back or new).
    for (const [k, text] of Object.entries(now)) {
      const marker = config.resource.terraform_data[`${k}_applied`] as {
        input: Record<string, string>;
        triggers_replace: Record<string, string>;
      };
      expect(marker.triggers_replace).toEqual({ config: configHash(text) });
      expect(marker.input).toEqual({ node: k.replace(/^core_/, ""), config: configHash(text) });
    }
    const changed = Object.keys(now).filter((k) => last[k] !== undefined && last[k] !== now[k]);
    last = now;
    return { changed, config };
  }

  /** What Terraform runs after creating an instance whose config changed: its marker command. */
  function apply(config: Config, nodes: string[]) {
    for (const n of nodes) {
      const marker = config.resource.terraform_data[`core_${n}_applied`] as {
        provisioner: Array<{ "local-exec": { command: string } }>;
      };
      const r = spawnSync("sh", ["-c", marker.provisioner[0]["local-exec"].command], {
        cwd: stackDir,
        encoding: "utf8",
      });
      expect(r.status).toBe(0);
    }
  }

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it("first deploy: every node gets its config", () => {
    const { config } = deploySynth();
    expect(Object.keys(config.resource.aws_instance)).toHaveLength(3);
    apply(config, ["core-01", "core-02", "core-03"]);
    expect(deploySynth().changed).toEqual([]);
  });

  it("a change for every node: this deploy replaces core-01 only; the others wait", () => {
    const changed = { ...CLUSTER, files: [{ path: "/etc/motd", contents: "version 2\n" }] };
    const first = deploySynth(changed);
    expect(first.changed).toEqual(["core_core-01"]);
    expect(warnings.join("\n")).toContain(
      "this deploy replaces core-01; core-02, core-03 wait, one per deploy",
    );
    // Synthesizing again (cdktf diff) before the deploy applied it moves nothing on.
    expect(deploySynth(changed).changed).toEqual([]);
    apply(first.config, ["core-01"]);
    const second = deploySynth(changed);
    expect(second.changed).toEqual(["core_core-02"]);
    apply(second.config, ["core-02"]);
    const third = deploySynth(changed);
    expect(third.changed).toEqual(["core_core-03"]);
    apply(third.config, ["core-03"]);
    expect(deploySynth(changed).changed).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("a change for one node goes at once", () => {
    const one = {
      ...CLUSTER,
      files: [{ path: "/etc/motd", contents: "version 2\n" }],
      nodeFiles: { "core-03": [{ path: "/etc/role", contents: "canary\n" }] },
    };
    expect(deploySynth(one).changed).toEqual(["core_core-03"]);
    // One node changing is no rollout: it goes now, nothing waits.
    expect(warnings).toEqual(["rolling replacement: this deploy replaces core-03."]);
  });
});
