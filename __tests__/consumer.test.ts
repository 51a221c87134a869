/**
 * The package as its users get it: `npm pack`, then installed from the
 * tarball into a fresh cdktf project (__tests__/consumer-project, laid out
 * like `cdktf init --template=typescript`) together with the newest
 * constructs 10.x and cdktf 0.21.x from the npm registry. There the user's
 * strict TypeScript compiles, the user's stacks synthesize, the user's jest
 * tests with cdktf's Testing matchers pass, plain `require` works and the
 * `/aws` entry point works with its peer @cdktf/provider-aws installed.
 * @cdktf/provider-null is not installed: the default lifecycle needs no
 * provider, and only `LifecycleResource.NULL_RESOURCE` asks for it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hasCommand, describeWithRequirement } from "./support/tools";

const REPO = path.resolve(__dirname, "..");
const FIXTURE = path.join(__dirname, "consumer-project");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};
// Kept between runs (in the system's temp folder) so that reruns install from it
// (--prefer-offline: 14.5 → 9.9 s here; a machine with an empty cache still gets the newest).
const NPM_CACHE = path.join(os.tmpdir(), `${PACKAGE.name}-consumer-npm-cache`);

// Variables of this repo's own `npm test` and jest run; the user's project has its own.
// npm settings (npm_config_registry, proxies) pass through.
// (COREOS_CLUSTER_STATE_DIR is this repo's test state folder: the user's project keeps its own.)
const OWN_RUN =
  /^(npm_(lifecycle|package)_|npm_command$|npm_config_(local_)?prefix$|JEST_|NODE_OPTIONS$|COREOS_CLUSTER_STATE_DIR$)/i;

/** The user's environment, with the consumer's npm cache. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OWN_RUN.test(k)));
  return { ...env, CHECKPOINT_DISABLE: "1", npm_config_cache: NPM_CACHE, ...extra };
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  /** Everything the command printed, for failure messages. */
  readonly output: string;
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Run {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: userEnv(env),
  });
  const output = `$ ${command} ${args.join(" ")}\n${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error}` : ""}`;
  return { status: r.status, stdout: r.stdout ?? "", output };
}

function ok(r: Run): Run {
  if (r.status !== 0) throw new Error(`failed (status ${r.status}):\n${r.output}`);
  return r;
}

const registry =
  run("npm", ["config", "get", "registry"], REPO, 20_000).stdout.trim() || "the npm registry";
const registryReachable =
  run("npm", ["ping", "--fetch-retries=0", "--fetch-timeout=15000"], REPO, 20_000).status === 0;
const terraform = hasCommand("terraform");

describeWithRequirement(
  registryReachable && terraform,
  registryReachable ? "terraform" : `a reachable npm registry (${registry})`,
  registryReachable
    ? "terraform not found on PATH: install HashiCorp's Terraform release (>= 1.7); toBeValidTerraform runs it"
    : `npm ping of ${registry} failed: the consumer test installs constructs 10.x, cdktf ^0.21 and the test tools from the registry (set npm_config_registry to a mirror, or give the machine network access)`,
  "the packed package in a fresh cdktf project",
  () => {
    let work = "";
    let project = "";
    let packed: { filename: string; files: { path: string }[]; size: number; entryCount: number };

    beforeAll(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), "consumer."));
      packed = JSON.parse(
        ok(run("npm", ["pack", "--json", "--pack-destination", work], REPO, 180_000)).stdout,
      )[0];
      project = path.join(work, "project");
      fs.cpSync(FIXTURE, project, { recursive: true });
      fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({ name: "platform", version: "1.0.0", private: true }, null, 2),
      );
      const dev = PACKAGE.devDependencies;
      const install = run(
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--no-update-notifier",
          "--prefer-offline",
          "--fetch-retries=1",
          "--fetch-timeout=60000",
          path.join(work, packed.filename),
          // The peers, newest releases: what a user starting today gets.
          "constructs@^10",
          "cdktf@^0.21",
          // The optional peer /aws needs. Not @cdktf/provider-null: only
          // LifecycleResource.NULL_RESOURCE loads it, and the project does without.
          `@cdktf/provider-aws@${dev["@cdktf/provider-aws"]}`,
          // The user's tools, as in cdktf's TypeScript template.
          `typescript@${dev.typescript}`,
          `ts-node@${dev["ts-node"]}`,
          `jest@${dev.jest}`,
          `ts-jest@${dev["ts-jest"]}`,
          `@types/jest@${dev["@types/jest"]}`,
          `@types/node@${dev["@types/node"]}`,
        ],
        project,
        300_000,
      );
      if (install.status !== 0) {
        throw new Error(
          `npm install from ${registry} failed: the consumer test needs the registry (or a mirror in npm_config_registry).\n${install.output}`,
        );
      }
    }, 540_000);

    afterAll(() => {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    const installed = (...p: string[]) => path.join(project, "node_modules", ...p);
    const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

    it("the tarball holds compiled JavaScript, declarations, the nodes' membership script, README, LICENSE and package.json only", () => {
      const files = packed.files.map((f) => f.path).sort();
      const other = files.filter(
        (f) =>
          !/^dist\/.+\.(js|d\.ts)$/.test(f) &&
          // The shell script the etcd membership units run, read when configs are rendered.
          f !== "dist/etcd/etcd-member-join.sh" &&
          !["LICENSE", "README.md", "package.json"].includes(f),
      );
      expect(other).toEqual([]);
      for (const entry of ["dist/index", "dist/aws/index", "dist/cli/main"]) {
        expect(files).toContain(`${entry}.js`);
        expect(files).toContain(`${entry}.d.ts`);
      }
      // Each module ships with its declarations and nothing stale: one .d.ts per .js.
      const stem = (suffix: string) =>
        files.filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length));
      expect(stem(".d.ts")).toEqual(stem(".js"));
    });

    it("declares cdktf and constructs as peers, the providers as optional peers, the X.509 encoder as its one dependency", () => {
      const manifest = readJson(installed(PACKAGE.name, "package.json"));
      // etcd's certificates are made at synth: node's crypto signs, @peculiar/asn1-x509 encodes.
      expect(manifest.dependencies).toEqual({
        "@peculiar/asn1-schema": expect.stringMatching(/^\^2\./),
        "@peculiar/asn1-x509": expect.stringMatching(/^\^2\./),
      });
      expect(manifest.peerDependencies).toEqual({
        "@cdktf/provider-aws": expect.stringMatching(/^\^20\./),
        "@cdktf/provider-null": expect.stringMatching(/^\^11\./),
        cdktf: expect.stringMatching(/^\^0\.21\./),
        constructs: expect.stringMatching(/^\^10\./),
      });
      expect(manifest.peerDependenciesMeta).toEqual({
        "@cdktf/provider-aws": { optional: true },
        "@cdktf/provider-null": { optional: true },
      });
      for (const target of Object.values<Record<string, string> | string>(manifest.exports)) {
        for (const file of typeof target === "string" ? [target] : Object.values(target)) {
          expect(fs.existsSync(installed(PACKAGE.name, file))).toBe(true);
        }
      }
    });

    it("installs next to the newest constructs 10.x and cdktf 0.21.x, one copy of each", () => {
      expect(readJson(installed("constructs", "package.json")).version).toMatch(/^10\./);
      expect(readJson(installed("cdktf", "package.json")).version).toMatch(/^0\.21\./);
      // No private copies below the package (they would split the construct tree's types).
      expect(fs.existsSync(installed(PACKAGE.name, "node_modules"))).toBe(false);
    });

    it("tsc with strict, noUncheckedIndexedAccess and exactOptionalPropertyTypes compiles the user's stacks", () => {
      const options = readJson(path.join(project, "tsconfig.json")).compilerOptions;
      expect(options).toMatchObject({
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false, // the package's .d.ts are checked too
      });
      // Node10 resolution (cdktf's template) finds /aws through typesVersions, Node16 through exports.
      ok(run("npx", ["tsc", "--noEmit", "-p", "tsconfig.json"], project, 120_000));
      ok(run("npx", ["tsc", "--noEmit", "-p", "tsconfig.node16.json"], project, 120_000));
    });

    it("the types are real: a wrong prop does not compile", () => {
      const wrong = path.join(project, "wrong.ts");
      fs.writeFileSync(
        wrong,
        `import { App, TerraformStack } from "cdktf";
