/**
 * The docs cannot drift from the code: every TypeScript block of README.md and
 * docs/*.md is type-checked against lib/ (one TypeScript program for all of
 * them), the ones marked `synth` are run and synthesized, and the commands,
 * settings, environment variables, links and the `help` text they name are
 * checked against package.json, the CLI, the settings parser and the exported
 * API. The conventions are documented in docs/testing.md ("The docs are tested").
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import * as api from "../lib";
import * as awsApi from "../lib/aws";
import { CONFIG_CONTEXT_KEY, CONFIG_ENV, CONFIG_KNOBS, parseAppSettings } from "../lib";

const ROOT = path.join(__dirname, "..");
const PACKAGE = "coreos-cluster-cdktf";

// ---------------------------------------------------------------- reading

interface Doc {
  readonly file: string; // relative to ROOT
  readonly text: string;
}

interface Block {
  readonly doc: string;
  readonly line: number; // 1-based line of the opening fence
  readonly lang: string;
  readonly code: string;
  readonly directive: Directive;
}

interface Directive {
  readonly preludes: string[];
  readonly synth: boolean;
  readonly skip: boolean;
  readonly expect: string[];
  readonly files: string[];
}

function readDocs(): Doc[] {
  const files = [
    "README.md",
    ...fs
      .readdirSync(path.join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  return files.map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), "utf8") }));
}

const DIRECTIVE = /^\s*<!--\s*snippet:(.*?)-->\s*$/;

function parseDirective(text: string | undefined, where: string): Directive {
  const d = { preludes: [] as string[], synth: false, skip: false, expect: [] as string[] };
  const files: string[] = [];
  for (const word of (text ?? "").trim().split(/\s+/).filter(Boolean)) {
    const [key, value = ""] = word.split("=", 2);
    const list = value.split(",").filter(Boolean);
    if (key === "prelude") d.preludes.push(...list);
    else if (key === "synth") d.synth = true;
    else if (key === "skip") d.skip = true;
    else if (key === "expect") d.expect.push(...list);
    else if (key === "file") files.push(...list);
    else throw new Error(`${where}: unknown snippet directive "${word}"`);
  }
  return { ...d, files };
}

/** Fenced code blocks (also indented ones inside list items), with the directive before each. */
function blocksOf(doc: Doc): Block[] {
  const lines = doc.text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j])) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      j++;
    }
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    const directive = k >= 0 ? DIRECTIVE.exec(lines[k])?.[1] : undefined;
    const where = `${doc.file}:${i + 1}`;
    blocks.push({
      doc: doc.file,
      line: i + 1,
      lang,
      code: body.join("\n"),
      directive: parseDirective(directive, where),
    });
    i = j;
  }
  return blocks;
}

