import { createHash } from "node:crypto";
import { ClusterConfigError, PropIssue } from "../lib/core/errors";
import { Duration } from "../lib/core/duration";
import { ContainerImage } from "../lib/core/container-image";
import { DEFAULT_IMAGES } from "../lib/core/default-images";
import { LITERAL_REQUIRED, PRIVATE_KEY_SHOWN, TOKEN_VALUE } from "../lib/core/validate";
import {
  defaultClusterName,
  isClusterName,
  nameWidth,
  planCluster,
  PlanContext,
} from "../lib/cluster/plan";
import { CoreOsClusterProps } from "../lib/cluster/props";
import {
  FedoraCoreOsStream,
  FlatcarChannel,
  OperatingSystem,
} from "../lib/cluster/operating-system";
import { RebootStrategy } from "../lib/cluster/reboot-strategy";
import { Provisioning } from "../lib/cluster/provisioning";
import { DiscoveryKind, EtcdDiscovery } from "../lib/etcd/discovery";
import { EtcdTls } from "../lib/etcd/tls";
import { ed25519PublicKey } from "./support/keys";

/*
 * The cluster model, prop by prop: what each prop resolves to (addresses,
 * members, endpoints, ports, windows) and, for bad values, the one issue that
 * names the prop, shows the value and says what is allowed. Pure: no stack.
 */

const ctx: PlanContext = { id: "core", path: "stack/core" };
const fcos = (): OperatingSystem => OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.STABLE);
const flatcar = (): OperatingSystem => OperatingSystem.flatcar(FlatcarChannel.STABLE);

function plan(props: CoreOsClusterProps, context: PlanContext = ctx) {
  return planCluster(props, context);
}

/** The issues planCluster throws for these props (fails when it throws none). */
function issuesOf(props: unknown, context: PlanContext = ctx): PropIssue[] {
  try {
    planCluster(props as CoreOsClusterProps, context);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterConfigError);
    expect((e as ClusterConfigError).subject).toBe(`CoreOsCluster "${context.path}"`);
    return [...(e as ClusterConfigError).issues];
  }
  throw new Error(`no issue for ${JSON.stringify(props)}`);
}

/** The single issue these props raise. */
function issueOf(props: unknown, context: PlanContext = ctx): PropIssue {
  const found = issuesOf(props, context);
  expect(found.map((i) => i.prop)).toHaveLength(1);
  return found[0];
}

const props = (found: readonly PropIssue[]): string[] => found.map((i) => i.prop);

describe("cluster names", () => {
  it("accepts 1-32 lowercase letters, digits and '-', starting with a letter, not ending with '-'", () => {
    for (const ok of ["a", "a1", "web-2", `a${"b".repeat(31)}`])
      expect(isClusterName(ok)).toBe(true);
    for (const bad of ["", "1a", "-a", "a-", "A", "a_b", `a${"b".repeat(32)}`, 3, undefined]) {
      expect(isClusterName(bad)).toBe(false);
    }
  });

  it("defaults to the construct id, lowercased, other characters as '-'", () => {
    expect(defaultClusterName("My_Core.2")).toBe("my-core-2");
    expect(plan({}, { id: "Web_Tier", path: "s/Web_Tier" }).name).toBe("web-tier");
  });

  it("rejects a bad name with what is allowed", () => {
    const i = issueOf({ name: "Core" });
    expect(i).toMatchObject({ prop: "name", value: "Core" });
    expect(i.allowed).toMatch(/^1-32 lowercase letters, digits or '-'/);
  });

  it("pads node numbers to two digits whatever the count", () => {
    expect(nameWidth(1)).toBe(2);
    expect(nameWidth(1000)).toBe(2);
  });
});

describe("props object and tokens", () => {
  it("rejects props that are no object before anything else", () => {
    const i = issueOf([1, 2]);
    expect(i.prop).toBe("props");
    expect(i.allowed).toMatch(/an object of props/);
  });

  it("takes undefined props as all defaults", () => {
    expect(planCluster(undefined as unknown as CoreOsClusterProps, ctx).nodes).toHaveLength(3);
  });

  it("names every prop that holds a token, and reports nothing else", () => {
    const isToken = (v: unknown) => v === "${var.x}" || v === 1e9;
    const found = issuesOf({ name: "${var.x}", nodeCount: 1e9, cpus: 0 }, { ...ctx, isToken });
    expect(props(found)).toEqual(["name", "nodeCount"]);
    expect(found.every((i) => i.value === TOKEN_VALUE && i.allowed === LITERAL_REQUIRED)).toBe(
      true,
    );
  });
});

describe("sizes", () => {
  it.each([
    ["nodeCount", 1, 9999],
    ["cpus", 1, 64],
    ["memoryMiB", 512, 262144],
  ])("%s takes whole numbers from %i to %i", (prop, min, max) => {
    const base = { networkCidr: "10.0.0.0/16" };
    expect(() => plan({ ...base, [prop]: min })).not.toThrow();
    expect(() => plan({ ...base, [prop]: max })).not.toThrow();
    for (const bad of [min - 1, max + 1, min + 0.5, String(min)]) {
      expect(issueOf({ ...base, [prop]: bad })).toEqual({
        prop,
        value: bad,
        allowed: `a whole number from ${min} to ${max}`,
      });
    }
  });

  it("keeps cpus and memory as given", () => {
    const p = plan({ cpus: 4, memoryMiB: 4096 });
    expect([p.cpus, p.memoryMiB]).toEqual([4, 4096]);
  });

  it("names nodes with the prefix; a prefix is 1-42 host name characters", () => {
    const long = `a${"b".repeat(41)}`;
    expect(plan({ nodeCount: 1, namePrefix: long }).nodes[0].name).toBe(`${long}-01`);
    for (const bad of [`${long}c`, "1a", "a-", "A", 7]) {
      const i = issueOf({ namePrefix: bad });
      expect(i).toMatchObject({ prop: "namePrefix", value: bad });
      expect(i.allowed).toMatch(/at most 42 characters/);
    }
  });

  it("rejects an os that is no OperatingSystem", () => {
    const i = issueOf({ os: "flatcar" });
    expect(i).toMatchObject({ prop: "os", value: "flatcar" });
    expect(i.allowed).toMatch(/OperatingSystem\.flatcar/);
  });
});

