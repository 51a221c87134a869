import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ClusterConfigError,
  Duration,
  FlatcarChannel,
  LifecycleResource,
  OperatingSystem,
  VagrantProvider,
} from "../lib";
import { StandIns } from "./support/stand-ins";
import { freshTestState } from "./support/state";
import { synthVagrant, tempOutdir } from "./support/synth";
import { describeWithTool } from "./support/tools";

type Provisioner = {
  "local-exec": {
    command: string;
    when?: string;
    working_dir: string;
    environment?: Record<string, string>;
  };
};
type Res = {
  depends_on?: string[];
  provisioner: Provisioner[];
  triggers?: Record<string, string>;
  input?: Record<string, string>;
  triggers_replace?: Record<string, string>;
  lifecycle?: Record<string, unknown>;
};

describe("VagrantCluster: Terraform resources (terraform_data, the default)", () => {
  const { config, vagrant } = synthVagrant({ nodeCount: 3 });
  const resources = config.resource.terraform_data as Record<string, Res>;

  it("has a box step, a prune step and one resource per node, named after the node, and no provider", () => {
    expect(Object.keys(resources).sort()).toEqual([
      "vagrant_core_box",
      "vagrant_core_core-01",
      "vagrant_core_core-02",
      "vagrant_core_core-03",
      "vagrant_core_prune",
    ]);
    expect(config.provider).toBeUndefined();
    expect(config.resource.null_resource).toBeUndefined();
    expect(vagrant.lifecycle).toBe(LifecycleResource.TERRAFORM_DATA);
  });

  it("runs vagrant up and waits for the ready check on create, vagrant destroy -f on destroy, reading only self", () => {
    const node = resources["vagrant_core_core-02"];
    expect(node.provisioner).toHaveLength(2);
    const create = node.provisioner[0]["local-exec"];
    expect(create.working_dir).toBe("vagrant/core");
    expect(create.command).toContain(
      "'vagrant' 'up' '--provider' 'virtualbox' 'core-02' || exit 1",
    );
    expect(create.command).toContain("until out=$('vagrant' 'ssh' 'core-02' '-c' ");
    expect(create.command).toContain("'core-02 did not come up within 600 s:'");
    // The generation: the resource instance that makes the machine (a replacement is a newer one).
    const generation = { COREOS_MACHINE_GENERATION: "${self.id}" };
    expect(create.environment).toEqual(generation);
    // An older generation's machine goes right before the new one comes up (create-first).
    expect(create.command).toContain(
      `if ls .vagrant/machines/'core-02'/*/id >/dev/null 2>&1 && [ "$(cat .vagrant/machines/'core-02'/coreos-generation 2>/dev/null)" != "$COREOS_MACHINE_GENERATION" ]; then echo 'core-02: replacing the machine of an older generation: vagrant destroy -f'; 'vagrant' 'destroy' '-f' 'core-02' || exit 1; fi; echo 'core-02: vagrant up (first boot + Ignition reboot, usually 1-2 min)...'; t0=$(date +%s); 'vagrant' 'up'`,
    );
    expect(node.provisioner[1]["local-exec"]).toEqual({
      // Only a machine this generation made: not one a newer generation replaced, not a pruned one.
      command: `if ls .vagrant/machines/'\${self.input.name}'/*/id >/dev/null 2>&1 && { [ ! -e .vagrant/machines/'\${self.input.name}'/coreos-generation ] || [ "$(cat .vagrant/machines/'\${self.input.name}'/coreos-generation)" = "$COREOS_MACHINE_GENERATION" ]; }; then echo '\${self.input.name}: vagrant destroy -f'; vagrant destroy -f '\${self.input.name}'; fi`,
      when: "destroy",
      working_dir: "${self.input.dir}",
      environment: generation,
    });
    expect(node.input).toEqual({ name: "core-02", dir: "vagrant/core" });
    expect(node.triggers_replace!.inputs).toMatch(/^[0-9a-f]{64}$/);
    // Create-first: the old resource is dropped after the new machine is up.
    expect(node.lifecycle).toEqual({ create_before_destroy: true });
  });

  it("brings VirtualBox nodes up one at a time, after the box and the prune step", () => {
    expect(resources.vagrant_core_prune.depends_on).toEqual(["terraform_data.vagrant_core_box"]);
    expect(resources["vagrant_core_core-01"].depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
    ]);
    expect(resources["vagrant_core_core-03"].depends_on).toEqual([
      "terraform_data.vagrant_core_prune",
      "terraform_data.vagrant_core_core-02",
    ]);
  });

  it("prunes when the node list changes: scale-down cannot rely on destroy-time provisioners", () => {
    const prune = resources.vagrant_core_prune;
    expect(prune.input).toEqual({ dir: "vagrant/core" });
    expect(prune.triggers_replace).toEqual({ inputs: "core-01 core-02 core-03" });
    expect(prune.provisioner).toHaveLength(1);
    expect(prune.provisioner[0]["local-exec"].command).toContain(
      `case "$m" in 'core-01'|'core-02'|'core-03') ;;`,
    );
  });

  it("gives each node its own trigger, so one node's change replaces only that node", () => {
    const other = synthVagrant({
      nodeCount: 3,
      nodeFiles: { "core-02": [{ path: "/etc/role", contents: "db\n" }] },
    }).config.resource.terraform_data as Record<string, Res>;
    const changed = ["core-01", "core-02", "core-03"].filter(
      (n) =>
        other[`vagrant_core_${n}`].triggers_replace!.inputs !==
        resources[`vagrant_core_${n}`].triggers_replace!.inputs,
    );
    expect(changed).toEqual(["core-02"]);
  });

  it("keeps existing nodes' triggers when the cluster grows", () => {
    const bigger = synthVagrant({ nodeCount: 5 }).config.resource.terraform_data as Record<
      string,
      Res
    >;
    for (const n of ["core-01", "core-02", "core-03"]) {
      expect(bigger[`vagrant_core_${n}`].triggers_replace).toEqual(
        resources[`vagrant_core_${n}`].triggers_replace,
      );
    }
  });
});

