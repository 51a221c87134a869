import * as fs from "node:fs";
import * as path from "node:path";
import { CoreOsClusterProps, Duration } from "../lib";
import { flatcarBoxUrl } from "../lib/vagrant/plan";
import { StandIns } from "./support/stand-ins";
import { stateFor } from "./support/state";
import { synthVagrant, tempOutdir } from "./support/synth";
import { runTerraform, terraformOk, TERRAFORM_RELEASE } from "./support/terraform";
import { describeWithTool } from "./support/tools";

/*
 * Real Terraform applies the synthesized stack (default lifecycle:
 * terraform_data, no provider), step by step, the way a user runs
 * `cdktf deploy` after editing main.ts. The hypervisor cannot run here, so
 * `vagrant` is a stand-in that records its exact arguments and answers the
 * ready check (`vagrant ssh <m> -c …`) as told: the test proves which Vagrant
 * commands Terraform runs, for which machines, in which order, and when a
 * deploy stops — not that machines boot (the ready check itself is proved
 * in ready-check.test.ts, the Ignition it relies on in enabled-units.test.ts).
 * VBoxManage is a stand-in too: the deploy checks that VirtualBox is there.
 */

const BOX_URL = flatcarBoxUrl("stable");
const READY = "/opt/bin/coreos-cluster-ready";
const remoteCheck = (m: string) =>
  `if [ -x ${READY} ]; then ${READY}; else echo '${m}: Ignition config not applied (no ${READY})'; exit 1; fi`;
const up = (m: string) => [
  ["up", "--provider", "virtualbox", m],
  ["ssh", m, "-c", remoteCheck(m)],
];
const destroy = (m: string) => [["destroy", "-f", m]];
const boxAdd = ["box", "add", "--name", "flatcar-stable", "--provider", "virtualbox", BOX_URL];

/*
 * What a deploy says while it works, as Terraform prints it
 * (`terraform_data.<resource> (local-exec): <line>`): per machine what it
 * does, how long the slow steps usually take and how long they took.
 */
const said = (resource: string, line: string | RegExp) =>
  new RegExp(
    `terraform_data\\.vagrant_core_${resource} \\(local-exec\\): ${typeof line === "string" ? line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : line.source}`,
  );
const upSaid = (m: string) =>
  said(m, `${m}: vagrant up (first boot + Ignition reboot, usually 1-2 min)...`);
const memberReady = (m: string) => [
  said(
    m,
    /\S+: up in \d+ s; waiting for etcd \(member; usually under 1 min, its image pulled first; at most 600 s\)\.\.\./,
  ),
  said(m, new RegExp(`${m}: etcd joined in \\d+ s`)),
];
/** Where `pattern` first matches in `text` (-1: nowhere). */
const at = (text: string, pattern: RegExp) => text.search(pattern);

/** One Terraform working folder with its stand-ins; synth, then terraform, as a user would. */
function environment() {
  const standIns = new StandIns().addVBoxManage().addRecordingVagrant();
  const outdir = tempOutdir();
  let stackDir = "";
  let vagrantDir = "";
  return {
    standIns,
    /** The test state folder of this working folder (etcd certificates, membership record). */
    stateDir: stateFor(outdir),
    get vagrantDir() {
      return vagrantDir;
    },
    synth(props: CoreOsClusterProps, options: Parameters<typeof synthVagrant>[1] = {}) {
      ({ stackDir, vagrantDir } = synthVagrant(props, options, outdir));
    },
    terraform(args: string[], PATH = standIns.path()) {
      return runTerraform(args, stackDir, { PATH });
    },
    ok(...args: string[]) {
      return terraformOk(args, stackDir, { PATH: standIns.path() });
    },
    state(): string[] {
      const r = runTerraform(["state", "list"], stackDir);
      return r.output.split("\n").filter((l) => /^terraform_data\./.test(l));
    },
    cleanup() {
      standIns.cleanup();
      fs.rmSync(outdir, { recursive: true, force: true });
    },
  };
}

