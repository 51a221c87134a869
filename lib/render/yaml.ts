/*
 * A small YAML writer for coreos-cloudinit's cloud-config, which parses with
 * go-yaml v1 (YAML 1.1) after replacing `$private_ipv4` and its siblings in
 * the raw text (flatcar/coreos-cloudinit initialize/env.go, Environment.Apply:
 * `\$private_ipv4` becomes a literal `$private_ipv4`). So:
 * - strings are literal block scalars (`|`) where YAML reads them back
 *   unchanged, otherwise double-quoted with every non-printable character
 *   escaped;
 * - a platform placeholder inside user text is escaped so the platform leaves
 *   it alone; only values wrapped in `Substituted` keep theirs.
 */

/** The tokens coreos-cloudinit replaces in user data (initialize/env.go). */
export const CLOUDINIT_PLACEHOLDERS = [
  "$public_ipv4",
  "$private_ipv4",
  "$public_ipv6",
  "$private_ipv6",
] as const;

/** Text whose placeholders the platform is meant to substitute. */
export class Substituted {
  constructor(public readonly text: string) {}
}

/** A value the writer takes. */
export type YamlValue =
  | string
  | number
  | boolean
  | Substituted
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

const PLACEHOLDER = /\$(public|private)_ipv[46]/g;
const KEY = /^[a-z][a-z0-9_-]*$/;
/** Plain words YAML 1.1 reads as a boolean or null, not as a string key. */
const NOT_STRING_KEY = /^(y|n|yes|no|true|false|on|off|null)$/;
/** Characters a literal block scalar cannot hold as they are (YAML 1.1 line breaks, non-printables). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_BLOCK_SAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;
/** Characters a double-quoted scalar must escape. */
const ESCAPE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f"\\\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function hex4(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** A double-quoted scalar; `$` of a placeholder as `\u0024` so the platform leaves it alone. */
function quoted(text: string, substitute: boolean): string {
  const escaped = text.replace(ESCAPE, (c) =>
    c === '"' ? '\\"' : c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\t" ? "\\t" : hex4(c),
  );
  return `"${substitute ? escaped : escaped.replace(PLACEHOLDER, (m) => `\\u0024${m.slice(1)}`)}"`;
}

/**
 * True when a literal block scalar reads back as exactly `text`: a first
 * line that fixes the indentation (no leading space, not empty), no
 * characters YAML 1.1 treats as line breaks or non-printable, no CR.
 */
function blockSafe(text: string): boolean {
  return (
    text.includes("\n") &&
    !/^[ \n]/.test(text) &&
    !NOT_BLOCK_SAFE.test(text) &&
    !text.includes("\r")
  );
}

/** A literal block scalar at `indent`; placeholders escaped with `\` unless substituted. */
function block(text: string, indent: string, substitute: boolean): string {
  const body = substitute ? text : text.replace(PLACEHOLDER, (m) => `\\${m}`);
  const trailing = /\n*$/.exec(body)?.[0].length ?? 0;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const lines = body.replace(/\n$/, "").split("\n");
  return `|${chomp}\n${lines.map((l) => (l === "" ? "" : `${indent}${l}`)).join("\n")}`;
}

function scalar(value: string | number | boolean | Substituted, indent: string): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const substitute = value instanceof Substituted;
  const text = value instanceof Substituted ? value.text : value;
  return blockSafe(text) ? block(text, indent, substitute) : quoted(text, substitute);
}

function isScalar(value: YamlValue): value is string | number | boolean | Substituted {
  return (
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean" ||
    value instanceof Substituted
  );
}

function lines(value: YamlValue, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: YamlValue) => {
      if (isScalar(item)) return [`${indent}- ${scalar(item, `${indent}  `)}`];
      const inner = lines(item, `${indent}  `);
      return inner.length
        ? [`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1)]
        : [`${indent}- {}`];
    });
  }
  return Object.entries(value as Record<string, YamlValue | undefined>).flatMap(([key, v]) => {
    if (v === undefined) return [];
    if (!KEY.test(key) || NOT_STRING_KEY.test(key))
      throw new Error(`not a cloud-config key: ${JSON.stringify(key)}`);
    if (isScalar(v)) return [`${indent}${key}: ${scalar(v, `${indent}  `)}`];
    if (Array.isArray(v) && v.length === 0) return [`${indent}${key}: []`];
    return [`${indent}${key}:`, ...lines(v, `${indent}  `)];
  });
}

/** A YAML document (a mapping) after the given header lines (`#cloud-config`, comments). */
export function renderYamlDocument(
  header: readonly string[],
  value: { readonly [key: string]: YamlValue | undefined },
): string {
  return `${[...header, ...lines(value, "")].join("\n")}\n`;
}
