import { gunzipSync } from "node:zlib";
import {
  CoreOsClusterProps,
  Duration,
  EtcdTls,
  OperatingSystem,
  parseEnvironmentDropin,
  parseEnvironmentFile,
  RebootStrategy,
} from "../lib";
import { ETCD_TLS_FILES } from "../lib/render/etcd-environment";
import {
  compressedIgnition,
  dataUrl,
  file,
  fileText,
  fromDataUrl,
  IgnitionConfig,
  locksmithSettings,
  machineTlsFiles,
  rebootLockUnits,
  rebootWindowStart,
  renderIgnition,
  renderIgnitionCompact,
  renderIgnitionJson,
  updateFiles,
} from "../lib/render/ignition";
import { READY_CHECK_PATH } from "../lib/render/ready-check";
import { ed25519PublicKey } from "./support/keys";
import { renderPlan } from "./support/render-plans";

const PUB = ed25519PublicKey("ops");

/*
 * A node's Ignition config from pure plans (no cdktf stack): which files and
 * units it gets and what they say. ignition.test.ts checks whole clusters
 * with ignition-validate; enabled-units.test.ts applies them with the
 * Ignition engine.
 */

const plan = (props: CoreOsClusterProps = {}) =>
  renderPlan({ nodeCount: 4, ...props, etcd: { members: 3, ...props.etcd } });

const files = (c: IgnitionConfig) =>
  Object.fromEntries(c.storage.files.map((f) => [f.path, [fileText(f), f.mode]]));
const unitNames = (c: IgnitionConfig) => c.systemd.units.map((u) => u.name);

describe("files", () => {
  it("data URLs carry any text", () => {
    const text = "a b,c;d%e\n\u0000é🙂#?&=+";
    expect(dataUrl(text).startsWith("data:,")).toBe(true);
    expect(fromDataUrl(dataUrl(text))).toBe(text);
    expect(() => fromDataUrl("https://example.com/x")).toThrow(
      "not a plain data URL: https://example.com",
    );
  });

  it("gzip only where it is shorter; 0644, overwritten, by default", () => {
    const long = file("/a", "repeat me\n".repeat(50));
    expect([long.contents.compression, long.contents.source.startsWith("data:;base64,")]).toEqual([
      "gzip",
      true,
    ]);
    expect(fileText(long)).toBe("repeat me\n".repeat(50));
    expect([long.mode, long.overwrite]).toEqual([0o644, true]);
    const short = file("/b", "x", 0o600);
    expect(short).toEqual({
      path: "/b",
      mode: 0o600,
      overwrite: true,
      contents: { source: "data:,x" },
    });
    expect(file("/c", "y").mode).toBe(0o644);
  });

  it("compressedIgnition replaces itself with the same config, its files as plain data URLs", () => {
    const p = plan({ etcd: { tls: EtcdTls.disabled() } });
    const compact = renderIgnitionCompact(p, p.nodes[0]);
    const small = JSON.parse(compressedIgnition(compact));
    expect(small.ignition.version).toBe("3.3.0");
    const replace = small.ignition.config.replace;
    expect(replace.compression).toBe("gzip");
    const inner = JSON.parse(
      gunzipSync(Buffer.from(replace.source.replace(/^data:;base64,/, ""), "base64")).toString(),
    ) as IgnitionConfig;
    const original = JSON.parse(compact) as IgnitionConfig;
    expect(files(inner)).toEqual(files(original));
    expect(inner.storage.files.every((f) => f.contents.compression === undefined)).toBe(true);
    expect(inner.systemd).toEqual(original.systemd);
    expect(compressedIgnition(compact).length).toBeLessThan(compact.length);
  });
});