import { CoreOsCluster } from "coreos-cluster-cdktf";
new CoreOsCluster(new TerraformStack(new App(), "s"), "core", { nodeCount: "3" });
`,
      );
      try {
        const r = run("npx", ["tsc", "--noEmit", "-p", "tsconfig.json"], project, 120_000);
        expect(r.status).not.toBe(0);
        expect(r.output).toMatch(
          /wrong\.ts\(3,\d+\): error TS2322: Type 'string' is not assignable to type 'number/,
        );
      } finally {
        fs.rmSync(wrong);
      }
    });

    it("the user's app synthesizes with ts-node, as `cdktf synth` runs it", () => {
      ok(run("npx", ["ts-node", "main.ts"], project, 120_000));
      const stackDir = path.join(project, "cdktf.out", "stacks", "platform");
      const config = readJson(path.join(stackDir, "cdk.tf.json"));
      expect(Object.keys(config.resource.terraform_data)).toEqual(
        expect.arrayContaining(["release", "vagrant_core_core-01", "vagrant_core_core-03"]),
      );
      expect(config.resource.terraform_data["vagrant_core_core-04"]).toBeUndefined();
      expect(config.output.node_addresses.value).toEqual({
        "core-01": "192.168.56.101",
        "core-02": "192.168.56.102",
        "core-03": "192.168.56.103",
      });
      expect(
        fs.existsSync(path.join(stackDir, "clusters", "core", "ignition", "core-03.ign")),
      ).toBe(true);
      expect(fs.existsSync(path.join(stackDir, "vagrant", "core", "Vagrantfile"))).toBe(true);
      const aws = readJson(
        path.join(project, "cdktf.out", "stacks", "platform-aws", "cdk.tf.json"),
      );
      expect(Object.keys(aws.resource.aws_instance)).toHaveLength(3);
      expect(Object.values(aws.resource.aws_lb)).toEqual([
        expect.objectContaining({ load_balancer_type: "network" }),
      ]);
    });

    it("the user's jest tests with cdktf's Testing matchers pass with a plain ts-jest config", () => {
      // toBeValidTerraform runs terraform init/validate: offline, nothing to download.
      const mirror = path.join(work, "no-providers");
      fs.mkdirSync(mirror, { recursive: true });
      const cliConfig = path.join(work, "offline.tfrc");
      fs.writeFileSync(
        cliConfig,
        `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n`,
      );
      const env = { TF_CLI_CONFIG_FILE: cliConfig };
      const first = ok(run("npx", ["jest", "--ci=false"], project, 240_000, env));
      expect(first.output).toMatch(/Tests:\s+(\d+) passed, \1 total/); // none skipped or failed
      expect(first.output).toMatch(/Snapshots:\s+1 written, 1 total/);
      // A fresh process reproduces the snapshot: the output depends on nothing of the run.
      const second = ok(run("npx", ["jest", "--ci"], project, 240_000, env));
      expect(second.output).toMatch(/Snapshots:\s+1 passed, 1 total/);
    });

    it("npx coreos-cluster-cdktf runs the operations CLI shipped with the package", () => {
      // The bin entry points into dist/ and npm links it, executable, into the project.
      const manifest = readJson(installed(PACKAGE.name, "package.json"));
      expect(manifest.bin).toEqual({ "coreos-cluster-cdktf": "dist/cli/main.js" });
      fs.accessSync(installed(".bin", "coreos-cluster-cdktf"), fs.constants.X_OK);
      const help = ok(run("npx", ["coreos-cluster-cdktf", "--help"], project, 60_000));
      expect(help.stdout).toMatch(/^Usage: coreos-cluster-cdktf <command>/);
      expect(help.stdout).toContain("migrate <service> <node>");
      const none = run(
        "npx",
        ["coreos-cluster-cdktf", "status", "--outdir", work],
        project,
        60_000,
      );
      expect(none.status).toBe(1);
      expect(none.output).toContain(`no synthesized cluster in ${work}`);
    });

    it("plain JavaScript require works; the root entry point loads neither provider package", () => {
      expect(fs.existsSync(installed("@cdktf", "provider-null"))).toBe(false);
      expect(ok(run("node", ["require-check.js"], project, 60_000)).stdout).toContain(
        "require: ok",
      );
      const esm = ok(
        run(
          "node",
          [
            "--input-type=module",
            "-e",
            `import { CoreOsCluster } from "${PACKAGE.name}"; import { AwsCluster } from "${PACKAGE.name}/aws"; console.log(typeof CoreOsCluster, typeof AwsCluster);`,
          ],
          project,
          60_000,
        ),
      );
      expect(esm.stdout.trim()).toBe("function function");
    });
  },
);
