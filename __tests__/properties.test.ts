import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { App, TerraformStack } from "cdktf";
import {
  Balancing,
  ClientAffinity,
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  FlatcarChannel,
  FrontProtocol,
  HealthCheckProtocol,
  NlbFront,
  OperatingSystem,
  planCluster,
  Provisioning,
  RebootStrategy,
  VagrantCluster,
} from "../lib";
import { AwsCluster, AwsMachineImage, AwsNetwork } from "../lib/aws";
import { fileText, IgnitionConfig } from "../lib/render/ignition";
import { parse as parseYaml } from "yaml";
import {
  applyCloudinitEnvironment,
  checkCloudConfig,
  decodeContent,
} from "./support/cloud-config-schema";
import { ed25519PublicKey, ecdsaPublicKey, rsaPublicKey } from "./support/keys";
import { StandIns } from "./support/stand-ins";
// Each spec is a new cluster: its own copy of the test state folder (no membership carried over).
import { testApp } from "./support/state";
import { tempOutdir } from "./support/synth";
import { findAwsProviderMirror, runTerraform, writeMirrorCliConfig } from "./support/terraform";
import { describeWithRequirement, hasCommand } from "./support/tools";
import { startProviderServer } from "./support/provider-server";

/*
 * Property-based tests (fast-check): random valid specs always synthesize;
 * on a sample, every artifact passes its real consumer; node names and
 * addresses of existing nodes never change when the count grows. Each run
 * prints how many specs it checked. FC_SEED reproduces a run.
 */
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const PURE_RUNS = 300;
const SYNTH_RUNS = 120;
const CLOUD_CONFIG_RUNS = 40;
const CONSUMER_RUNS = 8;
const VAGRANT_VALIDATE_RUNS = 3;
const TERRAFORM_RUNS = 2;
const checked: Record<string, number> = {};
afterAll(() => console.log(`property specs checked this run: ${JSON.stringify(checked)}`));
const count = (name: string) => (checked[name] = (checked[name] ?? 0) + 1);

const KEYS = [ed25519PublicKey("a@x"), rsaPublicKey(2048, "b@x"), ecdsaPublicKey(384, "")];

/** Text without control characters (what unit values may hold), any Unicode otherwise. */
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g;
const unitValue = fc
  .string({ unit: "grapheme", maxLength: 40 })
  .map((s) => s.replace(CONTROL_OR_BACKSLASH, "").trim());
const unitKey = fc.stringMatching(/^[A-Z][A-Za-z]{0,11}$/);

const unitArb = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).map((n) => `${n}.service`),
  lines: fc.array(fc.tuple(unitKey, unitValue), { maxLength: 4 }),
  enabled: fc.boolean(),
  dropin: fc.option(fc.tuple(unitKey, unitValue), { nil: undefined }),
});

const fileArb = fc.record({
  name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/).filter((n) => n !== ".." && n !== "."),
  contents: fc.string({ unit: "binary", maxLength: 200 }),
  mode: fc.constantFrom(0o644, 0o600, 0o640, 0o755, 0o700, 0o444),
});

interface Spec {
  readonly props: CoreOsClusterProps;
  readonly listeners: readonly {
    port: number;
    protocol: FrontProtocol;
    targetPort: number;
    path?: string;
    intervalMs?: number;
    affinity: ClientAffinity;
    balancing: Balancing;
  }[];
  readonly drain: readonly number[];
}

