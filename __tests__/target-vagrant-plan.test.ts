/**
 * planVagrant, the Vagrant target's pure planning function, called directly:
 * no cdktf stack, every plan built inside its test (fast under mutation
 * testing). What VagrantCluster writes from the plan is vagrant.test.ts's.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { ClusterPlan } from "../lib/cluster/plan";
import { CoreOsClusterProps } from "../lib/cluster/props";
import { FlatcarChannel, OperatingSystem } from "../lib/cluster/operating-system";
import { Provisioning } from "../lib/cluster/provisioning";
import { RebootStrategy } from "../lib/cluster/reboot-strategy";
import { ContainerImage } from "../lib/core/container-image";
import { DEFAULT_IMAGES } from "../lib/core/default-images";
import { Duration } from "../lib/core/duration";
import { MachineCredentials } from "../lib/etcd/tls";
import { LITERAL_REQUIRED, TOKEN_VALUE } from "../lib/core/validate";
import { FrontProtocol } from "../lib/front/options";
import { IgnitionConfig } from "../lib/render/ignition";
import { nodeConfig, nodeIgnitionJson } from "../lib/render/ignition-cache";
import { LifecycleResource, VagrantProvider } from "../lib/vagrant/options";
import {
  DEFAULT_READY_TIMEOUT,
  flatcarBoxName,
  flatcarBoxUrl,
  planVagrant,
  VagrantOptions,
  VIRTUALBOX_HOST_ONLY_RANGE,
} from "../lib/vagrant/plan";
import { CONFIG_RB_KNOBS } from "../lib/vagrant/config-rb";
import { vagrantTopology } from "../lib/vagrant/topology";
import { HaproxyConfig } from "./support/haproxy-config";
import { KeepalivedBlock } from "./support/keepalived-config";
import { clusterPlan, clusterTargets, frontPlan, issueOf, issuesOf } from "./support/target-plans";

/** A token stands for a Terraform reference: here any string starting with `${`. */
const isToken = (v: unknown): boolean => typeof v === "string" && v.startsWith("${");

function plan(options: VagrantOptions = {}, cluster: ClusterPlan = clusterPlan()) {
  return planVagrant(cluster, options, "test/vagrant", isToken);
}

/** A front with one TCP listener over the cluster's nodes. */
function front(cluster: ClusterPlan, drain: readonly string[] = []) {
  return frontPlan(
    [
      {
        name: "web",
        port: 80,
        protocol: FrontProtocol.TCP,
        group: "nodes",
        targets: [clusterTargets(cluster)],
        targetPort: 8080,
      },
    ],
    { drain },
  );
}

const ignitionOf = (text: string) => JSON.parse(text) as IgnitionConfig;
const fileOf = (ign: IgnitionConfig, path: string) => {
  const f = ign.storage.files.find((x) => x.path === path);
  if (!f) return undefined;
  const source = f.contents.source;
  return f.contents.compression
    ? gunzipSync(Buffer.from(source.replace(/^data:;base64,/, ""), "base64")).toString()
    : decodeURIComponent(source.replace(/^data:,/, ""));
};
const unitOf = (ign: IgnitionConfig, name: string) =>
  ign.systemd.units.find((u) => u.name === name);