describeWithTool("terraform", TERRAFORM_RELEASE, "Terraform drives Vagrant", () => {
  jest.setTimeout(180_000);
  let env: ReturnType<typeof environment>;
  beforeAll(() => {
    env = environment();
  });
  afterAll(() => env?.cleanup());
  const apply = () => env.ok("apply", "-auto-approve", "-no-color");
  const calls = () => env.standIns.takeVagrantCalls();
  const changedCore02 = {
    nodeFiles: { "core-02": [{ path: "/etc/motd.d/role.conf", contents: "canary\n" }] },
  };

  it("init needs no provider download", () => {
    env.synth({ nodeCount: 3 });
    expect(env.ok("init", "-no-color")).toContain("Terraform has been successfully initialized");
    expect(calls()).toEqual([]);
  });

  it("apply: the box once, then each node up and ready, one at a time, in order, saying so", () => {
    const out = apply();
    expect(out).toContain("Resources: 5 added, 0 changed, 0 destroyed.");
    expect(out).toMatch(
      said(
        "box",
        "cluster core: 3 nodes come up one at a time, usually 1-2 min each, once the box is there",
      ),
    );
    expect(out).toMatch(
      said(
        "box",
        `flatcar-stable (virtualbox): adding the box from ${BOX_URL} (a download of a few hundred MB, once per channel; usually 1-5 min)...`,
      ),
    );
    expect(out).toMatch(said("box", /flatcar-stable \(virtualbox\): box added in \d+ s/));
    const order = ["core-01", "core-02", "core-03"].flatMap((m) => [upSaid(m), ...memberReady(m)]);
    const where = order.map((p) => at(out, p));
    expect(where.every((w) => w >= 0)).toBe(true);
    expect([...where].sort((a, b) => a - b)).toEqual(where);
    expect(calls()).toEqual([
      ["box", "list"],
      boxAdd,
      ...up("core-01"),
      ...up("core-02"),
      ...up("core-03"),
    ]);
  });

  it("apply again with nothing changed runs nothing", () => {
    expect(apply()).toContain("Resources: 0 added, 0 changed, 0 destroyed.");
    expect(calls()).toEqual([]);
  });

  it("scale 3 → 5 creates only the two new nodes (etcd clients: they wait to reach the members)", () => {
    env.synth({ nodeCount: 5 });
    const out = apply();
    expect(out).toContain("Resources: 3 added, 0 changed, 1 destroyed.");
    for (const m of ["core-04", "core-05"]) {
      expect(out).toMatch(
        said(
          m,
          /\S+: up in \d+ s; waiting for etcd \(client reaching the members; usually under 30 s; at most 600 s\)\.\.\./,
        ),
      );
      expect(out).toMatch(said(m, new RegExp(`${m}: etcd reachable in \\d+ s`)));
    }
    expect(calls()).toEqual([...up("core-04"), ...up("core-05")]);
  });

  it("scale 5 → 3 destroys only the two extra nodes", () => {
    env.synth({ nodeCount: 3 });
    const plan = env.ok("plan", "-no-color");
    expect(plan).toContain("terraform_data.vagrant_core_core-04 will be destroyed");
    expect(plan).toContain("terraform_data.vagrant_core_core-05 will be destroyed");
    expect(plan).toContain("terraform_data.vagrant_core_prune must be replaced");
    expect(plan).toContain("Plan: 1 to add, 0 to change, 3 to destroy.");
    const out = apply();
    expect(out).toContain("Resources: 1 added, 0 changed, 3 destroyed.");
    for (const m of ["core-04", "core-05"]) {
      expect(out).toMatch(
        said("prune", `${m}: no longer a machine of this cluster: vagrant destroy -f`),
      );
    }
    expect(calls()).toEqual([...destroy("core-04"), ...destroy("core-05")]);
    expect(fs.readdirSync(path.join(env.vagrantDir, ".vagrant/machines")).sort()).toEqual([
      "core-01",
      "core-02",
      "core-03",
    ]);
  });

  it("plan shows a change to one node's config as a replacement of that node only", () => {
    env.synth({ nodeCount: 3, ...changedCore02 });
    const plan = env.ok("plan", "-no-color");
    expect(plan).toContain("terraform_data.vagrant_core_core-02 must be replaced");
    expect(plan).not.toMatch(/vagrant_core_core-0[13] must be replaced/);
    expect(plan).toContain("Plan: 1 to add, 0 to change, 1 to destroy.");
    expect(calls()).toEqual([]);
  });

  it("apply re-provisions only that node: its old machine goes, the new one comes up and is waited for", () => {
    const out = apply();
    expect(out).toContain("Resources: 1 added, 0 changed, 1 destroyed.");
    expect(out).toMatch(
      said("core-02", "core-02: replacing the machine of an older generation: vagrant destroy -f"),
    );
    expect(at(out, /core-02: replacing/)).toBeLessThan(at(out, upSaid("core-02")));
    expect(calls()).toEqual([...destroy("core-02"), ...up("core-02")]);
  });

  it("a change to every node's config replaces them one at a time, each after the previous one is ready", () => {
    env.standIns.setVagrantBehaviour({ readyAfterSeconds: { "core-01": 3, "core-02": 3 } });
    env.synth({ nodeCount: 3, files: [{ path: "/etc/motd", contents: "version 2\n" }] });
    const plan = env.ok("plan", "-no-color");
    for (const n of ["core-01", "core-02", "core-03"]) {
      // Create-first replacement: the create step replaces the machine itself.
      expect(plan).toContain(
        `terraform_data.vagrant_core_${n} must be replaced\n+/- resource "terraform_data"`,
      );
    }
    expect(plan).toContain("Plan: 3 to add, 0 to change, 3 to destroy.");
    expect(apply()).toContain("Resources: 3 added, 0 changed, 3 destroyed.");
    // Each machine goes, comes back and passes its ready check (polled until it does) before
    // the next one goes: never two down at once. The old resources' destroy steps leave the
    // new machines alone (no further destroy).
    const made = calls();
    const checks = (m: string) => made.filter((c) => c[0] === "ssh" && c[1] === m).length;
    expect(checks("core-01")).toBeGreaterThan(1);
    expect(checks("core-02")).toBeGreaterThan(1);
    const polled = (m: string) => Array(checks(m)).fill(up(m)[1]);
    expect(made).toEqual([
      ...destroy("core-01"),
      up("core-01")[0],
      ...polled("core-01"),
      ...destroy("core-02"),
      up("core-02")[0],
      ...polled("core-02"),
      ...destroy("core-03"),
      ...up("core-03"),
    ]);
    env.standIns.setVagrantBehaviour({ readyAfterSeconds: {} });
  });

  it("a node tainted after a failed ready wait is made anew by the next deploy, and kept", () => {
    env.ok("taint", "terraform_data.vagrant_core_core-03");
    expect(apply()).toContain("Resources: 1 added, 0 changed, 1 destroyed.");
    // The new resource replaces the machine the tainted one made; the tainted one's destroy
    // step finds a newer generation there and leaves it.
    expect(calls()).toEqual([...destroy("core-03"), ...up("core-03")]);
    expect(
      fs.existsSync(path.join(env.vagrantDir, ".vagrant/machines/core-03/virtualbox/id")),
    ).toBe(true);
  });

  it("renaming the nodes destroys the old machines before the new ones come up", () => {
    // New names are a new etcd cluster: the state folder's membership record goes first.
    fs.rmSync(path.join(env.stateDir, "test", "core", "etcd-membership.json"));
    env.synth({ nodeCount: 3, namePrefix: "node" });
    expect(apply()).toContain("Resources: 4 added, 0 changed, 4 destroyed.");
    expect(calls()).toEqual([
      ...destroy("core-01"),
      ...destroy("core-02"),
      ...destroy("core-03"),
      ...up("node-01"),
      ...up("node-02"),
      ...up("node-03"),
    ]);
  });

  it("destroy takes the nodes down in reverse order and leaves the box", () => {
    const out = env.ok("destroy", "-auto-approve", "-no-color");
    expect(out).toContain("Resources: 5 destroyed.");
    for (const m of ["node-01", "node-02", "node-03"]) {
      expect(out).toMatch(said(m, `${m}: vagrant destroy -f`));
    }
    expect(calls()).toEqual([...destroy("node-03"), ...destroy("node-02"), ...destroy("node-01")]);
  });
});

