import * as fs from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import {
  appSettings,
  AWS_NETWORK_DEFAULTS,
  CONFIG_CONTEXT_KEY,
  CONFIG_ENV,
  CONFIG_KNOBS,
  DeployTarget,
  parseAppSettings,
  readConfigFile,
} from "../lib";
import { renderConfigRb } from "../lib/render/vagrant";
import { CoreOsAwsStack, CoreOsClusterStack, fileSettings } from "../main";
import { filesUnder } from "./support/files";
import { testApp } from "./support/state";
import { tempOutdir } from "./support/synth";
import { errorOf } from "./support/config-error";

/*
 * The default app configured without TypeScript: cdktf.json's context
 * "coreos-cluster:config" and environment overrides become the props of each
 * construct. A bad value names the file or variable, the key, the value and
 * what is allowed, and nothing is written.
 */

const ROOT = path.resolve(__dirname, "..");
const fileValue = () => readConfigFile(ROOT) as Record<string, unknown>;

/** The settings of cdktf.json with `change` merged in, and `env`. */
const settingsWith = (change: Record<string, unknown>, env: Record<string, string> = {}) =>
  parseAppSettings({ ...fileValue(), ...change }, env);

/** The error lines of a message: `  - <prop>: got <value>; allowed: <words>`. */
const lines = (e: Error) => e.message.split("\n").slice(1);

describe("cdktf.json's settings", () => {
  it("hold every key of the default app and build the stack the snapshot shows", () => {
    const value = fileValue();
    expect(Object.keys(value)).toEqual(
      expect.arrayContaining(["target", "nodeCount", "os", "etcd", "front", "vagrant", "aws"]),
    );
    const stack = new CoreOsClusterStack(testApp(), "coreos-cluster");
    expect(stack.cluster.nodes.map((n) => `${n.name} ${n.address}`)).toEqual([
      "core-01 192.168.56.101",
      "core-02 192.168.56.102",
      "core-03 192.168.56.103",
    ]);
    expect(stack.cluster.os.toString()).toBe("flatcar/stable");
    expect(stack.vagrant.frontAddress).toBe("192.168.56.10");
    expect(stack.front?.plan().listeners.map((l) => `${l.name} ${l.port} ${l.protocol}`)).toEqual([
      "http 80 http",
    ]);
  });

  it("reach the app as cdktf synth hands them over: the context, else cdktf.json itself", () => {
    const viaContext = appSettings(
      Testing.app({ context: { [CONFIG_CONTEXT_KEY]: fileValue() } }),
      {
        env: {},
        directory: "/nonexistent",
      },
    );
    const viaFile = appSettings(Testing.app(), { env: {}, directory: ROOT });
    expect(viaContext).toEqual(viaFile);
    expect(viaFile).toEqual(fileSettings());
  });
});

describe("environment overrides, named as coreos-vagrant names them", () => {
  it("NUM_INSTANCES, UPDATE_CHANNEL, VM_MEMORY, VM_CPUS, INSTANCE_NAME_PREFIX change the cluster", () => {
    const settings = settingsWith(
      {},
      {
        NUM_INSTANCES: "5",
        UPDATE_CHANNEL: "beta",
        VM_MEMORY: "2048",
        VM_CPUS: "2",
        INSTANCE_NAME_PREFIX: "node",
        VM_GUI: "true",
        ENABLE_SERIAL_LOGGING: "1",
        COREOS_CLUSTER_STANDBY: "1",
        COREOS_CLUSTER_ETCD_MEMBERS: "5",
      },
    );
    const stack = new CoreOsClusterStack(testApp(), "coreos-cluster", { settings });
    const plan = stack.vagrant.plan;
    expect(plan.nodes.map((n) => n.name)).toEqual([
      "node-01",
      "node-02",
      "node-03",
      "node-04",
      "node-05",
    ]);
    expect(plan.boxName).toBe("flatcar-beta");
    expect([plan.cluster.memoryMiB, plan.cluster.cpus, plan.gui, plan.serialLogging]).toEqual([
      2048,
      2,
      true,
      true,
    ]);
    expect(plan.cluster.etcd.members).toHaveLength(5);
    expect(stack.cluster.standbyNodes.map((n) => n.name)).toEqual(["node-05"]);
  });

  it("override the file; an empty variable counts as unset", () => {
    const file = settingsWith({ nodeCount: 4 });
    expect(settingsWith({ nodeCount: 4 }, { NUM_INSTANCES: "6" }).cluster.nodeCount).toBe(6);
    expect(settingsWith({ nodeCount: 4 }, { NUM_INSTANCES: "" })).toEqual(file);
  });

  it("every variable of CONFIG_ENV sets the key it names", () => {
    const text: Record<string, string> = {
      target: "aws",
      "os.family": "flatcar",
      "os.channel": "beta",
      namePrefix: "x-y",
    };
    const sample = (kind: string, key: string) =>
      kind === "count" ? "7" : kind === "boolean" ? "yes" : text[key];
    for (const [name, v] of Object.entries(CONFIG_ENV)) {
      const settings = parseAppSettings({}, { [name]: sample(v.kind, v.key) });
      expect(settings.fromEnvironment[v.key]).toEqual({ name, text: sample(v.kind, v.key) });
    }
  });

  it("COREOS_CLUSTER_TARGET=aws builds the AWS stack in the default network", () => {
    const settings = settingsWith({}, { COREOS_CLUSTER_TARGET: "aws" });
    expect(settings.target).toBe(DeployTarget.AWS);
    const stack = new CoreOsAwsStack(testApp(), "coreos-aws", { settings });
    expect(stack.cluster.plan.network.cidr).toBe(AWS_NETWORK_DEFAULTS.networkCidr);
    expect(stack.cluster.nodes.map((n) => n.address)).toEqual([
      "10.42.1.10",
      "10.42.2.10",
      "10.42.3.10",
    ]);
  });
});