/** A random valid spec for the Vagrant target (Flatcar, VirtualBox's network). */
const specArb: fc.Arbitrary<Spec> = fc
  .record({
    nodeCount: fc.integer({ min: 1, max: 12 }),
    standbyShare: fc.double({ min: 0, max: 0.99, noNaN: true }),
    members: fc.constantFrom(1, 3, 5, 7),
    namePrefix: fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).filter((p) => p !== "front"),
    channel: fc.constantFrom(...Object.values(FlatcarChannel)),
    reboot: fc.constantFrom(RebootStrategy.ETCD_LOCK, RebootStrategy.REBOOT),
    keys: fc.subarray(KEYS),
    units: fc.uniqueArray(unitArb, { maxLength: 3, selector: (u) => u.name }),
    files: fc.uniqueArray(fileArb, { maxLength: 3, selector: (f) => f.name }),
    listeners: fc.uniqueArray(
      fc.record({
        port: fc.integer({ min: 1024, max: 65000 }),
        protocol: fc.constantFrom(FrontProtocol.TCP, FrontProtocol.HTTP),
        targetPort: fc.integer({ min: 3000, max: 65000 }),
        path: fc.option(fc.stringMatching(/^\/[a-z0-9/_.-]{0,20}(\?[a-z]=[0-9]{1,3})?$/), {
          nil: undefined,
        }),
        intervalMs: fc.option(fc.integer({ min: 100, max: 5000 }), { nil: undefined }),
        affinity: fc.constantFrom(...Object.values(ClientAffinity)),
        balancing: fc.constantFrom(...Object.values(Balancing)),
      }),
      { minLength: 1, maxLength: 3, selector: (l) => l.port },
    ),
    drainShare: fc.double({ min: 0, max: 0.99, noNaN: true }),
  })
  .map((r) => {
    const standby = Math.floor(r.standbyShare * r.nodeCount);
    const active = r.nodeCount - standby;
    return {
      props: {
        nodeCount: r.nodeCount,
        standby,
        namePrefix: r.namePrefix,
        os: OperatingSystem.flatcar(r.channel),
        rebootStrategy: r.reboot,
        etcd: {
          members: Math.min(
            r.members,
            r.nodeCount <= 2 ? 1 : r.nodeCount % 2 ? r.nodeCount : r.nodeCount - 1,
            r.members,
          ),
        },
        sshPublicKeys: r.keys,
        units: r.units.map((u) => ({
          name: u.name,
          contents: `[Service]\n${u.lines.map(([k, v]) => `${k}=${v}`).join("\n")}\n[Install]\nWantedBy=multi-user.target\n`,
          enabled: u.enabled,
          dropins: u.dropin
            ? [{ name: "50-x.conf", contents: `[Service]\n${u.dropin[0]}=${u.dropin[1]}\n` }]
            : [],
        })),
        files: r.files.map((f) => ({
          path: `/opt/app/${f.name}`,
          contents: f.contents,
          mode: f.mode,
        })),
      },
      listeners: r.listeners,
      drain: Array.from({ length: Math.floor(r.drainShare * active) }, (_, i) => i),
    };
  });

/**
 * The spec on the Vagrant target, or on AWS: in a created network with public
 * nodes, or (`awsPrivateNodes`) with nodes in private subnets (NAT) of an
 * existing network, the load balancer in public subnets of its own.
 */
function build(
  app: App,
  spec: Spec,
  target: "vagrant" | "aws" = "vagrant",
  awsPrivateNodes = false,
) {
  const stack = new TerraformStack(app, "p");
  const props =
    target === "aws"
      ? {
          ...spec.props,
          networkCidr: "10.42.0.0/16",
          subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"],
          firstHostNumber: 10,
        }
      : spec.props;
  const cluster = new CoreOsCluster(stack, "core", props);
  const front = new NlbFront(stack, "front");
  spec.listeners.forEach((l, i) => {
    const http = l.path !== undefined;
    front.addListener(`l${i}`, { port: l.port, protocol: l.protocol }).addTargets(`t${i}`, {
      targets: [cluster],
      port: l.targetPort,
      affinity:
        target === "aws" && l.affinity === ClientAffinity.NETWORK
          ? ClientAffinity.NONE
          : l.affinity,
      balancing: target === "aws" ? Balancing.ROUND_ROBIN : l.balancing,
      healthCheck: {
        ...(http ? { protocol: HealthCheckProtocol.HTTP, path: l.path } : {}),
        ...(l.intervalMs !== undefined && target === "vagrant"
          ? { interval: Duration.millis(l.intervalMs) }
          : {}),
      },
    });
  });
  for (const i of spec.drain) front.drain(cluster.nodes[i]);
  const t =
    target === "aws"
      ? new AwsCluster(stack, "aws", {
          cluster,
          front,
          // Flatcar LTS on AWS needs its stream's major version (two streams overlap).
          image: AwsMachineImage.lookup(
            cluster.os.channel === FlatcarChannel.LTS ? { version: "4081" } : {},
          ),
          ...(awsPrivateNodes
            ? {
                network: AwsNetwork.existing({
                  vpcId: "vpc-0123456789abcdef0",
                  subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                  loadBalancerSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
                }),
                publicAddresses: false,
              }
            : { network: AwsNetwork.create(), publicAddresses: true }),
        })
      : new VagrantCluster(stack, "local", { cluster, front });
  return { stack, cluster, front, target: t };
}

