import { freshTestState } from "./support/state";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ClusterConfigError,
  FlatcarChannel,
  LifecycleResource,
  OperatingSystem,
  VagrantProvider,
} from "../lib";
import { StandIns } from "./support/stand-ins";
import { synthVagrant, tempOutdir } from "./support/synth";
import { describeWithTool } from "./support/tools";

type Provisioner = { "local-exec": { command: string; when?: string; working_dir: string } };
type Res = {
  depends_on?: string[];
  provisioner: Provisioner[];
  triggers?: Record<string, string>;
  input?: Record<string, string>;
  triggers_replace?: Record<string, string>;
  lifecycle?: Record<string, unknown>;
};

describe("VagrantCluster: Terraform resources (null_resource, the default)", () => {
  const { config, vagrant } = synthVagrant({ nodeCount: 3 });
  const resources = config.resource.null_resource as Record<string, Res>;

  it("has a box step, a prune step and one resource per node, named after the node", () => {
    expect(Object.keys(resources).sort()).toEqual([
      "vagrant_core_box",
      "vagrant_core_core-01",
      "vagrant_core_core-02",
      "vagrant_core_core-03",
      "vagrant_core_prune",
    ]);
    expect(config.provider).toEqual({ null: [{}] });
    expect(vagrant.lifecycle).toBe(LifecycleResource.NULL_RESOURCE);
  });

  it("replaces the machine and runs vagrant up on create; vagrant destroy -f on destroy, reading only self", () => {
    const node = resources["vagrant_core_core-02"];
    const generation = node.triggers!.inputs;
    expect(generation).toMatch(/^[0-9a-f]{64}$/);
    expect(node.provisioner).toEqual([
      {
        "local-exec": {
          command: `if ls .vagrant/machines/core-02/*/id >/dev/null 2>&1; then vagrant destroy -f core-02; fi && vagrant up --provider virtualbox core-02 && echo ${generation} > .vagrant/machines/core-02/coreos-generation`,
          working_dir: "vagrant/core",
        },
      },
      {
        "local-exec": {
          // Only a machine this generation made: not one a newer generation replaced, not a pruned one.
          command:
            'if ls .vagrant/machines/${self.triggers.name}/*/id >/dev/null 2>&1 && { [ ! -e .vagrant/machines/${self.triggers.name}/coreos-generation ] || [ "$(cat .vagrant/machines/${self.triggers.name}/coreos-generation)" = "${self.triggers.generation}" ]; }; then vagrant destroy -f ${self.triggers.name}; fi',
          when: "destroy",
          working_dir: "${self.triggers.dir}",
        },
      },
    ]);
    expect(node.triggers).toMatchObject({ name: "core-02", dir: "vagrant/core", generation });
    // Create-first: the old resource is dropped after the new machine is up.
    expect(node.lifecycle).toEqual({ create_before_destroy: true });
  });

  it("brings VirtualBox nodes up one at a time, after the box and the prune step", () => {
    expect(resources.vagrant_core_prune.depends_on).toEqual(["null_resource.vagrant_core_box"]);
    expect(resources["vagrant_core_core-01"].depends_on).toEqual([
      "null_resource.vagrant_core_prune",
    ]);
    expect(resources["vagrant_core_core-03"].depends_on).toEqual([
      "null_resource.vagrant_core_prune",
      "null_resource.vagrant_core_core-02",
    ]);
  });

  it("prunes when the node list changes: scale-down cannot rely on destroy-time provisioners", () => {
    const prune = resources.vagrant_core_prune;
    expect(prune.triggers).toEqual({ dir: "vagrant/core", inputs: "core-01 core-02 core-03" });
    expect(prune.provisioner).toHaveLength(1);
    expect(prune.provisioner[0]["local-exec"].command).toContain(' " core-01 core-02 core-03 " ');
  });

  it("gives each node its own trigger, so one node's change replaces only that node", () => {
    const other = synthVagrant({
      nodeCount: 3,
      nodeFiles: { "core-02": [{ path: "/etc/role", contents: "db\n" }] },
    }).config.resource.null_resource as Record<string, Res>;
    const changed = ["core-01", "core-02", "core-03"].filter(
      (n) =>
        other[`vagrant_core_${n}`].triggers!.inputs !==
        resources[`vagrant_core_${n}`].triggers!.inputs,
    );
    expect(changed).toEqual(["core-02"]);
  });

  it("keeps existing nodes' triggers when the cluster grows", () => {
    const bigger = synthVagrant({ nodeCount: 5 }).config.resource.null_resource as Record<
      string,
      Res
    >;
    for (const n of ["core-01", "core-02", "core-03"]) {
      expect(bigger[`vagrant_core_${n}`].triggers).toEqual(resources[`vagrant_core_${n}`].triggers);
    }
  });
});

