/*
 * IPv4 address and CIDR arithmetic (lib/core/network.ts) and the error a user sees for bad
 * props (lib/core/errors.ts), called directly: every node address, netmask and security-group
 * source passes through the first, every refused prop through the second.
 */
import {
  contains,
  formatIpv4,
  hostAddress,
  Ipv4Network,
  netmaskOf,
  parseCidr,
  parseIpv4,
} from "../lib/core/network";
import { ClusterConfigError, describeValue, IssueCollector } from "../lib/core/errors";

const net = (cidr: string) => parseCidr(cidr) as Ipv4Network;

describe("parseIpv4 and formatIpv4", () => {
  it.each([
    ["0.0.0.0", 0],
    ["10.0.0.5", 0x0a000005],
    ["192.168.56.1", 0xc0a83801],
    ["128.0.0.0", 0x80000000],
    ["255.255.255.255", 0xffffffff],
    ["1.2.3.4", 0x01020304],
  ])("reads %s as an unsigned 32-bit number and writes it back", (text, value) => {
    expect(parseIpv4(text)).toBe(value);
    expect(formatIpv4(value)).toBe(text);
  });

  it.each([
    ["a leading zero (octal to inet_aton)", "010.0.0.5"],
    ["a leading zero in the last part", "10.0.0.05"],
    ["a part over 255", "10.0.0.256"],
    ["a first part over 255", "256.0.0.1"],
    ["four digits", "1000.0.0.1"],
    ["three parts", "10.0.0"],
    ["five parts", "10.0.0.0.1"],
    ["a trailing space", "10.0.0.5 "],
    ["a leading space", " 10.0.0.5"],
    ["a trailing newline", "10.0.0.5\n"],
    ["a prefix length", "10.0.0.0/8"],
    ["nothing", ""],
    ["a sign", "+1.2.3.4"],
  ])("refuses %s", (_name, text) => {
    expect(parseIpv4(text)).toBeUndefined();
  });

  it("refuses a value that is not a string", () => {
    expect(parseIpv4(167772165 as unknown as string)).toBeUndefined();
    // A list whose text is an address is still no address.
    expect(parseIpv4(["10.0.0.5"] as unknown as string)).toBeUndefined();
  });
});

describe("parseCidr", () => {
  const NOT_CIDR = { reason: "an IPv4 CIDR such as 192.168.56.0/21 (no leading zeros)" };

  it("gives the network address, prefix length and size", () => {
    expect(parseCidr("192.168.56.0/21")).toEqual({
      cidr: "192.168.56.0/21",
      base: 0xc0a83800,
      prefixLength: 21,
      size: 2048,
    });
    expect(parseCidr("0.0.0.0/0")).toEqual({
      cidr: "0.0.0.0/0",
      base: 0,
      prefixLength: 0,
      size: 2 ** 32,
    });
    expect(parseCidr("10.0.0.7/32")).toEqual({
      cidr: "10.0.0.7/32",
      base: 0x0a000007,
      prefixLength: 32,
      size: 1,
    });
    expect(parseCidr("10.0.0.0/9")).toMatchObject({ prefixLength: 9, size: 2 ** 23 });
  });

  it.each([
    "10.0.0.0",
    "10.0.0.0/",
    "10.0.0.0/08",
    "10.0.0.0/33",
    "10.0.0.0/100",
    "10.0.0.0/-1",
    "10.0.0.0/8/1",
    "10.0.0.0/ 8",
    "10.0.0/8",
    "010.0.0.0/8",
    "/8",
    "",
  ])("refuses %j", (text) => {
    expect(parseCidr(text)).toEqual(NOT_CIDR);
  });

  it("refuses host bits and names the network address meant", () => {
    expect(parseCidr("10.0.0.1/24")).toEqual({
      reason: "a network address without host bits, e.g. 10.0.0.0/24",
    });
    expect(parseCidr("192.168.57.0/21")).toEqual({
      reason: "a network address without host bits, e.g. 192.168.56.0/21",
    });
    expect(parseCidr("255.255.255.255/1")).toEqual({
      reason: "a network address without host bits, e.g. 128.0.0.0/1",
    });
  });
});

