import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const REGISTER = path.join(ROOT, "scripts", "ts-register.cjs");

/** A project folder with this repository's tsconfig.json and TypeScript, and its own cache. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-register."));
  fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(
    path.join(ROOT, "node_modules", "typescript"),
    path.join(dir, "node_modules", "typescript"),
  );
  return dir;
}

/** Runs `file` with the hook the way cdktf.json's app does; returns stdout. */
function run(dir: string, file: string): string {
  const r = spawnSync(process.execPath, ["-r", REGISTER, file], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.status !== 0)
    throw new Error(`node -r ts-register ${file} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const cacheOf = (dir: string) =>
  fs.readdirSync(path.join(dir, "node_modules", ".cache", "ts-register")).sort();

// Prints what tsc's output does: ES2022 class fields (a declared field is reset after super()), enums, imports.
const MAIN = `import { Colour, label } from "./colour";
class Base { constructor() { (this as { init(): void }).init(); } }
class Child extends Base {
  public readonly set?: number;
  init(): void { (this as { set?: number }).set = 1; }
}
const loaded = Object.keys(require.cache).some((f) => f.includes("typescript.js"));
console.log(JSON.stringify({ field: new Child().set ?? "reset", colour: label(Colour.RED), loaded }));
`;
const COLOUR = `export enum Colour { RED = "red" }
export const label = (c: Colour): string => \`colour \${c}\`;
`;

describe("scripts/ts-register.cjs (cdktf.json's app runner)", () => {
  const dir = project();
  fs.writeFileSync(path.join(dir, "main.ts"), MAIN);
  fs.writeFileSync(path.join(dir, "colour.ts"), COLOUR);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs TypeScript as tsc compiles it, transpiling on the first run", () => {
    expect(JSON.parse(run(dir, "main.ts"))).toEqual({
      field: "reset",
      colour: "colour red",
      loaded: true,
    });
    expect(cacheOf(dir)).toHaveLength(2);
  });

  it("reads unchanged files from the cache without loading TypeScript", () => {
    const cached = cacheOf(dir);
    expect(JSON.parse(run(dir, "main.ts"))).toEqual({
      field: "reset",
      colour: "colour red",
      loaded: false,
    });
    expect(cacheOf(dir)).toEqual(cached);
  });

  it("transpiles a changed file again and drops its old output", () => {
    const cached = cacheOf(dir);
    fs.writeFileSync(path.join(dir, "colour.ts"), COLOUR.replace('"red"', '"blue"'));
    expect(JSON.parse(run(dir, "main.ts"))).toMatchObject({ colour: "colour blue", loaded: true });
    const now = cacheOf(dir);
    expect(now).toHaveLength(2);
    expect(now.filter((f) => cached.includes(f))).toHaveLength(1);
  });

  /** Runs cdktf.json's app as `cdktf synth` does, into a fresh folder; what it printed and wrote. */
  function defaultApp(env: Record<string, string>) {
    const app = JSON.parse(fs.readFileSync(path.join(ROOT, "cdktf.json"), "utf8")).app as string;
    expect(app).toBe("node -r ./scripts/ts-register.cjs main.ts");
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-register.out."));
    try {
      const r = spawnSync("sh", ["-c", app], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, ...env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
      });
      const manifest = path.join(outdir, "manifest.json");
      const stacks = fs.existsSync(manifest)
        ? Object.keys(JSON.parse(fs.readFileSync(manifest, "utf8")).stacks)
        : [];
      return { ...r, stacks, written: fs.readdirSync(outdir, { recursive: true }) };
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }

  it.each([
    ["cdktf.json's target", {}, "coreos-cluster"],
    ["COREOS_CLUSTER_TARGET=aws", { COREOS_CLUSTER_TARGET: "aws" }, "coreos-aws"],
  ])("runs the default app as cdktf synth runs cdktf.json's app: %s", (_label, env, stack) => {
    const r = defaultApp(env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stacks).toEqual([stack]);
  });

  it("a bad setting stops the default app with the message alone, before anything is written", () => {
    const r = defaultApp({ NUM_INSTANCES: "three" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'ClusterConfigError: Invalid settings for cdktf.json (context "coreos-cluster:config") and the environment:\n' +
        '  - NUM_INSTANCES (environment, nodeCount): got "three"; allowed: a whole number such as 5\n',
    );
    expect(r.written).toEqual([]);
  });
});