describe("settings of the front and the targets", () => {
  it('"front": false: no front, no front machines, no front_url', () => {
    const stack = new CoreOsClusterStack(testApp(), "coreos-cluster", {
      settings: settingsWith({ front: false }),
    });
    expect(stack.front).toBeUndefined();
    expect(stack.vagrant.frontMachines).toEqual([]);
    expect(JSON.parse(Testing.synth(stack)).output.front_url).toBeUndefined();
  });

  it("a drained node and a second listener reach HAProxy", () => {
    const value = fileValue();
    const front = {
      listeners: [
        ...(value.front as { listeners: unknown[] }).listeners,
        {
          name: "api",
          port: 8443,
          targets: { port: 9443, healthCheck: { interval: "2s", timeout: "1s" } },
        },
      ],
      drain: ["core-02"],
    };
    const stack = new CoreOsClusterStack(testApp(), "coreos-cluster", {
      settings: settingsWith({ front }),
    });
    const cfg = stack.vagrant.plan.front?.haproxyCfg ?? "";
    expect(cfg).toMatch(/server core-02 192\.168\.56\.102:8080 .*disabled/);
    expect(cfg).toContain("bind 192.168.56.10:8443");
    expect(cfg).toContain("default-server inter 2000ms");
    expect(cfg).toContain("server core-01 192.168.56.101:9443 check port 9443");
  });

  it("a key starting with // is a comment; AWS settings reach the AWS target", () => {
    const settings = settingsWith(
      {
        "//": "note",
        aws: {
          instanceType: "t3.medium",
          rootVolumeGiB: 40,
          image: { version: "4081" },
          region: "eu-central-1",
        },
      },
      { COREOS_CLUSTER_TARGET: "aws" },
    );
    const stack = new CoreOsAwsStack(testApp(), "coreos-aws", { settings });
    expect([stack.aws.plan.instanceType, stack.aws.plan.rootVolumeGiB]).toEqual(["t3.medium", 40]);
    // The region goes to the stack's own AWS provider.
    expect(JSON.parse(Testing.synth(stack)).provider.aws[0].region).toBe("eu-central-1");
  });
});

