/**
 * planAws, the AWS target's pure planning function, called directly: no cdktf
 * stack, every plan built inside its test (fast under mutation testing). What
 * the constructs make of the plan is aws.test.ts's and aws-terraform.test.ts's.
 */
import { gunzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { AwsMachineImage, AwsNetwork, CpuArchitecture } from "../lib/aws/options";
import { AMI_OWNERS, AwsOptions, awsName, planAws, USER_DATA_LIMIT } from "../lib/aws/plan";
import { awsTopology } from "../lib/aws/topology";
import { ClusterPlan } from "../lib/cluster/plan";
import { CoreOsClusterProps } from "../lib/cluster/props";
import {
  FedoraCoreOsStream,
  FlatcarChannel,
  OperatingSystem,
  OsFamily,
} from "../lib/cluster/operating-system";
import { Provisioning } from "../lib/cluster/provisioning";
import { Duration } from "../lib/core/duration";
import { EtcdDiscovery } from "../lib/etcd/discovery";
import {
  Balancing,
  ClientAffinity,
  FrontProtocol,
  HealthCheckProtocol,
} from "../lib/front/options";
import { FrontTargets } from "../lib/front/target";
import { renderUserData } from "../lib/render/user-data";
import {
  clusterPlan,
  clusterTargets,
  frontPlan,
  issueOf,
  issuesOf,
  ListenerSpec,
} from "./support/target-plans";

const CLUSTER: CoreOsClusterProps = {
  nodeCount: 4,
  standby: 1,
  networkCidr: "10.0.0.0/16",
  subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
  firstHostNumber: 10,
};

/** A token stands for a Terraform reference: here any string starting with `${`. */
const isToken = (v: unknown): boolean => typeof v === "string" && v.startsWith("${");

function plan(options: AwsOptions = {}, cluster: ClusterPlan = clusterPlan(CLUSTER)) {
  return planAws(cluster, options, isToken, "test/aws");
}

function existing(extra: Partial<Parameters<typeof AwsNetwork.existing>[0]> = {}): AwsNetwork {
  return AwsNetwork.existing({
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0000000a", "subnet-0000000b"],
    ...extra,
  });
}

/** A web listener over the cluster's nodes, as most fronts here. */
function web(cluster: ClusterPlan, extra: Partial<ListenerSpec> = {}): ListenerSpec {
  return {
    name: "http",
    port: 80,
    protocol: FrontProtocol.HTTP,
    group: "web",
    targets: [clusterTargets(cluster)],
    targetPort: 8080,
    ...extra,
  };
}

describe("planAws network", () => {
  it("creates by default one subnet per subnetCidr, zones left to the lookup", () => {
    const p = plan();
    expect(p.network).toEqual({
      kind: "create",
      vpcCidr: "10.0.0.0/16",
      vpcId: undefined,
      subnets: [
        { index: 0, cidr: "10.0.1.0/24", availabilityZone: undefined },
        { index: 1, cidr: "10.0.2.0/24", availabilityZone: undefined },
      ],
      loadBalancerSubnets: undefined,
      dependsOn: [],
    });
  });

  it("rejects a network that is no AwsNetwork", () => {
    // One issue: no follow-on checks of a VPC id or subnets it does not have.
    const issues = issuesOf(() => plan({ network: { kind: "create" } as unknown as AwsNetwork }));
    expect(issues).toEqual([
      {
        prop: "network",
        value: { kind: "create" },
        allowed: "AwsNetwork.create() or AwsNetwork.existing({ vpcId, subnetIds })",
      },
    ]);
  });

  it("accepts VPC and subnet prefixes from /16 to /28 only", () => {
    expect(() =>
      plan(
        {},
        clusterPlan({
          nodeCount: 2,
          networkCidr: "10.0.0.0/16",
          subnetCidrs: ["10.0.0.0/28", "10.0.0.16/28"],
          firstHostNumber: 4,
        }),
      ),
    ).not.toThrow();
    const wide = issueOf(
      () => plan({}, clusterPlan({ ...CLUSTER, networkCidr: "10.0.0.0/15" })),
      "cluster.networkCidr",
    );
    expect(wide.value).toBe("10.0.0.0/15");
    expect(wide.allowed).toBe("a prefix length from /16 to /28 on AWS");
    const narrow = issueOf(
      () =>
        plan(
          {},
          clusterPlan({
            nodeCount: 2,
            networkCidr: "10.0.0.0/16",
            subnetCidrs: ["10.0.0.0/24", "10.0.1.0/29"],
            firstHostNumber: 4,
          }),
        ),
      "cluster.subnetCidrs[1]",
    );
    expect(narrow.value).toBe("10.0.1.0/29");
  });

  it("keeps nodes off the four addresses AWS reserves at a subnet's start, naming the first node", () => {
    expect(plan({}, clusterPlan({ ...CLUSTER, firstHostNumber: 4 })).nodes[0].address).toBe(
      "10.0.1.4",
    );
    const issues = issuesOf(() => plan({}, clusterPlan({ ...CLUSTER, firstHostNumber: 3 })));
    expect(issues).toEqual([
      {
        prop: "cluster.firstHostNumber",
        value: 3,
        allowed: expect.stringContaining("4 or more") as string,
      },
    ]);
    expect(issues[0].allowed).toContain("core-01 would be 10.0.1.3");
  });

  it("wants two subnets or more for a created VPC", () => {
    const issue = issueOf(
      () =>
        plan(
          {},
          clusterPlan({ nodeCount: 2, networkCidr: "10.0.0.0/16", subnetCidrs: ["10.0.1.0/24"] }),
        ),
      "cluster.subnetCidrs",
    );
    expect(issue.value).toEqual(["10.0.1.0/24"]);
    expect(issue.allowed).toMatch(/two or more subnets/);
  });

  it("gives each created subnet its zone, in subnetCidrs order; a token is taken as it is", () => {
    const p = plan({
      network: AwsNetwork.create({ availabilityZones: ["eu-central-1b", "${var.zone}"] }),
    });
    expect(p.network.subnets.map((s) => [s.cidr, s.availabilityZone])).toEqual([
      ["10.0.1.0/24", "eu-central-1b"],
      ["10.0.2.0/24", "${var.zone}"],
    ]);
  });

  it("wants one valid zone per subnet, none twice", () => {
    const zones = (z: unknown) =>
      plan({ network: AwsNetwork.create({ availabilityZones: z as string[] }) });
    const count = issueOf(() => zones(["eu-central-1a"]), "network.availabilityZones");
    expect(count.value).toEqual(["eu-central-1a"]);
    expect(count.allowed).toMatch(/one zone per subnet \(2\)/);
    expect(issueOf(() => zones("eu-central-1a"), "network.availabilityZones").value).toBe(
      "eu-central-1a",
    );
    const bad = issueOf(
      () => zones(["eu-central-1a", "eu-central-1"]),
      "network.availabilityZones[1]",
    );
    expect(bad).toEqual({
      prop: "network.availabilityZones[1]",
      value: "eu-central-1",
      allowed: "a zone name such as eu-central-1a",
    });
    expect(issueOf(() => zones([7, "eu-central-1a"]), "network.availabilityZones[0]").value).toBe(
      7,
    );
    expect(
      issueOf(() => zones(["x-eu-central-1a", "eu-central-1a"]), "network.availabilityZones[0]")
        .value,
    ).toBe("x-eu-central-1a");
    const twice = issueOf(
      () => zones(["eu-central-1a", "eu-central-1a"]),
      "network.availabilityZones[1]",
    );
    expect(twice.allowed).toBe("a zone not used by another subnet");
    expect(() => zones(["us-gov-west-1a", "ap-southeast-2c"])).not.toThrow();
    // Only strings: an object that prints as a zone is no zone name.
    const printsAsZone = { toString: () => "eu-central-1b" };
    expect(
      issueOf(() => zones(["eu-central-1a", printsAsZone]), "network.availabilityZones[1]").value,
    ).toBe(printsAsZone);
  });

  it("uses an existing VPC's subnets in subnetCidrs order, with the load balancer's own subnets and what the network waits for", () => {
    const dep = { fqn: "aws_route_table_association.a" };
    const p = plan({
      network: existing({
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: ["subnet-0123456789abcdef0", "${aws_subnet.b.id}"],
        loadBalancerSubnetIds: ["subnet-0000000c", "subnet-0000000d"],
        dependsOn: [dep as never],
      }),
      publicAddresses: false,
    });
    expect(p.network).toEqual({
      kind: "existing",
      vpcCidr: "10.0.0.0/16",
      vpcId: "vpc-0123456789abcdef0",
      subnets: [
        { index: 0, cidr: "10.0.1.0/24", subnetId: "subnet-0123456789abcdef0" },
        { index: 1, cidr: "10.0.2.0/24", subnetId: "${aws_subnet.b.id}" },
      ],
      loadBalancerSubnets: [
        { index: 0, subnetId: "subnet-0000000c" },
        { index: 1, subnetId: "subnet-0000000d" },
      ],
      dependsOn: [dep],
    });
    expect(p.publicAddresses).toBe(false);
  });

  it("checks an existing network's ids: VPC, subnets (one per subnetCidr, none twice), load balancer subnets", () => {
    const check = (n: AwsNetwork) => issuesOf(() => plan({ network: n, publicAddresses: true }));
    expect(check(existing({ vpcId: "vpc-123" }))).toEqual([
      {
        prop: "network.vpcId",
        value: "vpc-123",
        allowed: "a VPC id such as vpc-0123456789abcdef0",
      },
    ]);
    expect(check(existing({ vpcId: "vpc-0123456789abcdef0x" }))[0].prop).toBe("network.vpcId");
    expect(check(existing({ vpcId: "xvpc-01234567" }))[0].prop).toBe("network.vpcId");
    expect(() =>
      plan({ network: existing({ vpcId: "${aws_vpc.main.id}" }), publicAddresses: true }),
    ).not.toThrow();
    const count = check(existing({ subnetIds: ["subnet-0000000a"] }));
    expect(count).toEqual([
      {
        prop: "network.subnetIds",
        value: ["subnet-0000000a"],
        allowed:
          "one subnet id per entry of the cluster's subnetCidrs (10.0.1.0/24, 10.0.2.0/24), in that order",
      },
    ]);
    expect(check(existing({ subnetIds: "subnet-0000000a" as never }))[0].prop).toBe(
      "network.subnetIds",
    );
    expect(check(existing({ subnetIds: ["subnet-0000000a", "subnet-xyz"] }))).toEqual([
      {
        prop: "network.subnetIds[1]",
        value: "subnet-xyz",
        allowed: "a subnet id such as subnet-0123456789abcdef0",
      },
    ]);
    expect(check(existing({ subnetIds: ["subnet-0000000a", "subnet-0000000a"] }))).toEqual([
      {
        prop: "network.subnetIds[1]",
        value: "subnet-0000000a",
        allowed: "a subnet not listed twice",
      },
    ]);
    // Two references may well be one subnet only once Terraform resolves them: not checked.
    expect(() =>
      plan({ network: existing({ subnetIds: ["${a}", "${a}"] }), publicAddresses: true }),
    ).not.toThrow();
    expect(check(existing({ loadBalancerSubnetIds: [] }))).toEqual([
      {
        prop: "network.loadBalancerSubnetIds",
        value: [],
        allowed: "a list of subnet ids, one per availability zone",
      },
    ]);
    expect(check(existing({ loadBalancerSubnetIds: "subnet-0000000c" as never }))[0].prop).toBe(
      "network.loadBalancerSubnetIds",
    );
    expect(check(existing({ loadBalancerSubnetIds: ["subnet-0000000c", "sub-0000000d"] }))).toEqual(
      [
        {
          prop: "network.loadBalancerSubnetIds[1]",
          value: "sub-0000000d",
          allowed: "a subnet id such as subnet-0123456789abcdef0",
        },
      ],
    );
    expect(
      check(existing({ loadBalancerSubnetIds: ["subnet-0000000c", "subnet-0000000c"] })),
    ).toEqual([
      {
        prop: "network.loadBalancerSubnetIds[1]",
        value: "subnet-0000000c",
        allowed: "a subnet not listed twice",
      },
    ]);
    expect(() =>
      plan({
        network: existing({ loadBalancerSubnetIds: ["${a}", "${a}"] }),
        publicAddresses: true,
      }),
    ).not.toThrow();
  });

  it("wants dependsOn as elements of the stack", () => {
    const deps = (d: unknown) =>
      issueOf(
        () => plan({ network: existing({ dependsOn: d as never }), publicAddresses: true }),
        "network.dependsOn",
      );
    expect(deps("aws_route.a").value).toBe("aws_route.a");
    expect(deps([{ fqn: "aws_route.a" }, { id: "x" }]).allowed).toMatch(/a list of resources/);
    expect(deps([null]).value).toEqual([null]);
  });
});

describe("planAws machines", () => {
  it("defaults: a looked-up x86_64 Flatcar stable AMI, t3.small, 20 GiB, no SSH, public addresses", () => {
    const p = plan();
    expect(p.image).toEqual({
      architecture: "x86_64",
      lookup: {
        owner: "075585003325",
        filters: [
          { name: "name", values: ["Flatcar-stable-*"] },
          { name: "architecture", values: ["x86_64"] },
          { name: "virtualization-type", values: ["hvm"] },
          { name: "root-device-type", values: ["ebs"] },
        ],
      },
    });
    expect(p.instanceType).toBe("t3.small");
    expect(p.rootVolumeGiB).toBe(20);
    expect(p.sshAllowedCidrs).toEqual([]);
    expect(p.publicAddresses).toBe(true);
    expect(p.replaceOnImageChange).toBe(false);
    expect(p.constructPerResource).toBe(false);
    expect(p.region).toBeUndefined();
    expect(p.tags).toEqual({});
    expect(p.etcdPorts).toEqual([2379, 2380]);
    expect(p.front).toBeUndefined();
  });

  it("looks an AMI up by release prefix, and Fedora CoreOS by stream from its own publisher", () => {
    const lts = clusterPlan({ ...CLUSTER, os: OperatingSystem.flatcar(FlatcarChannel.LTS) });
    expect(
      plan({ image: AwsMachineImage.lookup({ version: "4081.3" }) }, lts).image.lookup?.filters[0],
    ).toEqual({
      name: "name",
      values: ["Flatcar-lts-4081.3.*"],
    });
    const fcos = clusterPlan({
      ...CLUSTER,
      os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.TESTING),
    });
    const arm = plan(
      {
        image: AwsMachineImage.lookup({ architecture: CpuArchitecture.ARM64, version: "42" }),
        instanceType: "t4g.small",
      },
      fcos,
    );
    expect(arm.image).toEqual({
      architecture: "arm64",
      lookup: {
        owner: AMI_OWNERS[OsFamily.FEDORA_COREOS],
        filters: [
          { name: "name", values: ["fedora-coreos-42.*"] },
          { name: "description", values: ["Fedora CoreOS testing *"] },
          { name: "architecture", values: ["arm64"] },
          { name: "virtualization-type", values: ["hvm"] },
          { name: "root-device-type", values: ["ebs"] },
        ],
      },
    });
    expect(plan({}, fcos).image.lookup?.filters[0].values).toEqual(["fedora-coreos-*"]);
    expect(AMI_OWNERS[OsFamily.FEDORA_COREOS]).toBe("125523088429");
  });

  it("wants a version for Flatcar LTS, and a version that is a release prefix", () => {
    const lts = clusterPlan({ ...CLUSTER, os: OperatingSystem.flatcar(FlatcarChannel.LTS) });
    const missing = issueOf(() => plan({}, lts), "image.version");
    expect(missing.value).toBeUndefined();
    expect(missing.allowed).toMatch(/LTS stream's major version/);
    const version = (v: unknown) =>
      plan({ image: AwsMachineImage.lookup({ version: v as string }) });
    for (const good of ["4081", "4081.3", "4081.3.6", "4081.2.10", "42.20250803", "${var.release}"])
      expect(() => version(good)).not.toThrow();
    for (const bad of ["4081.3.6.1", "v4081", "4081.", "4081a", 4081]) {
      expect(issueOf(() => version(bad), "image.version")).toEqual({
        prop: "image.version",
        value: bad,
        allowed: "a release prefix such as 4081 or 4081.3",
      });
    }
  });

  it("takes a fixed AMI id (8 or 17 hex digits) or a reference", () => {
    expect(plan({ image: AwsMachineImage.fixed("ami-0123456789abcdef0") }).image).toEqual({
      architecture: "x86_64",
      amiId: "ami-0123456789abcdef0",
    });
    expect(plan({ image: AwsMachineImage.fixed("ami-01234567") }).image.amiId).toBe("ami-01234567");
    expect(plan({ image: AwsMachineImage.fixed("${data.aws_ami.x.id}") }).image.amiId).toBe(
      "${data.aws_ami.x.id}",
    );
    for (const bad of ["ami-0123", "ami-0123456789", "ami-0123456789ABCDEF0", "xami-01234567"]) {
      expect(issueOf(() => plan({ image: AwsMachineImage.fixed(bad) }), "image")).toEqual({
        prop: "image",
        value: bad,
        allowed: "an AMI id such as ami-0123456789abcdef0",
      });
    }
  });

  it("rejects an image that is no AwsMachineImage and an unknown architecture", () => {
    expect(
      issueOf(() => plan({ image: { amiId: "ami-01234567" } as never }), "image").allowed,
    ).toMatch(/AwsMachineImage\.lookup\(\)/);
    const arch = issuesOf(() =>
      plan({ image: AwsMachineImage.fixed("ami-01234567", "sparc" as CpuArchitecture) }),
    );
    expect(arch[0]).toEqual({
      prop: "image.architecture",
      value: "sparc",
      allowed: "x86_64 | arm64",
    });
  });

  it("matches the image's architecture to the instance type: Graviton families want arm64", () => {
    const arm = AwsMachineImage.lookup({ architecture: CpuArchitecture.ARM64 });
    // im4gn: a family of two letters; m10g: a generation of two digits.
    for (const type of [
      "t4g.small",
      "a1.medium",
      "m7gd.large",
      "c6gn.xlarge",
      "x2gd.metal",
      "im4gn.large",
      "m10g.large",
    ]) {
      expect(plan({ instanceType: type, image: arm }).instanceType).toBe(type);
      expect(issueOf(() => plan({ instanceType: type }), "image.architecture")).toEqual({
        prop: "image.architecture",
        value: "x86_64",
        allowed: `arm64 for instance type ${type}: AwsMachineImage.lookup({ architecture: CpuArchitecture.ARM64 })`,
      });
    }
    // g4dn is a GPU family on x86: its g comes before the digit.
    for (const type of ["g4dn.xlarge", "m6i.large", "t3.micro", "xa1.large", "c6g-x.large"]) {
      expect(
        issueOf(() => plan({ instanceType: type, image: arm }), "image.architecture").allowed,
      ).toBe(
        `x86_64 for instance type ${type}: AwsMachineImage.lookup({ architecture: CpuArchitecture.X86_64 })`,
      );
    }
  });

  it("checks the instance type's form unless it is a reference", () => {
    for (const bad of [
      "T3.small",
      "t3",
      "3t.small",
      "t3.small ",
      "t3..small",
      3,
      { toString: () => "t3.small" },
    ]) {
      expect(issueOf(() => plan({ instanceType: bad as string }), "instanceType")).toEqual({
        prop: "instanceType",
        value: bad,
        allowed: "an EC2 instance type such as t3.small",
      });
    }
    expect(plan({ instanceType: "${var.type}" }).instanceType).toBe("${var.type}");
    expect(plan({ instanceType: "u-6tb1.metal" }).instanceType).toBe("u-6tb1.metal");
  });

  it("sizes the root volume in whole GiB from 8 to 16384", () => {
    expect(plan({ rootVolumeGiB: 8 }).rootVolumeGiB).toBe(8);
    expect(plan({ rootVolumeGiB: 16384 }).rootVolumeGiB).toBe(16384);
    for (const bad of [7, 16385, 8.5, "20"]) {
      expect(issueOf(() => plan({ rootVolumeGiB: bad as number }), "rootVolumeGiB")).toEqual({
        prop: "rootVolumeGiB",
        value: bad,
        allowed: "a whole number from 8 to 16384",
      });
    }
    expect(plan({ rootVolumeGiB: "${var.size}" as never }).rootVolumeGiB).toBe("${var.size}");
  });

  it("lets SSH in from the given networks only, each checked", () => {
    expect(
      plan({ sshAllowedCidrs: ["198.51.100.0/24", "203.0.113.7/32"] }).sshAllowedCidrs,
    ).toEqual(["198.51.100.0/24", "203.0.113.7/32"]);
    expect(plan({ sshAllowedCidrs: [] }).sshAllowedCidrs).toEqual([]);
    expect(
      issueOf(() => plan({ sshAllowedCidrs: "198.51.100.0/24" as never }), "sshAllowedCidrs"),
    ).toEqual({
      prop: "sshAllowedCidrs",
      value: "198.51.100.0/24",
      allowed: "a list of IPv4 CIDRs",
    });
    const bad = issuesOf(() =>
      plan({ sshAllowedCidrs: ["198.51.100.0/24", "198.51.100.1/33", 5 as never] }),
    );
    expect(bad.map((i) => [i.prop, i.value])).toEqual([
      ["sshAllowedCidrs[1]", "198.51.100.1/33"],
      ["sshAllowedCidrs[2]", 5],
    ]);
    expect(bad.every((i) => i.allowed.length > 0)).toBe(true);
  });

  it("wants publicAddresses said for an existing network, and true for a created one", () => {
    const unsaid = issueOf(() => plan({ network: existing() }), "publicAddresses");
    expect(unsaid.value).toBeUndefined();
    expect(unsaid.allowed).toMatch(
      /^true \(the subnets route 0\.0\.0\.0\/0 to an internet gateway\)/,
    );
    expect(plan({ network: existing(), publicAddresses: true }).publicAddresses).toBe(true);
    expect(issueOf(() => plan({ publicAddresses: false }), "publicAddresses").allowed).toMatch(
      /its subnets have no NAT/,
    );
    expect(issueOf(() => plan({ publicAddresses: "yes" as never }), "publicAddresses")).toEqual({
      prop: "publicAddresses",
      value: "yes",
      allowed: "true | false",
    });
  });

  it("checks the boolean switches", () => {
    const p = plan({
      replaceOnImageChange: true,
      rollingReplacement: false,
      constructPerResource: true,
    });
    expect([p.replaceOnImageChange, p.constructPerResource]).toEqual([true, true]);
    for (const prop of [
      "replaceOnImageChange",
      "rollingReplacement",
      "constructPerResource",
    ] as const) {
      expect(issueOf(() => plan({ [prop]: "true" }), prop)).toEqual({
        prop,
        value: "true",
        allowed: "true | false",
      });
    }
  });

  it("checks a literal region", () => {
    for (const good of ["eu-central-1", "us-gov-west-1", "ap-southeast-12", "${var.region}"])
      expect(plan({ region: good }).region).toBe(good);
    for (const bad of ["eu-central", "EU-central-1", "eu-central-1a", "xeu-central-1"]) {
      expect(issueOf(() => plan({ region: bad }), "region")).toEqual({
        prop: "region",
        value: bad,
        allowed: "an AWS region such as eu-central-1",
      });
    }
  });

  it("wants static etcd bootstrap: user data is fixed before a deploy could make a discovery token", () => {
    const issue = issueOf(
      () =>
        plan({}, clusterPlan({ ...CLUSTER, etcd: { discovery: EtcdDiscovery.publicService() } })),
      "cluster.etcd.discovery",
    );
    expect(issue.allowed).toMatch(/^EtcdDiscovery\.staticBootstrap\(\) on AWS/);
  });

  it("lists etcd's legacy ports with its own when the cluster uses them", () => {
    expect(plan({}, clusterPlan({ ...CLUSTER, etcd: { legacyPorts: true } })).etcdPorts).toEqual([
      2379, 4001, 2380, 7001,
    ]);
  });
});

describe("planAws tags", () => {
  it("copies the user's tags", () => {
    const tags = { team: "platform", "cost center": "a:b/c=d+e-f@g_h.i" };
    const p = plan({ tags });
    expect(p.tags).toEqual(tags);
    expect(p.tags).not.toBe(tags);
    expect(plan({ tags: { team: "${var.team}" } }).tags).toEqual({ team: "${var.team}" });
  });

  it("takes 48 tags at most: AWS's 50 less Name and coreos-cluster", () => {
    const tags = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    expect(Object.keys(plan({ tags: tags(48) }).tags)).toHaveLength(48);
    expect(issueOf(() => plan({ tags: tags(49) }), "tags")).toEqual({
      prop: "tags",
      value: "49 tags",
      allowed:
        "at most 48: AWS allows 50 per resource and the cluster sets Name and coreos-cluster",
    });
  });

  it("refuses the tags the cluster sets, keys AWS refuses and values a load balancer refuses", () => {
    for (const reserved of ["Name", "coreos-cluster"]) {
      const issue = issueOf(() => plan({ tags: { [reserved]: "x" } }), "tags");
      expect(issue.value).toBe(reserved);
      expect(issue.allowed).toMatch(/^a key other than Name and coreos-cluster/);
    }
    for (const key of ["aws:created", "a#b", "", "k".repeat(129)]) {
      expect(issueOf(() => plan({ tags: { [key]: "x" } }), "tags")).toEqual({
        prop: "tags",
        value: key,
        allowed: "tag keys of 1-128 letters, digits, spaces and _.:/=+-@, not aws:…",
      });
    }
    expect(
      plan({ tags: { ["k".repeat(128)]: "v".repeat(256) } }).tags["k".repeat(128)],
    ).toHaveLength(256);
    for (const value of ["a;b", "v".repeat(257), 5]) {
      expect(issueOf(() => plan({ tags: { team: value as string } }), "tags.team")).toEqual({
        prop: "tags.team",
        value,
        allowed:
          "a string of at most 256 letters, digits, spaces and _.:/=+-@ (what AWS load balancers accept)",
      });
    }
    expect(plan({ tags: { team: "" } }).tags.team).toBe("");
    expect(issueOf(() => plan({ tags: ["a"] as never }), "tags").allowed).toBe(
      "an object of tag key → value",
    );
  });
});

describe("planAws user data", () => {
  it("gives each node its rendered config in a file named after it", () => {
    const cluster = clusterPlan(CLUSTER);
    const p = plan({}, cluster);
    expect(
      p.nodes.map((n) => [n.name, n.address, n.subnetIndex, n.standby, n.userDataFile]),
    ).toEqual([
      ["core-01", "10.0.1.10", 0, false, "aws-user-data/core-01.ign"],
      ["core-02", "10.0.2.10", 1, false, "aws-user-data/core-02.ign"],
      ["core-03", "10.0.1.11", 0, false, "aws-user-data/core-03.ign"],
      ["core-04", "10.0.2.11", 1, true, "aws-user-data/core-04.ign"],
    ]);
    p.nodes.forEach((n, i) => expect(n.userData).toBe(renderUserData(cluster, cluster.nodes[i])));
    expect(JSON.parse(p.nodes[0].userData).ignition.version).toMatch(/^3\./);
  });

  it("gives cloud-config nodes a .yml file", () => {
    const cloud = plan({}, clusterPlan({ ...CLUSTER, provisioning: Provisioning.CLOUD_CONFIG }));
    expect(cloud.nodes[0].userDataFile).toBe("aws-user-data/core-01.yml");
    expect(cloud.nodes[0].userData).toMatch(/^#cloud-config/);
  });

  it("gives a node held back by a rollout its old config", () => {
    const old = '{"ignition":{"version":"3.3.0"}}';
    const p = plan({ userDataOverride: { "core-02": old } });
    expect(p.nodes[1].userData).toBe(old);
    expect(p.nodes[0].userData).not.toBe(old);
  });

  /** Files each too random to shrink alone, but the same text: gzip over the whole config shrinks them. */
  const repeated = (count: number) => {
    const text = randomBytes(1200).toString("base64");
    return {
      text,
      files: Array.from({ length: count }, (_, i) => ({ path: `/etc/big/${i}`, contents: text })),
    };
  };

  it("gzips an Ignition config over 16 KiB into one that replaces itself with it", () => {
    const { text, files } = repeated(12);
    const cluster = clusterPlan({ ...CLUSTER, files });
    expect(Buffer.byteLength(renderUserData(cluster, cluster.nodes[0]))).toBeGreaterThan(
      USER_DATA_LIMIT,
    );
    const node = plan({}, cluster).nodes[0];
    expect(Buffer.byteLength(node.userData)).toBeLessThanOrEqual(USER_DATA_LIMIT);
    const source = JSON.parse(node.userData).ignition.config.replace;
    expect(source.compression).toBe("gzip");
    const inner = JSON.parse(
      gunzipSync(Buffer.from(source.source.replace(/^data:;base64,/, ""), "base64")).toString(),
    );
    const file = inner.storage.files.find((f: { path: string }) => f.path === "/etc/big/11");
    expect(decodeURIComponent(file.contents.source.replace(/^data:,/, ""))).toBe(text);
    // A config that fits stays as it is.
    expect(JSON.parse(plan().nodes[0].userData).ignition.config).toBeUndefined();
  });

  it("gzips an oversized held-back config too", () => {
    const cluster = clusterPlan({ ...CLUSTER, files: repeated(12).files });
    const old = renderUserData(cluster, cluster.nodes[0]);
    const node = plan({ userDataOverride: { "core-01": old } }, clusterPlan(CLUSTER)).nodes[0];
    expect(JSON.parse(node.userData).ignition.config.replace.compression).toBe("gzip");
  });

  it("takes user data of exactly 16 KiB as it is: EC2's limit is inclusive", () => {
    const head = '{"ignition":{"version":"3.3.0"},"storage":{"files":[]},"pad":"';
    const exact = `${head}${"x".repeat(USER_DATA_LIMIT - head.length - 2)}"}`;
    expect(Buffer.byteLength(exact)).toBe(USER_DATA_LIMIT);
    expect(plan({ userDataOverride: { "core-01": exact } }).nodes[0].userData).toBe(exact);
    const over = `${head}${"x".repeat(USER_DATA_LIMIT - head.length - 1)}"}`;
    expect(
      JSON.parse(plan({ userDataOverride: { "core-01": over } }).nodes[0].userData).ignition.config
        .replace.compression,
    ).toBe("gzip");
  });

  it("refuses user data that stays over 16 KiB, naming the node and the format", () => {
    const random = randomBytes(USER_DATA_LIMIT).toString("base64");
    const ign = issuesOf(() =>
      plan({}, clusterPlan({ ...CLUSTER, files: [{ path: "/etc/big", contents: random }] })),
    );
    expect(ign[0].prop).toBe("cluster (Ignition of core-01)");
    expect(ign[0].value).toMatch(/^\d+ bytes$/);
    expect(ign[0].allowed).toBe(
      "at most 16384 bytes of EC2 user data: fewer or smaller units and files",
    );
    expect(ign).toHaveLength(4);
    // cloud-config is never gzipped: a large one is refused as it is.
    const cloud = issuesOf(() =>
      plan(
        {},
        clusterPlan({
          ...CLUSTER,
          provisioning: Provisioning.CLOUD_CONFIG,
          files: [{ path: "/etc/big", contents: random }],
        }),
      ),
    );
    expect(cloud[0].prop).toBe("cluster (cloud-config of core-01)");
  });
});

describe("awsName", () => {
  it("keeps names of up to 32 characters and shortens longer ones with a hash", () => {
    expect(awsName("a".repeat(32))).toBe("a".repeat(32));
    const long = awsName("a".repeat(33));
    expect(long).toHaveLength(32);
    expect(long).toMatch(/^a{25}-[0-9a-f]{6}$/);
    expect(awsName("a".repeat(34))).not.toBe(long);
    // No double hyphen where the name was cut.
    expect(awsName(`${"b".repeat(23)}--${"c".repeat(10)}`)).toMatch(/^b{23}-[0-9a-f]{6}$/);
  });
});

describe("planAws front", () => {
  it("plans a listener with its target group: AWS names, health check, active members only", () => {
    const cluster = clusterPlan(CLUSTER);
    const p = plan({ front: frontPlan([web(cluster)], { drain: ["core-02"] }) }, cluster);
    const front = p.front!;
    expect(front.name).toBe("core-front");
    expect(front.internetFacing).toBe(true);
    expect(front.allowedCidrs).toEqual(["0.0.0.0/0"]);
    expect(front.nodePorts).toEqual([8080]);
    expect(front.listeners).toHaveLength(1);
    const [l] = front.listeners;
    expect([l.id, l.port]).toEqual(["http", 80]);
    expect(l.targetGroup).toEqual({
      id: "web",
      name: "core-web",
      namePrefix: "web-",
      port: 8080,
      healthCheck: {
        protocol: "HTTP",
        port: 8080,
        path: "/",
        matcher: "200-399",
        intervalSeconds: 5,
        timeoutSeconds: 4,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      stickiness: false,
      deregistrationDelaySeconds: 30,
      // core-02 drains, core-04 is standby.
      attachments: [
        { member: "core-01", address: "10.0.1.10", port: 8080 },
        { member: "core-03", address: "10.0.1.11", port: 8080 },
      ],
    });
  });

  it("plans TCP checks without path or matcher, per-source stickiness, and every port the balancer reaches, sorted", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([
      web(cluster, {
        name: "https",
        port: 443,
        protocol: FrontProtocol.TCP,
        group: "secure-pool",
        targetPort: 8443,
        props: { affinity: ClientAffinity.SINGLE },
      }),
      web(cluster, {
        healthCheck: { port: 9000, protocol: HealthCheckProtocol.HTTP, path: "/healthz" },
      }),
    ]);
    const p = plan({ front, healthCheckInterval: Duration.seconds(30) }, cluster).front!;
    const [tcp, http] = p.listeners.map((l) => l.targetGroup);
    expect(tcp.namePrefix).toBe("secur-");
    expect(tcp.stickiness).toBe(true);
    expect(tcp.healthCheck).toEqual({
      protocol: "TCP",
      port: 8443,
      path: undefined,
      matcher: undefined,
      intervalSeconds: 30,
      timeoutSeconds: 10,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
    });
    expect(http.stickiness).toBe(false);
    expect([http.healthCheck.path, http.healthCheck.port, http.healthCheck.timeoutSeconds]).toEqual(
      ["/healthz", 9000, 6],
    );
    expect(p.nodePorts).toEqual([8080, 8443, 9000]);
  });

  it("keeps a default timeout below a short interval", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([
      web(cluster, { protocol: FrontProtocol.TCP, healthCheck: { interval: Duration.seconds(8) } }),
    ]);
    expect(plan({ front }, cluster).front!.listeners[0].targetGroup.healthCheck).toMatchObject({
      intervalSeconds: 8,
      timeoutSeconds: 7,
    });
    const six = frontPlan([web(cluster, { healthCheck: { interval: Duration.seconds(7) } })]);
    expect(
      plan({ front: six }, cluster).front!.listeners[0].targetGroup.healthCheck.timeoutSeconds,
    ).toBe(6);
  });

  it("takes the front model's timing in whole seconds within AWS's limits", () => {
    const cluster = clusterPlan(CLUSTER);
    const check = (hc: ListenerSpec["healthCheck"]) =>
      plan({ front: frontPlan([web(cluster, { healthCheck: hc })]) }, cluster);
    expect(
      check({
        interval: Duration.seconds(10),
        timeout: Duration.seconds(9),
        healthyThreshold: 10,
        unhealthyThreshold: 3,
      }).front!.listeners[0].targetGroup.healthCheck,
    ).toMatchObject({
      intervalSeconds: 10,
      timeoutSeconds: 9,
      healthyThreshold: 10,
      unhealthyThreshold: 3,
    });
    const prop = "front.listeners.http.targets.healthCheck";
    expect(issueOf(() => check({ interval: Duration.seconds(4) }), `${prop}.interval`)).toEqual({
      prop: `${prop}.interval`,
      value: "4s",
      allowed: "whole seconds from 5 s to 300 s on AWS",
    });
    expect(
      issueOf(() => check({ interval: Duration.millis(5500) }), `${prop}.interval`).value,
    ).toBe("5500ms");
    expect(
      issueOf(
        () => check({ interval: Duration.seconds(10), timeout: Duration.seconds(10) }),
        `${prop}.timeout`,
      ),
    ).toEqual({
      prop: `${prop}.timeout`,
      value: "10s",
      allowed: "less than the interval (10s) on AWS",
    });
    expect(issueOf(() => check({ timeout: Duration.seconds(1) }), `${prop}.timeout`).allowed).toBe(
      "whole seconds from 2 s to 120 s on AWS",
    );
    expect(
      check({ interval: Duration.seconds(5), timeout: Duration.seconds(2) }).front!.listeners[0]
        .targetGroup.healthCheck.timeoutSeconds,
    ).toBe(2);
    for (const key of ["healthyThreshold", "unhealthyThreshold"] as const) {
      expect(issueOf(() => check({ [key]: 1 }), `${prop}.${key}`)).toEqual({
        prop: `${prop}.${key}`,
        value: 1,
        allowed: "a whole number from 2 to 10 on AWS",
      });
    }
  });

  it("takes the target's interval, deregistration delay, allowed networks and load balancer scheme", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([web(cluster)]);
    const p = plan(
      {
        front,
        internetFacing: false,
        frontAllowedCidrs: ["10.0.0.0/8"],
        deregistrationDelay: Duration.seconds(0),
        healthCheckInterval: Duration.seconds(300),
      },
      cluster,
    ).front!;
    expect([p.internetFacing, p.allowedCidrs]).toEqual([false, ["10.0.0.0/8"]]);
    const tg = p.listeners[0].targetGroup;
    expect([
      tg.deregistrationDelaySeconds,
      tg.healthCheck.intervalSeconds,
      tg.healthCheck.timeoutSeconds,
    ]).toEqual([0, 300, 6]);
    expect(
      plan({ front, deregistrationDelay: Duration.seconds(3600) }, cluster).front!.listeners[0]
        .targetGroup.deregistrationDelaySeconds,
    ).toBe(3600);
  });

  it("checks the target's front props", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([web(cluster)]);
    const check = (o: AwsOptions) => issuesOf(() => plan({ front, ...o }, cluster));
    expect(check({ internetFacing: "no" as never })).toEqual([
      { prop: "internetFacing", value: "no", allowed: "true | false" },
    ]);
    expect(check({ frontAllowedCidrs: [] })).toEqual([
      { prop: "frontAllowedCidrs", value: [], allowed: "a list of IPv4 CIDRs, at least one" },
    ]);
    expect(check({ frontAllowedCidrs: ["0.0.0.0/0", "1.2.3.4/40"] }).map((i) => i.prop)).toEqual([
      "frontAllowedCidrs[1]",
    ]);
    expect(check({ deregistrationDelay: Duration.seconds(3601) })).toEqual([
      {
        prop: "deregistrationDelay",
        value: "3601s",
        allowed: "whole seconds from 0 s to 3600 s on AWS",
      },
    ]);
    expect(check({ deregistrationDelay: 30 as never })).toEqual([
      {
        prop: "deregistrationDelay",
        value: 30,
        allowed: "a Duration such as Duration.seconds(30)",
      },
    ]);
    expect(check({ healthCheckInterval: Duration.seconds(301) })).toEqual([
      {
        prop: "healthCheckInterval",
        value: "301s",
        allowed: "whole seconds from 5 s to 300 s on AWS",
      },
    ]);
    expect(check({ healthCheckInterval: 5 as never })).toEqual([
      { prop: "healthCheckInterval", value: 5, allowed: "a Duration such as Duration.seconds(5)" },
    ]);
  });

  it("refuses what an NLB cannot do: least connections, per-/24 affinity, members outside the VPC", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([
      web(cluster, {
        targets: [clusterTargets(cluster), FrontTargets.host("outside", "192.168.1.5")],
        props: { balancing: Balancing.LEAST_CONNECTIONS, affinity: ClientAffinity.NETWORK },
      }),
    ]);
    const prop = "front.listeners.http.targets";
    expect(issuesOf(() => plan({ front }, cluster))).toEqual([
      {
        prop: `${prop}.balancing`,
        value: "least_connections",
        allowed: "round_robin on AWS: a Network Load Balancer spreads connections by flow hash",
      },
      {
        prop: `${prop}.affinity`,
        value: "network",
        allowed: "none | single on AWS: its stickiness is per source IP, not per /24",
      },
      {
        prop: `${prop} (member outside)`,
        value: "192.168.1.5",
        allowed: "an address inside the VPC 10.0.0.0/16: targets are registered by IP",
      },
    ]);
    // A host inside the VPC is a target like a node.
    const inside = frontPlan([web(cluster, { targets: [FrontTargets.host("db", "10.0.3.9")] })]);
    expect(plan({ front: inside }, cluster).front!.listeners[0].targetGroup.attachments).toEqual([
      { member: "db", address: "10.0.3.9", port: 8080 },
    ]);
  });

  it("keeps etcd's ports inside the cluster: no target or health-check port of etcd's", () => {
    const cluster = clusterPlan(CLUSTER);
    for (const port of [2379, 2380, 4001, 7001]) {
      expect(
        issueOf(
          () => plan({ front: frontPlan([web(cluster, { targetPort: port })]) }, cluster),
          "front",
        ),
      ).toEqual({
        prop: "front",
        value: port,
        allowed:
          "target ports other than etcd's (2379, 2380, and the legacy 4001, 7001): etcd stays inside the cluster",
      });
    }
    expect(
      issueOf(
        () => plan({ front: frontPlan([web(cluster, { healthCheck: { port: 2379 } })]) }, cluster),
        "front",
      ).value,
    ).toBe(2379);
  });

  it("runs only its own cluster's members", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([web(cluster, { targets: [clusterTargets(cluster, "test/other")] })]);
    const issue = issueOf(() => plan({ front }, cluster), 'front (listener "http")');
    expect(issue.value).toBe('targets of CoreOsCluster "test/other"');
  });

  it("shortens long names and refuses one AWS reads as internal", () => {
    const long = clusterPlan({ ...CLUSTER, name: "a-very-long-cluster-name-here" });
    const p = plan(
      {
        front: frontPlan([web(long, { group: "webservers-of-the-app" })], { name: "public-front" }),
      },
      long,
    ).front!;
    // Cut at 25 characters, the cut's trailing hyphen dropped, a hash of the whole name added.
    expect(p.name).toMatch(/^a-very-long-cluster-name-[0-9a-f]{6}$/);
    expect(p.listeners[0].targetGroup.name).toMatch(/^a-very-long-cluster-name-[0-9a-f]{6}$/);
    expect(p.listeners[0].targetGroup.name).not.toBe(p.name);
    expect(p.listeners[0].targetGroup.namePrefix).toBe("webse-");
    const internal = clusterPlan({ ...CLUSTER, name: "internal" });
    expect(
      issueOf(() => plan({ front: frontPlan([web(internal)]) }, internal), "front name"),
    ).toEqual({
      prop: "front name",
      value: "internal-front",
      allowed: "a load balancer name not starting with internal-",
    });
  });

  it("wants public subnets for an internet-facing balancer when the nodes go out through NAT", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan([web(cluster)]);
    const nat = { front, network: existing(), publicAddresses: false };
    const issue = issueOf(() => plan(nat, cluster), "network.loadBalancerSubnetIds");
    expect(issue.value).toBeUndefined();
    expect(issue.allowed).toMatch(/^public subnets \(routed to an internet gateway\)/);
    expect(() => plan({ ...nat, internetFacing: false }, cluster)).not.toThrow();
    expect(() =>
      plan(
        {
          ...nat,
          network: existing({ loadBalancerSubnetIds: ["subnet-0000000c", "subnet-0000000d"] }),
        },
        cluster,
      ),
    ).not.toThrow();
    expect(() => plan({ ...nat, publicAddresses: true }, cluster)).not.toThrow();
  });

  it("names the construct in the error", () => {
    expect(() => plan({ rootVolumeGiB: 1 })).toThrow(/^Invalid props for AwsCluster "test\/aws":/);
  });
});

