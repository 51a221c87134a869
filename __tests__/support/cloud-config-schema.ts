import { parseDocument } from "yaml";

/*
 * What Flatcar's coreos-cloudinit accepts in a `#cloud-config`, written down
 * from its source, and a check that mirrors its validator:
 * - the structure: flatcar/coreos-cloudinit config/config.go (CloudConfig,
 *   CoreOS) and the structs it embeds (config/file.go, unit.go, update.go,
 *   locksmith.go, user.go, oem.go, flannel.go, etcd.go, etcd2.go, fleet.go as
 *   in coreos/coreos-cloudinit v1.x, which Flatcar forked); `yaml:` tags are
 *   the keys, `valid:` tags the value patterns, `deprecated:` tags the keys
 *   Flatcar no longer supports (etcd, etcd2, fleet);
 * - the rules: config/validate/rules.go — checkStructure (unknown key,
 *   incompatible type), checkValidity (`valid` pattern), checkWriteFiles (no
 *   file under /usr), checkEncoding, checkWriteFilesUnderCoreos; and
 *   validate.go's normalizeNodeNames (`-` in a key is read as `_`) and its
 *   YAML 1.1 reading (go-yaml v1).
 * Only the keys this project could emit are spelled out field by field; the
 * deprecated sections are listed by name: any use is a finding here.
 */

type Kind = "string" | "int" | "float" | "bool";

export type Schema =
  | { readonly kind: Kind; readonly valid?: RegExp }
  | { readonly kind: "list"; readonly of: Schema }
  | {
      readonly kind: "struct";
      readonly fields: Readonly<Record<string, Schema>>;
      /** Keys that coreos-cloudinit knows but marks deprecated (`deprecated:` tag). */
      readonly deprecated?: readonly string[];
    }
  | { readonly kind: "opaque" };

const str = (valid?: RegExp): Schema => ({ kind: "string", ...(valid ? { valid } : {}) });
const bool: Schema = { kind: "bool" };
const list = (of: Schema): Schema => ({ kind: "list", of });
const struct = (fields: Record<string, Schema>, deprecated?: readonly string[]): Schema => ({
  kind: "struct",
  fields,
  ...(deprecated ? { deprecated } : {}),
});

/** config/file.go */
const FILE = struct({
  encoding: str(/^(base64|b64|gz|gzip|gz\+base64|gzip\+base64|gz\+b64|gzip\+b64)$/),
  content: str(),
  owner: str(),
  path: str(),
  permissions: str(/^0?[0-7]{3,4}$/),
});

/** config/unit.go */
const UNIT = struct({
  name: str(),
  mask: bool,
  enable: bool,
  runtime: bool,
  content: str(),
  command: str(/^(start|stop|restart|reload|try-restart|reload-or-restart|reload-or-try-restart)$/),
  drop_ins: list(struct({ name: str(), content: str() })),
});

/** config/update.go */
const UPDATE = struct({
  reboot_strategy: str(/^(best-effort|etcd-lock|reboot|off)$/),
  group: str(),
  server: str(),
});

