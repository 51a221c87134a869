/**
 * What VagrantCluster makes of its plan beyond the nodes (vagrant.test.ts):
 * the front machines and their config steps, the discovery step, literal
 * Terraform strings, the null_resource variant. Each test builds and
 * synthesizes its own stack (Testing.synth: nothing written), so under
 * mutation testing a mutant runs only the tests that reach it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TerraformStack, TerraformVariable, Testing } from "cdktf";
import { ClusterConfigError } from "../lib/core/errors";
import { LITERAL_REQUIRED, TOKEN_VALUE } from "../lib/core/validate";
import { CoreOsCluster } from "../lib/cluster/cluster";
import { CoreOsClusterProps } from "../lib/cluster/props";
import { EtcdDiscovery } from "../lib/etcd/discovery";
import { EtcdTls } from "../lib/etcd/tls";
import { NlbFront } from "../lib/front/front";
import { FrontProtocol } from "../lib/front/options";
import { LifecycleResource } from "../lib/vagrant/options";
import { VagrantCluster, VagrantClusterProps } from "../lib/vagrant/vagrant-cluster";
import { testApp } from "./support/state";
import { tempOutdir } from "./support/synth";

type Exec = {
  command: string;
  when?: string;
  working_dir: string;
  environment?: Record<string, string>;
};
type Res = {
  depends_on?: string[];
  provisioner: { "local-exec": Exec }[];
  input?: Record<string, string>;
  triggers?: Record<string, string>;
  triggers_replace?: Record<string, string>;
  lifecycle?: Record<string, unknown>;
};
interface Config {
  resource: Record<string, Record<string, Res>>;
  provider?: Record<string, unknown[]>;
}

const CLUSTER: CoreOsClusterProps = { nodeCount: 2, etcd: { tls: EtcdTls.disabled() } };

function synth(
  options: {
    cluster?: CoreOsClusterProps;
    vagrant?: Partial<VagrantClusterProps>;
    front?: boolean;
  } = {},
) {
  const stack = new TerraformStack(testApp(), "test");
  const cluster = new CoreOsCluster(stack, "core", options.cluster ?? CLUSTER);
  let front: NlbFront | undefined;
  if (options.front) {
    front = new NlbFront(stack, "front");
    front
      .addListener("web", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("nodes", { targets: [cluster], port: 8080 });
  }
  const vagrant = new VagrantCluster(stack, "local", { cluster, front, ...options.vagrant });
  const config = JSON.parse(Testing.synth(stack)) as Config;
  return { vagrant, config, stack };
}

describe("VagrantCluster front machines", () => {
  it("brings the front machines up after the nodes, one at a time, then installs haproxy.cfg on each in turn", () => {
    const { vagrant, config } = synth({ front: true });
    const r = config.resource.terraform_data;
    expect(Object.keys(r).sort()).toEqual([
      "vagrant_core_box",
      "vagrant_core_core-01",
      "vagrant_core_core-02",
      "vagrant_core_front-01",
      "vagrant_core_front-01-config",
      "vagrant_core_front-02",
      "vagrant_core_front-02-config",
      "vagrant_core_prune",
    ]);
    // The prune step knows the front machines: they are not pruned.
    expect(r.vagrant_core_prune.triggers_replace).toEqual({
      inputs: "core-01 core-02 front-01 front-02",
    });
    const f1 = r["vagrant_core_front-01"];
    expect(f1.depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
      "terraform_data.vagrant_core_core-02",
    ]);
    expect(r["vagrant_core_front-02"].depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
      "terraform_data.vagrant_core_front-01",
    ]);
    const plan = vagrant.plan.front!;
    expect(f1.triggers_replace).toEqual({ inputs: plan.machines[0].inputsHash });
    expect(f1.input).toEqual({ name: "front-01", dir: "vagrant/core" });
    expect(f1.lifecycle).toEqual({ create_before_destroy: true });
    expect(f1.provisioner.map((p) => p["local-exec"].when)).toEqual([undefined, "destroy"]);
    expect(f1.provisioner[0]["local-exec"].command).toContain(
      "'vagrant' 'up' '--provider' 'virtualbox' 'front-01'",
    );
    expect(f1.provisioner[0]["local-exec"].command).toContain("HAProxy answering");
    const c1 = r["vagrant_core_front-01-config"];
    const c2 = r["vagrant_core_front-02-config"];
    expect(c1.triggers_replace).toEqual({ inputs: plan.haproxyCfgHash });
    expect(c2.triggers_replace).toEqual({ inputs: plan.haproxyCfgHash });
    expect(c1.depends_on).toEqual(["terraform_data.vagrant_core_front-01"]);
    expect(c2.depends_on).toEqual([
      "terraform_data.vagrant_core_front-02",
      "terraform_data.vagrant_core_front-01-config",
    ]);
    expect(c1.input).toEqual({ dir: "vagrant/core" });
    expect(c1.lifecycle).toBeUndefined();
    expect(c1.provisioner).toHaveLength(1);
    const install = c1.provisioner[0]["local-exec"];
    expect(install.command).toContain(
      "'vagrant' 'upload' 'front/haproxy.cfg' '/tmp/haproxy.cfg' 'front-01'",
    );
    expect(install.working_dir).toBe("vagrant/core");
    expect(install.environment).toBeUndefined();
    expect(vagrant.frontAddress).toBe("192.168.56.10");
    expect(vagrant.frontMachines).toHaveLength(2);
  });

  it("labels each machine's wait by what it runs: etcd member, etcd client", () => {
    const { config } = synth({
      cluster: { ...CLUSTER, nodeCount: 2, etcd: { tls: EtcdTls.disabled(), members: 1 } },
    });
    const command = (n: string) =>
      config.resource.terraform_data[`vagrant_core_${n}`].provisioner[0]["local-exec"].command;
    expect(command("core-01")).toContain("etcd joined");
    expect(command("core-02")).toContain("etcd reachable");
  });
});

describe("VagrantCluster discovery step", () => {
  it("makes the discovery token once per cluster generation, before any machine, and retires it on destroy", () => {
    const { config, vagrant } = synth({
      cluster: {
        ...CLUSTER,
        etcd: {
          tls: EtcdTls.disabled(),
          discovery: EtcdDiscovery.selfHosted("http://192.168.56.5:2379"),
        },
      },
    });
    const r = config.resource.terraform_data;
    const d = r.vagrant_core_discovery;
    const etcd = vagrant.plan.cluster.etcd;
    expect(d.triggers_replace).toEqual({
      inputs: `${etcd.discovery.kind} http://192.168.56.5:2379 ${etcd.discovery.size} ${etcd.clusterToken}`,
    });
    expect(d.depends_on).toEqual(["terraform_data.vagrant_core_prune"]);
    expect(d.input).toEqual({ dir: "vagrant/core" });
    expect(d.provisioner.map((p) => p["local-exec"].when)).toEqual([undefined, "destroy"]);
    expect(d.provisioner[1]["local-exec"].working_dir).toBe("${self.input.dir}");
    expect(d.lifecycle).toBeUndefined();
    expect(r["vagrant_core_core-01"].depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
      "terraform_data.vagrant_core_discovery",
    ]);
    expect(r["vagrant_core_core-02"].depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
      "terraform_data.vagrant_core_discovery",
      "terraform_data.vagrant_core_core-01",
    ]);
    expect(vagrant.discoveryToken).toBeDefined();
    // Static bootstrap needs no token.
    expect(synth().config.resource.terraform_data.vagrant_core_discovery).toBeUndefined();
  });
});

describe("VagrantCluster Terraform strings", () => {
  it("keeps ${ of a box URL literal for Terraform in the trigger, the input and the command", () => {
    const url = "https://boxes.example.com/${release}/x.json";
    const { config } = synth({ vagrant: { boxName: "my-box", boxUrl: url } });
    const box = config.resource.terraform_data.vagrant_core_box;
    expect(box.triggers_replace).toEqual({
      inputs: "virtualbox my-box https://boxes.example.com/$${release}/x.json",
    });
    expect(box.input).toEqual({ box: "my-box", dir: "vagrant/core" });
    expect(box.provisioner[0]["local-exec"].command).toContain(
      "'https://boxes.example.com/$${release}/x.json'",
    );
    expect(box.provisioner[0]["local-exec"].command).not.toMatch(/[^$]\$\{release\}/);
  });

  it("reads destroy-time names from self.triggers with null_resource, and adds one null provider per stack", () => {
    const stack = new TerraformStack(testApp(), "test");
    for (const [name, first] of [
      ["one", 101],
      ["two", 201],
    ] as const) {
      const cluster = new CoreOsCluster(stack, name, { ...CLUSTER, name, firstHostNumber: first });
      new VagrantCluster(stack, `${name}-local`, {
        cluster,
        lifecycle: LifecycleResource.NULL_RESOURCE,
      });
    }
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(config.provider?.null).toEqual([{}]);
    const node = config.resource.null_resource["vagrant_two_core-01"];
    expect(node.triggers).toEqual({
      name: "core-01",
      dir: "vagrant/two",
      inputs: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const destroy = node.provisioner[1]["local-exec"];
    expect(destroy.when).toBe("destroy");
    expect(destroy.working_dir).toBe("${self.triggers.dir}");
    expect(destroy.command).toContain("'${self.triggers.name}'");
    expect(destroy.environment).toEqual({ COREOS_MACHINE_GENERATION: "${self.id}" });
    expect(node.lifecycle).toEqual({ create_before_destroy: true });
  });
});

describe("VagrantCluster nodes (terraform_data)", () => {
  it("chains the nodes one at a time, each destroyed by name from self.input, its generation the resource id", () => {
    const { config } = synth();
    expect(config.provider).toBeUndefined();
    const r = config.resource.terraform_data;
    expect(r["vagrant_core_core-02"].depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
      "terraform_data.vagrant_core_core-01",
    ]);
    const [create, destroy] = r["vagrant_core_core-02"].provisioner.map((p) => p["local-exec"]);
    const generation = { COREOS_MACHINE_GENERATION: "${self.id}" };
    expect(create.environment).toEqual(generation);
    expect(create.working_dir).toBe("vagrant/core");
    expect(destroy.when).toBe("destroy");
    expect(destroy.working_dir).toBe("${self.input.dir}");
    expect(destroy.command).toContain("vagrant destroy -f '${self.input.name}'");
    expect(destroy.environment).toEqual(generation);
    // Box and prune steps are no machines: no destroy step, no generation, replaced in place.
    for (const step of ["vagrant_core_box", "vagrant_core_prune"]) {
      expect(r[step].provisioner).toHaveLength(1);
      expect(r[step].provisioner[0]["local-exec"].environment).toBeUndefined();
      expect(r[step].lifecycle).toBeUndefined();
    }
    expect(r.vagrant_core_box.depends_on ?? []).toEqual([]);
  });

  it("writes input and triggers_replace in HCL too", () => {
    const stack = new TerraformStack(testApp(), "test");
    new VagrantCluster(stack, "local", { cluster: new CoreOsCluster(stack, "core", CLUSTER) });
    const hcl = String(Testing.synthHcl(stack));
    expect(hcl).toMatch(
      /resource "terraform_data" "vagrant_core_prune" \{[\s\S]*?input = \{\s*dir = "vagrant\/core"\s*\}/,
    );
    expect(hcl).toMatch(/triggers_replace = \{\s*inputs = "core-01 core-02"\s*\}/);
  });
});

describe("VagrantCluster files and props", () => {
  it("writes the Vagrantfile, config.rb, each machine's config (owner only: etcd keys), haproxy.cfg and keepalived.conf", () => {
    const outdir = tempOutdir();
    try {
      const app = testApp({ outdir });
      const stack = new TerraformStack(app, "test");
      // etcd with TLS (the default): the front machines get client certificates for their reboot lock.
      const cluster = new CoreOsCluster(stack, "core", { nodeCount: 2 });
      const front = new NlbFront(stack, "front");
      front
        .addListener("web", { port: 80 })
        .addTargets("nodes", { targets: [cluster], port: 8080 });
      const vagrant = new VagrantCluster(stack, "local", { cluster, front });
      app.synth();
      const dir = path.join(outdir, "stacks", "test", "vagrant", "core");
      const mode = (f: string) => fs.statSync(path.join(dir, f)).mode & 0o777;
      const text = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
      expect(text("Vagrantfile")).toContain("config.rb");
      expect(text("config.rb")).toContain("$num_instances");
      for (const m of [...vagrant.plan.nodes, ...vagrant.plan.front!.machines]) {
        expect([m.configFile, mode(m.configFile)]).toEqual([m.configFile, 0o600]);
        expect(text(m.configFile)).toBe(m.config);
      }
      expect(text("front/haproxy.cfg")).toBe(vagrant.plan.front!.haproxyCfg);
      for (const m of vagrant.plan.front!.machines) {
        expect(text(`front/${m.name}-keepalived.conf`)).toBe(m.keepalivedConf);
      }
      // front-02's reboot lock: its own client certificate from the cluster's CA.
      const ign = JSON.parse(vagrant.plan.front!.machines[1].config) as {
        storage: { files: { path: string }[] };
      };
      expect(ign.storage.files.map((f) => f.path)).toEqual(
        expect.arrayContaining([
          "/etc/ssl/etcd/ca.crt",
          "/etc/ssl/etcd/client.crt",
          "/etc/ssl/etcd/client.key",
        ]),
      );
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("writes no keepalived.conf for a single front", () => {
    const outdir = tempOutdir();
    try {
      const app = testApp({ outdir });
      const stack = new TerraformStack(app, "test");
      const cluster = new CoreOsCluster(stack, "core", CLUSTER);
      const front = new NlbFront(stack, "front");
      front
        .addListener("web", { port: 80 })
        .addTargets("nodes", { targets: [cluster], port: 8080 });
      new VagrantCluster(stack, "local", { cluster, front, frontHighAvailability: false });
      app.synth();
      const dir = path.join(outdir, "stacks", "test", "vagrant", "core", "front");
      expect(fs.readdirSync(dir).sort()).toEqual(["haproxy.cfg"]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("names itself in errors, refuses Terraform references in its props, and runs the prune step after the box", () => {
    const stack = new TerraformStack(testApp(), "test");
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    expect(() => new VagrantCluster(stack, "bad", { cluster, gui: "yes" as never })).toThrow(
      /^Invalid props for VagrantCluster "test\/bad":\n {2}- gui: got "yes"; allowed: true or false/,
    );
    expect(() => new VagrantCluster(stack, "none", undefined as never)).toThrow(
      /^Invalid props for VagrantCluster "test\/none":\n {2}- props: got undefined; allowed: an object of VagrantClusterProps with a cluster/,
    );
    const box = new TerraformVariable(stack, "box", { type: "string" });
    let error: unknown;
    try {
      new VagrantCluster(stack, "token", { cluster, boxName: box.stringValue });
    } catch (e) {
      error = e;
    }
    expect((error as ClusterConfigError).issues).toEqual([
      { prop: "boxName", value: TOKEN_VALUE, allowed: LITERAL_REQUIRED },
    ]);
    const { config } = synth();
    expect(config.resource.terraform_data.vagrant_core_prune.depends_on).toEqual([
      "terraform_data.vagrant_core_box",
    ]);
  });
});