describe("SSH keys", () => {
  it("keeps valid public keys as their parsed lines", () => {
    const key = ed25519PublicKey("me@host");
    expect(plan({ sshPublicKeys: [key] }).sshPublicKeys).toEqual([key]);
    expect(plan({}).sshPublicKeys).toEqual([]);
  });

  it("rejects a list that is no list, a bad key, and never shows a private key", () => {
    expect(issueOf({ sshPublicKeys: "ssh-ed25519 AAAA" })).toMatchObject({
      prop: "sshPublicKeys",
      allowed: "a list of SSH public keys",
    });
    const priv = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
    const found = issuesOf({ sshPublicKeys: [ed25519PublicKey(), "not a key", priv] });
    expect(props(found)).toEqual(["sshPublicKeys[1]", "sshPublicKeys[2]"]);
    expect(found[0].value).toBe("not a key");
    expect(found[1].value).toBe(PRIVATE_KEY_SHOWN);
    expect(found[1].allowed).toMatch(/private keys never go into synthesized configs/);
    expect(JSON.stringify(found)).not.toContain("abc");
  });
});

describe("addresses", () => {
  it("fills a /24 from host 101 up to .254 and no further", () => {
    const p = plan({ nodeCount: 154, networkCidr: "192.168.56.0/24" });
    expect(p.nodes[153].address).toBe("192.168.56.254");
    const i = issueOf({ nodeCount: 155, networkCidr: "192.168.56.0/24" });
    expect(i).toMatchObject({ prop: "nodeCount", value: 155 });
    expect(i.allowed).toBe(
      "at most 154 nodes from host number 101 in 192.168.56.0/24: widen networkCidr or lower firstHostNumber",
    );
  });

  it("says no room at all when the first host number is past the network", () => {
    const i = issueOf({ nodeCount: 1, networkCidr: "10.0.0.0/24", firstHostNumber: 300 });
    expect(i.allowed).toMatch(/^at most 0 nodes from host number 300 in 10\.0\.0\.0\/24/);
  });

  it("counts room over all subnets and names them", () => {
    const subnetCidrs = ["10.0.1.0/28", "10.0.2.0/28"];
    const base = { networkCidr: "10.0.0.0/16", subnetCidrs, firstHostNumber: 10 };
    // Hosts 10..14 in each /28 (15 is broadcast): 5 per subnet.
    expect(plan({ ...base, nodeCount: 10 }).nodes[9].address).toBe("10.0.2.14");
    expect(issueOf({ ...base, nodeCount: 11 }).allowed).toBe(
      "at most 10 nodes from host number 10 in subnets 10.0.1.0/28, 10.0.2.0/28: widen the subnets or lower firstHostNumber",
    );
  });

  it("takes the smallest subnet as the limit", () => {
    const base = {
      networkCidr: "10.0.0.0/16",
      subnetCidrs: ["10.0.1.0/24", "10.0.2.0/28"],
      firstHostNumber: 10,
    };
    expect(issueOf({ ...base, nodeCount: 12 }).allowed).toMatch(/^at most 10 nodes/);
  });

  it("rejects a bad network and a bad first host number", () => {
    expect(issueOf({ networkCidr: "10.0.0.0/33" }).prop).toBe("networkCidr");
    for (const bad of [0, 2 ** 24 + 1, 1.5]) {
      expect(issueOf({ firstHostNumber: bad })).toEqual({
        prop: "firstHostNumber",
        value: bad,
        allowed: `a whole number from 1 to ${2 ** 24}`,
      });
    }
    expect(plan({ nodeCount: 1, firstHostNumber: 1 }).nodes[0].address).toBe("192.168.56.1");
  });

  it("returns the network, first host number and construct path it planned with", () => {
    const p = plan({ networkCidr: "10.1.0.0/16", firstHostNumber: 5 });
    expect(p.network.cidr).toBe("10.1.0.0/16");
    expect(p.subnets.map((s) => s.cidr)).toEqual(["10.1.0.0/16"]);
    expect(p.firstHostNumber).toBe(5);
    expect(p.path).toBe("stack/core");
  });
});

describe("subnets", () => {
  const networkCidr = "10.0.0.0/16";

  it("takes 1 to 16 subnets", () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => `10.0.${i}.0/24`);
    expect(plan({ networkCidr, subnetCidrs: sixteen, nodeCount: 16 }).nodes[15].subnetIndex).toBe(
      15,
    );
    for (const bad of [[], [...sixteen, "10.0.16.0/24"], "10.0.1.0/24"]) {
      expect(issueOf({ networkCidr, subnetCidrs: bad })).toEqual({
        prop: "subnetCidrs",
        value: bad,
        allowed: "1-16 IPv4 CIDRs inside networkCidr",
      });
    }
  });

  it("accepts subnets touching the network's edges, rejects one reaching past them", () => {
    const edges = ["10.0.0.0/24", "10.0.255.0/24"];
    expect(plan({ networkCidr, subnetCidrs: edges }).subnets.map((s) => s.cidr)).toEqual(edges);
    for (const outside of ["10.1.0.0/24", "9.255.255.0/24", "10.0.0.0/15"]) {
      expect(issueOf({ networkCidr, subnetCidrs: ["10.0.1.0/24", outside] })).toEqual({
        prop: "subnetCidrs[1]",
        value: outside,
        allowed: "a subnet inside networkCidr 10.0.0.0/16",
      });
    }
  });

  it("rejects overlapping subnets, but not adjacent ones", () => {
    expect(() => plan({ networkCidr, subnetCidrs: ["10.0.0.0/24", "10.0.1.0/24"] })).not.toThrow();
    for (const [a, b] of [
      ["10.0.0.0/23", "10.0.1.0/24"],
      ["10.0.1.0/24", "10.0.0.0/23"],
      ["10.0.1.0/24", "10.0.1.0/24"],
    ]) {
      expect(issueOf({ networkCidr, subnetCidrs: [a, b] })).toEqual({
        prop: "subnetCidrs[1]",
        value: b,
        allowed: "a subnet that overlaps no other subnet",
      });
    }
  });

  it("names a subnet that is no CIDR", () => {
    const i = issueOf({ networkCidr, subnetCidrs: ["10.0.1.0/24", "nope"] });
    expect(i).toMatchObject({ prop: "subnetCidrs[1]", value: "nope" });
  });
});