/** config/locksmith.go */
const LOCKSMITH = struct({
  endpoint: str(),
  etcd_cafile: str(),
  etcd_certfile: str(),
  etcd_keyfile: str(),
  etcd_username: str(),
  etcd_password: str(),
  group: str(),
  window_start: str(
    /^((?:sun|mon|tue|wed|thu|fri|sat|sun|SUN|MON|TUE|WED|THU|FRI|SAT|Sun|Mon|Tue|Wed|Thu|Fri|Sat) )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$/,
  ),
  window_length: str(/^[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+$/),
});

/** config/user.go */
const USER = struct({
  name: str(),
  passwd: str(),
  sudo: str(),
  ssh_authorized_keys: list(str()),
  gecos: str(),
  homedir: str(),
  no_create_home: bool,
  primary_group: str(),
  groups: list(str()),
  no_user_group: bool,
  system: bool,
  no_log_init: bool,
  shell: str(),
});

/** config/config.go: CloudConfig and CoreOS. */
export const CLOUD_CONFIG_SCHEMA: Schema = struct({
  ssh_authorized_keys: list(str()),
  coreos: struct(
    {
      flannel: { kind: "opaque" },
      locksmith: LOCKSMITH,
      oem: struct({
        id: str(),
        name: str(),
        version_id: str(),
        home_url: str(),
        bug_report_url: str(),
      }),
      update: UPDATE,
      units: list(UNIT),
    },
    ["etcd", "etcd2", "fleet"],
  ),
  write_files: list(FILE),
  hostname: str(),
  users: list(USER),
  manage_etc_hosts: str(),
});

/** One finding of the check, as coreos-cloudinit's report would have it. */
export interface Finding {
  readonly path: string;
  readonly message: string;
}

function kindOf(v: unknown): Kind | "list" | "map" | "null" {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "list";
  if (typeof v === "object") return "map";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return "string";
}

/** validate/rules.go isCompatible: which YAML kinds go into which field kinds. */
function compatible(value: unknown, schema: Schema): boolean {
  const k = kindOf(value);
  switch (schema.kind) {
    case "string":
      return k === "string" || k === "int" || k === "float" || k === "bool";
    case "float":
      return k === "float" || k === "int";
    case "struct":
      return k === "map";
    case "list":
      return k === "list";
    case "opaque":
      return true;
    default:
      return k === schema.kind;
  }
}

function walk(value: unknown, schema: Schema, path: string, out: Finding[]): void {
  if (!compatible(value, schema)) {
    out.push({ path, message: `incorrect type (want ${schema.kind}, got ${kindOf(value)})` });
    return;
  }
  if (schema.kind === "struct") {
    for (const [rawKey, v] of Object.entries(value as Record<string, unknown>)) {
      const key = rawKey.replace(/-/g, "_"); // normalizeNodeNames
      const at = path ? `${path}.${key}` : key;
      if (schema.deprecated?.includes(key)) out.push({ path: at, message: "deprecated key" });
      else if (!(key in schema.fields)) out.push({ path: at, message: "unrecognized key" });
      else walk(v, schema.fields[key], at, out);
    }
  } else if (schema.kind === "list") {
    (value as unknown[]).forEach((v, i) => walk(v, schema.of, `${path}[${i}]`, out));
  } else if (schema.kind !== "opaque" && "valid" in schema && schema.valid) {
    // AssertValid: zero values are valid; others must match the pattern.
    const text = String(value);
    if (value !== "" && value !== 0 && value !== false && !schema.valid.test(text)) {
      out.push({ path, message: `invalid value ${text}` });
    }
  }
}

/**
 * Parses a cloud-config as coreos-cloudinit would (YAML 1.1, after the
 * `#cloud-config` header) and lists every finding of its validator's rules.
 */
export function checkCloudConfig(text: string): {
  readonly value: unknown;
  readonly findings: Finding[];
} {
  const findings: Finding[] = [];
  if (text.split("\n", 1)[0].trimEnd() !== "#cloud-config") {
    findings.push({ path: "", message: 'must be "#cloud-config" on the first line' });
  }
  const doc = parseDocument(text, { version: "1.1", uniqueKeys: true });
  for (const e of doc.errors) findings.push({ path: "", message: `YAML: ${e.message}` });
  const value = doc.toJS() as unknown;
  walk(value, CLOUD_CONFIG_SCHEMA, "", findings);
  const files = (value as { write_files?: Array<Record<string, unknown>> })?.write_files ?? [];
  files.forEach((f, i) => {
    if (typeof f?.path === "string" && f.path.replace(/\/[^/]*$/, "").startsWith("/usr")) {
      findings.push({ path: `write_files[${i}].path`, message: "file under read-only /usr" });
    }
    if (f?.encoding !== undefined) {
      try {
        decodeContent(String(f.content ?? ""), String(f.encoding));
      } catch (e) {
        findings.push({ path: `write_files[${i}].content`, message: (e as Error).message });
      }
    }
  });
  if ((value as { coreos?: Record<string, unknown> })?.coreos?.write_files !== undefined) {
    findings.push({
      path: "coreos.write_files",
      message: "write_files doesn't belong under coreos",
    });
  }
  return { value, findings };
}

/** config/decode.go: the encodings write_files takes. */
export function decodeContent(content: string, encoding: string): string {
  const b64 = (s: string) => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/\s/g, ""))) throw new Error("not base64");
    return Buffer.from(s, "base64");
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gunzipSync } = require("node:zlib") as typeof import("node:zlib");
  switch (encoding) {
    case "":
      return content;
    case "base64":
    case "b64":
      return b64(content).toString("utf8");
    case "gz":
    case "gzip":
      return gunzipSync(Buffer.from(content, "latin1")).toString("utf8");
    case "gz+base64":
    case "gzip+base64":
    case "gz+b64":
    case "gzip+b64":
      return gunzipSync(b64(content)).toString("utf8");
    default:
      throw new Error(`unsupported encoding ${encoding}`);
  }
}

/**
 * coreos-cloudinit's substitution (initialize/env.go, Environment.Apply): each
 * `$private_ipv4`, `$public_ipv4`, `$private_ipv6`, `$public_ipv6` not after a
 * backslash becomes the machine's value; `\$token` becomes a literal `$token`.
 */
export function applyCloudinitEnvironment(
  text: string,
  values: Readonly<Record<string, string>>,
): string {
  let out = text;
  for (const key of ["$public_ipv4", "$private_ipv4", "$public_ipv6", "$private_ipv6"]) {
    const escaped = key.replace("$", "\\$");
    const value = values[key] ?? "";
    out = out.replace(
      new RegExp(`([^\\\\]|^)${escaped}`, "g"),
      (_m, pre: string) => `${pre}${value}`,
    );
    out = out.replace(new RegExp(`\\\\${escaped}`, "g"), key);
  }
  return out;
}
