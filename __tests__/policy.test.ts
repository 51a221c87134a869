import * as fs from "node:fs";
import * as path from "node:path";
import { App, Aspects, TerraformStack, Testing } from "cdktf";
import { IConstruct } from "constructs";
import {
  ACKNOWLEDGED_RULES_CONTEXT,
  ContainerImage,
  CoreOsCluster,
  CoreOsClusterProps,
  EtcdDiscovery,
  EtcdTls,
  FailoverService,
  FrontProtocol,
  NlbFront,
  Policy,
  POLICY_RULES,
  PolicyError,
  PolicyLevel,
  RebootStrategy,
  ServiceHealthCheck,
  VagrantCluster,
} from "../lib";
import { AwsCluster, AwsClusterProps, AwsNetwork } from "../lib/aws";
import { CoreOsAwsStack, CoreOsClusterStack } from "../main";
import { testApp } from "./support/state";
import { tempOutdir } from "./support/synth";
import { rsaPublicKey } from "./support/keys";
import { filesUnder } from "./support/files";

const AWS_NET = {
  networkCidr: "10.42.0.0/16",
  subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"],
  firstHostNumber: 10,
};

/** Annotations of a level left on the constructs of a synthesized app. */
function annotations(app: App, level: "info" | "warn" | "error"): string[] {
  return app.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === `@cdktf/${level}`))
    .map((m) => String(m.data));
}

interface Built {
  readonly app: App;
  readonly stack: TerraformStack;
  readonly cluster: CoreOsCluster;
  readonly front: NlbFront;
}

/** Images pinned (made-up digests): each case then shows only the rule it is about. */
const PINNED = (name: string) =>
  ContainerImage.pinned(`registry.example/${name}:1@sha256:${"0".repeat(64)}`);
const FRONT_IMAGES = { haproxy: PINNED("haproxy"), keepalived: PINNED("keepalived") };

function build(
  clusterProps: CoreOsClusterProps,
  frontPort: number,
  targetPort: number,
  target: (b: Built) => IConstruct,
  context: Record<string, unknown> = {},
) {
  const outdir = tempOutdir();
  // A new cluster each time: its own copy of the test state folder.
  const app = testApp({ outdir, context });
  const stack = new TerraformStack(app, "s");
  const cluster = new CoreOsCluster(stack, "core", {
    ...clusterProps,
    etcd: { image: PINNED("etcd"), ...clusterProps.etcd },
  });
  const front = new NlbFront(stack, "front");
  front
    .addListener("l", { port: frontPort, protocol: FrontProtocol.TCP })
    .addTargets("t", { targets: [cluster], port: targetPort });
  const built = { app, stack, cluster, front };
  return { ...built, outdir, target: target(built) };
}

const aws =
  (extra: Partial<AwsClusterProps> = {}) =>
  (b: Built) =>
    new AwsCluster(b.stack, "aws", { cluster: b.cluster, front: b.front, ...extra });
/**
 * Nodes without public addresses: private subnets of an existing network
 * (AwsNetwork.create() has no NAT, so there they must be public), the
 * internet-facing load balancer in public subnets of its own.
 */
const PRIVATE_NODES: Partial<AwsClusterProps> = {
  network: AwsNetwork.existing({
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    loadBalancerSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
  }),
  publicAddresses: false,
};
const vagrant = (b: Built) =>
  new VagrantCluster(b.stack, "local", {
    cluster: b.cluster,
    front: b.front,
    frontImages: FRONT_IMAGES,
  });

describe("the policy check runs on every synth, registered by the constructs", () => {
  it("is on the stack as soon as a cluster exists", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    new CoreOsCluster(stack, "core");
    new CoreOsCluster(stack, "other");
    expect(Aspects.of(stack).all.filter((a) => a instanceof Policy)).toHaveLength(1);
  });

  it("the default stacks of main.ts synthesize without warnings (coreos-aws acknowledges CC-W2)", () => {
    const app = Testing.app({ outdir: tempOutdir() });
    new CoreOsClusterStack(app, "coreos-cluster");
    new CoreOsAwsStack(app, "coreos-aws");
    app.synth();
    expect(annotations(app, "warn")).toEqual([]);
    const byTag = /acknowledged: example stack on the library's default images, tag only/;
    expect(annotations(app, "info").sort()).toEqual([
      expect.stringMatching(/^\[CC-W2\] acknowledged: public subnets without a NAT gateway/),
      expect.stringMatching(new RegExp(`^\\[CC-W7\\] ${byTag.source}`)),
      expect.stringMatching(new RegExp(`^\\[CC-W7\\] ${byTag.source}`)),
      expect.stringMatching(new RegExp(`^\\[CC-W8\\] ${byTag.source}`)),
    ]);
  });
});