/** The text outside fenced blocks (prose, tables, inline code). */
function proseOf(doc: Doc): string {
  return doc.text.replace(/^(\s*)(`{3,})[^\n]*\n[\s\S]*?\n\s*\2\s*$/gm, "");
}

const DOCS = readDocs();
const BLOCKS = DOCS.flatMap(blocksOf);
const HELP = fs.readFileSync(path.join(ROOT, "help"), "utf8");

/** help's code block: the indented lines from its first `import` to the next blank line. */
function helpSnippet(): { code: string; line: number } {
  const lines = HELP.split("\n");
  const start = lines.findIndex((l) => /^\s+import \{/.test(l));
  if (start < 0) throw new Error("help: no code block (a line starting with import)");
  const indent = /^\s*/.exec(lines[start])![0].length;
  const body: string[] = [];
  for (let i = start; i < lines.length && lines[i].trim() !== ""; i++) {
    body.push(lines[i].slice(indent));
  }
  return { code: body.join("\n"), line: start + 1 };
}

// ---------------------------------------------------------------- compiling

/**
 * Hidden context a snippet continues from (docs/testing.md). Preludes import
 * under private names, so a snippet's own imports never clash with them.
 */
const PRELUDES: Record<string, { needs?: string[]; code: string }> = {
  stack: {
    code: [
      `import * as __cdktf from "cdktf";`,
      `const app = new __cdktf.App();`,
      `const stack = new __cdktf.TerraformStack(app, "docs");`,
    ].join("\n"),
  },
  cluster: {
    needs: ["stack"],
    code: [
      `import * as __lib from "${PACKAGE}";`,
      `const cluster = new __lib.CoreOsCluster(stack, "core", {});`,
    ].join("\n"),
  },
  front: {
    needs: ["cluster"],
    code: [
      `const front = new __lib.NlbFront(stack, "front");`,
      `front.addListener("http", { port: 80 }).addTargets("web", { targets: [cluster], port: 8080 });`,
    ].join("\n"),
  },
  "aws-network": {
    needs: ["stack"],
    code: [
      `declare const vpc: { readonly id: string };`,
      `declare const subnets: { readonly id: string }[];`,
      `declare const associations: __cdktf.ITerraformDependable[];`,
    ].join("\n"),
  },
  "aws-cluster": {
    code: [
      `import type * as __aws from "${PACKAGE}/aws";`,
      `declare const awsCluster: __aws.AwsCluster;`,
    ].join("\n"),
  },
  "db-unit": { code: `const DB_UNIT = "[Service]\\nExecStart=/usr/bin/sleep infinity\\n";` },
  platform: {
    needs: ["stack"],
    code: [
      `import type * as __constructs from "constructs";`,
      `declare class Platform extends __cdktf.TerraformStack {`,
      `  constructor(scope: __constructs.Construct, id: string);`,
      `}`,
    ].join("\n"),
  },
};

function preludeCode(names: readonly string[], where: string): string {
  const done = new Set<string>();
  const out: string[] = [];
  const add = (name: string) => {
    if (done.has(name)) return;
    const prelude = PRELUDES[name];
    if (!prelude) throw new Error(`${where}: unknown prelude "${name}"`);
    for (const n of prelude.needs ?? []) add(n);
    done.add(name);
    out.push(prelude.code);
  };
  names.forEach(add);
  return out.join("\n");
}

interface Snippet {
  readonly where: string;
  readonly file: string; // a virtual path next to the repository
  readonly source: string;
  readonly offset: number; // lines of prelude before the snippet's first line
  readonly blockLine: number;
  readonly directive: Directive;
}

const VIRTUAL_DIR = path.join(ROOT, "__docs_snippets__");

function snippetOf(where: string, code: string, blockLine: number, directive: Directive): Snippet {
  const prelude = preludeCode(directive.preludes, where);
  const epilogue =
    directive.synth && directive.preludes.length > 0 ? "\napp.synth();\n" : "\nexport {};\n";
  const name = where.replace(/[^A-Za-z0-9]+/g, "-");
  return {
    where,
    file: path.join(VIRTUAL_DIR, `${name}.ts`),
    source: `${prelude}\n${code}\n${epilogue}`,
    offset: prelude === "" ? 1 : prelude.split("\n").length + 1,
    blockLine,
    directive,
  };
}

const TS_BLOCKS = BLOCKS.filter((b) => b.lang === "ts" || b.lang === "typescript");
const SNIPPETS: Snippet[] = [
  ...TS_BLOCKS.filter((b) => !b.directive.skip).map((b) =>
    snippetOf(`${b.doc}:${b.line}`, b.code, b.line, b.directive),
  ),
  snippetOf(
    `help:${helpSnippet().line}`,
    helpSnippet().code,
    helpSnippet().line - 1,
    parseDirective("prelude=stack", "help"),
  ),
];

function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  return {
    ...parsed.options,
    noEmit: false,
    noEmitOnError: false,
    incremental: false,
    declaration: false,
    inlineSourceMap: false,
    inlineSources: false,
    sourceMap: false,
    // A snippet shows what it needs; unused names are no mistake in a fragment.
    noUnusedLocals: false,
    noUnusedParameters: false,
    moduleDetection: ts.ModuleDetectionKind.Force,
    baseUrl: ROOT,
    paths: {
      [PACKAGE]: [path.join(ROOT, "lib", "index.ts")],
      [`${PACKAGE}/aws`]: [path.join(ROOT, "lib", "aws", "index.ts")],
    },
  };
}

interface Compiled {
  readonly program: ts.Program;
  readonly errors: string[];
  readonly js: Map<string, string>;
}

/** One program for every snippet: type errors, and the JavaScript of each. */
function compile(snippets: readonly Snippet[]): Compiled {
  const options = compilerOptions();
  const virtual = new Map(snippets.map((s) => [s.file, s]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (file, language, onError, create) => {
    const s = virtual.get(path.resolve(file));
    return s
      ? ts.createSourceFile(file, s.source, language, true)
      : getSourceFile.call(host, file, language, onError, create);
  };
  host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(path.resolve(file))?.source ?? readFile.call(host, file);
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const errors: string[] = [];
  for (const diagnostic of ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file || virtual.has(path.resolve(d.file.fileName)))) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    const s = diagnostic.file && virtual.get(path.resolve(diagnostic.file.fileName));
    if (!s || diagnostic.start === undefined) {
      errors.push(message);
      continue;
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
    const inSnippet = line + 1 - s.offset;
    errors.push(
      inSnippet >= 1
        ? `${s.where} (snippet line ${inSnippet}, file line ${s.blockLine + inSnippet}): ${message}`
        : `${s.where} (prelude): ${message}`,
    );
  }
  const js = new Map<string, string>();
  for (const s of snippets.filter((x) => x.directive.synth)) {
    program.emit(program.getSourceFile(s.file), (_name, text) => {
      if (_name.endsWith(".js")) js.set(s.file, text);
    });
  }
  return { program, errors, js };
}

// ---------------------------------------------------------------- running

/** Runs a compiled snippet with the package names mapped onto lib/. */
function run(js: string, file: string): void {
  const load = (id: string): unknown => {
    if (id === PACKAGE) return api;
    if (id === `${PACKAGE}/aws`) return awsApi;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id);
  };
  const module = { exports: {} };
  new Function("exports", "require", "module", "__filename", "__dirname", js)(
    module.exports,
    load,
    module,
    file,
    path.dirname(file),
  );
}

interface Synthesized {
  readonly addresses: Set<string>;
  readonly stackDirs: string[];
}

function synthSnippet(compiled: Compiled, s: Snippet): Synthesized {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "docs-snippet-"));
  const saved = {
    CDKTF_OUTDIR: process.env.CDKTF_OUTDIR,
    COREOS_CLUSTER_STATE_DIR: process.env.COREOS_CLUSTER_STATE_DIR,
  };
  try {
    process.env.CDKTF_OUTDIR = path.join(work, "out");
    process.env.COREOS_CLUSTER_STATE_DIR = path.join(work, "state");
    run(compiled.js.get(s.file)!, s.file);
    const stacks = path.join(work, "out", "stacks");
    const stackDirs = fs.existsSync(stacks)
      ? fs.readdirSync(stacks).map((d) => path.join(stacks, d))
      : [];
    const addresses = new Set<string>();
    const found: string[] = [];
    for (const dir of stackDirs) {
      const tf = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8")) as {
        resource?: Record<string, Record<string, unknown>>;
      };
      for (const [type, byName] of Object.entries(tf.resource ?? {})) {
        for (const name of Object.keys(byName)) addresses.add(`${type}.${name}`);
      }
      for (const f of s.directive.files) if (fs.existsSync(path.join(dir, f))) found.push(f);
    }
    return { addresses, stackDirs: [...stackDirs, ...found.map((f) => `file:${f}`)] };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- names the docs use

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourcesUnder(rel));
    else if (/\.(ts|cjs|sh)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

/** Environment variables the repository reads, and outside ones the docs may name. */
function knownEnvironment(): Set<string> {
  const known = new Set(Object.keys(CONFIG_ENV));
  const files = [
    ...sourcesUnder("lib"),
    ...sourcesUnder("bench"),
    ...sourcesUnder("scripts"),
    ...sourcesUnder("__tests__/support"),
    "main.ts",
    "jest.config.js",
    ".ci/run",
  ];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const m of text.matchAll(/process\.env\.([A-Za-z_]\w*)/g)) known.add(m[1]);
    for (const m of text.matchAll(/\$\{?([A-Z][A-Z0-9_]+)/g)) known.add(m[1]);
    // Named constants for variables (STATE_DIRECTORY_ENV = "COREOS_CLUSTER_STATE_DIR").
    for (const m of text.matchAll(/"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"/g)) known.add(m[1]);
  }
  const outside = [
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "TF_CLI_CONFIG_FILE",
    "TF_REATTACH_PROVIDERS",
    "CDKTF_OUTDIR",
    "TMPDIR",
  ];
  for (const name of outside) known.add(name);
  return known;
}

function cliCommands(): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, "lib", "cli", "main.ts"), "utf8");
  const arity = /const ARITY[^=]*=\s*\{([^}]*)\}/.exec(text);
  if (!arity) throw new Error("lib/cli/main.ts: no ARITY table of commands");
  return new Set([...arity[1].matchAll(/(\w+):/g)].map((m) => m[1]));
}

const SCRIPTS = new Set(
  Object.keys(
    (
      JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts,
  ),
);

/** `npm run X` and `npx coreos-cluster-cdktf X|Y` anywhere in a text. */
function commandsIn(text: string): { scripts: string[]; cli: string[] } {
  const scripts = [...text.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
  const cli = [...text.matchAll(/npx coreos-cluster-cdktf ([\w|]+)/g)].flatMap((m) =>
    m[1].split("|"),
  );
  return { scripts, cli };
}

/** Property names of every interface and type literal in lib/ (the props' names). */
function propNames(program: ts.Program): Set<string> {
  const names = new Set<string>();
  const lib = path.join(ROOT, "lib") + path.sep;
  for (const sf of program.getSourceFiles()) {
    if (!path.resolve(sf.fileName).startsWith(lib)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isPropertySignature(node) && ts.isIdentifier(node.name)) names.add(node.name.text);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return names;
}

// ---------------------------------------------------------------- links

/** GitHub's heading ids: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of text.replace(/^(\s*)(`{3,})[^\n]*\n[\s\S]*?\n\s*\2\s*$/gm, "").split("\n")) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const plain = h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "");
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

