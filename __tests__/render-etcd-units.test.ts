import {
  CoreOsClusterProps,
  EtcdDiscovery,
  EtcdTls,
  OperatingSystem,
  parseEnvironmentFile,
  planCluster,
  RebootStrategy,
} from "../lib";
import {
  ETCD_TLS_FILES,
  etcdClientSettings,
  etcdMemberEnvironment,
} from "../lib/render/etcd-environment";
import {
  ETCD_JOIN_ENV_FILE,
  ETCD_JOIN_SCRIPT,
  ETCD_JOIN_SCRIPT_TEXT,
  etcdJoinEnvironment,
  etcdLeaveUnit,
  etcdMemberUnit,
  etcdPromoteUnit,
  etcdTlsFiles,
  withoutCommentLines,
} from "../lib/render/etcd-units";

/*
 * etcd's units and the membership script's settings, from pure plans: what
 * systemd and the join script read (each `Key=` of a unit, each variable of
 * join.env). The units run for real in enabled-units.test.ts and the
 * membership changes in etcd-day2.test.ts.
 */

const plan = (props: CoreOsClusterProps = {}) =>
  planCluster(
    { nodeCount: 4, ...props, etcd: { members: 3, ...props.etcd } },
    { id: "core", path: "s/core" },
  );

/** Every value of `key` in a unit file, in order. */
const values = (unit: string, key: string) =>
  unit
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

describe("etcd-member.service", () => {
  it("Flatcar: runs the pinned image with docker, host network, data rw and certificates ro", () => {
    const p = plan();
    const unit = etcdMemberUnit(p);
    expect(values(unit, "After")).toEqual(["network-online.target docker.service"]);
    expect(values(unit, "Requires")).toEqual(["docker.service"]);
    expect(values(unit, "Wants")).toEqual(["network-online.target"]);
    expect(values(unit, "EnvironmentFile")).toEqual(["/etc/etcd/etcd.env", ETCD_JOIN_ENV_FILE]);
    expect(values(unit, "ExecStartPre")).toEqual([
      "/usr/bin/mkdir -p /var/lib/etcd /run/etcd",
      "-/usr/bin/docker rm --force etcd-member",
      `${ETCD_JOIN_SCRIPT} join`,
    ]);
    expect(values(unit, "ExecStart")).toEqual([
      `/usr/bin/docker run --name etcd-member --rm --net=host --env-file /run/etcd/etcd.env --volume /var/lib/etcd:/var/lib/etcd:rw --volume /etc/ssl/etcd:/etc/ssl/etcd:ro ${p.etcd.image.reference} /usr/local/bin/etcd`,
    ]);
    expect(values(unit, "ExecStop")).toEqual(["/usr/bin/docker stop etcd-member"]);
    expect(
      ["Restart", "RestartSec", "TimeoutStartSec", "StartLimitIntervalSec", "WantedBy"].map((k) =>
        values(unit, k),
      ),
    ).toEqual([["always"], ["10s"], ["0"], ["0"], ["multi-user.target"]]);
  });

  it("Fedora CoreOS: podman, SELinux labels on the mounts, no docker", () => {
    const unit = etcdMemberUnit(plan({ os: OperatingSystem.fedoraCoreOs() }));
    expect(values(unit, "After")).toEqual(["network-online.target"]);
    expect(values(unit, "Requires")).toEqual([]);
    expect(values(unit, "ExecStart")[0]).toMatch(
      /^\/usr\/bin\/podman run .* --volume \/var\/lib\/etcd:\/var\/lib\/etcd:rw,z --volume \/etc\/ssl\/etcd:\/etc\/ssl\/etcd:ro,z /,
    );
  });
});

