/*
 * What the baseline app of `npm run bench` emits, taken from one run of the
 * library app at the same size: the node list, the text of one node as a
 * template (its name and address become placeholders, every node gets its
 * own), the one-off strings, and the files that are not per node, verbatim.
 * A plain cdktf app holds such texts itself; it does no planning, validation
 * or rendering.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BENCH_STACK, BenchTarget } from "./shape";

export const NAME = "@@NAME@@";
export const ADDRESS = "@@ADDRESS@@";
export const SUBNET = "@@SUBNET@@";
export const INDEX = "@@INDEX@@";
export const HASH = "@@HASH@@";

/** A text of one node with its name and address made placeholders. */
export type Template = string;

/** One lifecycle resource's strings (Vagrant). */
export interface LifecycleStrings {
  readonly id: string;
  readonly input: Record<string, string>;
  readonly trigger: string;
  readonly command: string;
  readonly destroy?: { readonly command: string; readonly workingDir: string };
}

export interface BenchFixture {
  readonly target: BenchTarget;
  readonly nodes: readonly { readonly name: string; readonly address: string }[];
  /** Files of the stack folder that are not a node's Ignition: path → contents. */
  readonly files: Readonly<Record<string, string>>;
  /** Folders (relative to the stack folder) holding one `<node>.ign` per node. */
  readonly ignitionFolders: readonly string[];
  /** A node's Ignition file. */
  readonly ignition: Template;
  /** Outputs whose values are plain text (no references). */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly vagrant?: {
    readonly box: LifecycleStrings;
    readonly prune: LifecycleStrings;
    /** A node's lifecycle resource (name and address as placeholders). */
    readonly node: LifecycleStrings;
    readonly front: readonly { machine: LifecycleStrings; config: LifecycleStrings }[];
  };
  readonly aws?: {
    /** A node's user data attribute (name and address as placeholders): it reads the node's file. */
    readonly userData: Template;
    /** A node's user data file, in USER_DATA_FOLDER. */
    readonly userDataFile: Template;
    /** The command of a node's rollout marker (`terraform_data`; the config's hash a placeholder). */
    readonly appliedCommand: Template;
    /** The route checks' and subnet checks' strings, in subnet order. */
    readonly subnetCidrs: readonly string[];
    readonly routeCondition: string;
    readonly routeMessage: Template;
    readonly attached: readonly string[];
  };
}

type Json = Record<string, Record<string, Record<string, Record<string, unknown>>>>;

function template(text: string, name: string, address: string): Template {
  return text.split(name).join(NAME).split(address).join(ADDRESS);
}

/** Fills a template for one node. */
export function fill(t: Template, node: { name: string; address: string }): string {
  return t.split(NAME).join(node.name).split(ADDRESS).join(node.address);
}

function lifecycleStrings(r: Record<string, unknown>, id: string): LifecycleStrings {
  const provisioners = r.provisioner as { "local-exec": Record<string, string> }[];
  const [create, destroy] = provisioners.map((p) => p["local-exec"]);
  const input = (r.input ?? r.triggers) as Record<string, string>;
  const trigger = (r.triggers_replace ?? r.triggers) as Record<string, string>;
  const { inputs, ...rest } = input;
  return {
    id,
    input: rest,
    trigger: trigger.inputs ?? inputs,
    command: create.command,
    destroy: destroy && { command: destroy.command, workingDir: destroy.working_dir },
  };
}

/** The AWS target's folder of one user data file per node. */
export const USER_DATA_FOLDER = "clusters/core/aws-user-data";

/** Reads the fixture from the library's output of the same target and size. */
export function extractFixture(outdir: string, target: BenchTarget, size: number): BenchFixture {
  const stackDir = path.join(outdir, "stacks", BENCH_STACK);
  const config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as Json;
  const out = config.output as unknown as Record<string, { value: unknown }>;
  const addresses = (out.node_addresses ?? out.node_private_addresses).value as Record<
    string,
    string
  >;
  const nodes = Object.entries(addresses).map(([name, address]) => ({ name, address }));
  if (nodes.length !== size)
    throw new Error(`library output has ${nodes.length} nodes, not ${size}`);
  const sample = nodes[Math.floor(nodes.length / 2)];
  const ignitionFolders = [
    "clusters/core/ignition",
    ...(target === "aws" ? [] : ["vagrant/core/ignition"]),
  ];
  const perNode = [...ignitionFolders, ...(target === "aws" ? [USER_DATA_FOLDER] : [])];
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(stackDir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (
        p !== "cdk.tf.json" &&
        !nodes.some((n) => perNode.some((f) => p === `${f}/${n.name}.ign`))
      )
        files[p] = fs.readFileSync(path.join(stackDir, p), "utf8");
    }
  };
  walk("");
  const ignition = template(
    fs.readFileSync(path.join(stackDir, ignitionFolders[0], `${sample.name}.ign`), "utf8"),
    sample.name,
    sample.address,
  );
  const outputs = Object.fromEntries(
    Object.entries(out)
      .filter(([, o]) => !JSON.stringify(o.value).includes("${"))
      .map(([k, o]) => [k, o.value]),
  );
  const base = { target, nodes, files, ignitionFolders, ignition, outputs };
  if (target === "aws") {
    const instance = config.resource.aws_instance[`core_${sample.name}`];
    const route = config.data.aws_route_table.core_subnet_0_routes;
    const post = (
      route.lifecycle as { postcondition: { condition: string; error_message: string }[] }
    ).postcondition[0];
    const attachments = config.resource.aws_lb_target_group_attachment;
    const marker = config.resource.terraform_data[`core_${sample.name}_applied`] as {
      input: { config: string };
      provisioner: { "local-exec": { command: string } }[];
    };
    return {
      ...base,
      aws: {
        userData: template(instance.user_data as string, sample.name, sample.address),
        appliedCommand: template(
          marker.provisioner[0]["local-exec"].command.split(marker.input.config).join(HASH),
          sample.name,
          sample.address,
        ),
        userDataFile: template(
          fs.readFileSync(path.join(stackDir, USER_DATA_FOLDER, `${sample.name}.ign`), "utf8"),
          sample.name,
          sample.address,
        ),
        subnetCidrs: Object.keys(config.data.aws_subnet).map(
          (k) =>
            (
              config.data.aws_subnet[k].lifecycle as {
                postcondition: { condition: string }[];
              }
            ).postcondition[0].condition.match(/"([^"]+)"/)?.[1] as string,
        ),
        routeCondition: post.condition,
        routeMessage: post.error_message
          .replace("${data.aws_subnet.core_subnet_0.id}", SUBNET)
          .replace("subnetCidrs[0]", `subnetCidrs[${INDEX}]`),
        attached: Object.values(attachments).map((a) => a.target_id as string),
      },
    };
  }
  const resources = config.resource[target === "vagrant" ? "terraform_data" : "null_resource"];
  const get = (id: string) => lifecycleStrings(resources[`vagrant_core_${id}`], id);
  const node = get(sample.name);
  const fronts = Object.keys(resources)
    .map((k) => k.replace("vagrant_core_", ""))
    .filter((k) => /^front-\d+$/.test(k));
  return {
    ...base,
    vagrant: {
      box: get("box"),
      prune: get("prune"),
      node: {
        ...node,
        id: NAME,
        input: { ...node.input, name: NAME },
        command: template(node.command, sample.name, sample.address),
      },
      front: fronts.map((f) => ({ machine: get(f), config: get(`${f}-config`) })),
    },
  };
}
