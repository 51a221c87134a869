import { IssueCollector } from "../core/errors";

/** The public discovery service the coreos-vagrant recipe used (deprecated, see docs/coming-from-coreos-vagrant.md). */
export const PUBLIC_DISCOVERY_SERVICE = "https://discovery.etcd.io";

/**
 * Where every discovery token lives on a discovery etcd, by the protocol's
 * convention (etcd's dev-internal/discovery_protocol.md for v2, and v3
 * discovery's `/_etcd/registry/<token>/_config/size` in etcd ≥ 3.6).
 */
export const DISCOVERY_KEY_PREFIX = "_etcd/registry";

/** How the members find each other on their first boot. */
export enum DiscoveryKind {
  /** The member list is known at synth time (`initial-cluster`): no outside service. */
  STATIC = "static",
  /** discovery.etcd.io: a token per cluster generation from `/new?size=N` (v2 discovery). */
  PUBLIC_SERVICE = "public-service",
  /** An etcd of your own serving the v2 keys API: the deploy creates a token on it (v2 discovery). */
  SELF_HOSTED = "self-hosted",
  /** A v2 discovery URL (token) you made yourself: checked fresh and of the right size at deploy. */
  EXISTING_TOKEN = "existing-token",
  /** etcd ≥ 3.6's v3 discovery against an etcd of your own: the deploy creates a token on it. */
  V3 = "v3",
}

/** Options of v3 discovery. */
export interface V3DiscoveryOptions {
  /** Client URLs of the discovery etcd (http:// or https://, with a port). */
  readonly endpoints: readonly string[];
}

/**
 * How the etcd members of a new cluster find each other. An open choice, so a
 * class with static factories. Every mode but static bootstrap needs a token
 * per cluster generation: the deploy makes it (a Terraform step before the
 * machines), never the synth, so a destroyed cluster's token is never reused.
 */
export class EtcdDiscovery {
  /** Static bootstrap: every member knows the members' planned addresses. The default. */
  public static staticBootstrap(): EtcdDiscovery {
    return new EtcdDiscovery(DiscoveryKind.STATIC, []);
  }

  /**
   * The public discovery service discovery.etcd.io, as in the seed: each
   * deploy of a new cluster gets a fresh token of the cluster's size. The
   * service is deprecated and unreliable (policy warning CC-W10).
   */
  public static publicService(): EtcdDiscovery {
    return new EtcdDiscovery(DiscoveryKind.PUBLIC_SERVICE, [PUBLIC_DISCOVERY_SERVICE]);
  }

  /**
   * A discovery service of your own: an etcd (< 3.6) serving the v2 keys API
   * at `endpoint` (e.g. `http://10.0.0.5:2379`, with `--enable-v2`). Each new
   * cluster generation gets a token `<endpoint>/v2/keys/_etcd/registry/<token>`.
   */
  public static selfHosted(endpoint: string): EtcdDiscovery {
    return new EtcdDiscovery(DiscoveryKind.SELF_HOSTED, [endpoint]);
  }

  /**
   * A v2 discovery URL you made yourself (e.g. from `/new?size=3`). The
   * deploy refuses it when members already registered on it (a spent token,
   * e.g. after destroy and deploy) or when its size is not the cluster's.
   */
  public static existingToken(discoveryUrl: string): EtcdDiscovery {
    return new EtcdDiscovery(DiscoveryKind.EXISTING_TOKEN, [discoveryUrl]);
  }

  /**
   * etcd's v3 discovery (etcd ≥ 3.6, which removed v2 discovery) against an
   * etcd of your own: each new cluster generation gets a token whose size is
   * written there (`/_etcd/registry/<token>/_config/size`).
   */
  public static v3(options: V3DiscoveryOptions): EtcdDiscovery {
    const endpoints = options?.endpoints;
    return new EtcdDiscovery(
      DiscoveryKind.V3,
      Array.isArray(endpoints) ? [...endpoints] : (endpoints as unknown as string[]),
    );
  }