const params = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

describe("random valid specs", () => {
  it(`always synthesize (${SYNTH_RUNS} specs, Vagrant target with the front)`, () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const app = testApp({ outdir: tempOutdir() });
        const { cluster } = build(app, spec);
        app.synth();
        expect(cluster.nodes).toHaveLength(spec.props.nodeCount as number);
        fs.rmSync(app.outdir, { recursive: true, force: true });
        count("synthesize");
      }),
      params(SYNTH_RUNS),
    );
  });

  it(`as cloud-config are what coreos-cloudinit accepts, with the files of their Ignition (${CLOUD_CONFIG_RUNS} specs)`, () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const app = testApp({ outdir: tempOutdir() });
        const cluster = new CoreOsCluster(new TerraformStack(app, "p"), "core", {
          ...spec.props,
          provisioning: Provisioning.CLOUD_CONFIG,
        });
        for (const n of cluster.nodes) {
          expect(checkCloudConfig(n.config).findings).toEqual([]);
          const cc = parseYaml(applyCloudinitEnvironment(n.config, { $private_ipv4: n.address }), {
            version: "1.1",
          }) as { write_files: Array<{ path: string; content: string; encoding?: string }> };
          const written = Object.fromEntries(
            cc.write_files.map((f) => [f.path, decodeContent(f.content, f.encoding ?? "")]),
          );
          const ign = JSON.parse(n.ignition) as IgnitionConfig;
          const expected = Object.fromEntries(
            ign.storage.files
              .filter((f) => !["/etc/hostname", "/etc/flatcar/update.conf"].includes(f.path))
              .map((f) => [f.path, fileText(f)]),
          );
          expect(written).toEqual(expected);
        }
        count("cloud-config");
      }),
      params(CLOUD_CONFIG_RUNS),
    );
  });

  it(`keep every existing node's name and address when the count grows (${PURE_RUNS} specs)`, () => {
    fc.assert(
      fc.property(
        specArb,
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom(
          undefined,
          ["192.168.56.0/23", "192.168.58.0/23"],
          ["192.168.56.0/24", "192.168.57.0/24", "192.168.58.0/24"],
        ),
        (spec, grow, subnetCidrs) => {
          const base = { ...spec.props, subnetCidrs, firstHostNumber: 10, standby: 0 };
          const ctx = { id: "core", path: "p/core" };
          const before = planCluster(base, ctx).nodes;
          const grown = { ...base, nodeCount: (base.nodeCount as number) + grow };
          const after = planCluster(grown, ctx).nodes;
          expect(after.slice(0, before.length).map((n) => [n.name, n.address])).toEqual(
            before.map((n) => [n.name, n.address]),
          );
          count("count grows");
        },
      ),
      params(PURE_RUNS),
    );
  });
});

