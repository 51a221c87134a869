import * as path from "node:path";
import { formatIpv4, Ipv4Network, parseCidr, parseIpv4 } from "./network";

/*
 * Shared validators: one piece per concern, used by every plan. Each returns
 * `undefined` when the value is fine, or the words for "allowed: …".
 */

/** C0/C1 control characters, DEL and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Control characters a text file may not hold: those above but tab, LF and CR. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]/;

/** Half of a UTF-16 surrogate pair without its other half: no UTF-8 file can hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why text cannot be written to a node as UTF-8 (a lone UTF-16 surrogate, which
 * Ignition's data URLs and cloud-config's YAML both refuse), or undefined.
 */
export function checkUnicode(text: string): string | undefined {
  const at = LONE_SURROGATE.exec(text)?.index;
  return at === undefined
    ? undefined
    : `Unicode text: character ${at + 1} is half of a UTF-16 surrogate pair, which UTF-8 cannot hold`;
}

/** True when the text holds a control character (newline, NUL, escape, …). */
export function hasControlChars(text: string): boolean {
  return CONTROL.test(text);
}

/** True when `value` is an object literal (not null, not an array, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A props argument that is missing, null or not an object: the words for the error, else undefined. */
export function checkPropsObject(props: unknown): string | undefined {
  if (props === undefined) return undefined;
  return typeof props === "object" && props !== null && !Array.isArray(props)
    ? undefined
    : "an object of props (or leave the argument out)";
}

/**
 * Paths inside `value` (plain objects and arrays, walked deeply) whose value
 * is an unresolved token. Class instances (OperatingSystem, Duration, a
 * construct) are not entered: their own checks apply.
 */
export function findTokens(
  value: unknown,
  isToken: (v: unknown) => boolean,
  prefix = "",
  skip: readonly string[] = [],
): string[] {
  if (skip.includes(prefix)) return [];
  if (typeof value === "string" || typeof value === "number") {
    return isToken(value) ? [prefix] : [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => findTokens(v, isToken, `${prefix}[${i}]`, skip));
  }
  if (isPlainObject(value)) {
    return Object.entries(value).flatMap(([k, v]) =>
      findTokens(v, isToken, prefix ? `${prefix}.${k}` : k, skip),
    );
  }
  return [];
}

/** What a literal-only prop says when it got a token. */
export const LITERAL_REQUIRED =
  "a literal value known at synth time, not a Terraform reference or variable: it shapes the plan (names, addresses, configs) before Terraform runs";

/** Shown instead of a token's encoded value, which means nothing to a user. */
export const TOKEN_VALUE = "<unresolved Terraform token>";

// ---------------------------------------------------------------- paths

/** Longest path and path segment Linux takes (PATH_MAX - 1, NAME_MAX). */
const PATH_MAX = 4095;
const NAME_MAX = 255;

/**
 * An absolute, fully simplified path on a node: starts with `/`, no `.`,
 * `..`, `//` or trailing `/`, no control characters, Linux length limits.
 * Ignition rejects paths that are not fully simplified.
 */
export function checkNodePath(value: unknown): string | undefined {
  const allowed =
    "an absolute, fully simplified file path (no ., .., // or trailing /; no control characters)";
  if (typeof value !== "string" || !value.startsWith("/")) return allowed;
  if (hasControlChars(value) || path.posix.normalize(value) !== value || value.endsWith("/")) {
    return allowed;
  }
  if (Buffer.byteLength(value) > PATH_MAX) return `${allowed}, at most ${PATH_MAX} bytes`;
  if (value.split("/").some((s) => Buffer.byteLength(s) > NAME_MAX)) {
    return `${allowed}, each part at most ${NAME_MAX} bytes`;
  }
  return undefined;
}

/** The folders above a path: `/etc/a/b` → `/etc/a`, `/etc`. */
export function parentFolders(p: string): string[] {
  const out: string[] = [];
  for (let dir = path.posix.dirname(p); dir !== "/"; dir = path.posix.dirname(dir)) out.push(dir);
  return out;
}