describe("updates", () => {
  it.each([
    [0, "00:00"],
    [9, "09:00"],
    [23, "23:00"],
    [25, "01:00"],
  ])("slot %i reboots at %s UTC", (slot, start) => {
    expect(rebootWindowStart(slot)).toBe(start);
  });

  it.each([
    [RebootStrategy.ETCD_LOCK, "etcd-lock"],
    [RebootStrategy.STAGGERED, "reboot"],
    [RebootStrategy.REBOOT, "reboot"],
    [RebootStrategy.OFF, "off"],
  ])("Flatcar %s: update.conf says %s", (strategy, says) => {
    const [f] = updateFiles(plan({ rebootStrategy: strategy }), 0);
    expect(f.path).toBe("/etc/flatcar/update.conf");
    expect(parseEnvironmentFile(fileText(f))).toEqual({ GROUP: "stable", REBOOT_STRATEGY: says });
  });

  it("Fedora CoreOS: zincati off, immediate, or in the slot's 30-minute window", () => {
    const fcos = (rebootStrategy: RebootStrategy) =>
      plan({ os: OperatingSystem.fedoraCoreOs(), rebootStrategy });
    const toml = (p: ReturnType<typeof plan>, slot: number) => {
      const [f] = updateFiles(p, slot);
      expect(f.path).toBe("/etc/zincati/config.d/55-updates-strategy.toml");
      return fileText(f);
    };
    expect(toml(fcos(RebootStrategy.OFF), 0)).toBe("[updates]\nenabled = false\n");
    expect(toml(fcos(RebootStrategy.REBOOT), 0)).toBe('[updates]\nstrategy = "immediate"\n');
    const staggered = toml(fcos(RebootStrategy.STAGGERED), 2);
    expect(staggered).toContain('strategy = "periodic"');
    expect(staggered).toContain('time_zone = "UTC"');
    expect(staggered).toContain('start_time = "02:00"\nlength_minutes = 30\n');
    expect(staggered).toContain('days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]');
  });

  it("locksmithd: the etcd lock with the machine's client certificate, and the window", () => {
    const p = plan({ maintenanceWindow: { start: "Sun 03:00", length: Duration.minutes(90) } });
    expect(Object.fromEntries(locksmithSettings(p, 1))).toEqual({
      LOCKSMITHD_ENDPOINT: p.etcd.clientEndpoints.join(","),
      LOCKSMITHD_ETCD_CAFILE: ETCD_TLS_FILES.ca,
      LOCKSMITHD_ETCD_CERTFILE: ETCD_TLS_FILES.clientCert,
      LOCKSMITHD_ETCD_KEYFILE: ETCD_TLS_FILES.clientKey,
      LOCKSMITHD_REBOOT_WINDOW_START: "Sun 03:00",
      LOCKSMITHD_REBOOT_WINDOW_LENGTH: "1h30m",
    });
    const staggered = plan({ rebootStrategy: RebootStrategy.STAGGERED });
    expect(locksmithSettings(staggered, 5)).toEqual([
      ["LOCKSMITHD_REBOOT_WINDOW_START", "05:00"],
      ["LOCKSMITHD_REBOOT_WINDOW_LENGTH", "30m"],
    ]);
    expect(locksmithSettings(plan({ rebootStrategy: RebootStrategy.REBOOT }), 0)).toEqual([]);
    expect(rebootLockUnits(plan({ rebootStrategy: RebootStrategy.REBOOT }), 0)).toEqual([]);
    expect(rebootLockUnits(staggered, 5)).toEqual([
      {
        name: "locksmithd.service",
        dropins: [{ name: "20-etcd-endpoints.conf", contents: expect.stringContaining("05:00") }],
      },
    ]);
    expect(locksmithSettings(plan({ os: OperatingSystem.fedoraCoreOs() }), 0)).toEqual([]);
  });
});