describe("VagrantCluster: terraform_data and libvirt variants", () => {
  it("terraform_data is the null_resource lifecycle, field for field", () => {
    const state = freshTestState();
    const asNull = JSON.stringify(
      synthVagrant({ nodeCount: 4 }, {}, tempOutdir(), state).config.resource.null_resource,
    );
    const data = synthVagrant(
      { nodeCount: 4 },
      { lifecycle: LifecycleResource.TERRAFORM_DATA },
      tempOutdir(),
      state,
    ).config.resource.terraform_data as Record<string, Res>;
    const translated = Object.fromEntries(
      Object.entries(data).map(([id, r]) => {
        const { input, triggers_replace, ...rest } = r;
        const out = JSON.stringify({ ...rest, triggers: { ...input, ...triggers_replace } })
          .replaceAll("terraform_data.", "null_resource.")
          .replaceAll("self.input.", "self.triggers.");
        return [id, JSON.parse(out)];
      }),
    );
    expect(translated).toEqual(JSON.parse(asNull));
  });

  it("terraform_data carries the same lifecycle without a provider", () => {
    const { config } = synthVagrant({}, { lifecycle: LifecycleResource.TERRAFORM_DATA });
    expect(config.provider).toBeUndefined();
    expect(config.resource.null_resource).toBeUndefined();
    const node = (config.resource.terraform_data as Record<string, Res>)["vagrant_core_core-01"];
    const generation = node.triggers_replace!.inputs;
    expect(generation).toMatch(/^[0-9a-f]{64}$/);
    expect(node.input).toEqual({ name: "core-01", dir: "vagrant/core", generation });
    expect(node.provisioner[1]["local-exec"].command).toContain(
      "then vagrant destroy -f ${self.input.name}; fi",
    );
    expect(node.provisioner[1]["local-exec"].working_dir).toBe("${self.input.dir}");
  });

  it("libvirt nodes depend only on the box and prune steps, so Terraform brings them up in parallel", () => {
    const { config, vagrant } = synthVagrant({}, { provider: VagrantProvider.LIBVIRT });
    expect(vagrant.plan.parallel).toBe(true);
    const res = config.resource.null_resource as Record<string, Res>;
    for (const n of ["core-01", "core-02", "core-03"]) {
      expect(res[`vagrant_core_${n}`].depends_on).toEqual(["null_resource.vagrant_core_prune"]);
    }
    expect(res.vagrant_core_box.provisioner[0]["local-exec"].command).toContain(
      "flatcar_production_vagrant_libvirt.box",
    );
  });
});

describe("VagrantCluster: artifacts", () => {
  const { vagrantDir } = synthVagrant(
    { nodeCount: 2, os: OperatingSystem.flatcar(FlatcarChannel.BETA), cpus: 2, memoryMiB: 2048 },
    { forwardedPorts: [{ guest: 80, host: 8080 }], serialLogging: true },
  );

  it("writes Vagrantfile, config.rb and each node's Ignition", () => {
    expect(fs.readdirSync(vagrantDir).sort()).toEqual([
      ".synthesized-files.json",
      "Vagrantfile",
      "config.rb",
      "ignition",
    ]);
    expect(fs.readdirSync(path.join(vagrantDir, "ignition")).sort()).toEqual([
      "core-01.ign",
      "core-02.ign",
    ]);
  });

  it("carries coreos-vagrant's knobs in config.rb", () => {
    const rb = fs.readFileSync(path.join(vagrantDir, "config.rb"), "utf8");
    for (const line of [
      "$num_instances = 2",
      '$instance_name_prefix = "core"',
      '$update_channel = "beta"',
      "$vm_gui = false",
      "$vm_memory = 2048",
      "$vm_cpus = 2",
      '"core-01" => "192.168.56.101"',
      "80 => 8080",
      "$enable_serial_logging = true",
      '$box_url = "https://beta.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.box"',
    ]) {
      expect(rb).toContain(line);
    }
  });
});