  private constructor(
    /** The mode. */
    public readonly kind: DiscoveryKind,
    /** The service base URL, the token URL or the v3 endpoints, by mode. */
    public readonly endpoints: readonly string[],
  ) {}

  /** True when members need a token made at deploy (or brought by you). */
  public get usesToken(): boolean {
    return this.kind !== DiscoveryKind.STATIC;
  }

  /** True for v3 discovery (etcd ≥ 3.6). */
  public get isV3(): boolean {
    return this.kind === DiscoveryKind.V3;
  }

  /** Checks the URLs; adds issues under `prop`. */
  public check(issues: IssueCollector, prop: string): void {
    if (this.kind === DiscoveryKind.STATIC || this.kind === DiscoveryKind.PUBLIC_SERVICE) return;
    if (!Array.isArray(this.endpoints) || this.endpoints.length === 0) {
      issues.add(`${prop}.endpoints`, this.endpoints, "a list of 1-7 etcd client URLs");
      return;
    }
    if (this.endpoints.length > 7) {
      issues.add(`${prop}.endpoints`, this.endpoints, "at most 7 etcd client URLs");
    }
    const withPath = this.kind === DiscoveryKind.EXISTING_TOKEN;
    this.endpoints.forEach((url, i) => {
      const at = this.kind === DiscoveryKind.V3 ? `${prop}.endpoints[${i}]` : `${prop}.url`;
      const reason = checkDiscoveryUrl(url, withPath);
      if (reason) issues.add(at, url, reason);
    });
  }
}

const HOST =
  "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*";
const BASE_URL = new RegExp(`^https?://${HOST}(:[0-9]{1,5})?$`);
const TOKEN_URL = new RegExp(`^https?://${HOST}(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=,-]+)+$`);

/**
 * A discovery URL: it reaches an environment file, a shell command and a
 * Terraform string, so only plain URL characters: http(s), a host name or
 * IPv4 address, a port; for a token URL a path; no credentials, query or
 * fragment (a token URL is a secret of its own: whoever has it can spoil the
 * bootstrap).
 */
export function checkDiscoveryUrl(value: unknown, withPath: boolean): string | undefined {
  const allowed = withPath
    ? "a discovery URL such as https://discovery.etcd.io/<token>: http(s), host, optional port, a path of A-Z a-z 0-9 . _ ~ % + = , -; no credentials, query or fragment"
    : "an etcd client URL such as http://10.0.0.5:2379: http(s), host and optional port, no path, credentials, query or fragment";
  if (typeof value !== "string" || value.length > 512) return allowed;
  if (!(withPath ? TOKEN_URL : BASE_URL).test(value)) return allowed;
  // The scheme's colon is followed by "//", never a digit: the first ":<digits>" is the port.
  const port = /:([0-9]+)(\/|$)/.exec(value)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) {
    return `${allowed} (port 1-65535)`;
  }
  return undefined;
}

/** The resolved discovery of a cluster, as renderers and targets read it. */
export interface DiscoveryPlan {
  readonly kind: DiscoveryKind;
  /** Base URL (public service, self-hosted), token URL (existing token) or v3 endpoints. */
  readonly endpoints: readonly string[];
  /** Members that bootstrap the cluster: the token's size. */
  readonly size: number;
}

/** Where the deploy puts a node's discovery settings; the members' bootstrap reads it. */
export const DISCOVERY_ENV_FILE = "/etc/etcd/discovery.env";

/** The file the deploy's token step writes next to the Vagrantfile (0600). */
export const DISCOVERY_ENV_ARTIFACT = "discovery.env";

/** etcd ≥ 3.6 removed v2 discovery and the v2 API: the minor version of an image tag, if it has one. */
export function etcdMinorVersion(imageReference: string): number | undefined {
  const m = /:v3\.(\d+)\.\d+([-.+][0-9A-Za-z.-]*)?(@sha256:[0-9a-f]{64})?$/.exec(imageReference);
  return m ? Number(m[1]) : undefined;
}