/**
 * Finds the first conflict of a path with paths already taken: the same
 * path, or one is a folder of the other (a file cannot also be a folder).
 */
export function pathConflict(
  p: string,
  taken: ReadonlyMap<string, string>,
): { readonly path: string; readonly owner: string; readonly how: string } | undefined {
  const same = taken.get(p);
  if (same !== undefined) return { path: p, owner: same, how: "the same path" };
  for (const dir of parentFolders(p)) {
    const owner = taken.get(dir);
    if (owner !== undefined) return { path: dir, owner, how: `a file where ${p} needs a folder` };
  }
  const prefix = `${p}/`;
  for (const [other, owner] of taken) {
    if (other.startsWith(prefix)) return { path: other, owner, how: `a file inside ${p}` };
  }
  return undefined;
}

// ---------------------------------------------------------------- file modes

/** True for a mode a person would write: owner ⊇ group ⊇ other, and no write without read. */
function looksIntended(mode: number): boolean {
  if (mode > 0o777) return false;
  const [u, g, o] = [(mode >> 6) & 7, (mode >> 3) & 7, mode & 7];
  const writeNeedsRead = (p: number) => !(p & 2) || (p & 4) !== 0;
  return (u & 4) !== 0 && (g & ~u) === 0 && (o & ~g) === 0 && [u, g, o].every(writeNeedsRead);
}

/**
 * Unix permission bits of a node file. Rejects setuid/setgid/sticky bits
 * (Ignition spec 3.3.0 ignores them) and explains a mode that reads like an
 * octal mode written in decimal (644 is 0o1204: sticky, -w- r-- ---).
 */
export function checkFileMode(mode: unknown): string | undefined {
  const allowed = "Unix permission bits from 0 to 0o777, written in octal, e.g. 0o644";
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0) return allowed;
  const digits = String(mode);
  if (/^[0-7]{3,4}$/.test(digits) && !looksIntended(mode)) {
    const meant = parseInt(digits, 8);
    if (looksIntended(meant & 0o777)) {
      return `${allowed}: ${mode} is decimal, which is 0o${mode.toString(8)}; write 0o${digits} for rw modes like ${digits}`;
    }
  }
  if (mode > 0o7777) return allowed;
  if (mode > 0o777) {
    return `${allowed}: 0o${mode.toString(8)} sets setuid/setgid/sticky bits, which Ignition spec 3.3.0 ignores`;
  }
  return undefined;
}

// ---------------------------------------------------------------- text

/** Ignition (go-systemd) refuses unit lines of 2048 bytes or more. */
export const UNIT_LINE_MAX_BYTES = 2047;

/** Unit or drop-in text: no control characters but tab/newline, lines Ignition accepts. */
export function checkUnitText(text: string): string | undefined {
  const unicode = checkUnicode(text);
  if (unicode) return unicode;
  if (CONTROL_IN_TEXT.test(text)) {
    return "unit text without control characters (NUL, escape, …) other than tab and newline";
  }
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const long = lines.findIndex((l) => Buffer.byteLength(l) > UNIT_LINE_MAX_BYTES);
  if (long >= 0) {
    return `lines of at most ${UNIT_LINE_MAX_BYTES} bytes (line ${long + 1} has ${Buffer.byteLength(lines[long])}): Ignition and systemd refuse longer ones; split it with a trailing \\`;
  }
  const bad = unparsableUnitLine(lines);
  if (bad !== undefined) {
    return `unit text Ignition can parse: line ${bad + 1} (${JSON.stringify(lines[bad].slice(0, 40))}) is inside a section but is neither Key=Value, a comment, a [Section] header nor a continued value`;
  }
  return undefined;
}