describe("the promote and leave units", () => {
  it("promote runs after and with the member, once", () => {
    const unit = etcdPromoteUnit(plan());
    expect(values(unit, "After")).toEqual(["etcd-member.service docker.service"]);
    expect(values(unit, "BindsTo")).toEqual(["etcd-member.service"]);
    expect(values(unit, "Type")).toEqual(["oneshot"]);
    expect(values(unit, "ExecStart")).toEqual([`${ETCD_JOIN_SCRIPT} promote`]);
    expect(values(unit, "EnvironmentFile")).toEqual(["/etc/etcd/etcd.env", ETCD_JOIN_ENV_FILE]);
    expect(values(unit, "WantedBy")).toEqual(["etcd-member.service"]);
    expect(values(unit, "TimeoutStartSec")).toEqual(["1000"]);
  });

  it("leave runs once the network is up, with the join settings only", () => {
    const unit = etcdLeaveUnit(plan({ os: OperatingSystem.fedoraCoreOs() }));
    expect(values(unit, "After")).toEqual(["network-online.target"]);
    expect(values(unit, "Wants")).toEqual(["network-online.target"]);
    expect(values(unit, "Type")).toEqual(["oneshot"]);
    expect(values(unit, "ExecStart")).toEqual([`${ETCD_JOIN_SCRIPT} leave`]);
    expect(values(unit, "EnvironmentFile")).toEqual([ETCD_JOIN_ENV_FILE]);
    expect(values(unit, "WantedBy")).toEqual(["multi-user.target"]);
    expect(values(etcdLeaveUnit(plan()), "After")).toEqual([
      "network-online.target docker.service",
    ]);
  });
});

