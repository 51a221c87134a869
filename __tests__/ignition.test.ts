import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import {
  CoreOsClusterProps,
  FedoraCoreOsStream,
  FlatcarChannel,
  OperatingSystem,
  parseEnvironmentDropin,
  planCluster,
  RebootStrategy,
  renderIgnition,
} from "../lib";
import { enablementLinks } from "../lib/render/enabled-units";
import { fromDataUrl, IgnitionConfig, IgnitionUnit } from "../lib/render/ignition";
import { synthCluster } from "./support/synth";
import { describeWithTool } from "./support/tools";

const PUB =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkB0V0mI0tWlX3f8e6c9j0Hc0mQ5m2R9bW7rPjX3y1Q ops@example";

const CASES: Array<[string, CoreOsClusterProps]> = [
  ["default seed cluster", {}],
  ["one node", { nodeCount: 1 }],
  [
    "five etcd members, standby, keys",
    { nodeCount: 7, standby: 2, etcd: { members: 5 }, sshPublicKeys: [PUB] },
  ],
  [
    "flatcar lts, reboot off",
    { os: OperatingSystem.flatcar(FlatcarChannel.LTS), rebootStrategy: RebootStrategy.OFF },
  ],
  ["fedora coreos", { os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.TESTING) }],
  [
    "fedora coreos, updates off",
    { os: OperatingSystem.fedoraCoreOs(), rebootStrategy: RebootStrategy.OFF },
  ],
  [
    "user units and files",
    {
      units: [
        {
          name: "hello.service",
          contents:
            "[Unit]\nDescription=hi\n[Service]\nExecStart=/usr/bin/echo hi\n[Install]\nWantedBy=multi-user.target\n",
        },
        {
          name: "docker.service",
          dropins: [
            { name: "10-opts.conf", contents: "[Service]\nEnvironment=DOCKER_OPTS=--debug\n" },
          ],
        },
        { name: "sshd.socket", enabled: false },
      ],
      files: [
        { path: "/etc/motd", contents: "Welcome to the cluster: 100% ünïcode & symbols #?\n" },
        { path: "/opt/bin/hello", contents: "#!/bin/sh\necho hi\n", mode: 0o755 },
      ],
    },
  ],
];

