/*
 * Runs TypeScript with Node: `node -r ./scripts/ts-register.cjs main.ts`
 * (cdktf.json's app). Each .ts file outside node_modules is transpiled by
 * the project's own TypeScript with tsconfig.json's options — what
 * `ts-node --transpile-only` does — and the JavaScript is cached in
 * node_modules/.cache/ts-register, keyed by the file's path and text, the
 * TypeScript version and tsconfig.json. An unchanged file is read from the
 * cache; TypeScript itself is loaded only when a file changed, so a synth
 * starts in the time plain `node` takes (ts-node loads TypeScript every time).
 * No type check: `npm run lint` runs tsc.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const FORMAT = 1; // bump when the cached output changes shape
const root = process.cwd();
const tsconfigPath = path.join(root, "tsconfig.json");
const tsconfigText = fs.existsSync(tsconfigPath) ? fs.readFileSync(tsconfigPath, "utf8") : "{}";
const typescriptPackage = require.resolve("typescript/package.json", { paths: [root] });
const typescriptVersion = JSON.parse(fs.readFileSync(typescriptPackage, "utf8")).version;
const cacheDir = path.join(root, "node_modules", ".cache", "ts-register");
const salt = `${FORMAT}\0${typescriptVersion}\0${tsconfigText}\0`;

const sha256 = (text) => crypto.createHash("sha256").update(text).digest("hex");

let compiler; // TypeScript and the options, loaded on the first cache miss

function transpile(source, filename) {
  if (!compiler) {
    const ts = require(path.dirname(typescriptPackage));
    const { config, error } = ts.parseConfigFileTextToJson(tsconfigPath, tsconfigText);
    if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
    compiler = {
      ts,
      // One file at a time, as ts-node --transpile-only; no maps or declarations to write.
      options: {
        ...options,
        isolatedModules: true,
        noEmit: false,
        declaration: false,
        incremental: false,
        sourceMap: false,
        inlineSourceMap: false,
        inlineSources: false,
      },
    };
  }
  const { outputText } = compiler.ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: compiler.options,
  });
  return outputText;
}

/** Stores `js` under `file` atomically; drops older entries of the same source file. */
function store(file, prefix, js) {
  fs.mkdirSync(cacheDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, js);
  fs.renameSync(temp, file);
  for (const old of fs.readdirSync(cacheDir)) {
    if (old.startsWith(prefix) && path.join(cacheDir, old) !== file && old.endsWith(".js")) {
      fs.rmSync(path.join(cacheDir, old), { force: true });
    }
  }
}

function compileTypeScript(module, filename) {
  if (filename.split(path.sep).includes("node_modules")) {
    throw new Error(`${filename}: TypeScript inside node_modules is not transpiled`);
  }
  const source = fs.readFileSync(filename, "utf8");
  const prefix = `${sha256(filename).slice(0, 16)}-`;
  const file = path.join(cacheDir, `${prefix}${sha256(salt + source)}.js`);
  let js;
  try {
    js = fs.readFileSync(file, "utf8");
  } catch {
    js = transpile(source, filename);
    store(file, prefix, js);
  }
  module._compile(js, filename);
}

Module._extensions[".ts"] = compileTypeScript;