/** A Vagrant front whose keepalived image is a tag: used by the HA pair only. */
const unpinnedKeepalived = (highAvailability: boolean) =>
  build(
    {},
    80,
    8080,
    (b) =>
      new VagrantCluster(b.stack, "local", {
        cluster: b.cluster,
        front: b.front,
        frontImages: { ...FRONT_IMAGES, keepalived: ContainerImage.unpinned("keepalived:2") },
        frontHighAvailability: highAvailability,
      }),
  );

/** A failover service whose health check runs `command`, on a Vagrant cluster. */
const serviceChecking = (command: string) =>
  build({}, 80, 8080, (b) => {
    new FailoverService(b.stack, "db", {
      cluster: b.cluster,
      units: [{ name: "db.service", contents: "[Service]\nExecStart=/usr/bin/true\n" }],
      healthCheck: ServiceHealthCheck.command(command),
    });
    return vagrant(b);
  });

// rule, how to trigger it; each case also runs without the trigger to show the rule is quiet then.
const WARNINGS: Array<[string, () => ReturnType<typeof build>, () => ReturnType<typeof build>]> = [
  [
    "CC-W1",
    () => build(AWS_NET, 80, 8080, aws({ ...PRIVATE_NODES, sshAllowedCidrs: ["0.0.0.0/0"] })),
    () => build(AWS_NET, 80, 8080, aws({ ...PRIVATE_NODES, sshAllowedCidrs: ["198.51.100.0/24"] })),
  ],
  [
    "CC-W2",
    () => build(AWS_NET, 80, 8080, aws({ publicAddresses: true })),
    () => build(AWS_NET, 80, 8080, aws(PRIVATE_NODES)),
  ],
  ["CC-W3", () => build({}, 3389, 3389, vagrant), () => build({}, 443, 3389, vagrant)],
  [
    "CC-W4",
    () => build({ rebootStrategy: RebootStrategy.OFF }, 80, 8080, vagrant),
    () => build({ rebootStrategy: RebootStrategy.REBOOT }, 80, 8080, vagrant),
  ],
  [
    "CC-W5",
    () =>
      build(
        {
          units: [
            {
              name: "app.service",
              contents:
                "[Service]\nExecStart=/usr/bin/docker run --rm docker.io/library/nginx:latest\n[Install]\nWantedBy=multi-user.target\n",
            },
          ],
        },
        80,
        8080,
        vagrant,
      ),
    () =>
      build(
        {
          units: [
            {
              name: "app.service",
              contents:
                "[Service]\nExecStart=/usr/bin/docker run --rm docker.io/library/nginx:1.27.3\n[Install]\nWantedBy=multi-user.target\n",
            },
          ],
        },
        80,
        8080,
        vagrant,
      ),
  ],
  [
    "CC-W6",
    () => build({ etcd: { tls: EtcdTls.disabled() } }, 80, 8080, vagrant),
    () => build({ etcd: { tls: EtcdTls.generatedCa() } }, 80, 8080, vagrant),
  ],
  [
    "CC-W7",
    () =>
      build(
        { etcd: { image: ContainerImage.unpinned("quay.io/coreos/etcd:v3.5.21") } },
        80,
        8080,
        vagrant,
      ),
    () => build({}, 80, 8080, vagrant),
  ],
  ["CC-W8", () => unpinnedKeepalived(true), () => unpinnedKeepalived(false)],
  [
    "CC-W9",
    () => serviceChecking("curl -fsS https://status.example.com/db | grep -q up"),
    () => serviceChecking("curl -fsS http://127.0.0.1:5432/ && pg_isready"),
  ],
  [
    "CC-W10",
    () => build({ etcd: { discovery: EtcdDiscovery.publicService() } }, 80, 8080, vagrant),
    () =>
      build(
        { etcd: { discovery: EtcdDiscovery.selfHosted("http://192.168.56.5:2379") } },
        80,
        8080,
        vagrant,
      ),
  ],
];