function read(file: string): IgnitionConfig {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function fileText(ign: IgnitionConfig, path: string): string | undefined {
  const f = ign.storage.files.find((x) => x.path === path);
  return f ? fromDataUrl(f.contents.source) : undefined;
}

describeWithTool(
  "ignition-validate",
  "ignition",
  "every synthesized Ignition config passes ignition-validate",
  () => {
    it.each(CASES)("%s", (_label, props) => {
      const { ignitionFiles } = synthCluster(props);
      expect(ignitionFiles.length).toBeGreaterThan(0);
      for (const file of ignitionFiles) {
        const r = spawnSync("ignition-validate", [file], { encoding: "utf8" });
        expect({ file, status: r.status, out: r.stdout + r.stderr }).toEqual({
          file,
          status: 0,
          out: "",
        });
      }
    });

    it("ignition-validate rejects a broken config (the check can fail)", () => {
      const { ignitionFiles } = synthCluster({});
      const broken = JSON.parse(fs.readFileSync(ignitionFiles[0], "utf8"));
      broken.storage.files[0].path = "relative/path";
      fs.writeFileSync(ignitionFiles[0], JSON.stringify(broken));
      const r = spawnSync("ignition-validate", [ignitionFiles[0]], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
    });
  },
);

describe("what each node's Ignition carries", () => {
  const { cluster, ignitionFiles } = synthCluster({
    nodeCount: 4,
    standby: 1,
    sshPublicKeys: [PUB],
    files: [{ path: "/etc/motd", contents: "hi\n" }],
  });
  const configs = ignitionFiles.map(read);

  it("names each host and authorises the keys for user core", () => {
    configs.forEach((ign, i) => {
      expect(ign.ignition.version).toBe("3.3.0");
      expect(fileText(ign, "/etc/hostname")).toBe(`${cluster.nodes[i].name}\n`);
      expect(ign.passwd.users).toEqual([{ name: "core", sshAuthorizedKeys: [PUB] }]);
      expect(fileText(ign, "/etc/motd")).toBe("hi\n");
    });
  });

  it("runs etcd-member.service on members only, with the static bootstrap settings", () => {
    const members = configs.map((ign) =>
      ign.systemd.units.find((u) => u.name === "etcd-member.service"),
    );
    expect(members.map((m) => Boolean(m))).toEqual([true, true, true, false]);
    const env = parseEnvironmentDropin(members[1]!.dropins![0].contents);
    expect(env).toMatchObject({
      ETCD_NAME: "core-02",
      ETCD_DATA_DIR: "/var/lib/etcd",
      ETCD_LISTEN_PEER_URLS: "http://192.168.56.102:2380",
      ETCD_LISTEN_CLIENT_URLS: "http://192.168.56.102:2379",
      ETCD_INITIAL_ADVERTISE_PEER_URLS: "http://192.168.56.102:2380",
      ETCD_ADVERTISE_CLIENT_URLS: "http://192.168.56.102:2379",
      ETCD_INITIAL_CLUSTER_STATE: "new",
      ETCD_INITIAL_CLUSTER_TOKEN: cluster.plan.etcd.clusterToken,
    });
    expect(env.ETCD_INITIAL_CLUSTER.split(",")).toHaveLength(3);
    expect(members[1]!.contents).toBeUndefined(); // Flatcar ships the unit itself
  });

  it("points every node, client or member, at the etcd members", () => {
    for (const ign of configs) {
      expect(fileText(ign, "/etc/profile.d/etcdctl.sh")).toContain(
        "ETCDCTL_ENDPOINTS=http://192.168.56.101:2379,http://192.168.56.102:2379,http://192.168.56.103:2379",
      );
      const lock = ign.systemd.units.find((u) => u.name === "locksmithd.service");
      expect(parseEnvironmentDropin(lock!.dropins![0].contents).LOCKSMITHD_ENDPOINT).toBe(
        cluster.etcdEndpoints.join(","),
      );
      expect(fileText(ign, "/etc/flatcar/update.conf")).toBe(
        "GROUP=stable\nREBOOT_STRATEGY=etcd-lock\n",
      );
    }
  });

  it("runs etcd in podman on Fedora CoreOS and configures Zincati", () => {
    const fcos = synthCluster({ os: OperatingSystem.fedoraCoreOs(), nodeCount: 1 });
    const ign = read(fcos.ignitionFiles[0]);
    const unit = ign.systemd.units.find((u) => u.name === "etcd-member.service");
    expect(unit?.contents).toContain("podman run --name etcd --net=host --env 'ETCD_*'");
    expect(fileText(ign, "/etc/zincati/config.d/55-updates-strategy.toml")).toContain(
      'strategy = "immediate"',
    );
    expect(fileText(ign, "/etc/flatcar/update.conf")).toBeUndefined();
    expect(ign.systemd.units.find((u) => u.name === "locksmithd.service")).toBeUndefined();
  });
});

describe("links for enabled units (what systemctl enable would create)", () => {
  const unit = (u: IgnitionUnit) => enablementLinks([u]).map((l) => `${l.path} -> ${l.target}`);

  it("follows WantedBy, RequiredBy, UpheldBy and Alias of the unit and its drop-ins", () => {
    expect(
      unit({
        name: "a.service",
        enabled: true,
        contents:
          "[Install]\nWantedBy=multi-user.target \\\n  timers.target\n# WantedBy=x.target\nRequiredBy=b.target\nUpheldBy=c.target\nAlias=b.service\n",
        dropins: [{ name: "10.conf", contents: "[Install]\nWantedBy=\nWantedBy=d.target\n" }],
      }),
    ).toEqual([
      "/etc/systemd/system/d.target.wants/a.service -> /etc/systemd/system/a.service",
      "/etc/systemd/system/b.target.requires/a.service -> /etc/systemd/system/a.service",
      "/etc/systemd/system/c.target.upholds/a.service -> /etc/systemd/system/a.service",
      "/etc/systemd/system/b.service -> /etc/systemd/system/a.service",
    ]);
  });

  it("links a unit the OS ships to /usr/lib, wanted by the target of its type", () => {
    expect(unit({ name: "etcd-member.service", enabled: true })).toEqual([
      "/etc/systemd/system/multi-user.target.wants/etcd-member.service -> /usr/lib/systemd/system/etcd-member.service",
    ]);
    expect(unit({ name: "fstrim.timer", enabled: true })).toEqual([
      "/etc/systemd/system/timers.target.wants/fstrim.timer -> /usr/lib/systemd/system/fstrim.timer",
    ]);
    expect(unit({ name: "getty@tty2.service", enabled: true })).toEqual([
      "/etc/systemd/system/multi-user.target.wants/getty@tty2.service -> /usr/lib/systemd/system/getty@.service",
    ]);
  });

  it("enables a template through DefaultInstance, and nothing that is not enabled", () => {
    expect(
      unit({
        name: "w@.service",
        enabled: true,
        contents: "[Install]\nWantedBy=multi-user.target\nDefaultInstance=1\n",
      }),
    ).toEqual([
      "/etc/systemd/system/multi-user.target.wants/w@1.service -> /etc/systemd/system/w@.service",
    ]);
    const wanted = "[Install]\nWantedBy=multi-user.target\n";
    expect(unit({ name: "w@.service", enabled: true, contents: wanted })).toEqual([]);
    expect(unit({ name: "a.service", enabled: false, contents: wanted })).toEqual([]);
    expect(unit({ name: "a.service", contents: wanted })).toEqual([]);
    expect(unit({ name: "a.service", enabled: true, contents: "[Service]\n" })).toEqual([]);
  });

  it("gives every node config the links of its enabled units", () => {
    const plan = planCluster(
      {
        nodeCount: 4,
        etcd: { members: 3 },
        units: [{ name: "hello.service", contents: "[Install]\nWantedBy=multi-user.target\n" }],
      },
      { id: "core", path: "s/core" },
    );
    const links = plan.nodes.map((n) =>
      (renderIgnition(plan, n).storage.links ?? []).map((l) => l.path.split("/").pop()),
    );
    expect(links).toEqual([
      ["etcd-member.service", "hello.service"],
      ["etcd-member.service", "hello.service"],
      ["etcd-member.service", "hello.service"],
      ["hello.service"],
    ]);
  });
});