const tools = ["ignition-validate", "haproxy", "keepalived", "vagrant"];
describeWithRequirement(
  tools.every(hasCommand),
  tools.join(", "),
  `${tools.filter((t) => !hasCommand(t)).join(", ")} not found: apt-get install ignition haproxy keepalived vagrant`,
  "a sample of random specs passes the real consumers",
  () => {
    const standIns = new StandIns().addVBoxManage();
    afterAll(() => standIns.cleanup());
    const iface = fs.readdirSync("/sys/class/net").find((n) => n !== "lo") ?? "lo";
    const ok = (cmd: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv) => {
      const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 60000 });
      return { cmd: `${cmd} ${args.join(" ")}`, status: r.status, out: `${r.stdout}${r.stderr}` };
    };

    it(`ignition-validate (every node and front machine), haproxy -c, keepalived -t on ${CONSUMER_RUNS} specs; vagrant validate on ${VAGRANT_VALIDATE_RUNS}`, () => {
      let vagrantRuns = 0;
      fc.assert(
        fc.property(specArb, (spec) => {
          const app = testApp({ outdir: tempOutdir() });
          const { target } = build(app, spec);
          app.synth();
          const dir = path.join(app.outdir, "stacks", "p", (target as VagrantCluster).directory);
          const igns = fs
            .readdirSync(path.join(dir, "ignition"))
            .map((f) => path.join(dir, "ignition", f));
          expect(igns).toHaveLength((spec.props.nodeCount as number) + 2);
          for (const f of igns)
            expect(ok("ignition-validate", [f])).toMatchObject({ status: 0, out: "" });
          expect(ok("haproxy", ["-c", "-f", path.join(dir, "front/haproxy.cfg")])).toMatchObject({
            status: 0,
          });
          for (const m of ["front-01", "front-02"]) {
            const conf = path.join(dir, `front/${m}-keepalived.conf`);
            fs.writeFileSync(
              `${conf}.mapped`,
              fs.readFileSync(conf, "utf8").replaceAll("eth1", iface),
            );
            expect(ok("keepalived", ["-t", "-f", `${conf}.mapped`])).toMatchObject({
              status: 0,
              out: "",
            });
            fs.rmSync(`${conf}.mapped`);
          }
          if (vagrantRuns++ < VAGRANT_VALIDATE_RUNS) {
            const r = ok("vagrant", ["validate"], dir, { ...process.env, PATH: standIns.path() });
            expect(r).toMatchObject({
              status: 0,
              out: expect.stringContaining("validated successfully"),
            });
            count("vagrant validate");
          }
          fs.rmSync(app.outdir, { recursive: true, force: true });
          count("consumers");
        }),
        params(CONSUMER_RUNS),
      );
    });
  },
);

const mirror = hasCommand("terraform") ? findAwsProviderMirror() : undefined;
describeWithRequirement(
  mirror !== undefined,
  "terraform and the hashicorp/aws mirror",
  "terraform or an offline mirror of hashicorp/aws is missing (see __tests__/aws-terraform.test.ts)",
  "a sample of random specs passes terraform validate (AWS target)",
  () => {
    it(`terraform init + validate on ${TERRAFORM_RUNS} specs (public and private nodes in turn)`, async () => {
      const outdir = tempOutdir();
      let runs = 0;
      const env = { TF_CLI_CONFIG_FILE: writeMirrorCliConfig(outdir, mirror as string) };
      // One hashicorp/aws process for every validate (see startProviderServer).
      const provider = await startProviderServer(mirror as string, "hashicorp/aws", outdir);
      try {
        fc.assert(
          fc.property(specArb, (spec) => {
            const app = testApp({ outdir: fs.mkdtempSync(path.join(outdir, "spec-")) });
            build(app, spec, "aws", runs++ % 2 === 1);
            app.synth();
            const stackDir = path.join(app.outdir, "stacks", "p");
            for (const args of [
              ["init", "-no-color"],
              ["validate", "-no-color"],
            ]) {
              // init installs the provider from the mirror; validate uses the running one.
              const r = runTerraform(
                args,
                stackDir,
                args[0] === "init" ? env : { ...env, ...provider.env },
              );
              expect({ args, status: r.status, out: r.status ? r.output : "" }).toEqual({
                args,
                status: 0,
                out: "",
              });
            }
            count("terraform validate");
          }),
          params(TERRAFORM_RUNS),
        );
      } finally {
        await provider.stop();
        fs.rmSync(outdir, { recursive: true, force: true });
      }
    });
  },
);
