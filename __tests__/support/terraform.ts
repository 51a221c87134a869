import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** How to get Terraform where it is missing. */
export const TERRAFORM_RELEASE = {
  install:
    "install HashiCorp's Terraform release (>= 1.7, https://developer.hashicorp.com/terraform/install)",
};

/** Output of one terraform command. */
export interface TerraformRun {
  readonly status: number | null;
  /** stdout and stderr together. */
  readonly output: string;
}

/** Runs terraform in `cwd` without prompts, colours or update checks; bounded in time. */
export function runTerraform(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): TerraformRun {
  const r = spawnSync("terraform", args, {
    cwd,
    encoding: "utf8",
    timeout: 100_000,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      ...env,
    },
  });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ?? ""}` };
}

/** Like runTerraform, but a failing command throws with its output; returns the output. */
export function terraformOk(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): string {
  const r = runTerraform(args, cwd, env);
  if (r.status !== 0) throw new Error(`terraform ${args.join(" ")} failed:\n${r.output}`);
  return r.output;
}

const MIRROR_PROVIDER = path.join("registry.terraform.io", "hashicorp", "aws");

/**
 * The root of an offline filesystem mirror holding hashicorp/aws (the folder
 * that contains `registry.terraform.io/`): $TF_AWS_PROVIDER_MIRROR, or found
 * below the usual places; undefined when there is none.
 */
export function findAwsProviderMirror(): string | undefined {
  const given = process.env.TF_AWS_PROVIDER_MIRROR;
  if (given) return fs.existsSync(path.join(given, MIRROR_PROVIDER)) ? given : undefined;
  const r = spawnSync(
    "find",
    ["/opt", "/usr/local", "/usr/share", "/root", "/home", "-name", "terraform-provider-aws_*"],
    { encoding: "utf8", timeout: 30_000 },
  );
  for (const file of (r.stdout ?? "").split("\n").filter(Boolean)) {
    // <root>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/terraform-provider-aws_…
    const index = file.indexOf(`${path.sep}${MIRROR_PROVIDER}${path.sep}`);
    if (index > 0) return file.slice(0, index);
  }
  return undefined;
}

/** Writes a Terraform CLI config that installs hashicorp/aws from the mirror only; returns its path. */
export function writeMirrorCliConfig(dir: string, mirror: string): string {
  const file = path.join(dir, "terraform.tfrc");
  fs.writeFileSync(
    file,
    `provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirror)}
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`,
  );
  return file;
}

type Config = { resource?: Record<string, Record<string, unknown>> };

const ARN = "arn:aws:ec2:eu-central-1:123456789012";
const ELB_ARN = "arn:aws:elasticloadbalancing:eu-central-1:123456789012";
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** Distinct mock values per resource type, from the resource's position among its kind. */
const DISTINCT_IDS: Record<string, (n: number) => Record<string, string>> = {
  aws_subnet: (n) => ({ id: `subnet-${hex(n, 17)}`, arn: `${ARN}:subnet/subnet-${hex(n, 17)}` }),
  aws_security_group: (n) => ({
    id: `sg-${hex(n, 17)}`,
    arn: `${ARN}:security-group/sg-${hex(n, 17)}`,
  }),
  aws_route_table_association: (n) => ({ id: `rtbassoc-${hex(n, 17)}` }),
  aws_ec2_subnet_cidr_reservation: (n) => ({ id: `scr-${hex(n, 17)}` }),
  aws_instance: (n) => ({
    id: `i-${hex(n, 17)}`,
    arn: `${ARN}:instance/i-${hex(n, 17)}`,
    public_ip: `203.0.113.${9 + n}`,
  }),
  aws_lb_target_group: (n) => {
    const arn = `${ELB_ARN}:targetgroup/tg-${n}/${hex(n, 16)}`;
    return { id: arn, arn };
  },
  aws_lb_listener: (n) => {
    const arn = `${ELB_ARN}:listener/net/core-front/50dc6c495c0c9188/${hex(n, 16)}`;
    return { id: arn, arn };
  },
  aws_lb_target_group_attachment: (n) => ({ id: `attachment-${hex(n, 20)}` }),
};

/**
 * `override_resource` blocks that give every resource of the kinds above its
 * own id (and ARN): the mock provider's defaults are one value per type, so
 * without them "listener X forwards to group Y" or "node N is in subnet S"
 * would compare equal values and pass whatever the wiring. Numbered in name
 * order, so the values are stable.
 */
export function distinctMockIds(configJson: string): string {
  const config = JSON.parse(configJson) as Config;
  const blocks = Object.entries(DISTINCT_IDS).flatMap(([type, values]) =>
    Object.keys(config.resource?.[type] ?? {})
      .sort()
      .map((name, i) => {
        const body = Object.entries(values(i + 1))
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .join(", ");
        return `override_resource {\n  target = ${type}.${name}\n  values = { ${body} }\n}\n`;
      }),
  );
  return `\n# Generated by __tests__/support/terraform.ts: distinct ids per resource.\n${blocks.join("")}`;
}

/**
 * `terraform test` blocks that sweep every security-group rule of a
 * synthesized config after a mocked apply: none opens SSH or etcd to the
 * world, and only the front's listener ports are open to the world at all.
 * Generated from the config so a rule added later is swept too; the values
 * checked are Terraform's, after the apply. Appended to a test file (which
 * declares the mock provider and the distinct ids of distinctMockIds), or
 * `standalone` with its own mock provider and ids.
 */
export function securitySweepTest(
  configJson: string,
  frontGroup: string | undefined,
  standalone: boolean,
): string {
  const config = JSON.parse(configJson) as Config;
  const names = (type: string) => Object.keys(config.resource?.[type] ?? {}).sort();
  const rules = names("aws_vpc_security_group_ingress_rule");
  const listenerPorts = names("aws_lb_listener").map((l) => `aws_lb_listener.${l}.port`);
  const asserts = rules.flatMap((r) => {
    const rule = `aws_vpc_security_group_ingress_rule.${r}`;
    const world = `(${rule}.cidr_ipv4 == "0.0.0.0/0" || ${rule}.cidr_ipv6 == "::/0")`;
    const covers = (port: number) =>
      `(coalesce(${rule}.from_port, 0) <= ${port} && coalesce(${rule}.to_port, 65535) >= ${port})`;
    const front = frontGroup
      ? `(${rule}.security_group_id == aws_security_group.${frontGroup}.id && ${rule}.from_port == ${rule}.to_port && contains([${listenerPorts.join(", ")}], ${rule}.from_port))`
      : "false";
    return [
      `  assert {
    condition     = !(${world} && (${covers(22)} || ${covers(2379)} || ${covers(2380)}))
    error_message = "${r} opens SSH or etcd (22, 2379, 2380) to the world"
  }`,
      `  assert {
    condition     = !${world} || ${front}
    error_message = "${r} opens something other than a front listener to the world"
  }`,
    ];
  });
  // Distinct group ids (distinctMockIds) make "which group does this rule open" a real question.
  const provider = standalone
    ? `mock_provider "aws" {\n  source = "./tests/mocks"\n}\n${distinctMockIds(configJson)}`
    : "";
  return `
# Generated by __tests__/support/terraform.ts: every ingress rule of the config.
${provider}
run "security_sweep" {
  command = apply

${asserts.join("\n")}
}
`;
}
