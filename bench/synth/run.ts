/*
 * `npm run bench`: synth wall time and peak memory of the library against a
 * plain cdktf app emitting the same resources (baseline.ts), per target and
 * size, each a whole `node` process started the way `cdktf synth` starts
 * cdktf.json's app (same command, environment and output folder variable).
 * Peak memory is the process's maximum resident set (GNU time's %M).
 *
 *   npm run bench                  1, 3, 100, 1,000 and 5,000 nodes, 5 runs each
 *   BENCH_QUICK=1 npm run bench    1, 3, 100 and 1,000 nodes, 3 runs each
 *   BENCH_SIZES=1000 BENCH_RUNS=7 BENCH_TARGETS=aws npm run bench
 *
 * Per size, the first run of each app synthesizes into an empty folder: it
 * gives the baseline its texts (fixture.ts), checks that both emit the same
 * (resource and data source kinds and counts, outputs, the files of the stack
 * folder), and is shown apart as "fresh folder" (one run: every file is
 * created). The measured runs then synthesize into the folder of that first
 * run, as `cdktf synth` does into cdktf.out. A run at 1 node of each app
 * before all fills the transpile cache.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BENCH_STACK, BENCH_TARGETS, BenchTarget } from "./shape";
import { extractFixture } from "./fixture";

const ROOT = path.resolve(__dirname, "..", "..");
const QUICK = !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== "0";
const SIZES = (process.env.BENCH_SIZES ?? (QUICK ? "1,3,100,1000" : "1,3,100,1000,5000"))
  .split(",")
  .map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 5));
const TARGETS = (process.env.BENCH_TARGETS?.split(",") ?? BENCH_TARGETS) as BenchTarget[];
/** VirtualBox's host-only range 192.168.56.0/21 holds 1,946 nodes from host number 101. */
const VAGRANT_MAX_NODES = 1946;
const TIME = "/usr/bin/time";

interface Run {
  readonly seconds: number;
  /** User and system CPU time: less disturbed than wall time by other jobs on the machine. */
  readonly cpuSeconds: number;
  readonly rssMiB: number;
}

interface Row {
  readonly target: BenchTarget;
  readonly nodes: number;
  /** Medians of the synths into the folder of an earlier synth. */
  readonly library: Run;
  readonly baseline: Run;
  /** The first synth into an empty folder (one run): every file is created. */
  readonly libraryFresh: Run;
  readonly baselineFresh: Run;
}

/** cdktf.json's app command with its entry file replaced by `entry`. */
function appCommand(entry: string): string {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, "cdktf.json"), "utf8")).app as string;
  if (!/\bmain\.ts\b/.test(app)) throw new Error(`cdktf.json's app does not run main.ts: ${app}`);
  return app.replace(/\bmain\.ts\b/, entry);
}

/**
 * Runs an app once, as `cdktf synth` would, into `outdir` (the output of an
 * earlier synth: `cdktf synth` keeps cdktf.out) or else a fresh folder;
 * returns its figures and folder.
 */
function synth(command: string, env: NodeJS.ProcessEnv, into?: string): Run & { outdir: string } {
  const outdir = into ?? fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth."));
  const rssFile = path.join(outdir, "..", `${path.basename(outdir)}.rss`);
  const started = process.hrtime.bigint();
  const r = spawnSync(TIME, ["-f", "%M %U %S", "-o", rssFile, "sh", "-c", command], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      ...env,
      // What cdktf-cli sets for the app (synth-stack.js).
      NODE_OPTIONS: process.env.NODE_OPTIONS ?? "--max-old-space-size=4096",
      CDKTF_OUTDIR: outdir,
      // The cluster's state folder (etcd membership, rollout record) next to its output, as a
      // user's project keeps one per checkout: runs of other sizes never share one.
      COREOS_CLUSTER_STATE_DIR: path.join(outdir, "state"),
      CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true",
      CDKTF_CONTEXT_JSON: JSON.stringify({ cdktfRelativeModules: [] }),
      SYNTH_HCL_OUTPUT: "false",
      CHECKPOINT_DISABLE: "1",
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // GNU time's line (after any line of its own, such as "Command exited with non-zero status").
  const figures = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, "utf8").trim().split("\n") : [];
  fs.rmSync(rssFile, { force: true });
  if (r.status !== 0) {
    throw new Error(`${command} failed (${r.status}):\n${r.stdout}${r.stderr}`.slice(0, 4000));
  }
  const [rssKiB, user, system] = (figures.pop() ?? "").split(" ").map(Number);
  return { seconds, cpuSeconds: user + system, rssMiB: rssKiB / 1024, outdir };
}