/** The first line go-systemd's unit parser (Ignition's) refuses; undefined when none. */
function unparsableUnitLine(lines: readonly string[]): number | undefined {
  let inSection = false;
  let continued = false;
  for (const [i, line] of lines.entries()) {
    const t = line.trim();
    const wasContinued: boolean = continued;
    continued = inSection && t.endsWith("\\") && (wasContinued || t.includes("="));
    if (wasContinued || t === "" || t.startsWith("#") || t.startsWith(";")) continue;
    if (t.startsWith("[")) {
      if (!t.includes("]")) return i;
      inSection = true;
    } else if (inSection && !t.includes("=")) {
      return i;
    }
  }
  return undefined;
}

/** A systemd unit name with its type (what Ignition writes and systemctl takes). */
const UNIT_NAME =
  /^[A-Za-z0-9:_.@-]+\.(service|socket|timer|mount|automount|path|target|slice|swap)$/;

/** A unit name: its type suffix, systemd's characters, at most 255. */
export function checkUnitName(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= 255 && UNIT_NAME.test(value)
    ? undefined
    : "a systemd unit name with its type, e.g. hello.service (A-Z a-z 0-9 : _ . @ -, at most 255)";
}

/** A drop-in file name. */
export function checkDropinName(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9_.@-]{1,250}\.conf$/.test(value)
    ? undefined
    : "a file name of A-Z a-z 0-9 _ . @ - ending in .conf";
}

/**
 * Unit or drop-in text as a prop gives it: a string Ignition accepts, without
 * private keys. The value to show and the words for "allowed", or undefined.
 */
export function checkUnitContents(
  text: unknown,
): { readonly shown: unknown; readonly allowed: string } | undefined {
  if (typeof text !== "string") return { shown: text, allowed: "a string" };
  if (containsPrivateKey(text)) {
    return {
      shown: PRIVATE_KEY_SHOWN,
      allowed: "no private keys: synthesized configs are plain text",
    };
  }
  const reason = checkUnitText(text);
  return reason ? { shown: text, allowed: reason } : undefined;
}

/**
 * One line of shell a node runs as written (a health-check command): printable
 * ASCII, no newline, at most `max` characters. It is the user's own command;
 * what it may reach stays the user's choice (the policy check warns about downloads).
 */
export function checkCommandLine(value: unknown, max = 1024): string | undefined {
  return typeof value === "string" &&
    value.trim() !== "" &&
    value.length <= max &&
    /^[\x20-\x7e]+$/.test(value)
    ? undefined
    : `one line of shell, 1-${max} printable ASCII characters`;
}

/** An absolute URL path of printable ASCII without spaces (an HTTP health check's path). */
export function checkUrlPath(value: unknown, max = 1024): string | undefined {
  return typeof value === "string" && value.length <= max && /^\/[\x21-\x7e]*$/.test(value)
    ? undefined
    : `an absolute URL path of printable ASCII without spaces, at most ${max} characters`;
}

/** PEM or PuTTY private keys. */
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|PuTTY-User-Key-File-\d+:/;

/** True when the text holds a private key. */
export function containsPrivateKey(text: string): boolean {
  return PRIVATE_KEY.test(text);
}

/** What the error shows instead of a private key. */
export const PRIVATE_KEY_SHOWN = "-----BEGIN … PRIVATE KEY-----";

// ---------------------------------------------------------------- SSH keys

/** Public key types accepted in authorized_keys, with what their blob holds after the type. */
const SSH_KEY_LAYOUTS: Record<string, readonly ("pk32" | "mpint" | "curve" | "point" | "app")[]> = {
  "ssh-ed25519": ["pk32"],
  "ssh-rsa": ["mpint", "mpint"],
  "ecdsa-sha2-nistp256": ["curve", "point"],
  "ecdsa-sha2-nistp384": ["curve", "point"],
  "ecdsa-sha2-nistp521": ["curve", "point"],
  "sk-ssh-ed25519@openssh.com": ["pk32", "app"],
  "sk-ecdsa-sha2-nistp256@openssh.com": ["curve", "point", "app"],
};

/** Uncompressed EC point sizes per curve. */
const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** A parsed OpenSSH public key line. */
export interface SshPublicKey {
  readonly type: string;
  readonly comment: string;
  /** RSA modulus size; undefined for other types. */
  readonly rsaBits?: number;
  /** The line in canonical form: `type base64 comment`. */
  readonly line: string;
}

