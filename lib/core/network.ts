/** A parsed IPv4 network in CIDR form. */
export interface Ipv4Network {
  /** The CIDR as given, e.g. `192.168.56.0/21`. */
  readonly cidr: string;
  /** Network address as a 32-bit number. */
  readonly base: number;
  /** Prefix length, 0..32. */
  readonly prefixLength: number;
  /** Number of addresses in the network, network and broadcast included. */
  readonly size: number;
}

// No leading zeros: "010" is 8 to inet_aton (octal) and an error to Go and Terraform.
const OCTET = "(0|[1-9]\\d{0,2})";
const OCTETS = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** Parses a dotted-quad IPv4 address without leading zeros; undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const m = typeof text === "string" ? OCTETS.exec(text) : null;
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** Formats a 32-bit number as a dotted-quad address. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

/**
 * Parses `a.b.c.d/n`. Returns a reason instead of a network when the text is
 * not a network address (host bits set) or not a CIDR at all.
 */
export function parseCidr(text: string): Ipv4Network | { readonly reason: string } {
  const [addr, len, ...rest] = String(text).split("/");
  const base = parseIpv4(addr ?? "");
  const prefixLength = Number(len);
  if (
    base === undefined ||
    rest.length > 0 ||
    !/^(0|[1-9]\d?)$/.test(len ?? "") ||
    prefixLength > 32
  ) {
    return { reason: "an IPv4 CIDR such as 192.168.56.0/21 (no leading zeros)" };
  }
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) {
    const aligned = formatIpv4(base - (base % size));
    return { reason: `a network address without host bits, e.g. ${aligned}/${prefixLength}` };
  }
  return { cidr: text, base, prefixLength, size };
}

/**
 * The host address number `hostNumber` inside the network (1 = first usable).
 * Undefined when it falls on the broadcast address or outside the network.
 */
export function hostAddress(network: Ipv4Network, hostNumber: number): string | undefined {
  if (hostNumber < 1 || hostNumber >= network.size - 1) return undefined;
  return formatIpv4(network.base + hostNumber);
}

/** True when the address lies inside the network. */
export function contains(network: Ipv4Network, address: string): boolean {
  const value = parseIpv4(address);
  return value !== undefined && value >= network.base && value < network.base + network.size;
}

/** The dotted-quad netmask of a prefix length: 21 → `255.255.248.0`. */
export function netmaskOf(prefixLength: number): string {
  return formatIpv4(prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);
}
