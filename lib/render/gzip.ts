import { gzipSync } from "node:zlib";

/**
 * The last texts compressed, by text: most files are the same on every node
 * (scripts, units) and gzip at level 9 is most of a node's rendering time.
 * Least recently used first; the texts of one node (its keys) soon leave.
 */
const compressed = new Map<string, string>();
const KEPT = 64;

/**
 * `text` gzipped (level 9) and base64-encoded, as Ignition (`compression:
 * gzip`) and coreos-cloudinit (`gzip+base64`) take it, made the same on
 * every machine: no file name or time in the header, and the header's OS
 * byte fixed to "unknown".
 */
export function gzipBase64(text: string): string {
  let packed = compressed.get(text);
  if (packed === undefined) {
    const out = gzipSync(Buffer.from(text, "utf8"), { level: 9 });
    out[9] = 0xff;
    packed = out.toString("base64");
    if (compressed.size >= KEPT) compressed.delete(compressed.keys().next().value as string);
  } else {
    compressed.delete(text);
  }
  compressed.set(text, packed);
  return packed;
}