/** Reads SSH wire-format strings from a blob. */
class BlobReader {
  private offset = 0;
  constructor(private readonly blob: Buffer) {}

  get done(): boolean {
    return this.offset === this.blob.length;
  }

  bytes(): Buffer | undefined {
    if (this.offset + 4 > this.blob.length) return undefined;
    const len = this.blob.readUInt32BE(this.offset);
    if (this.offset + 4 + len > this.blob.length) return undefined;
    const out = this.blob.subarray(this.offset + 4, this.offset + 4 + len);
    this.offset += 4 + len;
    return out;
  }
}

/** Bits of an SSH mpint (big-endian, leading zero byte for a positive number). */
function mpintBits(b: Buffer): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]));
}

/** Checks the blob's structure against the declared type; the reason when it does not fit. */
function checkBlob(type: string, blob: Buffer): { reason?: string; rsaBits?: number } {
  const r = new BlobReader(blob);
  const inner = r.bytes()?.toString("latin1");
  if (inner === undefined) {
    return { reason: `the base64 part is ${blob.length} bytes, too short for a ${type} key` };
  }
  if (inner !== type) {
    return {
      reason: `the base64 part holds a ${JSON.stringify(inner.slice(0, 40))} key, but the line says ${type}`,
    };
  }
  let rsaBits: number | undefined;
  let curve = "";
  for (const field of SSH_KEY_LAYOUTS[type]) {
    const value = r.bytes();
    if (value === undefined) {
      return { reason: `the base64 part is ${blob.length} bytes, too short for a ${type} key` };
    }
    if (field === "pk32" && value.length !== 32) {
      return { reason: `an Ed25519 key of 32 bytes (got ${value.length})` };
    }
    if (field === "curve") {
      curve = value.toString("latin1");
      if (!type.includes(curve) || !(curve in EC_POINT_BYTES)) {
        return { reason: `the curve ${JSON.stringify(curve)} does not match ${type}` };
      }
    }
    if (field === "point" && (value.length !== EC_POINT_BYTES[curve] || value[0] !== 4)) {
      return { reason: `an uncompressed ${curve} point of ${EC_POINT_BYTES[curve]} bytes` };
    }
    if (field === "mpint") rsaBits = mpintBits(value); // the second mpint (modulus) wins
  }
  if (!r.done) return { reason: `${type} key data followed by extra bytes` };
  if (rsaBits !== undefined && rsaBits < 1024) {
    return { reason: `an RSA modulus of at least 1024 bits (OpenSSH refuses ${rsaBits})` };
  }
  return { rsaBits };
}

/**
 * Parses an OpenSSH public key line (`type base64 [comment]`): the type must
 * be one OpenSSH accepts and match the type inside the decoded blob, whose
 * structure must be complete (a bare type with a short blob is refused).
 */
export function parseSshPublicKey(text: unknown): SshPublicKey | { readonly reason: string } {
  const types = Object.keys(SSH_KEY_LAYOUTS).join(", ");
  const form = `an OpenSSH public key line "<type> <base64> [comment]" with type ${types}`;
  if (typeof text !== "string") return { reason: form };
  const line = text.trim();
  if (hasControlChars(line)) return { reason: `${form}, on one line without control characters` };
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!m) return { reason: form };
  const [, type, b64, comment = ""] = m;
  if (!(type in SSH_KEY_LAYOUTS)) return { reason: form };
  const blob = Buffer.from(b64, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || blob.toString("base64") !== b64) {
    return { reason: `${form}: the key part is not canonical base64` };
  }
  const { reason, rsaBits } = checkBlob(type, blob);
  if (reason) return { reason: `${form}: ${reason}` };
  return { type, comment, rsaBits, line: comment ? `${type} ${b64} ${comment}` : `${type} ${b64}` };
}

// ---------------------------------------------------------------- container images