describe("VagrantCluster: null_resource, one prop away", () => {
  it("is the terraform_data lifecycle, field for field, with hashicorp/null's provider", () => {
    // One state folder: core-04's certificates (not in the fixture) are the same in both.
    const state = freshTestState();
    const nulls = synthVagrant(
      { nodeCount: 4 },
      { lifecycle: LifecycleResource.NULL_RESOURCE },
      tempOutdir(),
      state,
    );
    expect(nulls.config.provider).toEqual({ null: [{}] });
    expect(nulls.config.resource.terraform_data).toBeUndefined();
    const data = synthVagrant({ nodeCount: 4 }, {}, tempOutdir(), state).config.resource
      .terraform_data as Record<string, Res>;
    const translated = Object.fromEntries(
      Object.entries(data).map(([id, r]) => {
        const { input, triggers_replace, ...rest } = r;
        const out = JSON.stringify({ ...rest, triggers: { ...input, ...triggers_replace } })
          .replaceAll("terraform_data.", "null_resource.")
          .replaceAll("self.input.", "self.triggers.");
        return [id, JSON.parse(out)];
      }),
    );
    expect(translated).toEqual(nulls.config.resource.null_resource);
  });

  it("without @cdktf/provider-null installed, says which package to install", () => {
    jest.isolateModules(() => {
      jest.doMock("@cdktf/provider-null/lib/resource", () => {
        throw Object.assign(new Error("Cannot find module '@cdktf/provider-null/lib/resource'"), {
          code: "MODULE_NOT_FOUND",
        });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const lib = require("../lib") as typeof import("../lib");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const cdktf = require("cdktf") as typeof import("cdktf");
      const app = cdktf.Testing.app();
      const stack = new cdktf.TerraformStack(app, "s");
      const cluster = new lib.CoreOsCluster(stack, "core", {});
      expect(() => new lib.VagrantCluster(stack, "default", { cluster })).not.toThrow();
      const stack2 = new cdktf.TerraformStack(app, "s2");
      const cluster2 = new lib.CoreOsCluster(stack2, "core", {});
      expect(
        () =>
          new lib.VagrantCluster(stack2, "local", {
            cluster: cluster2,
            lifecycle: lib.LifecycleResource.NULL_RESOURCE,
          }),
      ).toThrow(
        /lifecycle: got "null_resource"; allowed: terraform_data \(the default, built into Terraform\), or null_resource with the package @cdktf\/provider-null installed \(npm install @cdktf\/provider-null\)/,
      );
    });
    jest.dontMock("@cdktf/provider-null/lib/resource");
  });

  it("the default lifecycle never loads @cdktf/provider-null (plain Node, no jest)", () => {
    const script = [
      'require("ts-node").register({ transpileOnly: true });',
      'const fs = require("fs");',
      'const { App, TerraformStack } = require("cdktf");',
      'const { CoreOsCluster, VagrantCluster } = require("./lib");',
      'const app = new App({ outdir: fs.mkdtempSync(require("os").tmpdir() + "/lazy-") });',
      'const stack = new TerraformStack(app, "s");',
      'new VagrantCluster(stack, "local", { cluster: new CoreOsCluster(stack, "core", {}) });',
      "app.synth();",
      "fs.rmSync(app.outdir, { recursive: true, force: true });",
      'const loaded = Object.keys(require.cache).filter((k) => k.includes("provider-null"));',
      "console.log(JSON.stringify(loaded));",
    ].join("\n");
    const r = spawnSync(process.execPath, ["-e", script], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      timeout: 120_000,
      // The cluster's etcd certificates go to a test state folder, not the project's.
      env: { ...process.env, COREOS_CLUSTER_STATE_DIR: freshTestState() },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("[]");
  });
});

describe("VagrantCluster: terraform version is checked once per stack, not per resource", () => {
  it("runs `terraform version` once while synthesizing 40 nodes in two Vagrant clusters", () => {
    // Plain Node (jest's process.env does not reach child processes); a recording terraform.
    const standIns = new StandIns();
    const log = path.join(standIns.bin, "terraform-calls");
    fs.writeFileSync(
      path.join(standIns.bin, "terraform"),
      `#!/bin/sh\necho "$*" >> ${log}\necho "Terraform v1.11.0"\n`,
      { mode: 0o755 },
    );
    const script = [
      'require("ts-node").register({ transpileOnly: true });',
      'const fs = require("fs");',
      'const { App, TerraformStack } = require("cdktf");',
      'const { CoreOsCluster, VagrantCluster } = require("./lib");',
      'const app = new App({ outdir: fs.mkdtempSync(require("os").tmpdir() + "/tfv-") });',
      'const stack = new TerraformStack(app, "s");',
      'for (const [name, first] of [["one", 101], ["two", 201]]) {',
      "  const cluster = new CoreOsCluster(stack, name, { nodeCount: 20, firstHostNumber: first });",
      "  new VagrantCluster(stack, `${name}-local`, { cluster });",
      "}",
      "app.synth();",
      "fs.rmSync(app.outdir, { recursive: true, force: true });",
    ].join("\n");
    try {
      const r = spawnSync(process.execPath, ["-e", script], {
        cwd: path.join(__dirname, ".."),
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, PATH: standIns.path(), COREOS_CLUSTER_STATE_DIR: freshTestState() },
      });
      expect(r.stderr).toBe("");
      expect(fs.readFileSync(log, "utf8")).toBe("version\n");
    } finally {
      standIns.cleanup();
    }
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
      '$box_name = "flatcar-beta"',
      '$box_url = "https://beta.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json"',
      '$provider = "virtualbox"',
      '$netmask = "255.255.248.0"',
    ]) {
      expect(rb).toContain(line);
    }
  });

  it("gives the private network the cluster network's netmask, not Vagrant's /24", () => {
    const narrow = synthVagrant({ networkCidr: "192.168.57.0/25", firstHostNumber: 10 });
    const rb = fs.readFileSync(path.join(narrow.vagrantDir, "config.rb"), "utf8");
    expect(rb).toContain('$netmask = "255.255.255.128"');
    const vagrantfile = fs.readFileSync(path.join(vagrantDir, "Vagrantfile"), "utf8");
    expect(vagrantfile).toContain("node.vm.network :private_network, ip: ip, netmask: $netmask");
  });

  it("applies Ignition on a reboot Vagrant itself performs and waits for; needs Vagrant >= 2.2.5", () => {
    const vagrantfile = fs.readFileSync(path.join(vagrantDir, "Vagrantfile"), "utf8");
    expect(vagrantfile).toContain('Vagrant.require_version ">= 2.2.5"');
    expect(vagrantfile).toContain(
      "node.vm.provision :shell, privileged: true, reboot: true, inline:",
    );
    expect(vagrantfile).toContain("touch /boot/flatcar/first_boot");
    expect(vagrantfile).not.toMatch(/nohup|systemctl reboot|libvirt/);
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
    [
      "libvirt (no Flatcar box; path not verified)",
      {},
      { provider: VagrantProvider.LIBVIRT },
      "provider",
      "virtualbox: libvirt is not supported yet (Flatcar publishes Vagrant boxes for VirtualBox only",
    ],
    ["bad box url", {}, { boxUrl: "ftp://x" }, "boxUrl", "http(s)://"],
    [
      "box url with a space",
      {},
      { boxUrl: "https://example.com/a.box; touch x", boxName: "mine" },
      "boxUrl",
      "without spaces",
    ],
    ["box name like an option", {}, { boxName: "--insecure" }, "boxName", "starting with a letter"],
    [
      "box name Flatcar's metadata does not declare",
      {},
      { boxName: "my-flatcar" },
      "boxName",
      `"flatcar-stable", the name Flatcar's box metadata declares (set boxUrl for a box of your own)`,
    ],
    [
      "ready timeout of 0",
      {},
      { readyTimeout: Duration.seconds(0) },
      "readyTimeout",
      "1 s to 24 h",
    ],
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

  it("accepts a box of the user's own under any name", () => {
    const { vagrant } = synthVagrant(
      {},
      { boxName: "acme/flatcar", boxUrl: "file:///srv/boxes/flatcar.json" },
    );
    expect([vagrant.plan.boxName, vagrant.plan.boxUrl]).toEqual([
      "acme/flatcar",
      "file:///srv/boxes/flatcar.json",
    ]);
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
    ["a box of one's own", {}, { boxName: "acme/flatcar", boxUrl: "https://boxes.example/f.json" }],
  ])("%s passes with VirtualBox settings checked", (_l, props, options) => {
    const { vagrantDir } = synthVagrant(props, options);
    const r = validate(vagrantDir);
    expect(r).toEqual({ status: 0, out: expect.stringContaining("validated successfully") });
    // Serial logging: the Vagrantfile creates log/ before VirtualBox writes into it.
    const serial = (options as { serialLogging?: boolean }).serialLogging === true;
    expect(fs.existsSync(path.join(vagrantDir, "log"))).toBe(serial);
  });

  it.each([
    ["a wrong VirtualBox setting", "vb.memory =", "vb.memroy =", "shouldn't exist: memroy"],
    ["a misspelt provisioner option (reboot)", "reboot: true", "rebot: true", "rebot"],
  ])("fails on %s (the check is real)", (_l, good, bad, complaint) => {
    const { vagrantDir } = synthVagrant({});
    const file = path.join(vagrantDir, "Vagrantfile");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(good, bad));
    const r = validate(vagrantDir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(complaint);
  });

  it("evaluates hostile strings in config.rb as plain strings (nothing runs)", () => {
    const { vagrantDir } = synthVagrant(
      { sshPublicKeys: [] },
      {
        boxName: "acme/flatcar",
        boxUrl: "https://example.com/a.box#{system('touch','pwned')}\"+`touch${IFS}pwned2`+\"",
        sharedFolders: [
          { host: "./#{system('touch','pwned3')}", guest: "/home/core/#{`touch pwned4`}" },
        ],
      },
    );
    // The shared folder exists under its literal name: Ruby read the name as text.
    fs.mkdirSync(path.join(vagrantDir, "#{system('touch','pwned3')}"));
    expect(validate(vagrantDir)).toEqual({
      status: 0,
      out: expect.stringContaining("validated successfully"),
    });
    expect(fs.readdirSync(vagrantDir).filter((f) => f.startsWith("pwned"))).toEqual([]);
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