/** What a synth emitted, to compare library and baseline. */
function shapeOf(outdir: string): { kinds: string; outputs: string; files: number; bytes: number } {
  const stackDir = path.join(outdir, "stacks", BENCH_STACK);
  const config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const kinds = ["resource", "data"]
    .flatMap((k) =>
      Object.entries((config[k] ?? {}) as Record<string, object>).map(
        ([type, all]) => `${k}.${type}×${Object.keys(all).length}`,
      ),
    )
    .sort()
    .join(" ");
  let files = 0;
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== "cdk.tf.json") {
        files += 1;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(stackDir);
  return {
    kinds,
    outputs: Object.keys(config.output ?? {})
      .sort()
      .join(" "),
    files,
    bytes,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const LIBRARY_APP = appCommand("bench/synth/library.ts");
const BASELINE_APP = appCommand("bench/synth/baseline.ts");

function measureOnce(target: BenchTarget): void {
  const env = { BENCH_TARGET: target, BENCH_NODES: "1" };
  const run = synth(LIBRARY_APP, env);
  const fixtureFile = path.join(run.outdir, "..", `${path.basename(run.outdir)}.fixture.json`);
  fs.writeFileSync(fixtureFile, JSON.stringify(extractFixture(run.outdir, target, 1)));
  const base = synth(BASELINE_APP, { ...env, BENCH_FIXTURE: fixtureFile });
  for (const d of [run.outdir, base.outdir, fixtureFile])
    fs.rmSync(d, { recursive: true, force: true });
}

function measure(target: BenchTarget, nodes: number): Row {
  const env = { BENCH_TARGET: target, BENCH_NODES: String(nodes) };
  const fixtureFile = path.join(os.tmpdir(), `bench-fixture.${process.pid}.json`);
  const libraryFresh = synth(LIBRARY_APP, env);
  fs.writeFileSync(fixtureFile, JSON.stringify(extractFixture(libraryFresh.outdir, target, nodes)));
  const baseEnv = { ...env, BENCH_FIXTURE: fixtureFile };
  const baselineFresh = synth(BASELINE_APP, baseEnv);
  const outdirs = { library: libraryFresh.outdir, baseline: baselineFresh.outdir };
  try {
    const [lib, base] = [shapeOf(outdirs.library), shapeOf(outdirs.baseline)];
    if (lib.kinds !== base.kinds || lib.outputs !== base.outputs || lib.files !== base.files) {
      throw new Error(
        `${target} ${nodes}: the baseline does not emit what the library emits:\n  library:  ${JSON.stringify(lib)}\n  baseline: ${JSON.stringify(base)}`,
      );
    }
    const runs: { library: Run[]; baseline: Run[] } = { library: [], baseline: [] };
    for (let i = 0; i < RUNS; i++) {
      // Alternate the order, so that neither app always runs right after the other.
      const order = i % 2 ? (["baseline", "library"] as const) : (["library", "baseline"] as const);
      for (const which of order) {
        runs[which].push(
          which === "library"
            ? synth(LIBRARY_APP, env, outdirs.library)
            : synth(BASELINE_APP, baseEnv, outdirs.baseline),
        );
      }
    }
    const summary = (rs: Run[]): Run => ({
      seconds: median(rs.map((r) => r.seconds)),
      cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
      rssMiB: median(rs.map((r) => r.rssMiB)),
    });
    const figures = (r: Run): Run => ({
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
      rssMiB: r.rssMiB,
    });
    const row: Row = {
      target,
      nodes,
      library: summary(runs.library),
      baseline: summary(runs.baseline),
      libraryFresh: figures(libraryFresh),
      baselineFresh: figures(baselineFresh),
    };
    const show = (r: Run) =>
      `${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s) ${r.rssMiB.toFixed(0)} MiB`;
    console.error(
      `  ${target} ${nodes}: library ${show(row.library)} (fresh ${show(row.libraryFresh)}), baseline ${show(row.baseline)} (fresh ${show(row.baselineFresh)}); ${lib.files} files, ${(lib.bytes / 1e6).toFixed(1)} MB library, ${(base.bytes / 1e6).toFixed(1)} MB baseline; load ${load()}`,
    );
    return row;
  } finally {
    fs.rmSync(fixtureFile, { force: true });
    for (const d of Object.values(outdirs)) fs.rmSync(d, { recursive: true, force: true });
  }
}

const TARGET_NAMES: Record<BenchTarget, string> = {
  vagrant: "Vagrant, terraform_data",
  "vagrant-null": "Vagrant, null_resource",
  aws: "AWS",
};

function table(rows: readonly Row[]): string {
  const lines = [
    "| target | nodes | library s | baseline s | time ratio | CPU ratio | library MiB | baseline MiB | memory ratio | library ms/node | library KiB/node | fresh folder: library s / baseline s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    // Cost of each node past the first: constant when the cost is linear in the node count
    // (shown from 100 nodes on: below, the difference is within the noise).
    const one = rows.find((o) => o.target === r.target && o.nodes === 1);
    const perNode = (f: (x: Run) => number, scale: number) =>
      one && r.nodes >= 100
        ? (((f(r.library) - f(one.library)) * scale) / (r.nodes - 1)).toFixed(2)
        : "";
    const cells = [
      TARGET_NAMES[r.target],
      r.nodes.toLocaleString("en-US"),
      r.library.seconds.toFixed(2),
      r.baseline.seconds.toFixed(2),
      (r.library.seconds / r.baseline.seconds).toFixed(2),
      (r.library.cpuSeconds / r.baseline.cpuSeconds).toFixed(2),
      r.library.rssMiB.toFixed(0),
      r.baseline.rssMiB.toFixed(0),
      (r.library.rssMiB / r.baseline.rssMiB).toFixed(2),
      perNode((x) => x.seconds, 1000),
      perNode((x) => x.rssMiB, 1024),
      `${r.libraryFresh.seconds.toFixed(2)} / ${r.baselineFresh.seconds.toFixed(2)}`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * The default app, main.ts with both stacks, run by cdktf.json's app command
 * as `cdktf synth` runs it, and by the command it had before
 * (`npx ts-node --transpile-only`), into the folder of a first synth.
 */
function measureDefaultApp(): string {
  const lines: string[] = [];
  for (const [name, command] of [
    ["cdktf.json's app", appCommand("main.ts")],
    ["npx ts-node --transpile-only", "npx ts-node --transpile-only main.ts"],
  ]) {
    const first = synth(command, {});
    const runs = Array.from({ length: RUNS }, () => synth(command, {}, first.outdir));
    fs.rmSync(first.outdir, { recursive: true, force: true });
    lines.push(
      `| ${name} (\`${command}\`) | ${median(runs.map((r) => r.seconds)).toFixed(2)} | ${median(runs.map((r) => r.cpuSeconds)).toFixed(2)} | ${median(runs.map((r) => r.rssMiB)).toFixed(0)} |`,
    );
  }
  return [
    "| default app, both stacks of main.ts | s | CPU s | MiB |",
    "| --- | ---: | ---: | ---: |",
    ...lines,
  ].join("\n");
}

function main(): void {
  if (!fs.existsSync(TIME)) {
    throw new Error(`${TIME} is missing: install GNU time (Debian package time) for peak memory`);
  }
  console.error(
    `synth benchmark: ${RUNS} runs per app, ${os.cpus().length} cores, load ${load()}, app command: ${appCommand("<app>")}`,
  );
  // Fill the transpile cache, so that no measured run transpiles.
  for (const target of TARGETS) measureOnce(target);
  const defaultApp = measureDefaultApp();
  const rows: Row[] = [];
  for (const target of TARGETS) {
    for (const nodes of SIZES) {
      if (target !== "aws" && nodes > VAGRANT_MAX_NODES) {
        console.error(
          `  ${target} ${nodes}: skipped, VirtualBox's host-only range holds ${VAGRANT_MAX_NODES} nodes`,
        );
        continue;
      }
      rows.push(measure(target, nodes));
    }
  }
  console.log(table(rows));
  console.log(`\n${defaultApp}`);
  console.log(`\nmedians of ${RUNS} runs; load average at the end: ${load()}`);
  fs.mkdirSync(path.join(ROOT, "bench-out"), { recursive: true });
  fs.writeFileSync(
    path.join(ROOT, "bench-out", "synth.json"),
    `${JSON.stringify({ date: new Date().toISOString(), runs: RUNS, rows }, null, 2)}\n`,
  );
}

main();