describe("standby and etcd members", () => {
  it("takes 0 to nodeCount - 1 standby nodes, the last ones", () => {
    const p = plan({ nodeCount: 3, standby: 2, etcd: { members: 1 } });
    expect(p.nodes.map((n) => n.standby)).toEqual([false, true, true]);
    expect(p.standby).toBe(2);
    for (const bad of [-1, 3, 1.5, "1"]) {
      expect(issueOf({ nodeCount: 3, standby: bad })).toEqual({
        prop: "standby",
        value: bad,
        allowed: "a whole number from 0 to 2 (nodeCount - 1): at least one node must stay active",
      });
    }
  });

  it("checks standby only against a valid nodeCount", () => {
    expect(props(issuesOf({ nodeCount: 0, standby: 5 }))).toEqual(["nodeCount"]);
  });

  it("defaults to one member below three nodes, three from three nodes", () => {
    expect(plan({ nodeCount: 2 }).nodes.map((n) => n.etcdMember)).toEqual([true, false]);
    expect(plan({ nodeCount: 4 }).nodes.map((n) => n.etcdMember)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it("explains why an even member count is refused", () => {
    expect(issueOf({ nodeCount: 5, etcd: { members: 4 } })).toEqual({
      prop: "etcd.members",
      value: 4,
      allowed:
        "1, 3, 5, 7 (an even count tolerates no more failures than 3 members and splits votes)",
    });
    for (const bad of [0, 9, -2, 2.5, "3"]) {
      expect(issueOf({ nodeCount: 9, etcd: { members: bad } })).toEqual({
        prop: "etcd.members",
        value: bad,
        allowed: "1, 3, 5, 7",
      });
    }
  });

  it("puts each member on its own node", () => {
    expect(issueOf({ nodeCount: 3, etcd: { members: 5 } })).toEqual({
      prop: "etcd.members",
      value: 5,
      allowed: "at most nodeCount (3): each member runs on its own node",
    });
    expect(plan({ nodeCount: 5, etcd: { members: 5 } }).etcd.members).toHaveLength(5);
  });

  it("rejects etcd props that are no object", () => {
    expect(issueOf({ etcd: "3" })).toMatchObject({ prop: "etcd", value: "3" });
  });
});

describe("etcd image, token and TLS", () => {
  it("runs the default image unless a tag or image is given", () => {
    const p = plan({});
    expect(p.etcd.image).toBe(DEFAULT_IMAGES.etcd);
    expect(p.etcd.imageTag).toBe("v3.5.21");
    const tagged = plan({ etcd: { imageTag: "v3.4.33" } });
    expect(tagged.etcd.image.reference).toBe("quay.io/coreos/etcd:v3.4.33");
    expect(tagged.etcd.image.pinned).toBe(false);
    const own = ContainerImage.unpinned("registry.example/etcd:v3.5.9");
    expect(plan({ etcd: { image: own } }).etcd.image).toBe(own);
  });

  it("takes etcd v3 release tags only", () => {
    for (const bad of ["3.5.21", "v3.5", "v2.3.8", "v3.5.21-rc", " v3.5.21"]) {
      expect(issueOf({ etcd: { imageTag: bad } })).toEqual({
        prop: "etcd.imageTag",
        value: bad,
        allowed: "an etcd v3 release tag such as v3.5.21",
      });
    }
  });

  it("checks a given image", () => {
    expect(issueOf({ etcd: { image: "quay.io/coreos/etcd:v3.5.21" } }).prop).toBe("etcd.image");
  });

  it("derives the token from the name and a digest of the construct path", () => {
    const digest = createHash("sha256").update("stack/core").digest("hex").slice(0, 12);
    expect(plan({ name: "web" }).etcd.clusterToken).toBe(`web-${digest}`);
    expect(plan({ etcd: { clusterToken: "A.b_c-1" } }).etcd.clusterToken).toBe("A.b_c-1");
    expect(plan({ etcd: { clusterToken: "x".repeat(64) } }).etcd.clusterToken).toHaveLength(64);
    for (const bad of ["", "x".repeat(65), "a b", "a/b", 5]) {
      expect(issueOf({ etcd: { clusterToken: bad } })).toEqual({
        prop: "etcd.clusterToken",
        value: bad,
        allowed: "1-64 letters, digits, '.', '_' or '-'",
      });
    }
  });

  it("speaks https with TLS (the default), http without", () => {
    const tls = plan({ nodeCount: 1 }).etcd;
    expect(tls.scheme).toBe("https");
    expect(tls.tlsSource).toBeInstanceOf(EtcdTls);
    const plain = plan({ nodeCount: 1, etcd: { tls: EtcdTls.disabled() } }).etcd;
    expect(plain.scheme).toBe("http");
    expect(plain.tlsSource).toBeUndefined();
    expect(plain.clientEndpoints).toEqual(["http://192.168.56.101:2379"]);
    expect(plain.seedEndpoints).toEqual(["http://192.168.56.101:2379"]);
    expect(plain.initialCluster).toBe("core-01=http://192.168.56.101:2380");
  });

  it("rejects tls that is no EtcdTls", () => {
    const i = issueOf({ etcd: { tls: "off" } });
    expect(i).toMatchObject({ prop: "etcd.tls", value: "off" });
    expect(i.allowed).toMatch(/EtcdTls\.disabled\(\)/);
  });
});

describe("etcd membership across synths", () => {
  it("keeps the bootstrap members' static list while the current members change", () => {
    const first = plan({ nodeCount: 5, etcd: { members: 3 } });
    expect(first.etcd.record).toEqual({
      bootstrap: first.etcd.bootstrap,
      members: ["core-01", "core-02", "core-03"],
      nodes: ["core-01", "core-02", "core-03", "core-04", "core-05"],
    });
    const grown = plan(
      { nodeCount: 5, etcd: { members: 5 } },
      { ...ctx, previousMembership: first.etcd.record },
    );
    expect(grown.etcd.initialCluster).toBe(first.etcd.initialCluster);
    expect(grown.etcd.seedEndpoints).toEqual([
      "https://192.168.56.101:2379",
      "https://192.168.56.102:2379",
      "https://192.168.56.103:2379",
    ]);
    expect(grown.etcd.clientEndpoints).toHaveLength(5);
    expect(grown.etcd.clientEndpoints[4]).toBe("https://192.168.56.105:2379");
    expect(grown.etcd.discovery.size).toBe(3);
  });

  it("names the record file when the members would move", () => {
    const first = plan({ nodeCount: 3 });
    const moved = { nodeCount: 3, networkCidr: "10.0.0.0/16" };
    const found = issuesOf(moved, {
      ...ctx,
      previousMembership: first.etcd.record,
      membershipRecordFile: "state/m.json",
    });
    expect(found[0].allowed).toMatch(/delete state\/m\.json first/);
    const unnamed = issuesOf(moved, { ...ctx, previousMembership: first.etcd.record });
    expect(unnamed[0].allowed).toMatch(/delete the membership record first/);
  });
});

describe("etcd discovery, ports and v2 API", () => {
  it("bootstraps statically by default, from a discovery service when asked", () => {
    expect(plan({}).etcd.discovery).toEqual({ kind: DiscoveryKind.STATIC, endpoints: [], size: 3 });
    const d = plan({ etcd: { discovery: EtcdDiscovery.selfHosted("http://10.9.0.1:2379") } });
    expect(d.etcd.discovery.kind).toBe(DiscoveryKind.SELF_HOSTED);
    expect(d.etcd.discovery.endpoints).toEqual(["http://10.9.0.1:2379"]);
  });

  it("takes v3 discovery only with etcd 3.6 or later, v2 discovery only before", () => {
    const v3 = EtcdDiscovery.v3({ endpoints: ["http://10.9.0.1:2379"] });
    const old = issueOf({ etcd: { discovery: v3 } });
    expect(old.prop).toBe("etcd.discovery");
    expect(old.allowed).toMatch(/v3\.6 or later.*the image is quay\.io\/coreos\/etcd:v3\.5\.21$/);
    const unknown = issueOf({
      etcd: { discovery: v3, image: ContainerImage.unpinned("registry.example/etcd:latest") },
    });
    expect(unknown.allowed).toMatch(/the image is registry\.example\/etcd:latest$/);
    expect(plan({ etcd: { discovery: v3, imageTag: "v3.6.0" } }).etcd.discovery.kind).toBe(
      DiscoveryKind.V3,
    );
    const v2 = issueOf({
      etcd: { discovery: EtcdDiscovery.publicService(), imageTag: "v3.6.1" },
    });
    expect(v2).toMatchObject({ prop: "etcd.discovery", value: DiscoveryKind.PUBLIC_SERVICE });
    expect(v2.allowed).toMatch(/etcd 3\.6 removed v2 discovery/);
    expect(() =>
      plan({ etcd: { discovery: EtcdDiscovery.publicService(), imageTag: "v3.5.0" } }),
    ).not.toThrow();
    expect(() =>
      plan({ etcd: { discovery: EtcdDiscovery.staticBootstrap(), imageTag: "v3.6.1" } }),
    ).not.toThrow();
  });

  it("rejects discovery that is no EtcdDiscovery, and checks a given one", () => {
    expect(issueOf({ etcd: { discovery: "static" } })).toMatchObject({
      prop: "etcd.discovery",
      value: "static",
    });
    expect(issueOf({ etcd: { discovery: EtcdDiscovery.selfHosted("ftp://x") } }).prop).toMatch(
      /^etcd\.discovery/,
    );
  });

  it("listens on 2379/2380, plus 4001/7001 with legacyPorts", () => {
    expect(plan({}).etcd.ports).toEqual({ client: [2379], peer: [2380] });
    expect(plan({ etcd: { legacyPorts: true } }).etcd.ports).toEqual({
      client: [2379, 4001],
      peer: [2380, 7001],
    });
    expect(plan({ etcd: { legacyPorts: false } }).etcd.ports).toEqual({
      client: [2379],
      peer: [2380],
    });
    expect(issueOf({ etcd: { legacyPorts: "yes" } })).toEqual({
      prop: "etcd.legacyPorts",
      value: "yes",
      allowed: "true | false",
    });
  });

  it("serves the v2 API for locksmithd's etcd lock on etcd before 3.6 only", () => {
    expect(plan({}).etcd.enableV2).toBe(true);
    expect(
      plan({ etcd: { image: ContainerImage.unpinned("registry.example/etcd:latest") } }).etcd
        .enableV2,
    ).toBe(true);
    expect(plan({ etcd: { imageTag: "v3.6.0" } }).etcd.enableV2).toBe(false);
    expect(plan({ etcd: { imageTag: "v3.5.0" } }).etcd.enableV2).toBe(true);
    expect(plan({ rebootStrategy: RebootStrategy.REBOOT }).etcd.enableV2).toBe(false);
    expect(plan({ rebootStrategy: RebootStrategy.OFF }).etcd.enableV2).toBe(false);
  });
});

describe("updates and provisioning", () => {
  it("defaults: Flatcar reboots through the etcd lock, Fedora CoreOS staggered; both by Ignition", () => {
    expect(plan({ os: flatcar() }).rebootStrategy).toBe(RebootStrategy.ETCD_LOCK);
    expect(plan({ os: fcos() }).rebootStrategy).toBe(RebootStrategy.STAGGERED);
    expect(plan({ os: fcos() }).provisioning).toBe(Provisioning.IGNITION);
    expect(plan({ provisioning: Provisioning.CLOUD_CONFIG }).provisioning).toBe(
      Provisioning.CLOUD_CONFIG,
    );
  });

  it("rejects unknown strategies and the etcd lock on Fedora CoreOS", () => {
    const unknown = issueOf({ rebootStrategy: "sometimes" });
    expect(unknown).toMatchObject({ prop: "rebootStrategy", value: "sometimes" });
    expect(unknown.allowed).toBe(Object.values(RebootStrategy).join(" | "));
    const lock = issueOf({ os: fcos(), rebootStrategy: RebootStrategy.ETCD_LOCK });
    expect(lock).toMatchObject({ prop: "rebootStrategy", value: RebootStrategy.ETCD_LOCK });
    expect(lock.allowed).toMatch(/^staggered \| reboot \| off on Fedora CoreOS/);
    expect(plan({ os: fcos(), rebootStrategy: RebootStrategy.REBOOT }).rebootStrategy).toBe(
      RebootStrategy.REBOOT,
    );
  });

  it("rejects unknown provisioning and cloud-config on Fedora CoreOS", () => {
    const unknown = issueOf({ provisioning: "kickstart" });
    expect(unknown).toMatchObject({ prop: "provisioning", value: "kickstart" });
    expect(unknown.allowed).toBe(Object.values(Provisioning).join(" | "));
    const cc = issueOf({ os: fcos(), provisioning: Provisioning.CLOUD_CONFIG });
    expect(cc).toMatchObject({ prop: "provisioning", value: Provisioning.CLOUD_CONFIG });
    expect(cc.allowed).toMatch(/^ignition on Fedora CoreOS/);
  });
});

describe("maintenance window", () => {
  const hour = Duration.hours(1);

  it("resolves to a start and whole minutes; none without the prop", () => {
    expect(
      plan({ maintenanceWindow: { start: "Sun 03:00", length: hour } }).maintenanceWindow,
    ).toEqual({ start: "Sun 03:00", lengthMinutes: 60 });
    expect("maintenanceWindow" in plan({})).toBe(false);
    expect(
      plan({
        rebootStrategy: RebootStrategy.REBOOT,
        maintenanceWindow: { start: "00:00", length: Duration.hours(7 * 24) },
      }).maintenanceWindow,
    ).toEqual({ start: "00:00", lengthMinutes: 7 * 24 * 60 });
  });

  it("takes [Day ]HH:MM, any case, 00:00 to 23:59", () => {
    for (const start of ["23:59", "00:00", "19:30", "mon 00:00", "SAT 12:34", "Wed 09:05"]) {
      expect(plan({ maintenanceWindow: { start, length: hour } }).maintenanceWindow?.start).toBe(
        start,
      );
    }
    for (const bad of [
      "24:00",
      "3:00",
      "03:60",
      "Sun03:00",
      "Sunday 03:00",
      " 03:00",
      "03:00 ",
      "x03:00",
      300,
    ]) {
      expect(issueOf({ maintenanceWindow: { start: bad, length: hour } })).toEqual({
        prop: "maintenanceWindow.start",
        value: bad,
        allowed:
          'a start time "HH:MM" (24 h, UTC), optionally after a day: "Sun 03:00" (Sun Mon Tue Wed Thu Fri Sat)',
      });
    }
  });

  it("takes whole minutes from 1 minute to 7 days", () => {
    const at = (length: unknown) => ({ maintenanceWindow: { start: "03:00", length } });
    expect(
      plan(at(Duration.minutes(1)) as CoreOsClusterProps).maintenanceWindow?.lengthMinutes,
    ).toBe(1);
    for (const bad of [
      Duration.seconds(30),
      Duration.seconds(90),
      Duration.minutes(7 * 24 * 60 + 1),
      Duration.millis(0),
    ]) {
      expect(issueOf(at(bad))).toEqual({
        prop: "maintenanceWindow.length",
        value: bad.toString(),
        allowed: "a Duration of whole minutes from 1 minute to 7 days, e.g. Duration.hours(1)",
      });
    }
    expect(issueOf(at(60))).toMatchObject({ prop: "maintenanceWindow.length", value: 60 });
  });

  it("is Flatcar's, with the etcd lock or plain reboots only", () => {
    const window = { start: "Sun 03:00", length: hour };
    const onFcos = issueOf({ os: fcos(), maintenanceWindow: window });
    expect(onFcos).toMatchObject({ prop: "maintenanceWindow", value: "Sun 03:00" });
    expect(onFcos.allowed).toMatch(/^no window on Fedora CoreOS/);
    const staggered = issueOf({
      rebootStrategy: RebootStrategy.STAGGERED,
      maintenanceWindow: window,
    });
    expect(staggered.allowed).toBe(
      "a window only with rebootStrategy ETCD_LOCK or REBOOT (staggered gives each node its own window)",
    );
    const off = issueOf({ rebootStrategy: RebootStrategy.OFF, maintenanceWindow: window });
    expect(off.allowed).toBe(
      "a window only with rebootStrategy ETCD_LOCK or REBOOT (off never reboots)",
    );
    expect(issueOf({ maintenanceWindow: "Sun 03:00" })).toMatchObject({
      prop: "maintenanceWindow",
      value: "Sun 03:00",
    });
  });
});

describe("units", () => {
  const hello = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

  it("keeps the units as given", () => {
    const units = [{ name: "hello.service", contents: hello }];
    expect(plan({ units }).units).toBe(units);
  });

  it("rejects units that are no list, no object, or have a bad name", () => {
    expect(issueOf({ units: "hello.service" })).toMatchObject({ prop: "units" });
    expect(issueOf({ units: ["hello.service"] })).toMatchObject({
      prop: "units[0]",
      allowed: "a unit { name, contents?, enabled?, dropins? }",
    });
    const bad = issueOf({ units: [{ name: "hello", contents: hello }] });
    expect(bad).toMatchObject({ prop: "units[0].name", value: "hello" });
  });

  it("lets users add drop-ins to the cluster's units but not replace or enable them", () => {
    const dropins = [{ name: "10-env.conf", contents: "[Service]\nEnvironment=A=1\n" }];
    expect(() => plan({ units: [{ name: "etcd-member.service", dropins }] })).not.toThrow();
    const replaced = issueOf({ units: [{ name: "etcd-member.service", contents: hello }] });
    expect(replaced).toMatchObject({ prop: "units[0].contents", value: "etcd-member.service" });
    expect(replaced.allowed).toMatch(/^only dropins for etcd-member\.service/);
    const enabled = issueOf({ units: [{ name: "locksmithd.service", enabled: false }] });
    expect(enabled).toMatchObject({ prop: "units[0].enabled", value: "locksmithd.service" });
  });

  it("takes each unit name once and needs something to do", () => {
    const twice = issueOf({
      units: [
        { name: "a.service", enabled: false },
        { name: "a.service", enabled: false },
      ],
    });
    expect(twice).toEqual({
      prop: "units[1].name",
      value: "a.service",
      allowed: "each unit name once",
    });
    const empty = issueOf({ units: [{ name: "a.service", dropins: [] }] });
    expect(empty).toMatchObject({
      prop: "units[0]",
      allowed: "at least one of contents, enabled or dropins",
    });
    expect(issueOf({ units: [{ name: "a.service", enabled: "yes" }] })).toEqual({
      prop: "units[0].enabled",
      value: "yes",
      allowed: "true | false",
    });
    expect(issueOf({ units: [{ name: "a.service", contents: 5 }] }).prop).toBe("units[0].contents");
  });

  it("checks drop-ins: a list, good names, once per unit, not the cluster's own", () => {
    const unit = (dropins: unknown) => ({ units: [{ name: "locksmithd.service", dropins }] });
    expect(issueOf(unit("x.conf"))).toMatchObject({
      prop: "units[0].dropins",
      allowed: "a list of { name, contents }",
    });
    const c = "[Service]\n";
    expect(issueOf(unit([{ name: "x.txt", contents: c }]))).toMatchObject({
      prop: "units[0].dropins[0].name",
      value: "x.txt",
    });
    expect(issueOf(unit([{ name: "20-etcd-endpoints.conf", contents: c }]))).toEqual({
      prop: "units[0].dropins[0].name",
      value: "20-etcd-endpoints.conf",
      allowed:
        "a drop-in name other than 20-etcd-endpoints.conf, which the cluster writes into locksmithd.service",
    });
    expect(
      issueOf(
        unit([
          { name: "a.conf", contents: c },
          { name: "a.conf", contents: c },
        ]),
      ),
    ).toEqual({
      prop: "units[0].dropins[1].name",
      value: "a.conf",
      allowed: "each drop-in name once per unit",
    });
    expect(issueOf(unit([{ name: "a.conf", contents: 1 }])).prop).toBe(
      "units[0].dropins[0].contents",
    );
    // The same drop-in name in another unit is fine.
    expect(() =>
      plan({
        units: [
          { name: "a.service", dropins: [{ name: "20-etcd-endpoints.conf", contents: c }] },
          { name: "b.service", dropins: [{ name: "20-etcd-endpoints.conf", contents: c }] },
        ],
      }),
    ).not.toThrow();
  });

  it("needs an [Install] section in an enabled unit, and no Also=", () => {
    const noInstall = "[Service]\nExecStart=/bin/true\n";
    const byDefault = issueOf({ units: [{ name: "a.service", contents: noInstall }] });
    expect(byDefault).toMatchObject({ prop: "units[0].contents", value: noInstall });
    expect(byDefault.allowed).toMatch(
      /as the unit is enabled \(the default for a unit with contents\); or enabled: false$/,
    );
    const asked = issueOf({ units: [{ name: "a.service", contents: noInstall, enabled: true }] });
    expect(asked.allowed).toMatch(/as the unit is enabled \(enabled: true\)/);
    expect(() =>
      plan({ units: [{ name: "a.service", contents: noInstall, enabled: false }] }),
    ).not.toThrow();
    const also = issueOf({
      units: [{ name: "a.service", contents: `${hello}Also=b.service c.service\n` }],
    });
    expect(also).toEqual({
      prop: "units[0].contents",
      value: "Also=b.service c.service",
      allowed: "no Also= in an enabled unit: list those units in units themselves",
    });
    // A unit the OS ships, enabled: no [Install] of ours needed, but Also= in a drop-in still counts.
    expect(() => plan({ units: [{ name: "docker.service", enabled: true }] })).not.toThrow();
    expect(
      issueOf({
        units: [
          {
            name: "docker.service",
            enabled: true,
            dropins: [{ name: "a.conf", contents: "[Install]\nAlso=b.service\n" }],
          },
        ],
      }).value,
    ).toBe("Also=b.service");
    // The [Install] section may come from a drop-in.
    expect(() =>
      plan({
        units: [
          {
            name: "a.service",
            contents: noInstall,
            dropins: [{ name: "i.conf", contents: "[Install]\nWantedBy=multi-user.target\n" }],
          },
        ],
      }),
    ).not.toThrow();
  });

  it("needs an instance for an enabled template unit", () => {
    const t = issueOf({ units: [{ name: "worker@.service", contents: hello }] });
    expect(t).toMatchObject({ prop: "units[0].name", value: "worker@.service" });
    expect(t.allowed).toMatch(/^an instance name/);
    expect(() =>
      plan({ units: [{ name: "worker@.service", contents: `${hello}DefaultInstance=1\n` }] }),
    ).not.toThrow();
    expect(() => plan({ units: [{ name: "worker@1.service", contents: hello }] })).not.toThrow();
    // An instance whose name starts with a dot is still an instance, not the template.
    expect(() => plan({ units: [{ name: "worker@.a.service", contents: hello }] })).not.toThrow();
  });
});

describe("files", () => {
  const file = (path: string, extra: object = {}) => ({ path, contents: "x\n", ...extra });

  it("keeps files as given and hands each node its own", () => {
    const files = [file("/etc/motd")];
    const p = plan({ files, nodeFiles: { "core-02": [file("/etc/role")] } });
    expect(p.files).toBe(files);
    expect(p.nodes.map((n) => n.files.map((f) => f.path))).toEqual([[], ["/etc/role"], []]);
  });

  it("rejects files that are no list or no object", () => {
    expect(issueOf({ files: "x" })).toMatchObject({ prop: "files", allowed: "a list of files" });
    expect(issueOf({ files: ["x"] })).toMatchObject({
      prop: "files[0]",
      allowed: "a file { path, contents, mode? }",
    });
  });

  it("checks path, contents and mode, and never shows a private key", () => {
    expect(issueOf({ files: [file("etc/motd")] })).toMatchObject({
      prop: "files[0].path",
      value: "etc/motd",
    });
    expect(issueOf({ files: [{ path: "/etc/a", contents: 1 }] })).toEqual({
      prop: "files[0].contents",
      value: 1,
      allowed: "a string",
    });
    const key = issueOf({
      files: [file("/etc/a", { contents: "-----BEGIN RSA PRIVATE KEY-----\nsecret\n" })],
    });
    expect(key).toMatchObject({ prop: "files[0].contents", value: PRIVATE_KEY_SHOWN });
    expect(key.allowed).toMatch(/^no private keys/);
    expect(issueOf({ files: [file("/etc/a", { mode: 0o7777 + 1 })] })).toMatchObject({
      prop: "files[0].mode",
    });
    expect(plan({ files: [file("/etc/a", { mode: 0o600 })] }).files[0].mode).toBe(0o600);
  });

  it("keeps files out of the folders the cluster writes", () => {
    for (const dir of [
      "/etc/ssl/etcd/",
      "/opt/etcd/",
      "/opt/coreos-cluster/",
      "/etc/coreos-cluster/",
    ]) {
      const i = issueOf({ files: [file(`${dir}x`)] });
      expect(i).toMatchObject({ prop: "files[0].path", value: `${dir}x` });
      expect(i.allowed).toMatch(new RegExp(`\\): ${dir.replace(/\//g, "\\/")} holds`));
    }
    expect(() => plan({ files: [file("/opt/etcdx")] })).not.toThrow();
  });

  it("refuses a path the cluster, a unit or another file takes", () => {
    const taken = (path: string, extra: CoreOsClusterProps = {}) =>
      issueOf({ ...extra, files: [file("/etc/motd"), file(path)] });
    expect(taken("/etc/hostname").allowed).toBe(
      "a path that no other file or unit takes: the cluster itself writes /etc/hostname (the same path)",
    );
    expect(taken("/etc/motd").allowed).toMatch(/files\[0\] writes \/etc\/motd \(the same path\)$/);
    expect(taken("/etc/systemd/system/etcd-member.service").allowed).toMatch(
      /the cluster's unit etcd-member\.service writes/,
    );
    expect(
      taken("/etc/systemd/system/locksmithd.service.d/20-etcd-endpoints.conf").allowed,
    ).toMatch(/the cluster's drop-in 20-etcd-endpoints\.conf writes/);
    const units = [
      {
        name: "a.service",
        contents: "[Service]\n",
        enabled: false,
        dropins: [{ name: "x.conf", contents: "[Service]\n" }],
      },
      { name: "b.service", enabled: false },
    ];
    expect(taken("/etc/systemd/system/a.service", { units }).allowed).toMatch(/units\[0\] writes/);
    expect(taken("/etc/systemd/system/a.service.d/x.conf", { units }).allowed).toMatch(
      /units\[0\]\.dropins\[0\] writes/,
    );
    // A unit without contents is the OS's: its file is not ours to take.
    expect(() => plan({ units, files: [file("/etc/systemd/system/b.service")] })).not.toThrow();
  });

  it("checks node files per node, against the cluster's files but not other nodes'", () => {
    const nodeFiles = { "core-01": [file("/etc/role")], "core-02": [file("/etc/role")] };
    expect(plan({ nodeFiles }).nodes[1].files[0].path).toBe("/etc/role");
    const clash = issueOf({
      files: [file("/etc/role")],
      nodeFiles: { "core-01": [file("/etc/role")] },
    });
    expect(clash.prop).toBe('nodeFiles["core-01"][0].path');
    expect(clash.allowed).toMatch(/files\[0\] writes \/etc\/role/);
    const twice = issueOf({ nodeFiles: { "core-01": [file("/etc/a"), file("/etc/a")] } });
    expect(twice.allowed).toMatch(/nodeFiles\["core-01"\]\[0\] writes/);
  });

  it("names unknown nodes and bad node file lists", () => {
    expect(issueOf({ nodeFiles: { "core-04": [file("/etc/a")] } })).toEqual({
      prop: "nodeFiles",
      value: "core-04",
      allowed: "names of this cluster's nodes (core-01 … core-03)",
    });
    expect(issueOf({ nodeFiles: [] })).toMatchObject({
      prop: "nodeFiles",
      allowed: "an object: node name → list of files",
    });
    expect(issueOf({ nodeFiles: { "core-01": "x" } })).toEqual({
      prop: 'nodeFiles["core-01"]',
      value: "x",
      allowed: "a list of files",
    });
  });
});

describe("several issues at once", () => {
  it("lists every rejected prop in one error, in prop order", () => {
    expect(
      props(issuesOf({ name: "X", nodeCount: 0, cpus: 0, memoryMiB: 1, etcd: { members: 2 } })),
    ).toEqual(["name", "nodeCount", "cpus", "memoryMiB", "etcd.members"]);
  });
});

describe("what the cluster writes itself", () => {
  it("keeps user files off every path the cluster writes", () => {
    for (const path of [
      "/etc/hostname",
      "/etc/flatcar/update.conf",
      "/etc/profile.d/etcdctl.sh",
      "/etc/zincati/config.d/55-updates-strategy.toml",
      "/etc/etcd/etcd.env",
      "/etc/etcd/join.env",
      "/etc/etcd/discovery.env",
      "/opt/bin/coreos-cluster-ready",
    ]) {
      expect(issueOf({ files: [{ path, contents: "x" }] }).allowed).toBe(
        `a path that no other file or unit takes: the cluster itself writes ${path} (the same path)`,
      );
    }
  });

  it("keeps user units from replacing any of the cluster's units", () => {
    for (const name of [
      "etcd-member.service",
      "etcd-member-promote.service",
      "etcd-member-leave.service",
      "locksmithd.service",
    ]) {
      expect(issueOf({ units: [{ name, enabled: true }] })).toMatchObject({
        prop: "units[0].enabled",
        value: name,
      });
      expect(
        issueOf({ files: [{ path: `/etc/systemd/system/${name}`, contents: "x" }] }).allowed,
      ).toBe(
        `a path that no other file or unit takes: the cluster's unit ${name} writes /etc/systemd/system/${name} (the same path)`,
      );
    }
  });

  it("takes 1, 3, 5 or 7 etcd members", () => {
    for (const members of [1, 3, 5, 7]) {
      expect(plan({ nodeCount: 7, etcd: { members } }).etcd.members).toHaveLength(members);
    }
  });
});

describe("odd shapes are reported, never a TypeError", () => {
  it("a null unit, a null drop-in, node files that are a string", () => {
    expect(issueOf({ units: [null] })).toMatchObject({ prop: "units[0]", value: null });
    expect(props(issuesOf({ units: [{ name: "locksmithd.service", dropins: [null] }] }))).toEqual([
      "units[0].dropins[0].name",
      "units[0].dropins[0].contents",
    ]);
    expect(issueOf({ nodeFiles: "core-01" })).toMatchObject({
      prop: "nodeFiles",
      value: "core-01",
    });
    expect(issueOf({ files: [null] })).toMatchObject({ prop: "files[0]", value: null });
  });

  it("checks a provided etcd CA", () => {
    const found = issuesOf({
      etcd: { tls: EtcdTls.fromCa({ certificatePem: "not a certificate", privateKeyPem: "x" }) },
    });
    expect(props(found)).toEqual(["etcd.tls.certificatePem", "etcd.tls.privateKeyPem"]);
  });
});

describe("units and files, finer points", () => {
  const install = "[Install]\nWantedBy=multi-user.target\n";

  it("a unit with only a name does nothing, and says so", () => {
    expect(issueOf({ units: [{ name: "a.service" }] })).toMatchObject({
      prop: "units[0]",
      allowed: "at least one of contents, enabled or dropins",
    });
  });

  it("an OS unit with only drop-ins is not enabled, so Also= in them is its own business", () => {
    const dropins = [{ name: "a.conf", contents: "[Install]\nAlso=b.service\n" }];
    expect(() => plan({ units: [{ name: "docker.service", dropins }] })).not.toThrow();
  });

  it("contents that are no string are reported once, whatever the drop-ins say", () => {
    const found = issuesOf({
      units: [{ name: "a.service", contents: 5, dropins: [{ name: "i.conf", contents: install }] }],
    });
    expect(props(found)).toEqual(["units[0].contents"]);
  });

  it("lists the cluster's folders in the message", () => {
    expect(issueOf({ files: [{ path: "/opt/etcd/x", contents: "x" }] }).allowed).toBe(
      "a path outside the folders the cluster writes itself (/etc/ssl/etcd/, /opt/etcd/, /opt/coreos-cluster/, /etc/coreos-cluster/): /opt/etcd/ holds etcd's certificates and scripts, or failover agents and their configs",
    );
  });

  it("takes etcd tags with two-digit minor and patch numbers", () => {
    expect(plan({ etcd: { imageTag: "v3.10.12" } }).etcd.image.reference).toBe(
      "quay.io/coreos/etcd:v3.10.12",
    );
  });
});

describe("last survivors of the mutation run", () => {
  it("takes a one-letter name prefix", () => {
    expect(plan({ nodeCount: 1, namePrefix: "a" }).nodes[0].name).toBe("a-01");
  });

  it("says what etcd and units must be", () => {
    expect(issueOf({ etcd: 3 }).allowed).toBe(
      "{ members?, clusterToken?, imageTag?, image?, tls?, discovery?, legacyPorts? }",
    );
    expect(issueOf({ units: {} }).allowed).toBe("a list of systemd units");
  });
});

describe("subnets and windows, last round", () => {
  it("accepts adjacent subnets in either order, and says why a subnet is no CIDR", () => {
    const networkCidr = "10.0.0.0/16";
    expect(() => plan({ networkCidr, subnetCidrs: ["10.0.1.0/24", "10.0.0.0/24"] })).not.toThrow();
    const bad = issueOf({ networkCidr, subnetCidrs: ["10.0.1.0/24", "nope"] });
    expect(bad.allowed).not.toMatch(/inside networkCidr|overlaps/);
  });

  it("says what a window is when it is no object", () => {
    expect(issueOf({ maintenanceWindow: 3 }).allowed).toBe(
      '{ start: "Sun 03:00", length: Duration.hours(1) }',
    );
  });
});