describe("warnings: insecure settings a user chose", () => {
  it.each([
    ["curl -fsS https://status.example.com/db", "curl -fsS https://status.example.com"],
    ["wget -qO- http://10.0.0.9/x.sh | sh", "wget -qO- http://10.0.0.9/x.sh | sh"],
    ["docker run --rm redis:7 redis-cli ping", "docker run --rm redis:7 redis-cli ping"],
    ["test -f /run/ok && podman pull busybox", "podman pull busybox"],
  ])("CC-W9: the health check %j downloads", (command, part) => {
    const b = serviceChecking(command);
    b.app.synth();
    expect(annotations(b.app, "warn")).toEqual([
      expect.stringContaining(
        `[CC-W9] Failover service fetches what the deploy does not pin: FailoverService "s/db" healthCheck.command = ${JSON.stringify(part)}`,
      ),
    ]);
  });

  it.each([
    "curl -fsS http://localhost:8080/health",
    "curl -fsS http://$ADDRESS:8080/ || wget -q -O /dev/null http://[::1]:8080/",
    "curl -fsS http://192.168.56.102:8080/",
    `docker run --rm redis:7@sha256:${"a".repeat(64)} redis-cli ping`,
  ])("CC-W9: the health check %j probes the node itself: no warning", (command) => {
    const b = serviceChecking(command);
    b.app.synth();
    expect(annotations(b.app, "warn")).toEqual([]);
  });

  it.each(WARNINGS)("%s warns, names the construct and how to acknowledge", (id, bad, good) => {
    const b = bad();
    b.app.synth();
    const warnings = annotations(b.app, "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`[${id}]`);
    expect(warnings[0]).toMatch(
      /(CoreOsCluster|NlbFront|AwsCluster|VagrantCluster|FailoverService) "s\/\w+"/,
    );
    expect(warnings[0]).toContain(`Policy.acknowledge(construct, ["${id}"], "why")`);
    expect(warnings[0]).toContain(ACKNOWLEDGED_RULES_CONTEXT);

    const g = good();
    g.app.synth();
    expect(annotations(g.app, "warn")).toEqual([]);
  });

  it.each(WARNINGS.map(([id, bad]) => [id, bad]))(
    "%s is silenced by Policy.acknowledge on the construct or an ancestor, with the reason kept",
    (id, bad) => {
      const b = (bad as () => ReturnType<typeof build>)();
      Policy.acknowledge(b.stack, [id as string], "lab network, reviewed");
      b.app.synth();
      expect(annotations(b.app, "warn")).toEqual([]);
      expect(annotations(b.app, "info")).toEqual([`[${id}] acknowledged: lab network, reviewed`]);
    },
  );

  it("is silenced app-wide by the context key", () => {
    const b = build(AWS_NET, 22, 8080, aws({ sshAllowedCidrs: ["0.0.0.0/0"] }), {
      [ACKNOWLEDGED_RULES_CONTEXT]: ["CC-W1", "CC-W2", "CC-W3"],
    });
    b.app.synth();
    expect(annotations(b.app, "warn")).toEqual([]);
    expect(
      annotations(b.app, "info")
        .map((i) => i.slice(0, 7))
        .sort(),
    ).toEqual(["[CC-W1]", "[CC-W2]", "[CC-W3]"]);
  });

  it("refuses to acknowledge an error rule or an unknown id", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(() => Policy.acknowledge(stack, ["CC-E1"], "please")).toThrow(
      /ruleIds: got "CC-E1"; allowed: a warning rule: errors are never acceptable/,
    );
    expect(() => Policy.acknowledge(stack, ["CC-W99"], "x")).toThrow(/allowed: a rule id: CC-W1/);
    expect(() => Policy.acknowledge(stack, ["CC-W1"], " ")).toThrow(/reason: got " "/);
  });
});

