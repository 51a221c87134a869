/*
 * The pure parts of lib/etcd, called directly: discovery URLs (they reach an environment
 * file, a shell command and a Terraform string), the membership checks that refuse a change
 * losing quorum, the one-node-at-a-time rollout, and the X.509 certificates etcd's TLS uses
 * (read back with node's X509Certificate). No cdktf stack: fast enough for a mutation run.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  X509Certificate,
} from "node:crypto";
import { createHash } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn from "@peculiar/asn1-x509";
import { IssueCollector } from "../lib/core/errors";
import {
  issueLeaf,
  KeyPair,
  LeafProfile,
  newCertificateAuthority,
  subjectAltNameText,
} from "../lib/etcd/certificates";
import {
  checkDiscoveryUrl,
  DiscoveryKind,
  EtcdDiscovery,
  etcdMinorVersion,
  PUBLIC_DISCOVERY_SERVICE,
} from "../lib/etcd/discovery";
import {
  MEMBERSHIP_RECORD,
  MembershipRecord,
  parseMembershipRecord,
  planMembership,
  renderMembershipRecord,
} from "../lib/etcd/membership";
import { configHash, planRollout } from "../lib/etcd/rollout";

const issuesOf = (f: (issues: IssueCollector) => void) => {
  const issues = new IssueCollector();
  f(issues);
  return issues.issues;
};

// ---------------------------------------------------------------- discovery

describe("checkDiscoveryUrl", () => {
  const BASE =
    "an etcd client URL such as http://10.0.0.5:2379: http(s), host and optional port, no path, credentials, query or fragment";
  const TOKEN =
    "a discovery URL such as https://discovery.etcd.io/<token>: http(s), host, optional port, a path of A-Z a-z 0-9 . _ ~ % + = , -; no credentials, query or fragment";

  it.each([
    "http://10.0.0.5:2379",
    "https://etcd.example.com",
    "http://a:1",
    "https://x-1.b2.example:65535",
    `http://${"a".repeat(63)}.example`,
  ])("takes the etcd client URL %s", (url) => {
    expect(checkDiscoveryUrl(url, false)).toBeUndefined();
  });

  it.each([
    "ftp://10.0.0.5:2379",
    "http://10.0.0.5:2379/",
    "http://10.0.0.5:2379/v2/keys",
    "http://user:pw@10.0.0.5:2379",
    "http://10.0.0.5:2379?x=1",
    "http://10.0.0.5:2379#f",
    "http://-a.example",
    "http://a-.example",
    `http://${"a".repeat(64)}.example`,
    "http://a..b",
    "http://a:",
    "http://a:123456",
    "http://a b",
    "http://a;rm -rf /",
    "http://$(id)",
    " http://a",
    "http://a\n",
    "HTTP://a",
    "http://",
  ])("refuses the etcd client URL %j", (url) => {
    expect(checkDiscoveryUrl(url, false)).toBe(BASE);
  });

  it.each([
    "https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579cbf573de",
    "http://10.0.0.5:2379/v2/keys/_etcd/registry/abc",
    "https://h/a.b_c~d%20e+f=g,h-i",
  ])("takes the token URL %s", (url) => {
    expect(checkDiscoveryUrl(url, true)).toBeUndefined();
  });

  it.each([
    "https://discovery.etcd.io",
    "https://discovery.etcd.io/",
    "https://discovery.etcd.io/abc/",
    "https://discovery.etcd.io//abc",
    "https://discovery.etcd.io/abc?size=3",
    "https://discovery.etcd.io/abc#x",
    "https://discovery.etcd.io/a'b",
    'https://discovery.etcd.io/a"b',
    "https://discovery.etcd.io/a$b",
    "https://discovery.etcd.io/a`b`",
    "https://discovery.etcd.io/a b",
    "https://u@discovery.etcd.io/abc",
    "https://discovery.etcd.io/abc\n",
    "file:///etc/passwd",
  ])("refuses the token URL %j", (url) => {
    expect(checkDiscoveryUrl(url, true)).toBe(TOKEN);
  });

  it("refuses ports outside 1-65535, saying so", () => {
    expect(checkDiscoveryUrl("http://a:0", false)).toBe(`${BASE} (port 1-65535)`);
    expect(checkDiscoveryUrl("http://a:65536", false)).toBe(`${BASE} (port 1-65535)`);
    expect(checkDiscoveryUrl("http://a:99999", false)).toBe(`${BASE} (port 1-65535)`);
    expect(checkDiscoveryUrl("https://a:0/token", true)).toBe(`${TOKEN} (port 1-65535)`);
    expect(checkDiscoveryUrl("https://a:70000/token", true)).toBe(`${TOKEN} (port 1-65535)`);
    expect(checkDiscoveryUrl("https://a:443/token", true)).toBeUndefined();
    // A colon in a token path is refused before any port is read.
    expect(checkDiscoveryUrl("https://a/x:0/t", true)).toBe(TOKEN);
    expect(checkDiscoveryUrl("https://a/0:99999", true)).toBe(TOKEN);
  });

  it("refuses URLs over 512 characters and values that are not strings", () => {
    const host = `${"a".repeat(60)}.`.repeat(8);
    const at = (n: number) => `https://x/${"t".repeat(n - 10)}`;
    expect(at(512)).toHaveLength(512);
    expect(checkDiscoveryUrl(at(512), true)).toBeUndefined();
    expect(checkDiscoveryUrl(at(513), true)).toBe(TOKEN);
    expect(checkDiscoveryUrl(`http://${host}b`, false)).toBeUndefined();
    expect(checkDiscoveryUrl(`http://${host}${host}b`, false)).toBe(BASE);
    expect(checkDiscoveryUrl(undefined, false)).toBe(BASE);
    expect(checkDiscoveryUrl(["http://a"], false)).toBe(BASE);
  });
});

describe("EtcdDiscovery", () => {
  it("says which modes use a token and which is v3", () => {
    const modes = [
      [EtcdDiscovery.staticBootstrap(), DiscoveryKind.STATIC, [], false, false],
      [
        EtcdDiscovery.publicService(),
        DiscoveryKind.PUBLIC_SERVICE,
        [PUBLIC_DISCOVERY_SERVICE],
        true,
        false,
      ],
      [
        EtcdDiscovery.selfHosted("http://a:2379"),
        DiscoveryKind.SELF_HOSTED,
        ["http://a:2379"],
        true,
        false,
      ],
      [
        EtcdDiscovery.existingToken("https://d/t"),
        DiscoveryKind.EXISTING_TOKEN,
        ["https://d/t"],
        true,
        false,
      ],
      [
        EtcdDiscovery.v3({ endpoints: ["http://a:2379"] }),
        DiscoveryKind.V3,
        ["http://a:2379"],
        true,
        true,
      ],
    ] as const;
    for (const [d, kind, endpoints, usesToken, isV3] of modes) {
      expect(d.kind).toBe(kind);
      expect(d.endpoints).toEqual(endpoints);
      expect(d.usesToken).toBe(usesToken);
      expect(d.isV3).toBe(isV3);
    }
    expect(PUBLIC_DISCOVERY_SERVICE).toBe("https://discovery.etcd.io");
  });

  it("names missing v3 options as a prop, not as a TypeError", () => {
    const d = EtcdDiscovery.v3(undefined as unknown as { endpoints: string[] });
    expect(issuesOf((i) => d.check(i, "etcd.discovery"))).toEqual([
      {
        prop: "etcd.discovery.endpoints",
        value: undefined,
        allowed: "a list of 1-7 etcd client URLs",
      },
    ]);
  });

  it("keeps its own copy of the v3 endpoints", () => {
    const endpoints = ["http://a:2379"];
    const d = EtcdDiscovery.v3({ endpoints });
    endpoints.push("http://b:2379");
    expect(d.endpoints).toEqual(["http://a:2379"]);
  });

  it("checks nothing for static bootstrap and the public service", () => {
    expect(issuesOf((i) => EtcdDiscovery.staticBootstrap().check(i, "etcd.discovery"))).toEqual([]);
    expect(issuesOf((i) => EtcdDiscovery.publicService().check(i, "etcd.discovery"))).toEqual([]);
  });

  it("names the URL of self-hosted and existing-token discovery under .url", () => {
    expect(issuesOf((i) => EtcdDiscovery.selfHosted("http://a:2379/x").check(i, "d"))).toEqual([
      { prop: "d.url", value: "http://a:2379/x", allowed: expect.stringContaining("no path") },
    ]);
    expect(issuesOf((i) => EtcdDiscovery.existingToken("https://d").check(i, "d"))).toEqual([
      { prop: "d.url", value: "https://d", allowed: expect.stringContaining("a path of") },
    ]);
    expect(issuesOf((i) => EtcdDiscovery.existingToken("https://d/t").check(i, "d"))).toEqual([]);
    expect(issuesOf((i) => EtcdDiscovery.selfHosted("http://a:2379").check(i, "d"))).toEqual([]);
  });

  it("names each bad v3 endpoint by its index", () => {
    const d = EtcdDiscovery.v3({ endpoints: ["http://a:2379", "http://b:2379/p", "c"] });
    expect(issuesOf((i) => d.check(i, "etcd.discovery")).map((x) => [x.prop, x.value])).toEqual([
      ["etcd.discovery.endpoints[1]", "http://b:2379/p"],
      ["etcd.discovery.endpoints[2]", "c"],
    ]);
  });

  it("takes 1 to 7 v3 endpoints", () => {
    const urls = (n: number) => Array.from({ length: n }, (_, i) => `http://e${i}:2379`);
    expect(issuesOf((i) => EtcdDiscovery.v3({ endpoints: urls(7) }).check(i, "d"))).toEqual([]);
    expect(issuesOf((i) => EtcdDiscovery.v3({ endpoints: urls(8) }).check(i, "d"))).toEqual([
      { prop: "d.endpoints", value: urls(8), allowed: "at most 7 etcd client URLs" },
    ]);
    expect(issuesOf((i) => EtcdDiscovery.v3({ endpoints: [] }).check(i, "d"))).toEqual([
      { prop: "d.endpoints", value: [], allowed: "a list of 1-7 etcd client URLs" },
    ]);
    const notAList = EtcdDiscovery.v3({ endpoints: "http://a:2379" as unknown as string[] });
    expect(issuesOf((i) => notAList.check(i, "d"))).toEqual([
      { prop: "d.endpoints", value: "http://a:2379", allowed: "a list of 1-7 etcd client URLs" },
    ]);
  });
});

describe("etcdMinorVersion", () => {
  it.each([
    ["quay.io/coreos/etcd:v3.5.21", 5],
    ["quay.io/coreos/etcd:v3.6.0", 6],
    ["quay.io/coreos/etcd:v3.10.2", 10],
    ["quay.io/coreos/etcd:v3.6.0-rc.1", 6],
    ["quay.io/coreos/etcd:v3.6.0+build.5", 6],
    [`quay.io/coreos/etcd:v3.4.1@sha256:${"a".repeat(64)}`, 4],
  ])("reads %s as 3.%i", (ref, minor) => {
    expect(etcdMinorVersion(ref)).toBe(minor);
  });

  it.each([
    "quay.io/coreos/etcd",
    "quay.io/coreos/etcd:latest",
    "quay.io/coreos/etcd:3.5.21",
    "quay.io/coreos/etcd:v2.3.8",
    "quay.io/coreos/etcd:v3.5",
    "quay.io/coreos/etcd:v3.5.21_x",
    `quay.io/coreos/etcd@sha256:${"a".repeat(64)}`,
  ])("finds no minor version in %s", (ref) => {
    expect(etcdMinorVersion(ref)).toBeUndefined();
  });
});

// ---------------------------------------------------------------- membership

const node = (name: string, address: string, etcdMember = true) => ({ name, address, etcdMember });
const RECORD: MembershipRecord = {
  bootstrap: [
    { name: "core-01", address: "10.0.0.11" },
    { name: "core-02", address: "10.0.0.12" },
    { name: "core-03", address: "10.0.0.13" },
  ],
  members: ["core-01", "core-02", "core-03"],
  nodes: ["core-01", "core-02", "core-03", "core-04"],
};
const FOUR = [
  node("core-01", "10.0.0.11"),
  node("core-02", "10.0.0.12"),
  node("core-03", "10.0.0.13"),
  node("core-04", "10.0.0.14", false),
];

describe("the membership record", () => {
  it("is JSON that reads back as it was written", () => {
    const text = renderMembershipRecord(RECORD);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "bootstrap": [');
    expect(parseMembershipRecord(text)).toEqual(RECORD);
    expect(parseMembershipRecord(undefined)).toBeUndefined();
    expect(MEMBERSHIP_RECORD).toBe("etcd-membership.json");
  });

  it.each([
    ["bootstrap", { members: [], nodes: [] }],
    ["members", { bootstrap: [], nodes: [] }],
    ["nodes", { bootstrap: [], members: [] }],
  ])("is refused without its %s list, naming the file", (_missing, r) => {
    const text = JSON.stringify(r);
    expect(() => parseMembershipRecord(text)).toThrow(
      `etcd-membership.json is not a membership record: ${text}`,
    );
  });

  it("shows at most 80 characters of a bad record", () => {
    const text = JSON.stringify({ other: "x".repeat(200) });
    expect(() => parseMembershipRecord(text)).toThrow(
      new Error(`etcd-membership.json is not a membership record: ${text.slice(0, 80)}`),
    );
  });
});

describe("planMembership", () => {
  it("bootstraps with the members of the first synth and records members and nodes", () => {
    let plan: ReturnType<typeof planMembership> | undefined;
    expect(issuesOf((i) => (plan = planMembership(i, FOUR, undefined, "/s/rec.json")))).toEqual([]);
    expect(plan).toEqual({ bootstrap: RECORD.bootstrap, record: RECORD });
  });

  it("keeps the bootstrap members of the record whatever the members are now", () => {
    const five = [...FOUR, node("core-05", "10.0.0.15")];
    let plan: ReturnType<typeof planMembership> | undefined;
    expect(issuesOf((i) => (plan = planMembership(i, five, RECORD, "r")))).toEqual([]);
    expect(plan?.bootstrap).toBe(RECORD.bootstrap);
    expect(plan?.record).toEqual({
      bootstrap: RECORD.bootstrap,
      members: ["core-01", "core-02", "core-03", "core-05"],
      nodes: ["core-01", "core-02", "core-03", "core-04", "core-05"],
    });
  });

  it("refuses moving a bootstrap member to another address, naming both", () => {
    const moved = [node("core-01", "10.0.1.11"), ...FOUR.slice(1)];
    expect(issuesOf((i) => planMembership(i, moved, RECORD, "/s/etcd-membership.json"))).toEqual([
      {
        prop: "networkCidr / subnetCidrs / firstHostNumber",
        value: "core-01 at 10.0.1.11",
        allowed:
          "the addresses of the etcd cluster's members as they are (core-01 is at 10.0.0.11): etcd members cannot move; a new address plan is a new cluster (destroy it and delete /s/etcd-membership.json first)",
      },
    ]);
  });

  it("lets a bootstrap member's node go once it is no member any more", () => {
    const record = { ...RECORD, members: ["core-02", "core-03", "core-04"] };
    const nodes = [
      node("core-02", "10.0.0.12"),
      node("core-03", "10.0.0.13"),
      node("core-04", "10.0.0.14"),
    ];
    expect(issuesOf((i) => planMembership(i, nodes, record, "r"))).toEqual([]);
  });

  it("refuses dropping the nodes of last synth's members, naming them", () => {
    const two = FOUR.slice(0, 1).concat([node("core-04", "10.0.0.14")]);
    expect(issuesOf((i) => planMembership(i, two, RECORD, "/s/r.json"))).toEqual([
      {
        prop: "nodeCount",
        value: 2,
        allowed:
          "a count that keeps the etcd members of the last synth (core-02, core-03 would go with their member entries still in etcd): lower etcd.members first and deploy, then nodeCount (if the cluster was destroyed, delete /s/r.json first)",
      },
    ]);
  });

  it("refuses going from 3 or more members to 1, allows 2 to 1 and 3 to 2", () => {
    const members = (n: number) => FOUR.map((x, i) => ({ ...x, etcdMember: i < n }));
    const from = (count: number): MembershipRecord => ({
      ...RECORD,
      members: RECORD.nodes.slice(0, count),
    });
    const one = issuesOf((i) => planMembership(i, members(1), from(3), "r"));
    expect(one).toEqual([
      {
        prop: "etcd.members",
        value: 1,
        allowed:
          "3 or more while the cluster has 3 members: going from 2 members to 1 needs both, and each step removes a member whose node is already replaced, so quorum would be lost; shrink to 3 at most",
      },
    ]);
    expect(issuesOf((i) => planMembership(i, members(1), from(4), "r"))[0].allowed).toContain(
      "while the cluster has 4 members",
    );
    expect(issuesOf((i) => planMembership(i, members(1), from(2), "r"))).toEqual([]);
    expect(issuesOf((i) => planMembership(i, members(2), from(3), "r"))).toEqual([]);
  });
});

// ---------------------------------------------------------------- rollout

describe("planRollout", () => {
  const h = (s: string) => configHash(s);

  it("hashes a config with SHA-256", () => {
    expect(configHash("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("gives every node its config on the first synth, with nothing in flight", () => {
    const plan = planRollout({ a: h("1"), b: h("2") }, undefined, {});
    expect(plan).toEqual({
      give: { a: "desired", b: "desired" },
      active: undefined,
      waiting: [],
      record: { emitted: { a: h("1"), b: h("2") } },
    });
  });

  it("changes one node per deploy, in node order, the others keep what they got", () => {
    const previous = { emitted: { a: h("1"), b: h("1"), c: h("1") } };
    const applied = { a: h("1"), b: h("1"), c: h("1") };
    const plan = planRollout({ a: h("1"), b: h("2"), c: h("2") }, previous, applied);
    expect(plan).toEqual({
      give: { a: "previous", b: "desired", c: "previous" },
      active: "b",
      waiting: ["c"],
      record: { emitted: { a: h("1"), b: h("2"), c: h("1") } },
    });
  });

  it("keeps a node in flight until Terraform confirms it, then moves on", () => {
    const desired = { a: h("2"), b: h("2") };
    const emitted = { a: h("2"), b: h("1") };
    // a was given its new config, not yet applied: it stays the active one, b waits.
    const waiting = planRollout(desired, { emitted }, { a: h("1"), b: h("1") });
    expect(waiting.active).toBe("a");
    expect(waiting.give).toEqual({ a: "desired", b: "previous" });
    expect(waiting.waiting).toEqual(["b"]);
    // a applied: b goes.
    const next = planRollout(desired, { emitted }, { a: h("2"), b: h("1") });
    expect(next.active).toBe("b");
    expect(next.give).toEqual({ a: "previous", b: "desired" });
    expect(next.waiting).toEqual([]);
    expect(next.record.emitted).toEqual(desired);
  });

  it("has no active node once everything is applied", () => {
    const all = { a: h("2"), b: h("2") };
    expect(planRollout(all, { emitted: all }, all)).toEqual({
      give: { a: "previous", b: "previous" },
      active: undefined,
      waiting: [],
      record: { emitted: all },
    });
  });

  it("reports an in-flight node whose applied config already matches as not active", () => {
    // emitted differs from applied (a marker from an older run), desired equals applied.
    const plan = planRollout({ a: h("1") }, { emitted: { a: h("2") } }, { a: h("1") });
    expect(plan.give).toEqual({ a: "desired" });
    expect(plan.active).toBeUndefined();
    expect(plan.record.emitted).toEqual({ a: h("1") });
  });

  it("gives a new node its config at once, next to a node in flight", () => {
    const plan = planRollout(
      { a: h("2"), b: h("1"), n: h("9") },
      { emitted: { a: h("1"), b: h("1") } },
      { a: h("1"), b: h("1") },
    );
    expect(plan.give).toEqual({ a: "desired", b: "previous", n: "desired" });
    expect(plan.active).toBe("a");
    expect(plan.waiting).toEqual([]);
  });
});

// ---------------------------------------------------------------- certificates

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const DAY = 24 * 3600 * 1000;
const NOW = new Date("2026-01-10T12:00:00Z");
const MEMBER: LeafProfile = {
  commonName: "etcd-member",
  dnsNames: ["core-01", "localhost"],
  ipAddresses: ["192.168.56.101", "127.0.0.1"],
  server: true,
  client: true,
};

describe("certificates", () => {
  let ca: KeyPair;
  let caCert: X509Certificate;
  beforeAll(() => {
    ca = newCertificateAuthority("etcd-ca test", 3650, NOW);
    caCert = new X509Certificate(ca.certificatePem);
  });

  it("makes a self-signed CA, valid from an hour before now for the days asked", () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe("CN=etcd-ca test");
    expect(caCert.issuer).toBe("CN=etcd-ca test");
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.checkIssued(caCert)).toBe(true);
    expect(new Date(caCert.validFrom).getTime()).toBe(NOW.getTime() - 3600 * 1000);
    expect(new Date(caCert.validTo).getTime()).toBe(NOW.getTime() + 3650 * DAY);
    const key = createPrivateKey(ca.privateKeyPem);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(ca.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("writes PEM of 64-character lines", () => {
    const lines = ca.certificatePem.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines[lines.length - 1]).toBe("-----END CERTIFICATE-----");
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(body[body.length - 1].length).toBeLessThanOrEqual(64);
    expect(ca.certificatePem.endsWith("-----\n")).toBe(true);
  });

  it("issues a member certificate with its names, addresses and usages, signed by the CA", () => {
    const leaf = new X509Certificate(issueLeaf(ca, MEMBER, 365, NOW).certificatePem);
    expect(leaf.ca).toBe(false);
    expect(leaf.subject).toBe("CN=etcd-member");
    expect(leaf.issuer).toBe("CN=etcd-ca test");
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe(subjectAltNameText(MEMBER));
    expect(subjectAltNameText(MEMBER)).toBe(
      "DNS:core-01, DNS:localhost, IP Address:192.168.56.101, IP Address:127.0.0.1",
    );
    expect(leaf.keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(new Date(leaf.validFrom).getTime()).toBe(NOW.getTime() - 3600 * 1000);
    expect(new Date(leaf.validTo).getTime()).toBe(NOW.getTime() + 365 * DAY);
    expect(leaf.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    // The first byte is 0x01-0x7f: positive, and never a leading zero DER would drop.
    expect(Number.parseInt(leaf.serialNumber.slice(0, 2), 16) & 0x81).toBe(1);
  });

  it("gives a client certificate client auth only and no subjectAltName when it has no names", () => {
    const profile = {
      commonName: "etcd-client",
      dnsNames: [],
      ipAddresses: [],
      server: false,
      client: true,
    };
    const leaf = new X509Certificate(issueLeaf(ca, profile, 365, NOW).certificatePem);
    expect(leaf.keyUsage).toEqual([CLIENT_AUTH]);
    expect(leaf.subjectAltName).toBeUndefined();
    const server = new X509Certificate(
      issueLeaf(ca, { ...profile, server: true, client: false }, 365, NOW).certificatePem,
    );
    expect(server.keyUsage).toEqual([SERVER_AUTH]);
  });

  it("never outlives its CA", () => {
    const leaf = new X509Certificate(issueLeaf(ca, MEMBER, 10000, NOW).certificatePem);
    expect(leaf.validTo).toBe(caCert.validTo);
  });

  it("gives each certificate a fresh key and serial", () => {
    const a = issueLeaf(ca, MEMBER, 365, NOW);
    const b = issueLeaf(ca, MEMBER, 365, NOW);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
    expect(new X509Certificate(a.certificatePem).serialNumber).not.toBe(
      new X509Certificate(b.certificatePem).serialNumber,
    );
  });

  it.each([
    ["RSA", () => generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey],
    ["EC P-384", () => generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey],
  ])("signs with a CA of your own holding an %s key", (_kind, makeKey) => {
    const key = makeKey();
    const leaf = new X509Certificate(issueLeaf(ownCa(key), MEMBER, 30, NOW).certificatePem);
    expect(leaf.verify(createPublicKey(key))).toBe(true);
  });

  it("marks only the extensions RFC 5280 wants critical, and says what each key may do", () => {
    // RFC 5280 4.2: basicConstraints and keyUsage critical; key identifiers MUST NOT be;
    // extKeyUsage and subjectAltName (the subject is not empty) are not.
    const leaf = issueLeaf(ca, MEMBER, 365, NOW);
    const caExt = extensionsOf(ca.certificatePem);
    const leafExt = extensionsOf(leaf.certificatePem);
    expect(critical(caExt)).toEqual({
      [asn.id_ce_basicConstraints]: true,
      [asn.id_ce_keyUsage]: true,
      [asn.id_ce_subjectKeyIdentifier]: false,
      [asn.id_ce_authorityKeyIdentifier]: false,
    });
    expect(critical(leafExt)).toEqual({
      [asn.id_ce_basicConstraints]: true,
      [asn.id_ce_keyUsage]: true,
      [asn.id_ce_extKeyUsage]: false,
      [asn.id_ce_subjectAltName]: false,
      [asn.id_ce_subjectKeyIdentifier]: false,
      [asn.id_ce_authorityKeyIdentifier]: false,
    });
    const caBasic = parseExt(caExt, asn.id_ce_basicConstraints, asn.BasicConstraints);
    expect([caBasic.cA, caBasic.pathLenConstraint]).toEqual([true, 0]);
    expect(parseExt(leafExt, asn.id_ce_basicConstraints, asn.BasicConstraints).cA).toBe(false);
    const usage = (e: asn.Extension[]) => parseExt(e, asn.id_ce_keyUsage, asn.KeyUsage).toNumber();
    expect(usage(caExt)).toBe(asn.KeyUsageFlags.keyCertSign | asn.KeyUsageFlags.cRLSign);
    expect(usage(leafExt)).toBe(asn.KeyUsageFlags.digitalSignature);
  });

  it("names the CA's key in the leaf (authority key id = the CA's subject key id, SHA-1 of its key)", () => {
    // OpenSSL builds the chain by these ids: a leaf whose authority key id is not its CA's fails.
    const leaf = issueLeaf(ca, MEMBER, 365, NOW);
    const keyIdOf = (pem: string) => {
      const cert = AsnConvert.parse(new X509Certificate(pem).raw, asn.Certificate);
      const spki = Buffer.from(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
      return createHash("sha1").update(spki).digest("hex");
    };
    const ski = (pem: string) =>
      Buffer.from(
        parseExt(extensionsOf(pem), asn.id_ce_subjectKeyIdentifier, asn.SubjectKeyIdentifier)
          .buffer,
      ).toString("hex");
    const aki = (pem: string) =>
      Buffer.from(
        parseExt(extensionsOf(pem), asn.id_ce_authorityKeyIdentifier, asn.AuthorityKeyIdentifier)
          .keyIdentifier!.buffer,
      ).toString("hex");
    expect(ski(ca.certificatePem)).toBe(keyIdOf(ca.certificatePem));
    expect(aki(ca.certificatePem)).toBe(keyIdOf(ca.certificatePem));
    expect(ski(leaf.certificatePem)).toBe(keyIdOf(leaf.certificatePem));
    expect(aki(leaf.certificatePem)).toBe(keyIdOf(ca.certificatePem));
    expect(ski(leaf.certificatePem)).not.toBe(ski(ca.certificatePem));
  });

  it("writes the signature algorithm as RFC 4055/5758 say: NULL parameters for RSA, none for ECDSA", () => {
    const sigAlg = (pair: KeyPair) => {
      const cert = AsnConvert.parse(new X509Certificate(pair.certificatePem).raw, asn.Certificate);
      expect(cert.tbsCertificate.signature).toEqual(cert.signatureAlgorithm);
      return [cert.signatureAlgorithm.algorithm, cert.signatureAlgorithm.parameters];
    };
    expect(sigAlg(issueLeaf(ca, MEMBER, 30, NOW))).toEqual(["1.2.840.10045.4.3.2", undefined]);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    expect(sigAlg(issueLeaf(ownCa(rsa), MEMBER, 30, NOW))).toEqual(["1.2.840.113549.1.1.11", null]);
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    expect(sigAlg(issueLeaf(ownCa(p384), MEMBER, 30, NOW))).toEqual([
      "1.2.840.10045.4.3.3",
      undefined,
    ]);
  });

  it("refuses a CA key it cannot sign with, naming it", () => {
    const own = ownCa(generateKeyPairSync("ed25519").privateKey);
    expect(() => issueLeaf(own, MEMBER, 30, NOW)).toThrow(
      "unsupported CA key (ed25519 ): use EC P-256, EC P-384 or RSA",
    );
    const p521 = ownCa(generateKeyPairSync("ec", { namedCurve: "P-521" }).privateKey);
    expect(() => issueLeaf(p521, MEMBER, 30, NOW)).toThrow(
      "unsupported CA key (ec secp521r1): use EC P-256, EC P-384 or RSA",
    );
  });
});

function extensionsOf(pem: string): asn.Extension[] {
  const cert = AsnConvert.parse(new X509Certificate(pem).raw, asn.Certificate);
  return [...(cert.tbsCertificate.extensions ?? [])];
}
function critical(extensions: asn.Extension[]): Record<string, boolean> {
  return Object.fromEntries(extensions.map((e) => [e.extnID, e.critical]));
}
function parseExt<T>(extensions: asn.Extension[], id: string, type: new () => T): T {
  const ext = extensions.find((e) => e.extnID === id);
  if (!ext) throw new Error(`no extension ${id}`);
  return AsnConvert.parse(ext.extnValue, type);
}

/** The project's CA certificate with another private key put in its place (signing needs only the key). */
function ownCa(key: ReturnType<typeof createPrivateKey>): KeyPair {
  const base = newCertificateAuthority("own", 365, NOW);
  return {
    certificatePem: base.certificatePem,
    privateKeyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