describeWithTool(
  "terraform",
  TERRAFORM_RELEASE,
  "a deploy fails fast and finishes honestly",
  () => {
    jest.setTimeout(180_000);
    let env: ReturnType<typeof environment>;
    beforeEach(() => {
      env = environment();
    });
    afterEach(() => env?.cleanup());
    const deploy = (PATH?: string) => env.terraform(["apply", "-auto-approve", "-no-color"], PATH);
    /** Only the first step ran, and failed: no vagrant call, no machine; the next deploy retries it. */
    const expectNothingCreated = () => {
      expect(calls(env)).toEqual([]);
      expect(env.state()).toEqual(["terraform_data.vagrant_core_box"]);
      expect(env.ok("plan", "-no-color")).toContain(
        "terraform_data.vagrant_core_box is tainted, so must be replaced",
      );
    };

    it.each([
      [
        "vagrant",
        "vagrant not found on PATH: install Vagrant >= 2.2.5 (https://developer.hashicorp.com/vagrant/install)",
      ],
      [
        "VBoxManage",
        "VirtualBox not found (no VBoxManage on PATH): install VirtualBox >= 6.1.28 (https://www.virtualbox.org/wiki/Downloads)",
      ],
    ])("without %s, it says what to install and creates nothing", (missing, message) => {
      env.synth({ nodeCount: 2 });
      env.ok("init", "-no-color");
      const r = deploy(env.standIns.pathWithout(missing));
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(message);
      expectNothingCreated();
    });

    it("finds the box for the provider and does not add it again", () => {
      env.standIns.setVagrantBehaviour({
        boxes: ["flatcar-stable (parallels, 3975.2.0)", "flatcar-stable (virtualbox, 3975.2.0)"],
      });
      env.synth({ nodeCount: 1 });
      env.ok("init", "-no-color");
      expect(deploy().status).toBe(0);
      expect(calls(env)).toEqual([["box", "list"], ...up("core-01")]);
    });

    it("adds the box when only another provider's is there", () => {
      env.standIns.setVagrantBehaviour({ boxes: ["flatcar-stable (parallels, 3975.2.0)"] });
      env.synth({ nodeCount: 1 });
      env.ok("init", "-no-color");
      expect(deploy().status).toBe(0);
      expect(calls(env).slice(0, 2)).toEqual([["box", "list"], boxAdd]);
    });

    it("a node that becomes ready only after a while: the deploy waits for it", () => {
      env.standIns.setVagrantBehaviour({ readyAfterSeconds: { "core-02": 3 } });
      env.synth({ nodeCount: 3 });
      env.ok("init", "-no-color");
      const r = deploy();
      expect(r.output).toContain("Resources: 5 added, 0 changed, 0 destroyed.");
      // The stand-in answers 3 s after its vagrant up; the wait says how long it took.
      expect(r.output).toMatch(said("core-02", /core-02: etcd joined in ([2-9]|\d\d+) s/));
      const sequence = calls(env).map((c) => `${c[0]} ${c[1] === "--provider" ? c[3] : c[1]}`);
      const core02Checks = sequence.filter((c) => c === "ssh core-02").length;
      expect(core02Checks).toBeGreaterThan(1);
      // core-03 comes up only once core-02 passed its check.
      expect(sequence.slice(2)).toEqual([
        "up core-01",
        "ssh core-01",
        "up core-02",
        ...Array(core02Checks).fill("ssh core-02"),
        "up core-03",
        "ssh core-03",
      ]);
    });

    it("a node that never becomes ready fails the deploy within the bound, naming it and what is not up", () => {
      env.standIns.setVagrantBehaviour({ readyAfterSeconds: { "core-02": "never" } });
      env.synth({ nodeCount: 3 }, { readyTimeout: Duration.seconds(4) });
      env.ok("init", "-no-color");
      const r = deploy();
      expect(r.status).not.toBe(0);
      expect(r.output).toContain("core-02 did not come up within 4 s:");
      // While it waits it says, every quarter of the bound, what is not up yet.
      expect(r.output).toMatch(
        said(
          "core-02",
          /core-02: still waiting after \d+ s: core-02: etcd member not healthy \(stand-in machine, not ready yet\)/,
        ),
      );
      expect(r.output).toContain("core-02: etcd member not healthy");
      const made = calls(env);
      expect(made).toContainEqual(["up", "--provider", "virtualbox", "core-02"]);
      expect(made).not.toContainEqual(["up", "--provider", "virtualbox", "core-03"]);
      expect(env.state()).toContain("terraform_data.vagrant_core_core-01");
      // The failed node is tainted: the next deploy replaces it.
      expect(env.ok("plan", "-no-color")).toContain(
        "terraform_data.vagrant_core_core-02 is tainted, so must be replaced",
      );
    });

    it("front machines: up, waiting for HAProxy, then haproxy.cfg installed and reloaded, each said", () => {
      env.standIns.setVagrantBehaviour({ boxes: ["flatcar-stable (virtualbox, 3975.2.0)"] });
      env.synth({ nodeCount: 1 }, { front: true });
      env.ok("init", "-no-color");
      const r = deploy();
      expect(r.status).toBe(0);
      expect(r.output).toMatch(
        said(
          "box",
          "cluster core: 1 node and 2 front machines come up one at a time, usually 1-2 min each, once the box is there",
        ),
      );
      expect(r.output).toMatch(said("box", "flatcar-stable (virtualbox): box already added"));
      for (const m of ["front-01", "front-02"]) {
        expect(r.output).toMatch(
          said(
            m,
            /\S+: up in \d+ s; waiting for the front \(HAProxy and keepalived; usually under 1 min, their images pulled first; at most 600 s\)\.\.\./,
          ),
        );
        expect(r.output).toMatch(said(m, new RegExp(`${m}: HAProxy answering in \\d+ s`)));
        expect(r.output).toMatch(
          said(
            `${m}-config`,
            `${m}: installing front/haproxy.cfg and reloading HAProxy (open connections finish)...`,
          ),
        );
      }
    });

    it("a failed vagrant up fails the deploy with Vagrant's message", () => {
      const message =
        "Timed out while waiting for the machine to boot. This means that Vagrant was unable to communicate with the guest machine";
      env.standIns.setVagrantBehaviour({
        failures: [{ args: ["up", "--provider", "virtualbox", "core-01"], message }],
      });
      env.synth({ nodeCount: 2 });
      env.ok("init", "-no-color");
      const r = deploy();
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(message);
      expect(calls(env)).toEqual([
        ["box", "list"],
        boxAdd,
        ["up", "--provider", "virtualbox", "core-01"],
      ]);
    });

    it("hostile box URLs reach vagrant as one argument and run nothing", () => {
      const hostile = [
        "https://example.com/a.box';touch${IFS}pwned1;'",
        'https://example.com/$(touch${IFS}pwned2)/a.box?x=`touch${IFS}pwned3`&y="z"',
        "https://example.com/a.box#{system('touch','pwned4')}%{if(true)}x%{endif}",
      ];
      for (const boxUrl of hostile) {
        env.standIns.setVagrantBehaviour({ boxes: [] });
        env.synth({ nodeCount: 1 }, { boxUrl, boxName: "mine/flatcar" });
        env.ok("init", "-no-color");
        expect(deploy().status).toBe(0);
        expect(calls(env).slice(0, 2)).toEqual([
          ["box", "list"],
          ["box", "add", "--name", "mine/flatcar", "--provider", "virtualbox", boxUrl],
        ]);
        env.ok("destroy", "-auto-approve", "-no-color");
        calls(env);
      }
      const created = fs.readdirSync(env.vagrantDir).filter((f) => f.startsWith("pwned"));
      expect(created).toEqual([]);
      expect(fs.readFileSync(path.join(env.vagrantDir, "config.rb"), "utf8")).toContain(
        `$box_url = "https://example.com/a.box\\#{system('touch','pwned4')}%{if(true)}x%{endif}"`,
      );
    });
  },
);

function calls(env: ReturnType<typeof environment>): string[][] {
  return env.standIns.takeVagrantCalls();
}