describe("renderIgnition", () => {
  it("a member with TLS: host name, its certificates, etcd settings, membership script and units", () => {
    const p = plan({ sshPublicKeys: [PUB] });
    const c = renderIgnition(p, p.nodes[0]);
    expect(c.ignition.version).toBe("3.3.0");
    expect(c.passwd.users).toEqual([{ name: "core", sshAuthorizedKeys: [PUB] }]);
    const f = files(c);
    expect(f["/etc/hostname"]).toEqual(["core-01\n", 0o644]);
    expect(f[ETCD_TLS_FILES.memberKey]).toEqual(["core-01 member key\n", 0o600]);
    expect(f[ETCD_TLS_FILES.clientKey]).toEqual(["core-01 client key\n", 0o600]);
    expect(f[ETCD_TLS_FILES.ca]).toEqual(["CA\n", 0o644]);
    expect(parseEnvironmentFile(f["/etc/etcd/etcd.env"][0] as string).ETCD_NAME).toBe("core-01");
    expect(parseEnvironmentFile(f["/etc/etcd/join.env"][0] as string).ETCD_NAME).toBe("core-01");
    expect(f["/opt/etcd/etcd-member-join"][1]).toBe(0o755);
    expect(f["/etc/profile.d/etcdctl.sh"][0]).toBe(
      `export ETCDCTL_API=3\nexport ETCDCTL_ENDPOINTS=${p.etcd.clientEndpoints.join(",")}\nexport ETCDCTL_CACERT=${ETCD_TLS_FILES.ca}\nexport ETCDCTL_CERT=${ETCD_TLS_FILES.clientCert}\nexport ETCDCTL_KEY=${ETCD_TLS_FILES.clientKey}\n`,
    );
    expect(f[READY_CHECK_PATH]?.[1]).toBe(0o755);
    expect(f[READY_CHECK_PATH]?.[0]).toContain('echo "core-01: up"');
    expect(unitNames(c)).toEqual([
      "etcd-member.service",
      "etcd-member-promote.service",
      "locksmithd.service",
    ]);
    expect(c.systemd.units.slice(0, 2).every((u) => u.enabled === true)).toBe(true);
    expect(
      parseEnvironmentDropin(c.systemd.units[2].dropins![0].contents).LOCKSMITHD_ENDPOINT,
    ).toBe(p.etcd.clientEndpoints.join(","));
    // Enabled units get the links systemctl enable would make.
    expect(c.storage.links?.map((l) => l.path)).toEqual(
      expect.arrayContaining([
        "/etc/systemd/system/multi-user.target.wants/etcd-member.service",
        "/etc/systemd/system/etcd-member.service.wants/etcd-member-promote.service",
      ]),
    );
  });

  it("a client node: no member settings or key, the leave unit; no keys in passwd without keys", () => {
    const p = plan();
    const c = renderIgnition(p, p.nodes[3]);
    const f = files(c);
    expect(f["/etc/etcd/etcd.env"]).toBeUndefined();
    expect(f[ETCD_TLS_FILES.memberKey]).toBeUndefined();
    expect(f[ETCD_TLS_FILES.clientKey]).toEqual(["core-04 client key\n", 0o600]);
    expect(unitNames(c)).toEqual(["etcd-member-leave.service", "locksmithd.service"]);
    expect(c.systemd.units[0].enabled).toBe(true);
    expect(c.passwd.users).toEqual([{ name: "core" }]);
  });

  it("without TLS: no certificates; the plan's TLS material must name every machine", () => {
    const p = plan({ etcd: { tls: EtcdTls.disabled() } });
    expect(machineTlsFiles(p, "core-01")).toEqual([]);
    expect(
      Object.keys(files(renderIgnition(p, p.nodes[0]))).filter((x) => x.startsWith("/etc/ssl")),
    ).toEqual([]);
    const tls = plan();
    expect(() => machineTlsFiles(tls, "front-09")).toThrow(
      "no etcd TLS credentials for front-09 in cluster core",
    );
    const none = { ...tls, etcd: { ...tls.etcd, tls: undefined } };
    expect(() => machineTlsFiles(none, "core-01")).toThrow("no etcd TLS credentials for core-01");
  });

  it("the user's files and units: enabled by default when they have contents, drop-ins joined to the cluster's unit", () => {
    const p = plan({
      files: [{ path: "/etc/app/all", contents: "all" }],
      nodeFiles: { "core-02": [{ path: "/etc/app/two", contents: "two", mode: 0o600 }] },
      units: [
        {
          name: "hello.service",
          contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        },
        { name: "off.service", contents: "[Service]\nExecStart=/bin/true\n", enabled: false },
        { name: "docker.service", dropins: [{ name: "10-x.conf", contents: "[Service]\n" }] },
        { name: "sshd.socket", enabled: false },
        {
          name: "etcd-member.service",
          dropins: [{ name: "30-limits.conf", contents: "[Service]\nLimitNOFILE=1\n" }],
        },
      ],
    });
    const c = renderIgnition(p, p.nodes[1]);
    const f = files(c);
    expect(f["/etc/app/all"]).toEqual(["all", 0o644]);
    expect(f["/etc/app/two"]).toEqual(["two", 0o600]);
    expect(files(renderIgnition(p, p.nodes[0]))["/etc/app/two"]).toBeUndefined();
    const byName = new Map(c.systemd.units.map((u) => [u.name, u]));
    expect(byName.get("hello.service")?.enabled).toBe(true);
    expect(byName.get("hello.service")?.contents).toBe(
      "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
    );
    expect(byName.get("sshd.socket")).toEqual({ name: "sshd.socket", enabled: false });
    expect(byName.get("off.service")?.enabled).toBe(false);
    expect(byName.get("docker.service")).toEqual({
      name: "docker.service",
      dropins: [{ name: "10-x.conf", contents: "[Service]\n" }],
    });
    expect(unitNames(c).filter((n) => n === "etcd-member.service")).toHaveLength(1);
    const member = byName.get("etcd-member.service")!;
    expect(member.contents).toContain("ExecStart=");
    expect(member.enabled).toBe(true);
    expect(member.dropins).toEqual([
      { name: "30-limits.conf", contents: "[Service]\nLimitNOFILE=1\n" },
    ]);
  });

  it("as JSON: pretty with a final newline, or compact", () => {
    const p = plan({ etcd: { tls: EtcdTls.disabled() } });
    const json = renderIgnitionJson(p, p.nodes[0]);
    expect(json.endsWith("}\n")).toBe(true);
    expect(JSON.parse(json)).toEqual(JSON.parse(renderIgnitionCompact(p, p.nodes[0])));
    expect(renderIgnitionCompact(p, p.nodes[0])).not.toContain("\n");
  });
});