describe("VagrantCluster: bad input", () => {
  it.each([
    [
      "Fedora CoreOS",
      { os: OperatingSystem.fedoraCoreOs() },
      {},
      "cluster.os",
      "publishes no Vagrant box",
    ],
    [
      "network outside VirtualBox's range",
      { networkCidr: "172.17.8.0/24" },
      {},
      "cluster.networkCidr",
      "192.168.56.0/21",
    ],
    ["parallel VirtualBox", {}, { parallel: true }, "parallel", "races on box import"],
    [
      "bad port",
      {},
      { forwardedPorts: [{ guest: 0, host: 8080 }] },
      "forwardedPorts[0].guest",
      "1-65535",
    ],
    [
      "bad provider",
      {},
      { provider: "hyperv" as VagrantProvider },
      "provider",
      "virtualbox | libvirt",
    ],
    ["bad box url", {}, { boxUrl: "ftp://x" }, "boxUrl", "http(s)://"],
  ])("%s", (_l, props, options, prop, allowed) => {
    try {
      synthVagrant(props, options);
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(ClusterConfigError);
      const line = (e as Error).message.split("\n").find((l) => l.startsWith(`  - ${prop}:`));
      expect(line).toContain(allowed);
    }
  });

  it("allows other networks with libvirt", () => {
    expect(() =>
      synthVagrant({ networkCidr: "172.17.8.0/24" }, { provider: VagrantProvider.LIBVIRT }),
    ).not.toThrow();
  });
});

describeWithTool("vagrant", "vagrant", "vagrant validate on generated Vagrantfiles", () => {
  const standIns = new StandIns().addVBoxManage();
  afterAll(() => standIns.cleanup());

  function validate(dir: string, withVirtualBox = true) {
    const r = spawnSync("vagrant", ["validate"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60000,
      env: { ...process.env, PATH: withVirtualBox ? standIns.path() : process.env.PATH },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it.each([
    ["default cluster", {}, {}],
    [
      "5 nodes, beta, serial logging, ports, shared folder",
      { nodeCount: 5, os: OperatingSystem.flatcar(FlatcarChannel.BETA) },
      {
        serialLogging: true,
        forwardedPorts: [{ guest: 80, host: 8080 }],
        sharedFolders: [{ host: ".", guest: "/home/core/share" }],
      },
    ],
    ["libvirt", {}, { provider: VagrantProvider.LIBVIRT }],
  ])("%s passes with VirtualBox settings checked", (_l, props, options) => {
    const { vagrantDir } = synthVagrant(props, options);
    const r = validate(vagrantDir);
    expect(r).toEqual({ status: 0, out: expect.stringContaining("validated successfully") });
  });

  it("fails on a wrong VirtualBox setting (the check is real)", () => {
    const { vagrantDir } = synthVagrant({});
    const file = path.join(vagrantDir, "Vagrantfile");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("vb.memory =", "vb.memroy ="));
    const r = validate(vagrantDir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain("The following settings shouldn't exist: memroy");
  });

  it("keeps a machine that left config.rb defined, so it can still be destroyed", () => {
    const { vagrantDir } = synthVagrant({ nodeCount: 2 });
    fs.mkdirSync(path.join(vagrantDir, ".vagrant/machines/core-05/virtualbox"), {
      recursive: true,
    });
    const status = spawnSync("vagrant", ["status"], {
      cwd: vagrantDir,
      encoding: "utf8",
      timeout: 60000,
      env: { ...process.env, PATH: standIns.path() },
    });
    expect(status.stdout).toMatch(/core-05\s+not created/);
    expect(validate(vagrantDir).status).toBe(0);
  });
});
