import * as fs from "node:fs";
import * as path from "node:path";
import {
  CoreOsClusterProps,
  LifecycleResource,
  VagrantClusterProps,
  VagrantProvider,
} from "../lib";
import { flatcarBoxUrl } from "../lib/vagrant/plan";
import { StandIns } from "./support/stand-ins";
import { stateFor } from "./support/state";
import { synthVagrant, tempOutdir } from "./support/synth";
import { terraformOk, TERRAFORM_RELEASE } from "./support/terraform";
import { describeWithTool } from "./support/tools";

/*
 * Real Terraform applies the synthesized stack, step by step, the way a user
 * runs `cdktf deploy` after editing main.ts. The hypervisor cannot run here,
 * so `vagrant` is a stand-in that records its arguments: the test proves
 * which Vagrant commands Terraform runs, for which nodes and in which order,
 * not that machines boot. hashicorp/null cannot be downloaded here, so this
 * runs the terraform_data variant; vagrant.test.ts checks that null_resource
 * has the same shape.
 */

describeWithTool("terraform", TERRAFORM_RELEASE, "Terraform drives Vagrant", () => {
  jest.setTimeout(120_000);

  const standIns = new StandIns().addRecordingVagrant();
  const outdir = tempOutdir();
  let stackDir = "";
  let vagrantDir = "";
  afterAll(() => {
    standIns.cleanup();
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  function synth(props: CoreOsClusterProps, options: Omit<VagrantClusterProps, "cluster"> = {}) {
    ({ stackDir, vagrantDir } = synthVagrant(
      props,
      { lifecycle: LifecycleResource.TERRAFORM_DATA, ...options },
      outdir,
    ));
  }

  const terraform = (...args: string[]) => terraformOk(args, stackDir, { PATH: standIns.path() });

  const apply = () => terraform("apply", "-auto-approve", "-no-color");
  const up = (node: string) => `up --provider virtualbox ${node}`;
  const destroy = (node: string) => `destroy -f ${node}`;
  const changedCore02 = {
    nodeFiles: { "core-02": [{ path: "/etc/motd.d/role.conf", contents: "canary\n" }] },
  };

  it("init needs no provider download", () => {
    synth({ nodeCount: 3 });
    expect(terraform("init", "-no-color")).toContain("Terraform has been successfully initialized");
    expect(standIns.takeVagrantCalls()).toEqual([]);
  });

  it("apply: the box once, then each node up, one at a time, in order", () => {
    expect(apply()).toContain("Resources: 5 added, 0 changed, 0 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([
      "box list",
      `box add --name flatcar-stable --provider virtualbox ${flatcarBoxUrl("stable", VagrantProvider.VIRTUALBOX)}`,
      up("core-01"),
      up("core-02"),
      up("core-03"),
    ]);
  });

  it("apply again with nothing changed runs nothing", () => {
    expect(apply()).toContain("Resources: 0 added, 0 changed, 0 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([]);
  });

  it("scale 3 → 5 creates only the two new nodes", () => {
    synth({ nodeCount: 5 });
    expect(apply()).toContain("Resources: 3 added, 0 changed, 1 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([up("core-04"), up("core-05")]);
  });

  it("scale 5 → 3 destroys only the two extra nodes", () => {
    synth({ nodeCount: 3 });
    const plan = terraform("plan", "-no-color");
    expect(plan).toContain("terraform_data.vagrant_core_core-04 will be destroyed");
    expect(plan).toContain("terraform_data.vagrant_core_core-05 will be destroyed");
    expect(plan).toContain("terraform_data.vagrant_core_prune must be replaced");
    expect(plan).toContain("Plan: 1 to add, 0 to change, 3 to destroy.");
    expect(apply()).toContain("Resources: 1 added, 0 changed, 3 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([destroy("core-04"), destroy("core-05")]);
    expect(fs.readdirSync(path.join(vagrantDir, ".vagrant/machines")).sort()).toEqual([
      "core-01",
      "core-02",
      "core-03",
    ]);
  });

  it("plan shows a change to one node's config as a replacement of that node only", () => {
    synth({ nodeCount: 3, ...changedCore02 });
    const plan = terraform("plan", "-no-color");
    expect(plan).toContain("terraform_data.vagrant_core_core-02 must be replaced");
    expect(plan).not.toMatch(/vagrant_core_core-0[13] must be replaced/);
    expect(plan).toContain("Plan: 1 to add, 0 to change, 1 to destroy.");
    expect(standIns.takeVagrantCalls()).toEqual([]);
  });

  it("apply re-provisions only that node", () => {
    expect(apply()).toContain("Resources: 1 added, 0 changed, 1 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([destroy("core-02"), up("core-02")]);
  });

  it("a change to every node's config replaces them one at a time, in order", () => {
    synth({ nodeCount: 3, files: [{ path: "/etc/motd", contents: "version 2\n" }] });
    const plan = terraform("plan", "-no-color");
    for (const n of ["core-01", "core-02", "core-03"]) {
      // Create-first replacement: the create step replaces the machine itself.
      expect(plan).toContain(`terraform_data.vagrant_core_${n} must be replaced`);
    }
    expect(plan).toContain("Plan: 3 to add, 0 to change, 3 to destroy.");
    expect(apply()).toContain("Resources: 3 added, 0 changed, 3 destroyed.");
    // Each machine goes and comes back before the next one goes: never two down at once.
    expect(standIns.takeVagrantCalls()).toEqual([
      destroy("core-01"),
      up("core-01"),
      destroy("core-02"),
      up("core-02"),
      destroy("core-03"),
      up("core-03"),
    ]);
  });

  it("renaming the nodes destroys the old machines before the new ones come up", () => {
    // New names are a new etcd cluster: the state folder's membership record goes first.
    fs.rmSync(path.join(stateFor(outdir), "test", "core", "etcd-membership.json"));
    synth({ nodeCount: 3, namePrefix: "node" });
    expect(apply()).toContain("Resources: 4 added, 0 changed, 4 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([
      destroy("core-01"),
      destroy("core-02"),
      destroy("core-03"),
      up("node-01"),
      up("node-02"),
      up("node-03"),
    ]);
  });

  it("destroy takes the nodes down in reverse order and leaves the box", () => {
    expect(terraform("destroy", "-auto-approve", "-no-color")).toContain("Resources: 5 destroyed.");
    expect(standIns.takeVagrantCalls()).toEqual([
      destroy("node-03"),
      destroy("node-02"),
      destroy("node-01"),
    ]);
  });

  it("libvirt: nodes come up in parallel, all after the box", () => {
    // The destroyed cluster's membership record goes with it before another cluster is made.
    fs.rmSync(path.join(stateFor(outdir), "test", "core", "etcd-membership.json"));
    synth({ nodeCount: 4 }, { provider: VagrantProvider.LIBVIRT });
    terraform("init", "-no-color");
    expect(apply()).toContain("Resources: 6 added, 0 changed, 0 destroyed.");
    const calls = standIns.takeVagrantCalls();
    expect(calls.slice(0, 2)).toEqual([
      "box list",
      `box add --name flatcar-stable --provider libvirt ${flatcarBoxUrl("stable", VagrantProvider.LIBVIRT)}`,
    ]);
    expect(calls.slice(2).sort()).toEqual(
      ["core-01", "core-02", "core-03", "core-04"].map((n) => `up --provider libvirt ${n}`),
    );
    terraform("destroy", "-auto-approve", "-no-color");
    expect(standIns.takeVagrantCalls().sort()).toEqual(
      ["core-01", "core-02", "core-03", "core-04"].map(destroy),
    );
  });
});
