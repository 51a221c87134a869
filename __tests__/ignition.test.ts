import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import {
  CoreOsClusterProps,
  ETCD_ENV_FILE,
  ETCD_TLS_FILES,
  EtcdTls,
  parseEnvironmentFile,
  FedoraCoreOsStream,
  FlatcarChannel,
  OperatingSystem,
  parseEnvironmentDropin,
  RebootStrategy,
} from "../lib";
import { enablementLinks } from "../lib/render/enabled-units";
import { fileText as ignitionFileText, IgnitionConfig, IgnitionUnit } from "../lib/render/ignition";
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
    "fedora coreos, immediate reboots",
    { os: OperatingSystem.fedoraCoreOs(), rebootStrategy: RebootStrategy.REBOOT },
  ],
  ["flatcar, staggered reboots", { rebootStrategy: RebootStrategy.STAGGERED }],
  ["etcd without TLS", { etcd: { tls: EtcdTls.disabled() } }],
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
  return f ? ignitionFileText(f) : undefined;
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

  it("runs etcd-member.service on members only, with the static bootstrap settings over TLS", () => {
    const members = configs.map((ign) =>
      ign.systemd.units.find((u) => u.name === "etcd-member.service"),
    );
    expect(members.map((m) => Boolean(m))).toEqual([true, true, true, false]);
    expect(configs.map((ign) => Boolean(fileText(ign, ETCD_ENV_FILE)))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const env = parseEnvironmentFile(fileText(configs[1], ETCD_ENV_FILE) as string);
    expect(env).toMatchObject({
      ETCD_NAME: "core-02",
      ETCD_DATA_DIR: "/var/lib/etcd",
      ETCD_LISTEN_PEER_URLS: "https://192.168.56.102:2380",
      ETCD_LISTEN_CLIENT_URLS: "https://192.168.56.102:2379",
      ETCD_INITIAL_ADVERTISE_PEER_URLS: "https://192.168.56.102:2380",
      ETCD_ADVERTISE_CLIENT_URLS: "https://192.168.56.102:2379",
      ETCD_INITIAL_CLUSTER_STATE: "new",
      ETCD_INITIAL_CLUSTER_TOKEN: cluster.plan.etcd.clusterToken,
      ETCD_CLIENT_CERT_AUTH: "true",
      ETCD_PEER_CLIENT_CERT_AUTH: "true",
      ETCD_PEER_CERT_ALLOWED_CN: "etcd-member",
      ETCD_CERT_FILE: "/etc/ssl/etcd/member.crt",
      ETCD_KEY_FILE: "/etc/ssl/etcd/member.key",
    });
    expect(env.ETCD_INITIAL_CLUSTER.split(",")).toHaveLength(3);
    // The cluster writes the whole unit: the image it names, the settings file, the certificates.
    expect(members[1]!.contents).toContain(
      "docker run --name etcd-member --rm --net=host --env-file /run/etcd/etcd.env",
    );
    expect(members[1]!.contents).toContain("quay.io/coreos/etcd:v3.5.21 /usr/local/bin/etcd");
  });

  it("gives members a member key, every node a client key, all 0600, the CA to all", () => {
    configs.forEach((ign, i) => {
      const mode = (p: string) => ign.storage.files.find((f) => f.path === p)?.mode;
      expect(mode(ETCD_TLS_FILES.ca)).toBe(0o644);
      expect(mode(ETCD_TLS_FILES.clientKey)).toBe(0o600);
      expect(mode(ETCD_TLS_FILES.memberKey)).toBe(i < 3 ? 0o600 : undefined);
      for (const f of ign.storage.files) {
        if (fileText(ign, f.path)?.includes("PRIVATE KEY")) expect(f.mode).toBe(0o600);
      }
    });
  });

  it("writes the node configs 0600: they hold private keys", () => {
    for (const f of ignitionFiles) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  });

  it("points every node, client or member, at the etcd members with its client certificate", () => {
    for (const ign of configs) {
      const profile = fileText(ign, "/etc/profile.d/etcdctl.sh");
      expect(profile).toContain(
        "ETCDCTL_ENDPOINTS=https://192.168.56.101:2379,https://192.168.56.102:2379,https://192.168.56.103:2379",
      );
      expect(profile).toContain("ETCDCTL_CERT=/etc/ssl/etcd/client.crt");
      const lock = ign.systemd.units.find((u) => u.name === "locksmithd.service");
      expect(parseEnvironmentDropin(lock!.dropins![0].contents)).toEqual({
        LOCKSMITHD_ENDPOINT: cluster.etcdEndpoints.join(","),
        LOCKSMITHD_ETCD_CAFILE: "/etc/ssl/etcd/ca.crt",
        LOCKSMITHD_ETCD_CERTFILE: "/etc/ssl/etcd/client.crt",
        LOCKSMITHD_ETCD_KEYFILE: "/etc/ssl/etcd/client.key",
      });
      expect(fileText(ign, "/etc/flatcar/update.conf")).toBe(
        "GROUP=stable\nREBOOT_STRATEGY=etcd-lock\n",
      );
    }
  });

  it("with TLS disabled: plain http and no keys (debugging only)", () => {
    const plain = synthCluster({ nodeCount: 1, etcd: { tls: EtcdTls.disabled() } });
    const ign = read(plain.ignitionFiles[0]);
    const env = parseEnvironmentFile(fileText(ign, ETCD_ENV_FILE) as string);
    expect(env.ETCD_LISTEN_CLIENT_URLS).toMatch(/^http:\/\//);
    // No setting names a key or certificate file that is not there.
    expect(Object.keys(env).filter((k) => /CERT|KEY|CA_FILE/.test(k))).toEqual([]);
    expect(ign.storage.files.some((f) => f.path.startsWith("/etc/ssl/etcd/"))).toBe(false);
  });

  it("runs etcd in podman on Fedora CoreOS and staggers reboots in per-node Zincati windows", () => {
    const fcos = synthCluster({ os: OperatingSystem.fedoraCoreOs(), nodeCount: 3 });
    const igns = fcos.ignitionFiles.map(read);
    const unit = igns[0].systemd.units.find((u) => u.name === "etcd-member.service");
    expect(unit?.contents).toContain("/usr/bin/podman run --name etcd-member --rm --net=host");
    expect(unit?.contents).toContain("--volume /etc/ssl/etcd:/etc/ssl/etcd:ro,z");
    const windows = igns.map((ign) =>
      fileText(ign, "/etc/zincati/config.d/55-updates-strategy.toml"),
    );
    windows.forEach((toml, i) => {
      expect(toml).toContain('strategy = "periodic"');
      expect(toml).toContain(`start_time = "0${i}:00"`);
      expect(toml).toContain("length_minutes = 30");
    });
    expect(new Set(windows).size).toBe(3);
    expect(fileText(igns[0], "/etc/flatcar/update.conf")).toBeUndefined();
    expect(igns[0].systemd.units.find((u) => u.name === "locksmithd.service")).toBeUndefined();
  });

  it("Flatcar STAGGERED: reboot inside the node's own locksmithd window", () => {
    const flat = synthCluster({ nodeCount: 2, rebootStrategy: RebootStrategy.STAGGERED });
    flat.ignitionFiles.map(read).forEach((ign, i) => {
      expect(fileText(ign, "/etc/flatcar/update.conf")).toContain("REBOOT_STRATEGY=reboot");
      const lock = ign.systemd.units.find((u) => u.name === "locksmithd.service");
      expect(parseEnvironmentDropin(lock!.dropins![0].contents)).toEqual({
        LOCKSMITHD_REBOOT_WINDOW_START: `0${i}:00`,
        LOCKSMITHD_REBOOT_WINDOW_LENGTH: "30m",
      });
    });
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

  it("gives every node config the links of its enabled units, etcd's own included", () => {
    const { ignitionFiles } = synthCluster({
      nodeCount: 4,
      etcd: { members: 3 },
      units: [{ name: "hello.service", contents: "[Install]\nWantedBy=multi-user.target\n" }],
    });
    const links = ignitionFiles.map((f) =>
      (read(f).storage.links ?? []).map((l) => l.path.replace("/etc/systemd/system/", "")),
    );
    const member = [
      "multi-user.target.wants/etcd-member.service",
      "etcd-member.service.wants/etcd-member-promote.service",
      "multi-user.target.wants/hello.service",
    ];
    expect(links).toEqual([
      member,
      member,
      member,
      [
        "multi-user.target.wants/etcd-member-leave.service",
        "multi-user.target.wants/hello.service",
      ],
    ]);
  });
});
