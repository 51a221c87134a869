/*
 * A small reader of keepalived.conf, for tests that assert what the generated
 * file means (VRRP priority, preemption, peers, addresses, the HAProxy probe).
 * keepalived's syntax: `keyword args…` lines and `keyword args… {` … `}` blocks,
 * `#`/`!` comments, double-quoted strings as one word.
 */

export interface KeepalivedNode {
  readonly keyword: string;
  readonly args: readonly string[];
  /** Set for blocks (`{ … }`), undefined for plain lines. */
  readonly children?: readonly KeepalivedNode[];
}

function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[2] !== undefined && /^[#!]/.test(m[2])) break;
    out.push(m[1] ?? m[2]);
  }
  return out;
}

/** Parses the whole file into a tree; throws on unbalanced braces. */
export function parseKeepalivedConf(text: string): KeepalivedNode[] {
  const root: KeepalivedNode[] = [];
  const stack: KeepalivedNode[][] = [root];
  for (const [i, raw] of text.split("\n").entries()) {
    const w = words(raw);
    if (w.length === 0) continue;
    const top = stack[stack.length - 1];
    if (w.length === 1 && w[0] === "}") {
      if (stack.length === 1) throw new Error(`line ${i + 1}: "}" without a block`);
      stack.pop();
    } else if (w[w.length - 1] === "{") {
      const children: KeepalivedNode[] = [];
      top.push({ keyword: w[0], args: w.slice(1, -1), children });
      stack.push(children);
    } else {
      if (w.includes("{") || w.includes("}"))
        throw new Error(`line ${i + 1}: brace inside: ${raw}`);
      top.push({ keyword: w[0], args: w.slice(1) });
    }
  }
  if (stack.length !== 1) throw new Error("unclosed block in keepalived.conf");
  return root;
}

/** Lookups on a block's children that throw when the shape is not the expected one. */
export class KeepalivedBlock {
  constructor(readonly nodes: readonly KeepalivedNode[]) {}

  static parse(text: string): KeepalivedBlock {
    return new KeepalivedBlock(parseKeepalivedConf(text));
  }

  all(keyword: string): KeepalivedNode[] {
    return this.nodes.filter((n) => n.keyword === keyword);
  }

  has(keyword: string): boolean {
    return this.all(keyword).length > 0;
  }

  /** The one line or block with this keyword (and first argument, if given). */
  one(keyword: string, name?: string): KeepalivedNode {
    const found = this.all(keyword).filter((n) => name === undefined || n.args[0] === name);
    if (found.length !== 1) throw new Error(`${found.length} "${keyword} ${name ?? ""}"`);
    return found[0];
  }

  /** The single argument of a one-value line, e.g. `priority 150` → "150". */
  value(keyword: string): string {
    const n = this.one(keyword);
    if (n.children || n.args.length !== 1) throw new Error(`"${keyword}" is not a one-value line`);
    return n.args[0];
  }

  block(keyword: string, name?: string): KeepalivedBlock {
    const n = this.one(keyword, name);
    if (!n.children) throw new Error(`"${keyword}" is not a block`);
    return new KeepalivedBlock(n.children);
  }

  /** The entries of a list block (unicast_peer, virtual_ipaddress, track_script): their words. */
  entries(keyword: string): string[][] {
    return this.block(keyword).nodes.map((n) => [n.keyword, ...n.args]);
  }
}
