import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CoreOsClusterProps, EtcdTls, planCluster } from "../lib";
import { FrontProtocol } from "../lib/front/options";
import { planFront, planTargetGroup } from "../lib/front/plan";
import { planVagrant, VagrantOptions, VagrantPlan } from "../lib/vagrant/plan";
import {
  boxAddCommand,
  frontConfigCommand,
  MachineRole,
  nodeDestroyCommand,
  nodeUpCommand,
  preflightCommand,
  progressInterval,
  pruneCommand,
  renderConfigRb,
  renderVagrantfile,
  rubyString,
} from "../lib/render/vagrant";
import { VagrantProvider } from "../lib/vagrant/options";
import { fileText, IgnitionConfig } from "../lib/render/ignition";
import { renderPlan } from "./support/render-plans";
import { StandIns } from "./support/stand-ins";
import { describeWithTool } from "./support/tools";

/*
 * The Vagrant renderer on its own, without a cdktf stack: plans made by the
 * pure planners, config.rb read back by Ruby, the Vagrantfile's config.rb
 * check run by Ruby, and the deploy's shell commands run by sh against the
 * recording `vagrant` (no VirtualBox here).
 */

function plan(cluster: CoreOsClusterProps = {}, options: VagrantOptions = {}): VagrantPlan {
  const c = planCluster(
    { etcd: { tls: EtcdTls.disabled() }, ...cluster },
    {
      id: "core",
      path: "stack/core",
    },
  );
  return planVagrant(c, options, "stack/vagrant");
}

function withFront(options: VagrantOptions = {}): VagrantPlan {
  const c = planCluster({ etcd: { tls: EtcdTls.disabled() } }, { id: "core", path: "stack/core" });
  const targets = [{ frontMembers: () => c.nodes.map((n) => ({ ...n, cluster: c.path })) }];
  const group = planTargetGroup("web", FrontProtocol.TCP, { targets, port: 8080 }, "front");
  const front = planFront(
    "front",
    [{ name: "web", port: 80, protocol: FrontProtocol.TCP, targetGroup: group }],
    [],
    "stack/front",
  );
  return planVagrant(c, { ...options, front }, "stack/vagrant");
}

describe("progressInterval", () => {
  it.each([
    [1, 2],
    [8, 2],
    [12, 3],
    [120, 30],
    [121, 30],
    [600, 30],
  ])("bound %i s: a line every %i s", (bound, every) => {
    expect(progressInterval(bound)).toBe(every);
  });
});