describe("a bad setting names the file or variable, the key, the value and what is allowed", () => {
  it.each([
    [
      "a typo in a key",
      { nodecount: 5 },
      {},
      '  - nodecount: got 5; allowed: a known key (did you mean "nodeCount"?)',
    ],
    ["a count out of range", { nodeCount: 0 }, {}, "  - nodeCount: got 0; allowed: a whole number"],
    [
      "a channel Flatcar does not publish",
      { os: { family: "flatcar", channel: "nightly" } },
      {},
      '  - os.channel: got "nightly"; allowed: for flatcar: stable | beta | alpha | lts',
    ],
    [
      "an even etcd member count",
      { etcd: { members: 4 } },
      {},
      "  - etcd.members: got 4; allowed: 1, 3, 5, 7",
    ],
    [
      "a listener port",
      {
        front: { listeners: [{ name: "http", port: 80000, targets: { port: 8080 } }] },
      },
      {},
      "  - front.listeners[0].port: got 80000; allowed: a port 1-65535",
    ],
    [
      "a drain of a node that does not exist",
      {
        front: {
          listeners: [{ name: "http", port: 80, targets: { port: 8080 } }],
          drain: ["core-09"],
        },
      },
      {},
      '  - front.drain: got "core-09"; allowed: a member of the front: core-01, core-02, core-03',
    ],
    [
      "a Vagrant duration without unit",
      { vagrant: { readyTimeout: 600 } },
      {},
      '  - vagrant.readyTimeout: got 600; allowed: a duration such as "500ms"',
    ],
    [
      "a Vagrant prop",
      { vagrant: { frontFirstHostNumber: 101 } },
      {},
      "  - vagrant.frontFirstHostNumber: got 101; allowed: host numbers (101, 102, 103)",
    ],
    [
      "a cluster prop a target refuses",
      { os: { family: "fedora-coreos" } },
      {},
      '  - os: got "fedora-coreos/stable"; allowed: a Flatcar OS',
    ],
    [
      "NUM_INSTANCES not a number",
      {},
      { NUM_INSTANCES: "five" },
      '  - NUM_INSTANCES (environment, nodeCount): got "five"; allowed: a whole number such as 5',
    ],
    [
      "VM_MEMORY too small",
      {},
      { VM_MEMORY: "256" },
      '  - VM_MEMORY (environment, memoryMiB): got "256"; allowed: a whole number from 512',
    ],
    [
      "UPDATE_CHANNEL unknown",
      {},
      { UPDATE_CHANNEL: "edge" },
      '  - UPDATE_CHANNEL (environment, os.channel): got "edge"; allowed: for flatcar:',
    ],
    [
      "COREOS_CLUSTER_TARGET unknown",
      {},
      { COREOS_CLUSTER_TARGET: "gcp" },
      '  - COREOS_CLUSTER_TARGET (environment, target): got "gcp"; allowed: vagrant | aws',
    ],
  ] as Array<[string, Record<string, unknown>, Record<string, string>, string]>)(
    "%s",
    (_label, change, env, line) => {
      const outdir = tempOutdir();
      const app = testApp({
        outdir,
        context: { [CONFIG_CONTEXT_KEY]: { ...fileValue(), ...change } },
      });
      // As main() does: settings first, then the stack of their target, then synth.
      const error = errorOf(() => {
        const settings = appSettings(app, { env });
        new CoreOsClusterStack(app, "coreos-cluster", { settings });
        app.synth();
      });
      expect(error.message.split("\n")[0]).toMatch(
        /^Invalid settings for cdktf\.json \(context "coreos-cluster:config"\)/,
      );
      expect(lines(error).some((l) => l.startsWith(line))).toBe(true);
      expect(error.message).not.toMatch(/TypeError|Cannot read|\bat \S+ \(/);
      expect(filesUnder(outdir)).toEqual([]);
    },
  );

  it("lists every issue of the settings object and the environment at once", () => {
    const error = errorOf(() =>
      parseAppSettings(
        { nodeCount: 3, vagrant: { gui: false, readyTimeout: "soon" }, colour: "red" },
        { NUM_INSTANCES: "-1", VM_GUI: "maybe" },
      ),
    );
    expect(lines(error).map((l) => l.split(": got ")[0])).toEqual([
      "  - colour",
      "  - NUM_INSTANCES (environment, nodeCount)",
      "  - VM_GUI (environment, vagrant.gui)",
      "  - vagrant.readyTimeout",
    ]);
  });

  it("names a cdktf.json that is not JSON", () => {
    const dir = tempOutdir();
    fs.writeFileSync(path.join(dir, "cdktf.json"), "{ nope");
    expect(() => readConfigFile(dir)).toThrow(
      /Invalid settings for cdktf\.json:\n {2}- cdktf\.json: got/,
    );
  });
});

describe("CONFIG_KNOBS: coreos-vagrant's knobs and the settings that decide them", () => {
  it("covers every knob config.rb holds, each with keys the settings know and how to change it", () => {
    const stack = new CoreOsClusterStack(testApp(), "coreos-cluster");
    const knobs = [...renderConfigRb(stack.vagrant.plan).matchAll(/^\$(\w+) =/gm)].map((m) => m[1]);
    // $vb_cpuexecutioncap is fixed at 100: no setting decides it.
    const decided = knobs.filter((k) => k !== "vb_cpuexecutioncap");
    expect(decided.filter((k) => !(k in CONFIG_KNOBS))).toEqual([]);
    for (const [name, knob] of Object.entries(CONFIG_KNOBS)) {
      expect(knob.rubyVariable).toBe(`$${name}`);
      expect(knob.hint).toContain("npm run synth");
      for (const key of knob.keys) {
        // A key the settings know: setting it to a wrong type is reported under that key.
        const [head, ...rest] = key.split(".");
        const value = rest.length
          ? { [head]: { [rest.join(".")]: { wrong: true } } }
          : { [head]: { wrong: true } };
        const e = errorOf(() => {
          const settings = parseAppSettings({ ...fileValue(), ...value }, {});
          new CoreOsClusterStack(testApp(), "coreos-cluster", { settings });
        });
        expect(e.message).not.toContain("a known key");
      }
    }
  });

  it("docs/configuration.md names the context key, each environment variable and each knob's setting", () => {
    const readme = fs.readFileSync(path.join(ROOT, "docs", "configuration.md"), "utf8");
    expect(readme).toContain(CONFIG_CONTEXT_KEY);
    for (const name of Object.keys(CONFIG_ENV)) expect(readme).toContain(name);
    for (const knob of Object.values(CONFIG_KNOBS)) expect(readme).toContain(knob.rubyVariable);
  });
});