describe("join.env", () => {
  it("a bootstrap member with TLS: its name, peer URL, the seeds and the client certificate", () => {
    const p = plan();
    const env = parseEnvironmentFile(etcdJoinEnvironment(p, p.nodes[1]));
    expect(env).toEqual({
      ETCD_NAME: "core-02",
      ETCD_JOIN_PEER_URL: "https://192.168.56.102:2380",
      ETCD_JOIN_ENDPOINTS: p.etcd.seedEndpoints.join(","),
      ETCD_JOIN_BOOTSTRAP: "true",
      ETCD_JOIN_STATIC_ENV: "/etc/etcd/etcd.env",
      ETCD_JOIN_RUNTIME_ENV: "/run/etcd/etcd.env",
      ETCD_JOIN_CACERT: ETCD_TLS_FILES.ca,
      ETCD_JOIN_CERT: ETCD_TLS_FILES.clientCert,
      ETCD_JOIN_KEY: ETCD_TLS_FILES.clientKey,
      // systemd's EnvironmentFile= drops the double quotes.
      ETCD_JOIN_ETCDCTL: `"/usr/bin/docker run --rm --net=host --volume /etc/ssl/etcd:/etc/ssl/etcd:ro ${p.etcd.image.reference} /usr/local/bin/etcdctl"`,
    });
    expect(p.etcd.seedEndpoints).toHaveLength(3);
  });

  it("a client node is no bootstrap member; discovery adds its token file; no TLS, no certificates", () => {
    const p = plan({
      os: OperatingSystem.fedoraCoreOs(),
      etcd: {
        tls: EtcdTls.disabled(),
        discovery: EtcdDiscovery.selfHosted("http://192.168.56.5:2379"),
      },
    });
    const env = parseEnvironmentFile(etcdJoinEnvironment(p, p.nodes[3]));
    expect(env.ETCD_JOIN_BOOTSTRAP).toBe("false");
    expect(env.ETCD_JOIN_PEER_URL).toBe("http://192.168.56.104:2380");
    expect(env.ETCD_JOIN_DISCOVERY_ENV).toBe("/etc/etcd/discovery.env");
    expect(env.ETCD_JOIN_CACERT).toBeUndefined();
    expect(env.ETCD_JOIN_ETCDCTL).toMatch(/^"\/usr\/bin\/podman run .*:ro,z /);
    expect(parseEnvironmentFile(etcdJoinEnvironment(p, p.nodes[0])).ETCD_JOIN_BOOTSTRAP).toBe(
      "true",
    );
    expect(parseEnvironmentFile(etcdJoinEnvironment(plan(), plan().nodes[0]))).not.toHaveProperty(
      "ETCD_JOIN_DISCOVERY_ENV",
    );
  });
});

describe("join.env after a membership change", () => {
  // The cluster was bootstrapped with core-01..03 and grows to five members.
  const record = {
    bootstrap: [1, 2, 3].map((i) => ({ name: `core-0${i}`, address: `192.168.56.10${i}` })),
    members: ["core-01", "core-02", "core-03"],
    nodes: ["core-01", "core-02", "core-03", "core-04", "core-05"],
  };
  const p = planCluster(
    { nodeCount: 5, etcd: { members: 5 } },
    { id: "core", path: "s/core", previousMembership: record },
  );

  it("a member added later joins the running cluster: not a bootstrap member", () => {
    expect(p.nodes.map((n) => n.etcdMember)).toEqual([true, true, true, true, true]);
    const added = parseEnvironmentFile(etcdJoinEnvironment(p, p.nodes[4]));
    expect(added.ETCD_JOIN_BOOTSTRAP).toBe("false");
    // Every node still finds the cluster at the bootstrap members.
    expect(added.ETCD_JOIN_ENDPOINTS.split(",")).toHaveLength(3);
    expect(parseEnvironmentFile(etcdJoinEnvironment(p, p.nodes[2])).ETCD_JOIN_BOOTSTRAP).toBe(
      "true",
    );
  });

  it("holds only KEY=value lines (systemd's EnvironmentFile= skips anything else)", () => {
    for (const q of [p, plan({ etcd: { tls: EtcdTls.disabled() } })]) {
      for (const n of q.nodes) {
        const lines = etcdJoinEnvironment(q, n).split("\n").filter(Boolean);
        expect(lines.filter((l) => !/^[A-Z_]+=/.test(l))).toEqual([]);
      }
    }
  });
});

describe("TLS files", () => {
  const pair = (n: string) => ({ certificatePem: `${n} cert`, privateKeyPem: `${n} key` });

  it("a member gets the CA and both pairs; keys only for root", () => {
    const files = etcdTlsFiles("ca", { member: pair("m"), client: pair("c") } as never);
    expect(files.map((f) => [f.path, f.contents, f.mode])).toEqual([
      [ETCD_TLS_FILES.ca, "ca", 0o644],
      [ETCD_TLS_FILES.memberCert, "m cert", 0o644],
      [ETCD_TLS_FILES.memberKey, "m key", 0o600],
      [ETCD_TLS_FILES.clientCert, "c cert", 0o644],
      [ETCD_TLS_FILES.clientKey, "c key", 0o600],
    ]);
  });

  it("a client gets no member pair", () => {
    const files = etcdTlsFiles("ca", { client: pair("c") } as never);
    expect(files.map((f) => f.path)).toEqual([
      ETCD_TLS_FILES.ca,
      ETCD_TLS_FILES.clientCert,
      ETCD_TLS_FILES.clientKey,
    ]);
  });
});

describe("paths", () => {
  it("the join script and its settings live where the OS lets Ignition write (/usr is read-only)", () => {
    expect(ETCD_JOIN_SCRIPT).toMatch(/^\/opt\/[a-z-]+\/[a-z-]+$/);
    expect(ETCD_JOIN_ENV_FILE).toMatch(/^\/etc\/etcd\/[a-z]+\.env$/);
  });
});

describe("the join script as shipped", () => {
  it("drops comment and blank lines but keeps the shebang, the header and shellcheck directives", () => {
    const script =
      "#!/bin/sh\n# comment\n\n  # indented comment\n# shellcheck disable=SC2086\nset -eu\necho '# not a comment'\n   \n";
    expect(withoutCommentLines(script, "# header")).toBe(
      "#!/bin/sh\n# header\n# shellcheck disable=SC2086\nset -eu\necho '# not a comment'\n",
    );
    expect(ETCD_JOIN_SCRIPT_TEXT.split("\n", 2)).toEqual([
      "#!/bin/bash",
      "# etcd-member-join, from coreos-cluster-cdktf (commented: lib/etcd/etcd-member-join.sh)",
    ]);
  });
});

describe("etcd's own settings (etcd.env) and a client's", () => {
  const env = (p: ReturnType<typeof plan>, i = 0) => new Map(etcdMemberEnvironment(p, p.nodes[i]));
  const TLS_KEY = /CERT|KEY|CA_FILE|_CN$/;

  it("plain http with legacy ports: each URL on every port, the static member list, no TLS setting", () => {
    const p = plan({ etcd: { tls: EtcdTls.disabled(), legacyPorts: true } });
    expect(p.etcd.ports.client).toHaveLength(2);
    const e = env(p);
    const urls = (ports: readonly number[]) =>
      ports.map((port) => `http://192.168.56.101:${port}`).join(",");
    expect(e.get("ETCD_LISTEN_CLIENT_URLS")).toBe(urls(p.etcd.ports.client));
    expect(e.get("ETCD_ADVERTISE_CLIENT_URLS")).toBe(urls(p.etcd.ports.client));
    expect(e.get("ETCD_LISTEN_PEER_URLS")).toBe(urls(p.etcd.ports.peer));
    expect(e.get("ETCD_INITIAL_ADVERTISE_PEER_URLS")).toBe("http://192.168.56.101:2380");
    expect(e.get("ETCD_INITIAL_CLUSTER")).toBe(p.etcd.initialCluster);
    expect(e.has("ETCD_DISCOVERY_FALLBACK")).toBe(false);
    expect([...e.keys()].filter((k) => TLS_KEY.test(k))).toEqual([]);
    // Every entry a name and a value: nothing else reaches the file.
    for (const [k, v] of etcdMemberEnvironment(p, p.nodes[0])) {
      expect(k).toMatch(/^ETCD_[A-Z0-9_]+$/);
      expect(typeof v).toBe("string");
    }
  });

  it("TLS: clients and peers must present a certificate of the cluster's CA, peers the members' name", () => {
    const e = env(plan());
    expect(e.get("ETCD_CLIENT_CERT_AUTH")).toBe("true");
    expect(e.get("ETCD_PEER_CLIENT_CERT_AUTH")).toBe("true");
    expect(e.get("ETCD_TRUSTED_CA_FILE")).toBe(ETCD_TLS_FILES.ca);
    expect(e.get("ETCD_PEER_TRUSTED_CA_FILE")).toBe(ETCD_TLS_FILES.ca);
    expect(e.get("ETCD_PEER_CERT_ALLOWED_CN")).toEqual(expect.any(String));
    expect(e.get("ETCD_LISTEN_CLIENT_URLS")).toBe("https://192.168.56.101:2379");
  });

  it("the v2 API only where locksmith's etcd lock needs it", () => {
    expect(env(plan({ rebootStrategy: RebootStrategy.ETCD_LOCK })).get("ETCD_ENABLE_V2")).toBe(
      "true",
    );
    expect(env(plan({ rebootStrategy: RebootStrategy.REBOOT })).has("ETCD_ENABLE_V2")).toBe(false);
  });

  it("discovery: no member list; v2 discovery exits on a full token, v3 has no such setting", () => {
    const v2 = env(plan({ etcd: { discovery: EtcdDiscovery.publicService() } }));
    expect(v2.has("ETCD_INITIAL_CLUSTER")).toBe(false);
    expect(v2.get("ETCD_DISCOVERY_FALLBACK")).toBe("exit");
    const v3 = env(
      plan({
        etcd: {
          imageTag: "v3.6.4",
          discovery: EtcdDiscovery.v3({ endpoints: ["https://10.1.1.1:2379"] }),
        },
      }),
    );
    expect(v3.has("ETCD_INITIAL_CLUSTER")).toBe(false);
    expect(v3.has("ETCD_DISCOVERY_FALLBACK")).toBe(false);
  });

  it("only members get member settings", () => {
    const p = plan();
    expect(() => etcdMemberEnvironment(p, p.nodes[3])).toThrow(
      "core-04 is not an etcd member of cluster",
    );
  });

  it("a client: the seed endpoints, and the CA and its own pair only with TLS", () => {
    const names = { endpoints: "E", ca: "C", cert: "T", key: "K" };
    const http = plan({ etcd: { tls: EtcdTls.disabled() } });
    expect(etcdClientSettings(http, names)).toEqual([["E", http.etcd.seedEndpoints.join(",")]]);
    const https = plan();
    expect(etcdClientSettings(https, names)).toEqual([
      ["E", https.etcd.seedEndpoints.join(",")],
      ["C", ETCD_TLS_FILES.ca],
      ["T", ETCD_TLS_FILES.clientCert],
      ["K", ETCD_TLS_FILES.clientKey],
    ]);
  });
});