describe("hostAddress and contains", () => {
  it("numbers the usable hosts from 1, never the network or broadcast address", () => {
    const n = net("192.168.56.0/24");
    expect(hostAddress(n, 1)).toBe("192.168.56.1");
    expect(hostAddress(n, 254)).toBe("192.168.56.254");
    expect(hostAddress(n, 255)).toBeUndefined();
    expect(hostAddress(n, 256)).toBeUndefined();
    expect(hostAddress(n, 0)).toBeUndefined();
    expect(hostAddress(n, -1)).toBeUndefined();
    expect(hostAddress(net("10.0.0.0/30"), 2)).toBe("10.0.0.2");
    expect(hostAddress(net("10.0.0.0/30"), 3)).toBeUndefined();
  });

  it("knows which addresses a network holds, both ends included", () => {
    const n = net("192.168.56.0/21");
    expect(contains(n, "192.168.56.0")).toBe(true);
    expect(contains(n, "192.168.63.255")).toBe(true);
    expect(contains(n, "192.168.60.7")).toBe(true);
    expect(contains(n, "192.168.64.0")).toBe(false);
    expect(contains(n, "192.168.55.255")).toBe(false);
    expect(contains(n, "192.168.56")).toBe(false);
    expect(contains(net("0.0.0.0/0"), "255.255.255.255")).toBe(true);
  });
});

describe("netmaskOf", () => {
  it.each([
    [0, "0.0.0.0"],
    [1, "128.0.0.0"],
    [8, "255.0.0.0"],
    [21, "255.255.248.0"],
    [24, "255.255.255.0"],
    [31, "255.255.255.254"],
    [32, "255.255.255.255"],
  ])("/%i is %s", (len, mask) => {
    expect(netmaskOf(len)).toBe(mask);
  });
});

describe("describeValue", () => {
  it("quotes strings on one line and cuts them after 57 characters", () => {
    expect(describeValue("a\n\t  b")).toBe('"a b"');
    expect(describeValue("x".repeat(60))).toBe(JSON.stringify("x".repeat(60)));
    expect(describeValue("x".repeat(61))).toBe(JSON.stringify(`${"x".repeat(57)}...`));
    expect(describeValue('say "hi"')).toBe('"say \\"hi\\""');
  });

  it("writes undefined, numbers, booleans and null as they are", () => {
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(2.5)).toBe("2.5");
    expect(describeValue(false)).toBe("false");
    expect(describeValue(null)).toBe("null");
    // Not JSON's null for numbers JSON cannot write: the user sees what they gave.
    expect(describeValue(NaN)).toBe("NaN");
    expect(describeValue(-Infinity)).toBe("-Infinity");
  });

  it("writes other values as JSON cut after 77 characters", () => {
    expect(describeValue({ a: [1, "b"] })).toBe('{"a":[1,"b"]}');
    const eighty = ["x".repeat(76)]; // ["…"] is 80 characters
    expect(JSON.stringify(eighty)).toHaveLength(80);
    expect(describeValue(eighty)).toBe(JSON.stringify(eighty));
    const longer = ["x".repeat(77)];
    expect(describeValue(longer)).toBe(`${JSON.stringify(longer).slice(0, 77)}...`);
  });

  it("falls back to the type tag when the value has no JSON", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeValue(circular)).toBe("[object Object]");
    expect(describeValue(10n)).toBe("[object BigInt]");
  });
});

describe("ClusterConfigError and IssueCollector", () => {
  it("lists every issue with prop, value and what is allowed", () => {
    const issues = [
      { prop: "nodeCount", value: 0, allowed: "from 1 to 9999" },
      { prop: "name", value: "a\nb", allowed: "letters" },
    ];
    const e = new ClusterConfigError('CoreOsCluster "app/core"', issues);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("ClusterConfigError");
    expect(e.subject).toBe('CoreOsCluster "app/core"');
    expect(e.issues).toBe(issues);
    expect(e.message).toBe(
      'Invalid props for CoreOsCluster "app/core":\n' +
        "  - nodeCount: got 0; allowed: from 1 to 9999\n" +
        '  - name: got "a b"; allowed: letters',
    );
    expect(new ClusterConfigError("settings.json", issues, "settings").message).toMatch(
      /^Invalid settings for settings.json:\n/,
    );
  });

  it("collects issues and throws them together, only when there are some", () => {
    const c = new IssueCollector();
    expect(() => c.throwIfAny("X")).not.toThrow();
    c.add("a", 1, "two");
    c.add("b", "x", "y");
    expect(c.issues).toEqual([
      { prop: "a", value: 1, allowed: "two" },
      { prop: "b", value: "x", allowed: "y" },
    ]);
    let thrown: unknown;
    try {
      c.throwIfAny('Front "f"');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ClusterConfigError);
    expect((thrown as ClusterConfigError).subject).toBe('Front "f"');
    expect((thrown as ClusterConfigError).issues).toHaveLength(2);
    expect((thrown as Error).message).toContain("Invalid props for Front");
  });
});