describe("rubyString", () => {
  it("escapes every # so no #{…} or #@var interpolates", () => {
    const literal = rubyString('a#{`id`}#@x#$y"\\\n');
    expect(literal.startsWith('"') && literal.endsWith('"')).toBe(true);
    expect(literal).not.toMatch(/(^|[^\\])#/);
  });
});

describe("config.rb", () => {
  it("holds every knob of the plan", () => {
    const p = plan(
      { nodeCount: 2, memoryMiB: 2048, cpus: 2 },
      {
        forwardedPorts: [{ guest: 80, host: 8081 }],
        sharedFolders: [{ host: "./share", guest: "/home/core/share" }],
        gui: true,
        serialLogging: true,
      },
    );
    const rb = renderConfigRb(p);
    expect(rb).toContain("$num_instances = 2\n");
    expect(rb).toContain("$vm_memory = 2048\n");
    expect(rb).toContain("$vm_cpus = 2\n");
    expect(rb).toContain("$vm_gui = true\n");
    expect(rb).toContain("$enable_serial_logging = true\n");
    expect(rb).toContain('$instance_name_prefix = "core"\n');
    expect(rb).toContain("$instance_name_width = 2\n");
    expect(rb).toContain('$update_channel = "stable"\n');
    expect(rb).toContain('$provider = "virtualbox"\n');
    expect(rb).toContain('$netmask = "255.255.248.0"\n');
    expect(rb).toContain(
      '$node_ips = {\n  "core-01" => "192.168.56.101",\n  "core-02" => "192.168.56.102",\n}\n',
    );
    expect(rb).toContain("$forwarded_ports = {\n  80 => 8081,\n}\n");
    expect(rb).toContain('$shared_folders = {\n  "./share" => "/home/core/share",\n}\n');
    expect(rb).toContain("$front_ips = {}\n");
  });
});

/** Runs `ruby` with `script` in `dir`; its stdout, stderr and status. */
function ruby(dir: string, script: string): { out: string; err: string; status: number | null } {
  const r = spawnSync("ruby", ["-e", script], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** A folder with this plan's config.rb and Vagrantfile; removed after the callback. */
function inVagrantFolder<T>(p: VagrantPlan, body: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-vagrant-"));
  try {
    fs.writeFileSync(path.join(dir, "config.rb"), renderConfigRb(p));
    fs.writeFileSync(path.join(dir, "Vagrantfile"), renderVagrantfile(p));
    return body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Ruby that stands in for Vagrant's API: enough to run the Vagrantfile's config.rb check. */
const VAGRANT_STUB = `module Vagrant
  def self.require_version(*); end
  def self.configure(_version); end
end
`;

describeWithTool("ruby", "ruby", "config.rb and the Vagrantfile read by Ruby", () => {
  it("reads back every hostile string exactly, interpolating nothing", () => {
    const values = [
      "a#{exit 3}b",
      "#@x #$0 #@@y",
      '"; exit 4; "',
      "back\\slash \\#{1}",
      "line\nbreak\ttab\u0000nul\u001b",
      "ünïcödé ✓ \u2028",
      "$HOME `id` $(id)",
    ];
    const script = `require "json"\nputs JSON.generate([${values.map(rubyString).join(", ")}])`;
    const r = ruby(os.tmpdir(), script);
    expect(r.err).toBe("");
    expect(JSON.parse(r.out)).toEqual(values);
  });

  it("config.rb gives Vagrant the plan's values", () => {
    const p = withFront({
      forwardedPorts: [
        { guest: 80, host: 8081 },
        { guest: 443, host: 8443 },
      ],
      sharedFolders: [{ host: "./sh#{are}", guest: "/home/core/#{share}" }],
      serialLogging: true,
    });
    const knobs = inVagrantFolder(p, (dir) =>
      ruby(
        dir,
        `require "json"; load "config.rb"; puts JSON.generate(global_variables.grep(/^\\$(num_|instance_|update_|box_|provider|vm_|node_|netmask|front_|forwarded_|shared_|enable_)/).to_h { |g| [g.to_s[1..], eval(g.to_s)] })`,
      ),
    );
    expect(knobs.err).toBe("");
    expect(JSON.parse(knobs.out)).toEqual({
      num_instances: 3,
      instance_name_prefix: "core",
      instance_name_width: 2,
      update_channel: "stable",
      box_name: "flatcar-stable",
      box_url:
        "https://stable.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json",
      provider: "virtualbox",
      vm_gui: false,
      vm_memory: 1024,
      vm_cpus: 1,
      node_ips: {
        "core-01": "192.168.56.101",
        "core-02": "192.168.56.102",
        "core-03": "192.168.56.103",
      },
      netmask: "255.255.248.0",
      front_ips: p.front!.machines.reduce(
        (m, f) => ({ ...m, [f.name]: f.address }),
        {} as Record<string, string>,
      ),
      forwarded_ports: { "80": 8081, "443": 8443 },
      shared_folders: { "./sh#{are}": "/home/core/#{share}" },
      enable_serial_logging: true,
    });
    expect(Object.keys(JSON.parse(knobs.out).front_ips)).toEqual(["front-01", "front-02"]);
  });

  it("the Vagrantfile accepts config.rb as written and stops on an edited knob, naming it and the prop", () => {
    const p = plan({ nodeCount: 2 }, { gui: false });
    inVagrantFolder(p, (dir) => {
      const run = () => ruby(dir, `${VAGRANT_STUB}load "Vagrantfile"`);
      const ok = run();
      expect(ok.err).toBe("");
      expect(ok.status).toBe(0);
      const rb = path.join(dir, "config.rb");
      const written = fs.readFileSync(rb, "utf8");
      const edits: [string, string, RegExp][] = [
        [
          "$vm_memory = 1024",
          "$vm_memory = 4096",
          /\$vm_memory is 4096, but .* with 1024\..*memoryMiB of CoreOsCluster "stack\/core"/s,
        ],
        [
          "$num_instances = 2",
          "$num_instances = 3",
          /\$num_instances is 3, .* with 2\..*nodeCount of CoreOsCluster/s,
        ],
        [
          "$vm_gui = false",
          "$vm_gui = true",
          /\$vm_gui is true, .* with false\..*gui of VagrantCluster "stack\/vagrant"/s,
        ],
        [
          '"core-02" => "192.168.56.102"',
          '"core-02" => "192.168.56.109"',
          /\$node_ips is .*192\.168\.56\.109.*networkCidr and firstHostNumber/s,
        ],
        [
          '$box_url = "https://stable',
          '$box_url = "http://stable',
          /\$box_url is "http:.*boxUrl of VagrantCluster/s,
        ],
      ];
      for (const [from, to, message] of edits) {
        expect(written).toContain(from);
        fs.writeFileSync(rb, written.replace(from, to));
        const r = run();
        expect(r.status).toBe(1);
        expect(r.err).toMatch(message);
      }
      fs.writeFileSync(rb, "$num_instances = (");
      const broken = run();
      expect(broken.status).toBe(1);
      expect(broken.err).toMatch(/config\.rb cannot be read \(SyntaxError: .*npm run synth/);
      fs.rmSync(rb);
      const missing = run();
      expect(missing.status).toBe(1);
      expect(missing.err).toMatch(/config\.rb is missing next to the Vagrantfile/);
    });
  });
});

/** Runs a deploy step with the stand-ins first on PATH, in `dir`. */
function sh(dir: string, command: string, pathEnv: string, env: Record<string, string> = {}) {
  const r = spawnSync("/bin/sh", ["-c", command], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, ...env, PATH: pathEnv },
    timeout: 60_000,
  });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

describe("the deploy's Vagrant commands, run by sh against the recording vagrant", () => {
  let standIns: StandIns;
  let dir: string;
  beforeEach(() => {
    standIns = new StandIns().addRecordingVagrant().addVBoxManage();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-vagrant-sh-"));
  });
  afterEach(() => {
    standIns.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("preflight names what to install when vagrant or VBoxManage is missing", () => {
    const only = fs.mkdtempSync(path.join(dir, "bin-"));
    expect(sh(dir, preflightCommand(VagrantProvider.VIRTUALBOX), standIns.path()).status).toBe(0);
    const none = sh(dir, preflightCommand(VagrantProvider.VIRTUALBOX), only);
    expect(none.status).toBe(1);
    expect(none.err).toMatch(
      /^vagrant not found on PATH: install Vagrant >= 2\.2\.5 \(https:\/\/developer\.hashicorp\.com\/vagrant\/install\)\n$/,
    );
    fs.symlinkSync(path.join(standIns.bin, "vagrant"), path.join(only, "vagrant"));
    const noVbox = sh(dir, preflightCommand(VagrantProvider.VIRTUALBOX), only);
    expect(noVbox.status).toBe(1);
    expect(noVbox.err).toMatch(
      /^VirtualBox not found \(no VBoxManage on PATH\): install VirtualBox >= 6\.1\.28 \(https:\/\/www\.virtualbox\.org\/wiki\/Downloads\)\n$/,
    );
    // libvirt needs no VBoxManage.
    expect(sh(dir, preflightCommand(VagrantProvider.LIBVIRT), only).status).toBe(0);
  });

  it("adds the box once, and not when `vagrant box list` has it for the provider", () => {
    const p = plan({}, { boxName: "my.box", boxUrl: "file:///boxes/my.box" });
    const first = sh(dir, boxAddCommand(p), standIns.path());
    expect(first.status).toBe(0);
    expect(standIns.takeVagrantCalls()).toEqual([
      ["box", "list"],
      ["box", "add", "--name", "my.box", "--provider", "virtualbox", "file:///boxes/my.box"],
    ]);
    expect(first.out).toMatch(
      /^cluster core: 3 nodes come up one at a time, usually 1-2 min each, once the box is there\n/,
    );
    expect(first.out).toContain(
      "my.box (virtualbox): adding the box from file:///boxes/my.box (a download of a few hundred MB",
    );
    expect(first.out).toMatch(/my\.box \(virtualbox\): box added in \d+ s\n$/);
    const again = sh(dir, boxAddCommand(p), standIns.path());
    expect(again.status).toBe(0);
    expect(standIns.takeVagrantCalls()).toEqual([["box", "list"]]);
    expect(again.out).toContain("my.box (virtualbox): box already added\n");
    // Another box whose name matches only with '.' as a wildcard, or another provider's: added.
    for (const listed of [
      "myXbox (virtualbox, 1)",
      "my.box (libvirt, 1)",
      "amy.box (virtualbox, 1)",
    ]) {
      standIns.setVagrantBehaviour({ boxes: [listed] });
      expect(sh(dir, boxAddCommand(p), standIns.path()).status).toBe(0);
      expect(standIns.takeVagrantCalls()[1]?.slice(0, 2)).toEqual(["box", "add"]);
    }
    standIns.setVagrantBehaviour({
      failures: [{ args: ["box", "add"], message: "no network" }],
      boxes: [],
    });
    const failed = sh(dir, boxAddCommand(p), standIns.path());
    expect(failed.status).toBe(1);
    expect(failed.err).toContain("no network");
    expect(failed.out).not.toContain("box added");
  });

  it("says how many nodes and front machines come up", () => {
    const p = withFront();
    const r = sh(dir, boxAddCommand(p), standIns.path());
    expect(r.out).toMatch(/^cluster core: 3 nodes and 2 front machines come up one at a time,/);
    const single = withFront({ frontHighAvailability: false });
    const one = plan({ nodeCount: 1 });
    expect(sh(dir, boxAddCommand(single), standIns.path()).out).toMatch(
      /^cluster core: 3 nodes and 1 front machine come/,
    );
    expect(sh(dir, boxAddCommand(one), standIns.path()).out).toMatch(/^cluster core: 1 node come/);
  });

  it("brings a machine up, records its generation, and replaces one of an older generation", () => {
    const up = (generation: string) =>
      sh(dir, nodeUpCommand(VagrantProvider.VIRTUALBOX, "core-01", 60), standIns.path(), {
        COREOS_MACHINE_GENERATION: generation,
      });
    const first = up("g1");
    expect(first.status).toBe(0);
    expect(standIns.takeVagrantCalls()).toEqual([
      ["up", "--provider", "virtualbox", "core-01"],
      ["ssh", "core-01", "-c", expect.stringContaining("/opt/bin/") as unknown as string],
    ]);
    expect(
      fs.readFileSync(path.join(dir, ".vagrant/machines/core-01/coreos-generation"), "utf8"),
    ).toBe("g1\n");
    expect(first.out).toMatch(
      /^core-01: vagrant up \(first boot \+ Ignition reboot, usually 1-2 min\)\.\.\.\n/,
    );
    expect(first.out).toMatch(
      /core-01: up in \d+ s; waiting for etcd \(member; usually under 1 min, its image pulled first; at most 60 s\)\.\.\.\n/,
    );
    expect(first.out).toMatch(/core-01: etcd joined in \d+ s\ncore-01: up\n$/);
    // The same generation again (a rerun): no destroy.
    expect(up("g1").status).toBe(0);
    expect(standIns.takeVagrantCalls()[0]).toEqual(["up", "--provider", "virtualbox", "core-01"]);
    const replaced = up("g2");
    expect(replaced.status).toBe(0);
    expect(standIns.takeVagrantCalls().slice(0, 2)).toEqual([
      ["destroy", "-f", "core-01"],
      ["up", "--provider", "virtualbox", "core-01"],
    ]);
    expect(replaced.out).toContain(
      "core-01: replacing the machine of an older generation: vagrant destroy -f\n",
    );
  });

  it("fails naming the machine when its ready check never passes, saying while it waits what is not up", () => {
    standIns.setVagrantBehaviour({ readyAfterSeconds: { "front-01": "never" } });
    // A bound of 6 s: a "still waiting" line every 2 s (a quarter of the bound, 2 s at least).
    const late = sh(
      dir,
      nodeUpCommand(VagrantProvider.VIRTUALBOX, "front-01", 6, "front"),
      standIns.path(),
    );
    expect(late.status).toBe(1);
    expect(late.out).toContain(
      "waiting for the front (HAProxy and keepalived; usually under 1 min, their images pulled first; at most 6 s)",
    );
    expect(late.out).toMatch(
      /\nfront-01: still waiting after \d+ s: front-01: etcd member not healthy \(stand-in machine, not ready yet\)\n/,
    );
    expect(late.err).toBe(
      "front-01 did not come up within 6 s:\nfront-01: etcd member not healthy (stand-in machine, not ready yet)\n",
    );
  });

  it("fails when vagrant up fails, recording no generation", () => {
    standIns.setVagrantBehaviour({ failures: [{ args: ["up"], message: "VBoxManage failed" }] });
    const failed = sh(
      dir,
      nodeUpCommand(VagrantProvider.VIRTUALBOX, "core-02", 60),
      standIns.path(),
    );
    expect(failed.status).toBe(1);
    expect(failed.err).toBe("VBoxManage failed\n");
    expect(fs.existsSync(path.join(dir, ".vagrant/machines/core-02/coreos-generation"))).toBe(
      false,
    );
  });

  it("says what came up, by role; the remote check says when Ignition left no ready check", () => {
    const up = (node: string, role: MachineRole) =>
      sh(dir, nodeUpCommand(VagrantProvider.VIRTUALBOX, node, 60, role), standIns.path()).out;
    expect(up("core-04", "etcd client")).toMatch(
      /core-04: up in \d+ s; waiting for etcd \(client reaching the members; usually under 30 s; at most 60 s\)\.\.\.\ncore-04: etcd reachable in \d+ s\n/,
    );
    expect(up("front-01", "front")).toMatch(
      /\nfront-01: HAProxy answering in \d+ s\nfront-01: up\n$/,
    );
    const ssh = standIns.takeVagrantCalls().find((c) => c[0] === "ssh")!;
    expect(ssh.slice(0, 3)).toEqual(["ssh", "core-04", "-c"]);
    // What the machine runs, on a machine where Ignition wrote no ready check.
    const remote = ssh[3].replaceAll("/opt/bin/coreos-cluster-ready", path.join(dir, "no-check"));
    const r = sh(dir, remote, standIns.path());
    expect(r.status).toBe(1);
    expect(r.out).toBe(`core-04: Ignition config not applied (no ${path.join(dir, "no-check")})\n`);
    fs.writeFileSync(path.join(dir, "no-check"), "#!/bin/sh\necho checked; exit 3\n", {
      mode: 0o755,
    });
    expect(sh(dir, remote, standIns.path())).toMatchObject({ out: "checked\n", status: 3 });
  });

  it("installs haproxy.cfg on a front machine and reloads HAProxy", () => {
    sh(dir, "vagrant up --provider virtualbox front-02", standIns.path());
    standIns.takeVagrantCalls();
    const r = sh(dir, frontConfigCommand("front-02", "front/haproxy.cfg"), standIns.path());
    expect(r.status).toBe(0);
    expect(r.out).toBe(
      // The stand-in answers any `vagrant ssh -c` with "<machine>: up".
      "front-02: installing front/haproxy.cfg and reloading HAProxy (open connections finish)...\nfront-02: up\n",
    );
    expect(standIns.takeVagrantCalls()).toEqual([
      ["upload", "front/haproxy.cfg", "/tmp/haproxy.cfg", "front-02"],
      [
        "ssh",
        "front-02",
        "-c",
        "sudo install -m 0644 /tmp/haproxy.cfg /etc/haproxy/haproxy.cfg && sudo systemctl reload-or-restart haproxy.service",
      ],
    ]);
    standIns.setVagrantBehaviour({ failures: [{ args: ["upload"], message: "no machine" }] });
    expect(
      sh(dir, frontConfigCommand("front-02", "front/haproxy.cfg"), standIns.path()).status,
    ).toBe(1);
    expect(standIns.takeVagrantCalls().map((c) => c[0])).toEqual(["upload"]);
  });

  it("prunes nothing where Vagrant made no machine", () => {
    const r = sh(dir, pruneCommand(["core-01"]), standIns.path());
    expect([r.status, r.out]).toEqual([0, ""]);
    expect(standIns.takeVagrantCalls()).toEqual([]);
  });

  it("prunes the machines that left the cluster, and only those", () => {
    for (const m of ["core-01", "core-02", "core-03", "front-01"]) {
      fs.mkdirSync(path.join(dir, ".vagrant/machines", m, "virtualbox"), { recursive: true });
      fs.writeFileSync(path.join(dir, ".vagrant/machines", m, "virtualbox", "id"), "x");
    }
    const r = sh(dir, pruneCommand(["core-01", "front-01"]), standIns.path());
    expect(r.status).toBe(0);
    expect(standIns.takeVagrantCalls()).toEqual([
      ["destroy", "-f", "core-02"],
      ["destroy", "-f", "core-03"],
    ]);
    expect(fs.readdirSync(path.join(dir, ".vagrant/machines")).sort()).toEqual([
      "core-01",
      "front-01",
    ]);
    expect(r.out).toBe(
      "core-02: no longer a machine of this cluster: vagrant destroy -f\ncore-03: no longer a machine of this cluster: vagrant destroy -f\n",
    );
  });

  it("destroys a machine of its own generation or without one, never a newer one", () => {
    const folder = path.join(dir, ".vagrant/machines/core-01");
    const make = (generation?: string) => {
      fs.mkdirSync(path.join(folder, "virtualbox"), { recursive: true });
      fs.writeFileSync(path.join(folder, "virtualbox", "id"), "x");
      if (generation) fs.writeFileSync(path.join(folder, "coreos-generation"), `${generation}\n`);
      else fs.rmSync(path.join(folder, "coreos-generation"), { force: true });
    };
    const destroy = () =>
      sh(dir, nodeDestroyCommand("core-01"), standIns.path(), { COREOS_MACHINE_GENERATION: "g1" });
    make("g2");
    expect(destroy().status).toBe(0);
    expect(standIns.takeVagrantCalls()).toEqual([]);
    make("g1");
    expect(destroy().out).toBe("core-01: vagrant destroy -f\n");
    expect(standIns.takeVagrantCalls()).toEqual([["destroy", "-f", "core-01"]]);
    make();
    destroy();
    expect(standIns.takeVagrantCalls()).toEqual([["destroy", "-f", "core-01"]]);
    fs.rmSync(folder, { recursive: true });
    destroy();
    expect(standIns.takeVagrantCalls()).toEqual([]);
  });
});

describe("the front machines' Ignition", () => {
  const ignitionOf = (p: VagrantPlan, i: number) =>
    JSON.parse(p.front!.machines[i].config) as IgnitionConfig;
  const unit = (c: IgnitionConfig, name: string) => c.systemd.units.find((u) => u.name === name);
  const fileAt = (c: IgnitionConfig, at: string) => {
    const f = c.storage.files.find((x) => x.path === at);
    return f === undefined ? undefined : [fileText(f), f.mode];
  };
  const values = (text: string | undefined, key: string) =>
    (text ?? "")
      .split("\n")
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1));

  it("HA pair: HAProxy's config, keepalived and a firewall that takes VRRP from the peer only", () => {
    const p = withFront();
    const [a, b] = p.front!.machines;
    const c = ignitionOf(p, 0);
    expect(fileAt(c, "/etc/hostname")).toEqual(["front-01\n", 0o644]);
    expect(fileAt(c, "/etc/haproxy/haproxy.cfg")).toEqual([p.front!.haproxyCfg, 0o644]);
    expect(fileAt(c, "/etc/keepalived/keepalived.conf")).toEqual([a.keepalivedConf, 0o644]);
    expect(fileAt(c, "/etc/sysctl.d/90-front-nonlocal-bind.conf")).toEqual([
      "net.ipv4.ip_nonlocal_bind = 1\n",
      0o644,
    ]);
    const vrrp = unit(c, "vrrp-peer-only.service");
    expect(vrrp?.enabled).toBe(true);
    expect(values(vrrp?.contents, "ExecStart")).toEqual([
      `/usr/sbin/iptables -I INPUT -p vrrp ! -s ${b.address} -j DROP`,
    ]);
    expect(values(vrrp?.contents, "ExecStop")).toEqual([
      `/usr/sbin/iptables -D INPUT -p vrrp ! -s ${b.address} -j DROP`,
    ]);
    expect(values(vrrp?.contents, "Before")).toEqual(["keepalived.service"]);
    expect(values(unit(ignitionOf(p, 1), "vrrp-peer-only.service")?.contents, "ExecStart")).toEqual(
      [`/usr/sbin/iptables -I INPUT -p vrrp ! -s ${a.address} -j DROP`],
    );
    const keepalived = unit(c, "keepalived.service");
    expect(keepalived?.enabled).toBe(true);
    expect(values(keepalived?.contents, "ExecStart")[0]).toMatch(
      new RegExp(
        `^/usr/bin/docker run --name keepalived --rm --net host --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_BROADCAST --cap-add NET_RAW --volume /etc/keepalived/keepalived.conf:/etc/keepalived/keepalived.conf:ro --entrypoint keepalived ${p.front!.images.keepalived.reference.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `,
      ),
    );
    expect(values(keepalived?.contents, "After")).toEqual([
      "network-online.target docker.service haproxy.service vrrp-peer-only.service",
    ]);
    // The ready check waits for both services and HAProxy's liveness URL.
    const check = (fileAt(c, "/opt/bin/coreos-cluster-ready")?.[0] as string).split("\n");
    expect(check).toEqual(
      expect.arrayContaining([
        "(systemctl is-active --quiet haproxy.service) || fail 'haproxy.service not running'",
        "(systemctl is-active --quiet keepalived.service) || fail 'keepalived.service not running'",
        "(curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8404/healthz 2>/dev/null) || fail 'HAProxy does not answer http://127.0.0.1:8404/healthz'",
      ]),
    );
    expect(c.storage.files.every((x) => typeof x.path === "string")).toBe(true);
    // Without etcd TLS the front gets no certificates.
    expect(
      Object.keys(Object.fromEntries(c.storage.files.map((x) => [x.path, 1]))).filter((x) =>
        x.startsWith("/etc/ssl"),
      ),
    ).toEqual([]);
  });

  it("HAProxy's unit: least privilege, configs read-only, states saved before a reload", () => {
    const c = ignitionOf(withFront(), 0);
    const haproxy = unit(c, "haproxy.service");
    expect(haproxy?.enabled).toBe(true);
    const start = values(haproxy?.contents, "ExecStart")[0];
    expect(start).toContain(" --cap-drop ALL --cap-add NET_BIND_SERVICE ");
    expect(start).toContain(" --volume /etc/haproxy:/usr/local/etc/haproxy:ro ");
    expect(start).toContain(" --volume /var/lib/haproxy:/var/lib/haproxy:ro ");
    expect(start).toMatch(/ -f \/usr\/local\/etc\/haproxy\/haproxy\.cfg$/);
    expect(values(haproxy?.contents, "ExecReload")).toEqual([
      `-/bin/sh -c 'echo "show servers state" | socat stdio unix-connect:/run/haproxy/admin.sock > /var/lib/haproxy/server-state.new && mv /var/lib/haproxy/server-state.new /var/lib/haproxy/server-state'`,
      "/usr/bin/docker kill --signal USR2 haproxy",
    ]);
    expect(values(haproxy?.contents, "Restart")).toEqual(["always"]);
    expect(values(haproxy?.contents, "StartLimitIntervalSec")).toEqual(["0"]);
  });

  it("with etcd TLS: the front gets the CA and its client pair (its reboot lock), keys 0600", () => {
    const c = renderPlan({});
    const targets = [{ frontMembers: () => c.nodes.map((n) => ({ ...n, cluster: c.path })) }];
    const group = planTargetGroup("web", FrontProtocol.TCP, { targets, port: 8080 }, "front");
    const front = planFront(
      "front",
      [{ name: "web", port: 80, protocol: FrontProtocol.TCP, targetGroup: group }],
      [],
      "stack/front",
    );
    const client = (m: string) => ({ certificatePem: `${m} cert\n`, privateKeyPem: `${m} key\n` });
    const p = planVagrant(
      c,
      { front, frontCredentials: (m) => ({ client: client(m) }) },
      "stack/vagrant",
    );
    const ign = ignitionOf(p, 1);
    expect(fileAt(ign, "/etc/ssl/etcd/ca.crt")).toEqual(["CA\n", 0o644]);
    expect(fileAt(ign, "/etc/ssl/etcd/client.key")).toEqual(["front-02 key\n", 0o600]);
    expect(fileAt(ign, "/etc/ssl/etcd/member.key")).toBeUndefined();
    // No credentials given: none written.
    const none = planVagrant(c, { front, frontCredentials: () => undefined }, "stack/vagrant");
    expect(fileAt(ignitionOf(none, 0), "/etc/ssl/etcd/ca.crt")).toBeUndefined();
  });

  it("a single front: HAProxy only, no keepalived, no firewall, no nonlocal bind", () => {
    const p = withFront({ frontHighAvailability: false });
    expect(p.front!.machines.map((m) => m.keepalivedConf)).toEqual([undefined]);
    const c = ignitionOf(p, 0);
    expect(c.systemd.units.map((u) => u.name)).toContain("haproxy.service");
    expect(unit(c, "keepalived.service")).toBeUndefined();
    expect(unit(c, "vrrp-peer-only.service")).toBeUndefined();
    expect(fileAt(c, "/etc/sysctl.d/90-front-nonlocal-bind.conf")).toBeUndefined();
    const check = fileAt(c, "/opt/bin/coreos-cluster-ready")?.[0] as string;
    expect(check).not.toContain("keepalived");
  });
});
