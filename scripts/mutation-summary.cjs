#!/usr/bin/env node
/*
 * Combines the reports of focused mutation runs (reports/mutation/mutation.json,
 * saved under other names between runs) into one table: per file, the run that
 * killed the most of its mutants (tests only accumulate, so what a run killed the
 * whole suite kills; an --incremental run can keep stale survivors), and the total
 * over those files. Score as Stryker counts it: (killed + timed out) / (all −
 * compile and runtime errors − ignored).
 *
 *   node scripts/mutation-summary.cjs reports/mutation/*.json
 */
const fs = require("node:fs");
const path = require("node:path");

const print = (line) => process.stdout.write(`${line}\n`);
const DETECTED = new Set(["Killed", "Timeout"]);
const INVALID = new Set(["CompileError", "RuntimeError", "Ignored"]);

function count(mutants) {
  const c = { mutants: mutants.length, killed: 0, survived: 0, noCoverage: 0, errors: 0 };
  for (const m of mutants) {
    if (DETECTED.has(m.status)) c.killed++;
    else if (m.status === "Survived") c.survived++;
    else if (m.status === "NoCoverage") c.noCoverage++;
    else if (INVALID.has(m.status)) c.errors++;
  }
  return c;
}

const score = (c) => {
  const valid = c.killed + c.survived + c.noCoverage;
  return valid === 0 ? "–" : `${((100 * c.killed) / valid).toFixed(1)} %`;
};

const reports = process.argv.slice(2);
if (reports.length === 0) {
  process.stderr.write("usage: node scripts/mutation-summary.cjs REPORT.json…\n");
  process.exit(2);
}
// Per file and mutated range (`--mutate lib/x.ts:1-430` runs cover a part of a file): the best run.
const best = new Map();
for (const report of reports) {
  const { files, config } = JSON.parse(fs.readFileSync(report, "utf8"));
  const ranges = new Map(
    (config?.mutate ?? [])
      .map((m) => /^(.+\.ts):(\d[\d:-]*)$/.exec(m))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
  for (const [file, result] of Object.entries(files)) {
    const range = [...ranges].find(([f]) => file.endsWith(f))?.[1] ?? "";
    const key = `${file}\u0000${range}`;
    const c = { ...count(result.mutants), report: path.basename(report), file, range };
    const seen = best.get(key);
    if (!seen || c.killed > seen.killed) best.set(key, c);
  }
}
// A file: its whole-file run, or the sum of its ranges when they cover more of it.
const byFile = new Map();
for (const c of best.values()) {
  const parts = byFile.get(c.file) ?? { whole: undefined, ranges: [] };
  if (c.range === "") parts.whole = c;
  else parts.ranges.push(c);
  byFile.set(c.file, parts);
}
for (const [file, { whole, ranges }] of byFile) {
  const summed = count([]);
  for (const r of ranges) for (const k of Object.keys(summed)) summed[k] += r[k];
  const useRanges = ranges.length > 0 && (!whole || summed.mutants > whole.mutants);
  byFile.set(
    file,
    useRanges
      ? { ...summed, report: ranges.map((r) => `${r.report} (${r.range})`).join(", ") }
      : whole,
  );
}
const rows = [...byFile.entries()].sort(([a], [b]) => a.localeCompare(b));
const total = count([]);
print("| file | mutants | killed | survived | no coverage | errors | score | report |");
print("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [file, c] of rows) {
  for (const k of Object.keys(total)) total[k] += c[k];
  const name = file.replace(/^.*?(lib\/)/, "$1");
  print(
    `| ${name} | ${c.mutants} | ${c.killed} | ${c.survived} | ${c.noCoverage} | ${c.errors} | ${score(c)} | ${c.report} |`,
  );
}
print(
  `| **all ${rows.length} files** | ${total.mutants} | ${total.killed} | ${total.survived} | ${total.noCoverage} | ${total.errors} | **${score(total)}** | |`,
);
