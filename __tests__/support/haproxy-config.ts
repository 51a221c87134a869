/*
 * A small reader of haproxy.cfg, for tests that assert what the generated file
 * means (check timing, servers, retries, timeouts) rather than how it is spelt.
 * It reads what the renderer writes: sections (global, defaults, frontend,
 * backend) of directive lines, `#` comments, no quoting.
 */

/** One directive: its words, comments dropped. */
export type Directive = readonly string[];

export interface HaproxySection {
  readonly kind: string;
  readonly name?: string;
  readonly directives: readonly Directive[];
}

export interface HaproxyServer {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Probed by this backend (`check`). */
  readonly check: boolean;
  readonly checkPort?: number;
  /** `backend/server` whose checks this server follows. */
  readonly track?: string;
  /** Starts in maintenance (a drained member). */
  readonly disabled: boolean;
}

/** `default-server` settings: `inter 500ms` → inter: "500ms"; flags → true. */
export type ServerDefaults = Readonly<Record<string, string | true>>;

export interface HaproxyBackend {
  readonly name: string;
  readonly mode?: string;
  readonly balance?: string;
  readonly defaults: ServerDefaults;
  readonly servers: readonly HaproxyServer[];
  /** `timeout <what> <value>` → { what: value }. */
  readonly timeouts: Readonly<Record<string, string>>;
  /** `option httpchk GET /path` → "/path". */
  readonly httpCheckPath?: string;
  readonly directives: readonly Directive[];
}

export interface HaproxyFrontend {
  readonly name: string;
  readonly mode?: string;
  readonly binds: readonly string[];
  readonly defaultBackend?: string;
  /** `use_backend X if { cond }` → [X, "cond"]. */
  readonly useBackends: readonly (readonly [string, string])[];
  readonly directives: readonly Directive[];
}

const SECTION_KINDS = new Set(["global", "defaults", "frontend", "backend", "listen", "peers"]);

/** Splits the file into sections; throws on a directive outside any section. */
export function parseHaproxySections(text: string): HaproxySection[] {
  const sections: { kind: string; name?: string; directives: Directive[] }[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const words = line.split(/\s+/);
    if (SECTION_KINDS.has(words[0]) && !/^\s/.test(raw)) {
      sections.push({ kind: words[0], name: words[1], directives: [] });
    } else if (sections.length === 0) {
      throw new Error(`haproxy.cfg line ${i + 1} outside a section: ${raw}`);
    } else {
      sections[sections.length - 1].directives.push(words);
    }
  }
  return sections;
}

/** The parsed file, with lookups that throw when a section is missing. */
export class HaproxyConfig {
  readonly sections: readonly HaproxySection[];

  constructor(text: string) {
    this.sections = parseHaproxySections(text);
  }

  section(kind: string, name?: string): HaproxySection {
    const found = this.sections.filter((s) => s.kind === kind && s.name === name);
    if (found.length !== 1) throw new Error(`${found.length} sections "${kind} ${name ?? ""}"`);
    return found[0];
  }

  names(kind: string): string[] {
    return this.sections.filter((s) => s.kind === kind).map((s) => s.name ?? "");
  }

  /** Every directive of a section that starts with the given words. */
  static find(section: HaproxySection, ...prefix: string[]): Directive[] {
    return section.directives.filter((d) => prefix.every((w, i) => d[i] === w));
  }

  /** The words after the prefix of the one directive that starts with it; throws if not one. */
  static one(section: HaproxySection, ...prefix: string[]): string[] {
    const found = HaproxyConfig.find(section, ...prefix);
    if (found.length !== 1) {
      throw new Error(`${found.length} "${prefix.join(" ")}" in ${section.kind} ${section.name}`);
    }
    return found[0].slice(prefix.length);
  }

  /** `timeout`, `retries`, `option redispatch` … of the defaults section. */
  get defaults(): HaproxySection {
    return this.section("defaults");
  }

  frontend(name: string): HaproxyFrontend {
    const s = this.section("frontend", name);
    const one = (w: string) => HaproxyConfig.find(s, w)[0]?.[1];
    return {
      name,
      mode: one("mode"),
      binds: HaproxyConfig.find(s, "bind").map((d) => d[1]),
      defaultBackend: one("default_backend"),
      useBackends: HaproxyConfig.find(s, "use_backend").map((d) => {
        if (d[2] !== "if" || d[3] !== "{" || d[d.length - 1] !== "}") {
          throw new Error(`use_backend without an { } condition: ${d.join(" ")}`);
        }
        return [d[1], d.slice(4, -1).join(" ")] as const;
      }),
      directives: s.directives,
    };
  }

  backend(name: string): HaproxyBackend {
    const s = this.section("backend", name);
    const defaultServer = HaproxyConfig.find(s, "default-server");
    if (defaultServer.length > 1)
      throw new Error(`${defaultServer.length} default-server in ${name}`);
    const httpchk = HaproxyConfig.find(s, "option", "httpchk")[0];
    return {
      name,
      mode: HaproxyConfig.find(s, "mode")[0]?.[1],
      balance: HaproxyConfig.find(s, "balance")[0]?.[1],
      defaults: serverOptions(defaultServer[0]?.slice(1) ?? [], VALUED_DEFAULTS),
      servers: HaproxyConfig.find(s, "server").map(parseServer),
      timeouts: Object.fromEntries(HaproxyConfig.find(s, "timeout").map((d) => [d[1], d[2]])),
      httpCheckPath: httpchk?.[3],
      directives: s.directives,
    };
  }
}

/** default-server / server keywords that take a value (the rest are flags). */
const VALUED_DEFAULTS = new Set([
  "inter",
  "fastinter",
  "downinter",
  "rise",
  "fall",
  "port",
  "track",
  "weight",
  "on-marked-down",
  "on-marked-up",
  "slowstart",
  "maxconn",
]);

function serverOptions(words: readonly string[], valued: Set<string>): ServerDefaults {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w in out) throw new Error(`"${w}" twice in: ${words.join(" ")}`);
    if (valued.has(w)) {
      if (i + 1 >= words.length) throw new Error(`"${w}" without a value`);
      out[w] = words[++i];
    } else out[w] = true;
  }
  return out;
}

function parseServer(d: Directive): HaproxyServer {
  const m = /^(.+):(\d+)$/.exec(d[2] ?? "");
  if (!m) throw new Error(`server without address:port: ${d.join(" ")}`);
  const o = serverOptions(d.slice(3), VALUED_DEFAULTS);
  return {
    name: d[1],
    address: m[1],
    port: Number(m[2]),
    check: o.check === true,
    checkPort: typeof o.port === "string" ? Number(o.port) : undefined,
    track: typeof o.track === "string" ? o.track : undefined,
    disabled: o.disabled === true,
  };
}

/** "500ms" → 500, "1s" → 1000, "10m" → 600000 (HAProxy's time units; a bare number is ms). */
export function haproxyMs(value: string | true | undefined): number {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(String(value));
  if (!m) throw new Error(`not an HAProxy time: ${value}`);
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(m[1]) * unit[(m[2] ?? "ms") as keyof typeof unit];
}