/** `registry[:port]/repository[:tag][@sha256:<64 hex>]`, lowercase repository, as runtimes parse it. */
const IMAGE_REFERENCE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
const IMAGE_DIGEST = /@sha256:[0-9a-f]{64}$/;

/**
 * A container image reference a node pulls (it reaches a unit's command
 * line, so nothing else may pass); `pinned` ones must name a digest.
 */
export function checkImageReference(value: unknown, pinned: boolean): string | undefined {
  if (typeof value !== "string" || value.length > 512 || !IMAGE_REFERENCE.test(value)) {
    return "an image reference such as quay.io/coreos/etcd:v3.5.21 (registry/repository[:tag][@sha256:<64 hex>])";
  }
  if (pinned && !IMAGE_DIGEST.test(value)) {
    return "a reference pinned by digest: <repository>[:tag]@sha256:<64 lowercase hex digits>";
  }
  return undefined;
}

// ---------------------------------------------------------------- networks

/** Ranges no cluster network, node or target can use. */
export const UNUSABLE_RANGES: readonly { readonly cidr: string; readonly what: string }[] = [
  { cidr: "0.0.0.0/8", what: '"this network" (0.0.0.0/8)' },
  { cidr: "127.0.0.0/8", what: "loopback (127.0.0.0/8)" },
  { cidr: "169.254.0.0/16", what: "link-local (169.254.0.0/16)" },
  { cidr: "224.0.0.0/4", what: "multicast (224.0.0.0/4)" },
  { cidr: "240.0.0.0/4", what: "reserved and broadcast (240.0.0.0/4)" },
];

const UNUSABLE = UNUSABLE_RANGES.map((r) => ({ ...r, net: parseCidr(r.cidr) as Ipv4Network }));

function overlaps(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** The unusable range a network overlaps (a cluster network must avoid them all). */
export function unusableOverlap(network: Ipv4Network): string | undefined {
  return UNUSABLE.find((r) => overlaps(network, r.net))?.what;
}

/** The unusable range a network lies inside (a source CIDR may still be 0.0.0.0/0). */
export function unusableSource(network: Ipv4Network): string | undefined {
  return UNUSABLE.find(
    (r) => network.base >= r.net.base && network.base + network.size <= r.net.base + r.net.size,
  )?.what;
}

/** A unicast IPv4 address a machine can have: the words for "allowed" when it is not one. */
export function checkHostAddress(value: unknown): string | undefined {
  const allowed = "a unicast IPv4 address such as 10.0.0.5 (no leading zeros)";
  const n = typeof value === "string" ? parseIpv4(value) : undefined;
  if (n === undefined) return allowed;
  const range = unusableOverlap({ cidr: value as string, base: n, prefixLength: 32, size: 1 });
  return range ? `${allowed}, not ${range}` : undefined;
}

/**
 * A network the cluster can use: a CIDR (network address, no leading zeros)
 * that overlaps none of the unusable ranges.
 */
export function checkClusterNetwork(value: unknown): Ipv4Network | { readonly reason: string } {
  if (typeof value !== "string") return { reason: "an IPv4 CIDR such as 192.168.56.0/21" };
  const parsed = parseCidr(value);
  if ("reason" in parsed) return parsed;
  const range = unusableOverlap(parsed);
  if (range) {
    return {
      reason: `a private network such as 10.0.0.0/16 or 192.168.56.0/21; ${value} overlaps ${range}, where no node can be addressed`,
    };
  }
  return parsed;
}

/** A CIDR that says who may connect: 0.0.0.0/0 (anyone) or a network outside the unusable ranges. */
export function checkSourceCidr(value: unknown): string | undefined {
  if (typeof value !== "string") return "an IPv4 CIDR such as 198.51.100.0/24";
  const parsed = parseCidr(value);
  if ("reason" in parsed) return parsed.reason;
  if (parsed.prefixLength === 0) return undefined;
  const range = unusableSource(parsed);
  return range ? `a network clients connect from, not ${range}` : undefined;
}

/** `a.b.c.d` of a 32-bit number; re-exported for messages. */
export { formatIpv4 };