// ---------------------------------------------------------------- the tests

describe("the docs' TypeScript", () => {
  const compiled = compile(SNIPPETS);

  it("there are snippets to check, in README.md, docs/ and help", () => {
    expect(TS_BLOCKS.length).toBeGreaterThan(10);
    expect(SNIPPETS.some((s) => s.where.startsWith("README.md"))).toBe(true);
    expect(SNIPPETS.some((s) => s.where.startsWith("help"))).toBe(true);
  });

  it("every block type-checks against the library (one program for all)", () => {
    expect(compiled.errors).toEqual([]);
  });

  const runnable = SNIPPETS.filter((s) => s.directive.synth);
  it("some snippets are marked to run", () => {
    expect(runnable.length).toBeGreaterThanOrEqual(6);
  });

  it.each(runnable.map((s) => [s.where, s] as const))(
    "%s synthesizes what it claims",
    (_where, s) => {
      const out = synthSnippet(compiled, s);
      expect(out.stackDirs.filter((d) => !d.startsWith("file:")).length).toBeGreaterThan(0);
      const missing = s.directive.expect.filter((a) => !out.addresses.has(a));
      expect({ missing, addresses: missing.length ? [...out.addresses].sort() : [] }).toEqual({
        missing: [],
        addresses: [],
      });
      for (const f of s.directive.files) expect(out.stackDirs).toContain(`file:${f}`);
    },
  );

  it("help's names exist in the exported API: classes, members, methods, props", () => {
    const exported = { ...api, ...awsApi } as Record<string, unknown>;
    const problems: string[] = [];
    for (const m of HELP.matchAll(/new ([A-Z]\w*)\(/g)) {
      if (typeof exported[m[1]] !== "function") problems.push(`new ${m[1]}: not exported`);
    }
    for (const m of HELP.matchAll(/(?<![\w.])([A-Z]\w*)\.([A-Za-z_]\w*)/g)) {
      const owner = exported[m[1]] as Record<string, unknown> | undefined;
      if (owner === undefined) problems.push(`${m[0]}: ${m[1]} is not exported`);
      else if (!(m[2] in owner)) problems.push(`${m[0]}: ${m[1]} has no ${m[2]}`);
    }
    const receivers: Record<string, { prototype: object }> = {
      front: api.NlbFront,
      cluster: api.CoreOsCluster,
      aws: awsApi.AwsCluster,
    };
    for (const m of HELP.matchAll(/\b(front|cluster|aws)\.(\w+)\(/g)) {
      if (!(m[2] in receivers[m[1]].prototype)) problems.push(`${m[0]}: no such method`);
    }
    const props = propNames(compiled.program);
    for (const m of HELP.matchAll(/\b([a-z]\w*): (?=[{"[]|[A-Z]\w*\.|true\b|false\b|\d)/g)) {
      if (!props.has(m[1])) problems.push(`${m[1]}: not a prop of any exported interface`);
    }
    expect(problems).toEqual([]);
    // The checks find something to check.
    expect([...HELP.matchAll(/new ([A-Z]\w*)\(/g)].length).toBeGreaterThan(2);
  });
});

describe("the docs' commands, settings and variables", () => {
  const everything = [
    ...DOCS.map((d) => ({ file: d.file, text: d.text })),
    { file: "help", text: HELP },
  ];

  it("every `npm run X` is a script of package.json, every `npx coreos-cluster-cdktf X` a command of the CLI", () => {
    const commands = cliCommands();
    const problems: string[] = [];
    let seen = 0;
    for (const { file, text } of everything) {
      const { scripts, cli } = commandsIn(text);
      seen += scripts.length + cli.length;
      for (const s of scripts) if (!SCRIPTS.has(s)) problems.push(`${file}: npm run ${s}`);
      for (const c of cli) if (!commands.has(c)) problems.push(`${file}: npx ${PACKAGE} ${c}`);
    }
    expect(problems).toEqual([]);
    expect(seen).toBeGreaterThan(20);
    expect(SCRIPTS).toContain("docs:api");
  });

  it("every environment variable the docs set or name is read by the code (or an outside one)", () => {
    const known = knownEnvironment();
    const problems: string[] = [];
    for (const { file, text } of everything) {
      const shell =
        file === "help"
          ? [text]
          : BLOCKS.filter((b) => b.doc === file && /^(sh|bash|shell)$/.test(b.lang)).map(
              (b) => b.code,
            );
      for (const code of shell) {
        for (const m of code.matchAll(/(?:^|[\s;(])(?:export\s+)?([A-Z][A-Z0-9_]*)=/gm)) {
          if (!known.has(m[1])) problems.push(`${file}: ${m[1]}= (set in a shell block)`);
        }
      }
      for (const m of text.matchAll(/\bCOREOS_CLUSTER_[A-Z0-9_]+\b/g)) {
        if (!known.has(m[0])) problems.push(`${file}: ${m[0]}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("configuration.md names the context key, every environment variable and every config.rb knob", () => {
    const doc = DOCS.find((d) => d.file === "docs/configuration.md")!.text;
    expect(doc).toContain(CONFIG_CONTEXT_KEY);
    for (const name of Object.keys(CONFIG_ENV)) expect(doc).toContain(`\`${name}\``);
    for (const knob of Object.values(CONFIG_KNOBS)) expect(doc).toContain(knob.rubyVariable);
  });

  it("every coreos-cluster: context key is one the library reads", () => {
    const lib = sourcesUnder("lib")
      .map((f) => fs.readFileSync(path.join(ROOT, f), "utf8"))
      .join("\n");
    const keys = new Set([...lib.matchAll(/"(coreos-cluster:[\w-]+)"/g)].map((m) => m[1]));
    expect(keys.size).toBeGreaterThanOrEqual(3);
    const problems = everything.flatMap(({ file, text }) =>
      [...text.matchAll(/coreos-cluster:[\w-]+/g)]
        .map((m) => m[0])
        .filter((k) => !keys.has(k))
        .map((k) => `${file}: ${k}`),
    );
    expect(problems).toEqual([]);
  });

  it("every JSON block parses, and settings in it pass the settings parser", () => {
    const json = BLOCKS.filter((b) => b.lang === "json");
    expect(json.length).toBeGreaterThan(0);
    for (const b of json) {
      const text = b.code.trim().startsWith('"') ? `{${b.code}}` : b.code;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${b.doc}:${b.line}: not JSON: ${(e as Error).message}`);
      }
      const context = (value.context as Record<string, unknown> | undefined) ?? value;
      if (CONFIG_CONTEXT_KEY in context) {
        expect(() => parseAppSettings(context[CONFIG_CONTEXT_KEY], {})).not.toThrow();
      }
    }
  });
});

describe("the docs' links", () => {
  it("every relative link resolves to a file, and every #anchor to a heading there", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const doc of DOCS) {
      for (const m of proseOf(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue; // http(s):, mailto:
        checked++;
        const [file, anchor] = target.split("#", 2);
        const resolved = file
          ? path.join(path.dirname(path.join(ROOT, doc.file)), file)
          : path.join(ROOT, doc.file);
        if (!fs.existsSync(resolved)) {
          problems.push(`${doc.file}: ${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith(".md")) {
          if (!anchorsOf(fs.readFileSync(resolved, "utf8")).has(anchor)) {
            problems.push(`${doc.file}: ${target}: no such heading`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it("anchors follow GitHub's heading ids", () => {
    expect([
      ...anchorsOf(
        "# What each node gets (Ignition 3.3.0)\n## Props of `CoreOsCluster`\n## A\n## A",
      ),
    ]).toEqual(["what-each-node-gets-ignition-330", "props-of-coreoscluster", "a", "a-1"]);
  });
});