describe("planVagrant defaults", () => {
  it("is the seed's environment: VirtualBox, Flatcar's box for the channel, one node at a time", () => {
    const p = plan();
    expect(p.provider).toBe(VagrantProvider.VIRTUALBOX);
    expect(p.lifecycle).toBe(LifecycleResource.TERRAFORM_DATA);
    expect(p.boxName).toBe("flatcar-stable");
    expect(p.boxUrl).toBe(
      "https://stable.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json",
    );
    expect([p.gui, p.serialLogging, p.parallel]).toEqual([false, false, false]);
    expect([p.forwardedPorts, p.sharedFolders]).toEqual([[], []]);
    expect(p.readyTimeoutSeconds).toBe(600);
    expect(DEFAULT_READY_TIMEOUT.toSeconds()).toBe(600);
    expect(p.netmask).toBe("255.255.248.0");
    expect(p.front).toBeUndefined();
  });

  it("follows the Flatcar channel for the box name and metadata URL", () => {
    const beta = plan({}, clusterPlan({ os: OperatingSystem.flatcar(FlatcarChannel.BETA) }));
    expect(beta.boxName).toBe("flatcar-beta");
    expect(beta.boxUrl).toBe(flatcarBoxUrl("beta"));
    expect(flatcarBoxUrl("beta")).toMatch(/^https:\/\/beta\.release\.flatcar-linux\.net\//);
    expect(flatcarBoxName("alpha")).toBe("flatcar-alpha");
  });

  it("gives each node its config file and a hash of what shapes it", () => {
    const cluster = clusterPlan();
    const p = plan({}, cluster);
    expect(p.nodes.map((n) => [n.name, n.address, n.provisioning, n.configFile])).toEqual([
      ["core-01", "192.168.56.101", "ignition", "ignition/core-01.ign"],
      ["core-02", "192.168.56.102", "ignition", "ignition/core-02.ign"],
      ["core-03", "192.168.56.103", "ignition", "ignition/core-03.ign"],
    ]);
    p.nodes.forEach((n, i) => {
      expect(n.config).toBe(nodeConfig(cluster, cluster.nodes[i]));
      expect(n.ignition).toBe(nodeIgnitionJson(cluster, cluster.nodes[i]));
      expect(n.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    });
    expect(new Set(p.nodes.map((n) => n.inputsHash)).size).toBe(3);
    // Same inputs, same hash: nothing is re-provisioned without a change.
    expect(plan({}, clusterPlan()).nodes.map((n) => n.inputsHash)).toEqual(
      p.nodes.map((n) => n.inputsHash),
    );
  });

  it("gives cloud-config nodes their .yml, with the Ignition model for reference", () => {
    const cluster = clusterPlan({ provisioning: Provisioning.CLOUD_CONFIG });
    const n = plan({}, cluster).nodes[0];
    expect([n.provisioning, n.configFile]).toEqual(["cloud-config", "cloud-config/core-01.yml"]);
    expect(n.config).toMatch(/^#cloud-config/);
    expect(ignitionOf(n.ignition).ignition.version).toMatch(/^3\./);
  });

  it("re-provisions a node when a machine setting changes", () => {
    const base = plan().nodes[0].inputsHash;
    const changed: [VagrantOptions, CoreOsClusterProps][] = [
      [{ gui: true }, {}],
      [{ serialLogging: true }, {}],
      [{ forwardedPorts: [{ guest: 80, host: 8080 }] }, {}],
      [{ sharedFolders: [{ host: "src", guest: "/src" }] }, {}],
      [{ boxName: "my-box", boxUrl: "https://example.com/box.json" }, {}],
      [{}, { cpus: 2 }],
      [{}, { memoryMiB: 2048 }],
    ];
    for (const [options, props] of changed) {
      expect(plan(options, clusterPlan(props)).nodes[0].inputsHash).not.toBe(base);
    }
  });
});

describe("planVagrant checks", () => {
  it("wants an object of props without tokens", () => {
    expect(issuesOf(() => planVagrant(clusterPlan(), "x" as never, "test/vagrant"))[0].prop).toBe(
      "props",
    );
    const tokens = issuesOf(() => plan({ boxName: "${var.box}", gui: false }));
    expect(tokens).toEqual([{ prop: "boxName", value: TOKEN_VALUE, allowed: LITERAL_REQUIRED }]);
    expect(() => plan({ boxName: "${var.box}" })).toThrow(
      /^Invalid props for VagrantCluster "test\/vagrant":/,
    );
    // Without isToken nothing is a token: the box name is checked as text.
    expect(
      issuesOf(() => planVagrant(clusterPlan(), { boxName: "${var.box}" }, "test/vagrant"))[0],
    ).toEqual({
      prop: "boxName",
      value: "${var.box}",
      allowed: "1-100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit",
    });
  });

  it("runs VirtualBox only; libvirt and unknown providers are refused", () => {
    expect(issueOf(() => plan({ provider: "qemu" as VagrantProvider }), "provider")).toEqual({
      prop: "provider",
      value: "qemu",
      allowed: "virtualbox | libvirt",
    });
    const outside = clusterPlan({ networkCidr: "10.0.0.0/24" });
    const libvirt = issuesOf(() =>
      plan({ provider: VagrantProvider.LIBVIRT, front: front(outside) }, outside),
    );
    // Only the provider: VirtualBox's address range applies to neither the nodes nor the front.
    expect(libvirt.map((i) => i.prop)).toEqual(["provider"]);
    expect(libvirt[0].allowed).toMatch(/^virtualbox: libvirt is not supported yet/);
    expect(
      issueOf(() => plan({ lifecycle: "local_exec" as LifecycleResource }), "lifecycle").allowed,
    ).toBe("terraform_data | null_resource");
    expect(plan({ lifecycle: LifecycleResource.NULL_RESOURCE }).lifecycle).toBe("null_resource");
  });

  it("runs Flatcar only", () => {
    const issue = issueOf(
      () => plan({}, clusterPlan({ os: OperatingSystem.fedoraCoreOs() })),
      "cluster.os",
    );
    expect(issue.value).toBe(OperatingSystem.fedoraCoreOs().toString());
    expect(issue.allowed).toMatch(/^a Flatcar OS: Fedora CoreOS publishes no Vagrant box/);
  });

  it("keeps VirtualBox's nodes inside its host-only range, naming the first node outside", () => {
    expect(VIRTUALBOX_HOST_ONLY_RANGE).toBe("192.168.56.0/21");
    expect(() => plan({}, clusterPlan({ networkCidr: "192.168.63.0/24" }))).not.toThrow();
    const issue = issueOf(
      () => plan({}, clusterPlan({ networkCidr: "192.168.48.0/20", firstHostNumber: 2000 })),
      "cluster.networkCidr",
    );
    expect(issue.value).toBe("192.168.48.0/20");
    expect(issue.allowed).toMatch(
      /^node addresses inside 192\.168\.56\.0\/21 for VirtualBox \(core-01 would get 192\.168\.55\.208\)/,
    );
  });

  it("checks the box name, and that Flatcar's metadata names its own box", () => {
    for (const bad of ["", ".box", "my box", "a".repeat(101), 5]) {
      expect(
        issueOf(
          () => plan({ boxName: bad as string, boxUrl: "https://example.com/b.json" }),
          "boxName",
        ).allowed,
      ).toBe("1-100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit");
    }
    expect(
      plan({ boxName: `A${"b".repeat(99)}`, boxUrl: "https://example.com/b.json" }).boxName,
    ).toHaveLength(100);
    expect(plan({ boxName: "org/box_1.2-x", boxUrl: "file:///boxes/x.box" }).boxUrl).toBe(
      "file:///boxes/x.box",
    );
    expect(issueOf(() => plan({ boxName: "my-box" }), "boxName")).toEqual({
      prop: "boxName",
      value: "my-box",
      allowed: `"flatcar-stable", the name Flatcar's box metadata declares (set boxUrl for a box of your own)`,
    });
  });

  it("takes an http(s) or file URL for the box, without spaces or control characters", () => {
    expect(plan({ boxUrl: "http://boxes.local/x.json", boxName: "x" }).boxUrl).toBe(
      "http://boxes.local/x.json",
    );
    for (const bad of [
      "ftp://x/y.box",
      "boxes/x.box",
      "https://x/a b",
      "https://x/a\u0001",
      "https://x/\u007f",
      `https://x/${"a".repeat(2040)}`,
      7,
    ]) {
      expect(issueOf(() => plan({ boxUrl: bad as string, boxName: "x" }), "boxUrl").allowed).toBe(
        "an http(s):// or file:// URL of box metadata or a .box file, without spaces",
      );
    }
    expect(plan({ boxUrl: `https://x/${"a".repeat(2038)}`, boxName: "x" }).boxUrl).toHaveLength(
      2048,
    );
  });

  it("checks forwarded ports", () => {
    const ports = [
      { guest: 1, host: 65535 },
      { guest: 80, host: 8080 },
    ];
    expect(plan({ forwardedPorts: ports }).forwardedPorts).toEqual(ports);
    expect(
      issueOf(() => plan({ forwardedPorts: { guest: 80, host: 8080 } as never }), "forwardedPorts")
        .allowed,
    ).toBe("a list of { guest, host }");
    const bad = issuesOf(() =>
      plan({
        forwardedPorts: [
          { guest: 0, host: 65536 },
          { guest: 1.5, host: "80" as never },
          null as never,
        ],
      }),
    );
    expect(bad.map((i) => [i.prop, i.value])).toEqual([
      ["forwardedPorts[0].guest", 0],
      ["forwardedPorts[0].host", 65536],
      ["forwardedPorts[1].guest", 1.5],
      ["forwardedPorts[1].host", "80"],
      ["forwardedPorts[2].guest", undefined],
      ["forwardedPorts[2].host", undefined],
    ]);
    expect(bad.every((i) => i.allowed === "a port 1-65535")).toBe(true);
  });

  it("checks shared folders: paths that reach the Vagrantfile's Ruby strings", () => {
    const folders = [{ host: "../src", guest: "/home/core/src" }];
    expect(plan({ sharedFolders: folders }).sharedFolders).toEqual(folders);
    expect(issueOf(() => plan({ sharedFolders: "src" as never }), "sharedFolders").allowed).toBe(
      "a list of { host, guest }",
    );
    for (const host of ["", 'a"b', "a\\b", "a\nb", "a\u0000b", 5]) {
      expect(
        issueOf(
          () => plan({ sharedFolders: [{ host: host as string, guest: "/src" }] }),
          "sharedFolders[0].host",
        ).allowed,
      ).toBe(
        "a host folder path without quotes, backslashes or control characters (newline, NUL, …)",
      );
    }
    for (const guest of ["src", "/a/../b", "/a/", '/a"b', "/a\\b", "/a\nb", 5]) {
      expect(
        issueOf(
          () => plan({ sharedFolders: [{ host: "src", guest: guest as string }] }),
          "sharedFolders[0].guest",
        ).allowed,
      ).toMatch(/^an absolute guest path without quotes or backslashes/);
    }
    expect(issuesOf(() => plan({ sharedFolders: [null as never] })).map((i) => i.prop)).toEqual([
      "sharedFolders[0].host",
      "sharedFolders[0].guest",
    ]);
  });

  it("checks the switches and the ready timeout", () => {
    const p = plan({
      gui: true,
      serialLogging: true,
      parallel: false,
      readyTimeout: Duration.millis(1500),
    });
    expect([p.gui, p.serialLogging, p.parallel, p.readyTimeoutSeconds]).toEqual([
      true,
      true,
      false,
      2,
    ]);
    expect(issueOf(() => plan({ gui: "yes" as never }), "gui")).toEqual({
      prop: "gui",
      value: "yes",
      allowed: "true or false",
    });
    expect(issueOf(() => plan({ serialLogging: 1 as never }), "serialLogging").allowed).toBe(
      "true or false",
    );
    expect(issueOf(() => plan({ parallel: true }), "parallel").allowed).toMatch(
      /^false with VirtualBox: parallel `vagrant up` races/,
    );
    expect(plan({ readyTimeout: Duration.millis(1) }).readyTimeoutSeconds).toBe(1);
    expect(plan({ readyTimeout: Duration.hours(24) }).readyTimeoutSeconds).toBe(86400);
    expect(issueOf(() => plan({ readyTimeout: Duration.seconds(86401) }), "readyTimeout")).toEqual({
      prop: "readyTimeout",
      value: "86401s",
      allowed: "a Duration from 1 s to 24 h",
    });
    expect(issueOf(() => plan({ readyTimeout: Duration.seconds(0) }), "readyTimeout").value).toBe(
      "0s",
    );
    expect(issueOf(() => plan({ readyTimeout: 600 as never }), "readyTimeout").value).toBe(600);
  });

  it("checks the front images", () => {
    expect(
      issueOf(() => plan({ frontImages: "haproxy:2.6" as never }), "frontImages").allowed,
    ).toBe("{ haproxy?, keepalived? } of ContainerImage");
    expect(
      issueOf(
        () => plan({ frontImages: { haproxy: "haproxy:2.6" as never } }),
        "frontImages.haproxy",
      ).value,
    ).toBe("haproxy:2.6");
    expect(
      issueOf(
        () => plan({ frontImages: { keepalived: ContainerImage.pinned("keepalived:2") } }),
        "frontImages.keepalived",
      ).value,
    ).toBe("keepalived:2");
  });
});

describe("config.rb hints", () => {
  it("name by default the prop of the cdktf code that sets each knob", () => {
    const c = (prop: string) => `${prop} of CoreOsCluster "test/core"`;
    const v = (prop: string) => `${prop} of VagrantCluster "test/vagrant"`;
    expect(plan().configRbHints).toEqual({
      num_instances: c("nodeCount"),
      instance_name_prefix: c("namePrefix"),
      instance_name_width:
        "nothing: node numbers have two digits at least, so growing renames no node",
      update_channel: c("os (OperatingSystem.flatcar(FlatcarChannel.<channel>))"),
      box_name: v("boxName"),
      box_url: v("boxUrl"),
      provider: v("provider"),
      vm_gui: v("gui"),
      vm_memory: c("memoryMiB"),
      vm_cpus: c("cpus"),
      node_ips: c("networkCidr and firstHostNumber"),
      netmask: c("networkCidr"),
      front_ips: v("frontFirstHostNumber and frontHighAvailability"),
      forwarded_ports: v("forwardedPorts"),
      shared_folders: v("sharedFolders"),
      enable_serial_logging: v("serialLogging"),
    });
    expect(Object.keys(plan().configRbHints)).toEqual([...CONFIG_RB_KNOBS]);
  });

  it("take the app's own hints, checked: they reach a Ruby file", () => {
    const hints = plan({
      configRbHints: { num_instances: "NUM_INSTANCES=<n> (environment)", vm_cpus: "x".repeat(300) },
    }).configRbHints;
    expect(hints.num_instances).toBe("NUM_INSTANCES=<n> (environment)");
    expect(hints.vm_cpus).toHaveLength(300);
    expect(hints.vm_memory).toBe('memoryMiB of CoreOsCluster "test/core"');
    expect(
      issueOf(() => plan({ configRbHints: { $num_instances: "x" } }), "configRbHints"),
    ).toEqual({
      prop: "configRbHints",
      value: "$num_instances",
      allowed: `knobs of config.rb: ${CONFIG_RB_KNOBS.join(", ")} (without the $)`,
    });
    for (const bad of ["", "  ", "x".repeat(301), "a\nb", "a\u0007", 5]) {
      expect(
        issueOf(() => plan({ configRbHints: { netmask: bad as string } }), "configRbHints.netmask"),
      ).toEqual({
        prop: "configRbHints.netmask",
        value: bad,
        allowed: "a text of 1-300 characters on one line, e.g. NUM_INSTANCES=<n> (environment)",
      });
    }
    expect(issueOf(() => plan({ configRbHints: ["x"] as never }), "configRbHints").allowed).toMatch(
      /^an object of knob name → text \(num_instances, instance_name_prefix/,
    );
  });
});

describe("planVagrant front", () => {
  it("puts an HA pair after the virtual address: .10 virtual, front-01 .11, front-02 .12", () => {
    const cluster = clusterPlan();
    const p = plan({ front: front(cluster) }, cluster).front!;
    expect(p.highAvailability).toBe(true);
    expect(p.address).toBe("192.168.56.10");
    expect(p.machines.map((m) => [m.name, m.address, m.provisioning, m.configFile])).toEqual([
      ["front-01", "192.168.56.11", "ignition", "ignition/front-01.ign"],
      ["front-02", "192.168.56.12", "ignition", "ignition/front-02.ign"],
    ]);
    expect(p.images).toEqual({
      haproxy: DEFAULT_IMAGES.haproxy,
      keepalived: DEFAULT_IMAGES.keepalived,
    });
    expect(p.plan.listeners[0].name).toBe("web");
  });

  it("gives the pair keepalived: front-01 preferred, each the other's only peer, the virtual address on the interface", () => {
    const cluster = clusterPlan();
    const p = plan(
      { front: front(cluster), virtualRouterId: 42, frontInterface: "enp0s8" },
      cluster,
    ).front!;
    expect(p.virtualRouterId).toBe(42);
    const [one, two] = p.machines.map((m) => KeepalivedBlock.parse(m.keepalivedConf!));
    const vrrp = (k: KeepalivedBlock) => k.block("vrrp_instance", "front");
    expect(one.block("global_defs").value("router_id")).toBe("front-01");
    expect(two.block("global_defs").value("router_id")).toBe("front-02");
    expect([vrrp(one).value("priority"), vrrp(two).value("priority")]).toEqual(["150", "100"]);
    expect(vrrp(one).value("unicast_src_ip")).toBe("192.168.56.11");
    expect(vrrp(one).entries("unicast_peer")).toEqual([["192.168.56.12"]]);
    expect(vrrp(two).value("unicast_src_ip")).toBe("192.168.56.12");
    expect(vrrp(two).entries("unicast_peer")).toEqual([["192.168.56.11"]]);
    for (const k of [one, two]) {
      expect(vrrp(k).value("interface")).toBe("enp0s8");
      expect(vrrp(k).value("virtual_router_id")).toBe("42");
      expect(vrrp(k).entries("virtual_ipaddress")).toEqual([["192.168.56.10/21", "dev", "enp0s8"]]);
    }
    expect(one.block("vrrp_script", "haproxy_alive").value("script")).toContain(
      "http://127.0.0.1:8404/healthz",
    );
  });

  it("gives each front machine its Ignition: hostname, haproxy.cfg, keepalived, the VRRP firewall naming the peer, the images", () => {
    const cluster = clusterPlan();
    const images = {
      haproxy: ContainerImage.pinned(`example.com/haproxy:2.8@sha256:${"a".repeat(64)}`),
      keepalived: ContainerImage.pinned(`example.com/keepalived:2@sha256:${"b".repeat(64)}`),
    };
    const p = plan({ front: front(cluster), frontImages: images }, cluster).front!;
    expect(p.images).toEqual(images);
    p.machines.forEach((m, i) => {
      expect(m.config).toBe(m.ignition);
      const ign = ignitionOf(m.ignition);
      expect(fileOf(ign, "/etc/hostname")).toBe(`${m.name}\n`);
      expect(fileOf(ign, "/etc/keepalived/keepalived.conf")).toBe(m.keepalivedConf);
      const peer = p.machines[1 - i].address;
      expect(unitOf(ign, "vrrp-peer-only.service")?.contents).toContain(
        `-p vrrp ! -s ${peer} -j DROP`,
      );
      expect(unitOf(ign, "haproxy.service")?.contents).toContain(images.haproxy.reference);
      expect(unitOf(ign, "keepalived.service")?.contents).toContain(images.keepalived.reference);
    });
  });

  it("writes one haproxy.cfg binding the front's address, with the stats socket and monitor the machines use", () => {
    const cluster = clusterPlan();
    const p = plan({ front: front(cluster) }, cluster).front!;
    const cfg = new HaproxyConfig(p.haproxyCfg);
    expect(cfg.frontend("fe_web").binds).toEqual(["192.168.56.10:80"]);
    expect(cfg.backend("be_nodes").servers.map((s) => `${s.address}:${s.port}`)).toEqual([
      "192.168.56.101:8080",
      "192.168.56.102:8080",
      "192.168.56.103:8080",
    ]);
    expect(p.haproxyCfg).toContain("stats socket /run/haproxy/admin.sock");
    expect(cfg.frontend("fe_monitor").binds).toEqual(["127.0.0.1:8404"]);
    expect(p.haproxyCfgHash).toBe(createHash("sha256").update(p.haproxyCfg).digest("hex"));
    for (const m of p.machines)
      expect(fileOf(ignitionOf(m.ignition), "/etc/haproxy/haproxy.cfg")).toBe(p.haproxyCfg);
  });

  it("reloads HAProxy for a drain instead of replacing the machines", () => {
    const cluster = clusterPlan();
    const before = plan({ front: front(cluster) }, cluster).front!;
    const after = plan({ front: front(cluster, ["core-02"]) }, cluster).front!;
    expect(after.haproxyCfgHash).not.toBe(before.haproxyCfgHash);
    expect(after.machines.map((m) => m.inputsHash)).toEqual(
      before.machines.map((m) => m.inputsHash),
    );
    expect(new Set(before.machines.map((m) => m.inputsHash)).size).toBe(2);
    // A machine setting replaces them.
    const gui = plan({ front: front(cluster), gui: true }, cluster).front!;
    expect(gui.machines[0].inputsHash).not.toBe(before.machines[0].inputsHash);
    const moved = plan({ front: front(cluster), frontFirstHostNumber: 20 }, cluster).front!;
    expect(moved.machines[0].inputsHash).not.toBe(before.machines[0].inputsHash);
  });

  it("runs a single front at the first host number after the default, without keepalived", () => {
    const cluster = clusterPlan();
    const p = plan({ front: front(cluster), frontHighAvailability: false }, cluster).front!;
    expect(p.highAvailability).toBe(false);
    expect(p.address).toBe("192.168.56.11");
    expect(p.virtualRouterId).toBeUndefined();
    expect(p.machines.map((m) => [m.name, m.address, m.keepalivedConf])).toEqual([
      ["front-01", "192.168.56.11", undefined],
    ]);
    const ign = ignitionOf(p.machines[0].ignition);
    expect(unitOf(ign, "keepalived.service")).toBeUndefined();
    expect(unitOf(ign, "vrrp-peer-only.service")).toBeUndefined();
    expect(new HaproxyConfig(p.haproxyCfg).frontend("fe_web").binds).toEqual(["192.168.56.11:80"]);
  });

  it("takes the front's first host number", () => {
    const cluster = clusterPlan();
    const p = plan({ front: front(cluster), frontFirstHostNumber: 20 }, cluster).front!;
    expect([p.address, ...p.machines.map((m) => m.address)]).toEqual([
      "192.168.56.20",
      "192.168.56.21",
      "192.168.56.22",
    ]);
    expect(
      plan({ front: front(cluster), frontFirstHostNumber: 98 }, cluster).front!.machines[1].address,
    ).toBe("192.168.56.100");
  });

  it("refuses front addresses that a node uses, outside the network, or outside VirtualBox's range", () => {
    const cluster = clusterPlan();
    const clash = issueOf(
      () => plan({ front: front(cluster), frontFirstHostNumber: 99 }, cluster),
      "frontFirstHostNumber",
    );
    expect(clash).toEqual({
      prop: "frontFirstHostNumber",
      value: 99,
      allowed:
        "host numbers (99, 100, 101) inside 192.168.56.0/21 that no node uses (nodes start at 101)",
    });
    expect(
      issueOf(
        () =>
          plan(
            { front: front(cluster), frontFirstHostNumber: 101, frontHighAvailability: false },
            cluster,
          ),
        "frontFirstHostNumber",
      ).allowed,
    ).toMatch(/^host numbers \(102\)/);
    expect(
      issueOf(
        () => plan({ front: front(cluster), frontFirstHostNumber: 2045 }, cluster),
        "frontFirstHostNumber",
      ).value,
    ).toBe(2045);
    expect(
      issueOf(
        () => plan({ front: front(cluster), frontFirstHostNumber: 10.5 }, cluster),
        "frontFirstHostNumber",
      ).value,
    ).toBe(10.5);
    // Nodes from 192.168.56.101, the front at 192.168.48.10: inside the network, outside VirtualBox's range.
    const wide = clusterPlan({ networkCidr: "192.168.48.0/20", firstHostNumber: 2149 });
    expect(wide.nodes[0].address).toBe("192.168.56.101");
    expect(issueOf(() => plan({ front: front(wide) }, wide), "frontFirstHostNumber").allowed).toBe(
      "front addresses inside 192.168.56.0/21 for VirtualBox (got 192.168.48.10)",
    );
    expect(plan({ front: front(wide), frontFirstHostNumber: 2058 }, wide).front!.address).toBe(
      "192.168.56.10",
    );
  });

  it("checks the pair's switches, interface and router id", () => {
    const cluster = clusterPlan();
    const check = (o: VagrantOptions) =>
      issuesOf(() => plan({ front: front(cluster), ...o }, cluster));
    const ok = (o: VagrantOptions) => plan({ front: front(cluster), ...o }, cluster).front!;
    expect(check({ frontHighAvailability: "yes" as never })).toEqual([
      { prop: "frontHighAvailability", value: "yes", allowed: "true or false" },
    ]);
    for (const iface of ["", "a b", "x".repeat(16), ".", "..", 5]) {
      expect(check({ frontInterface: iface as string })).toEqual([
        { prop: "frontInterface", value: iface, allowed: "a network interface name, e.g. eth1" },
      ]);
    }
    for (const good of ["x".repeat(15), "br-0.1_a", "..a", "a.."]) {
      expect(
        KeepalivedBlock.parse(ok({ frontInterface: good }).machines[0].keepalivedConf!)
          .block("vrrp_instance", "front")
          .value("interface"),
      ).toBe(good);
    }
    for (const vrid of [0, 256, 1.5, "7"]) {
      expect(check({ virtualRouterId: vrid as number })).toEqual([
        {
          prop: "virtualRouterId",
          value: vrid,
          allowed: "a whole number 1-255, unique among VRRP routers on the network",
        },
      ]);
    }
    for (const good of [1, 255]) expect(ok({ virtualRouterId: good }).virtualRouterId).toBe(good);
    const front01 = clusterPlan({ namePrefix: "front" });
    expect(
      issueOf(() => plan({ front: front(front01) }, front01), "cluster.namePrefix").allowed,
    ).toBe('a prefix other than "front" (the front machines are front-01, front-02)');
  });

  it("derives the router id from the cluster name, within 1-255", () => {
    const ids = ["a", "b", "core", "web", "db"].map((name) => {
      const cluster = clusterPlan({ name });
      return plan({ front: front(cluster) }, cluster).front!.virtualRouterId!;
    });
    expect(new Set(ids).size).toBeGreaterThan(1);
    for (const id of ids) expect(id >= 1 && id <= 255).toBe(true);
    const again = clusterPlan({ name: "core" });
    expect(plan({ front: front(again) }, again).front!.virtualRouterId).toBe(ids[2]);
    const expected =
      1 + (parseInt(createHash("sha256").update("core").digest("hex").slice(0, 8), 16) % 255);
    expect(ids[2]).toBe(expected);
  });

  it("runs only its own cluster's members", () => {
    const cluster = clusterPlan();
    const foreign = frontPlan([
      {
        name: "web",
        port: 80,
        group: "nodes",
        targets: [clusterTargets(cluster, "test/other")],
        targetPort: 8080,
      },
    ]);
    expect(issueOf(() => plan({ front: foreign }, cluster), 'front (listener "web")').value).toBe(
      'targets of CoreOsCluster "test/other"',
    );
  });

  it("schedules the front machines' reboot windows after the nodes'", () => {
    const cluster = clusterPlan({ rebootStrategy: RebootStrategy.STAGGERED });
    const p = plan({ front: front(cluster) }, cluster).front!;
    const windows = p.machines.map((m) => {
      const dropin =
        unitOf(ignitionOf(m.ignition), "locksmithd.service")?.dropins?.[0].contents ?? "";
      return /LOCKSMITHD_REBOOT_WINDOW_START=(\d\d:\d\d)/.exec(dropin)?.[1];
    });
    expect(windows).toEqual(["03:00", "04:00"]);
  });

  it("gives the front machines etcd client credentials when etcd speaks TLS", () => {
    const plain = clusterPlan();
    const keyPair = (name: string) => ({
      certificatePem: `CERT ${name}`,
      privateKeyPem: `KEY ${name}`,
    });
    const machines: Record<string, MachineCredentials> = Object.fromEntries(
      plain.nodes.map((n) => [
        n.name,
        { member: keyPair(n.name), client: keyPair(`${n.name}-client`) },
      ]),
    );
    const cluster: ClusterPlan = {
      ...plain,
      etcd: { ...plain.etcd, tls: { caCertificatePem: "CA", machines } },
    };
    const asked: string[] = [];
    const p = plan(
      {
        front: front(cluster),
        frontCredentials: (m) => {
          asked.push(m);
          return { client: keyPair(`${m}-client`) };
        },
      },
      cluster,
    ).front!;
    expect(asked).toEqual(["front-01", "front-02"]);
    const ign = ignitionOf(p.machines[1].ignition);
    const texts = ign.storage.files.map((f) => fileOf(ign, f.path) ?? "");
    expect(texts).toContain("CERT front-02-client");
    expect(texts).toContain("KEY front-02-client");
  });
});

describe("vagrantTopology", () => {
  it("draws the local machines and the HA front with its virtual address", () => {
    const cluster = clusterPlan({ cpus: 2, memoryMiB: 2048 });
    const t = vagrantTopology(
      plan({ front: front(cluster, ["core-03"]) }, cluster),
      "vagrant/core",
    );
    expect(t.target).toEqual({
      kind: "vagrant",
      title: "Vagrant + VirtualBox (local machines)",
      details: [
        "box flatcar-stable",
        "2 CPU, 2048 MiB per machine",
        "host-only network, netmask 255.255.248.0",
        "folder vagrant/core",
      ],
    });
    expect(t.nodes.map((n) => n.draining)).toEqual([false, false, true]);
    expect(t.front).toEqual({
      name: "front",
      kind: "HAProxy + keepalived (VRRP)",
      address: "192.168.56.10 (virtual address, moves between the front machines)",
      machines: [
        { name: "front-01", address: "192.168.56.11" },
        { name: "front-02", address: "192.168.56.12" },
      ],
      listeners: [
        {
          name: "web",
          port: 80,
          protocol: "tcp",
          targetGroup: "nodes",
          targetPort: 8080,
          healthCheck: "TCP connect every 500ms",
        },
      ],
      note: undefined,
    });
  });

  it("draws a single front at its own address, and no front without one", () => {
    const cluster = clusterPlan();
    const t = vagrantTopology(
      plan({ front: front(cluster), frontHighAvailability: false }, cluster),
      "vagrant/core",
    );
    expect([t.front?.kind, t.front?.address]).toEqual(["HAProxy", "192.168.56.11"]);
    expect(vagrantTopology(plan(), "vagrant/core").front).toBeUndefined();
  });
});