const ERRORS: Array<[string, () => ReturnType<typeof build>, RegExp]> = [
  ["CC-E1", () => build({}, 2379, 2379, vagrant), /etcd's client API without TLS/],
  ["CC-E1", () => build({}, 2375, 2375, vagrant), /the Docker API without TLS/],
  [
    "CC-E2",
    () => build({ files: [{ path: "/etc/motd", contents: "hi", mode: 0o666 }] }, 80, 8080, vagrant),
    /files\[0\]\.mode = "0o666": any process on the node can rewrite \/etc\/motd/,
  ],
  [
    "CC-E3",
    () => build({ sshPublicKeys: [rsaPublicKey(1024)] }, 80, 8080, vagrant),
    /sshPublicKeys\[0\] = "ssh-rsa \(1024 bits\)"/,
  ],
];

describe("errors: settings that are never acceptable stop the synth, nothing written", () => {
  it.each(ERRORS)("%s (%#)", (id, bad, words) => {
    const b = bad();
    Policy.acknowledge(b.stack, ["CC-W3"], "not what this case is about");
    let error: unknown;
    try {
      b.app.synth();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const message = (error as Error).message;
    expect(message).toContain(`[${id}]`);
    expect(message).toMatch(words);
    expect(message).not.toMatch(/\bat \S+ \(/);
    expect(filesUnder(b.outdir)).toEqual([]);
  });

  it("a failing second stack leaves the first unwritten too", () => {
    const outdir = tempOutdir();
    const app = Testing.app({ outdir });
    new CoreOsCluster(new TerraformStack(app, "a"), "core");
    new CoreOsCluster(new TerraformStack(app, "b"), "core", {
      files: [{ path: "/etc/x", contents: "x", mode: 0o777 }],
    });
    expect(() => app.synth()).toThrow(PolicyError);
    expect(filesUnder(outdir)).toEqual([]);
  });
});

describe("a target runs only its own cluster's nodes", () => {
  function twoClusters(target: "aws" | "vagrant") {
    const outdir = tempOutdir();
    const app = Testing.app({ outdir });
    const stack = new TerraformStack(app, "s");
    const net = target === "aws" ? AWS_NET : {};
    const mine = new CoreOsCluster(stack, "core", net);
    const other = new CoreOsCluster(stack, "other", { ...net, firstHostNumber: 150 });
    const front = new NlbFront(stack, "front");
    front.addListener("http", { port: 80 }).addTargets("web", { targets: [other], port: 8080 });
    const make = () =>
      target === "aws"
        ? new AwsCluster(stack, "aws", { cluster: mine, front })
        : new VagrantCluster(stack, "local", { cluster: mine, front });
    return { app, outdir, make };
  }

  it("AwsCluster refuses a front over another cluster when it is built", () => {
    const { make } = twoClusters("aws");
    expect(make).toThrow(
      /front \(listener "http"\): got "targets of CoreOsCluster \\"s\/other\\""; allowed: targets of the cluster this target runs \(CoreOsCluster "s\/core"\)/,
    );
  });

  it("VagrantCluster refuses a front over another cluster when it is built, before it makes anything", () => {
    const { app, make } = twoClusters("vagrant");
    expect(make).toThrow(
      /Invalid props for VagrantCluster "s\/local":\n {2}- front \(listener "http"\): got "targets of CoreOsCluster \\"s\/other\\""; allowed: targets of the cluster this target runs \(CoreOsCluster "s\/core"\)/,
    );
    // No files, no resources: the refused construct is an empty node.
    expect(app.node.findChild("s").node.findChild("local").node.children).toEqual([]);
  });
});

describe("docs/security.md documents every rule", () => {
  const readme = fs.readFileSync(path.join(__dirname, "..", "docs", "security.md"), "utf8");
  it.each(POLICY_RULES.map((r) => [r.id, r.level, r.title]))("%s", (id, level, title) => {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${id}\``));
    expect(row).toBeDefined();
    expect(row).toContain(level === PolicyLevel.ERROR ? "error" : "warning");
    expect(row).toContain(title as string);
  });
});