describe("awsTopology", () => {
  it("draws EC2 nodes in their subnets and the load balancer with its listeners and who may reach them", () => {
    const cluster = clusterPlan(CLUSTER);
    const front = frontPlan(
      [
        web(cluster),
        web(cluster, {
          name: "raw",
          port: 9000,
          protocol: FrontProtocol.TCP,
          group: "raw",
          targetPort: 9001,
        }),
      ],
      { drain: ["core-02"] },
    );
    const t = awsTopology(
      plan(
        {
          front,
          instanceType: "m6i.large",
          region: "eu-west-1",
          frontAllowedCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
        },
        cluster,
      ),
    );
    expect(t.target).toEqual({
      kind: "aws",
      title: "AWS EC2",
      details: [
        "m6i.large per node",
        "subnets 10.0.1.0/24, 10.0.2.0/24 (one per zone)",
        "region eu-west-1",
        "nodes with public addresses",
      ],
    });
    expect(t.nodes.find((n) => n.name === "core-02")?.draining).toBe(true);
    expect(t.front).toEqual({
      name: "front",
      kind: "AWS Network Load Balancer, internet-facing",
      address: "DNS name of load balancer core-front, known after deploy",
      machines: [],
      listeners: [
        {
          name: "http",
          port: 80,
          protocol: "http",
          targetGroup: "web",
          targetPort: 8080,
          healthCheck: "HTTP GET / every 5s",
        },
        {
          name: "raw",
          port: 9000,
          protocol: "tcp",
          targetGroup: "raw",
          targetPort: 9001,
          healthCheck: "TCP connect every 5s",
        },
      ],
      note: "listeners open to 198.51.100.0/24, 203.0.113.0/24; standby and drained nodes are not registered",
    });
  });

  it("says when the region is the provider's, one subnet, nodes behind NAT, an internal load balancer", () => {
    const cluster = clusterPlan({
      nodeCount: 2,
      networkCidr: "10.0.0.0/16",
      subnetCidrs: ["10.0.1.0/24"],
    });
    const network = AwsNetwork.existing({ vpcId: "vpc-01234567", subnetIds: ["subnet-0000000a"] });
    const t = awsTopology(
      plan(
        {
          network,
          publicAddresses: false,
          internetFacing: false,
          front: frontPlan([web(cluster)]),
        },
        cluster,
      ),
    );
    expect(t.target.details).toEqual([
      "t3.small per node",
      "subnet 10.0.1.0/24 (one per zone)",
      "region of the AWS provider",
      "nodes without public addresses",
    ]);
    expect(t.front?.kind).toBe("AWS Network Load Balancer, internal");
    expect(awsTopology(plan()).front).toBeUndefined();
  });
});

describe("AwsNetwork and AwsMachineImage from plain JavaScript", () => {
  it("take a missing options object as no options, and planAws names what is missing: no TypeError", () => {
    expect(plan({ network: AwsNetwork.create(null as never) }).network.kind).toBe("create");
    const network = AwsNetwork.existing(null as never);
    expect([
      network.vpcId,
      network.subnetIds,
      network.loadBalancerSubnetIds,
      network.dependsOn,
    ]).toEqual([undefined, undefined, undefined, undefined]);
    expect(issuesOf(() => plan({ network, publicAddresses: true })).map((i) => i.prop)).toEqual([
      "network.vpcId",
      "network.subnetIds",
    ]);
    expect(plan({ image: AwsMachineImage.lookup(null as never) }).image.architecture).toBe(
      "x86_64",
    );
  });
});
