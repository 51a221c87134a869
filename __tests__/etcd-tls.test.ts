import * as fs from "node:fs";
import * as path from "node:path";
import { ETCD_ENV_FILE, ETCD_TLS_FILES, parseEnvironmentFile } from "../lib";
import {
  describeWithEtcd,
  EtcdTestCluster,
  layFiles,
  readMachine,
  relocate,
  sleep,
} from "./support/etcd-harness";
import { sandboxNetwork, spawnSyncInSandbox } from "./support/netns";
import { synthCluster } from "./support/synth";

/*
 * etcd speaks only mutual TLS, proven with real etcd 3.4: three members
 * started from the synthesized settings and certificates (see
 * etcd-cluster.test.ts for the stand-ins), then clients and would-be peers
 * without the cluster's credentials try to get in. A second cluster,
 * synthesized the same way, supplies credentials of another CA.
 */
describeWithEtcd("etcd over mutual TLS with real etcd", () => {
  const net = sandboxNetwork(21);
  let etcd: EtcdTestCluster;
  let other: ReturnType<typeof synthCluster>;
  let otherRoot: string;
  let endpoints: string[];

  beforeAll(async () => {
    const { ignitionFiles } = synthCluster({ nodeCount: 4, ...net }, "tls");
    etcd = new EtcdTestCluster(ignitionFiles);
    etcd.start();
    await etcd.waitHealthy(Date.now());
    endpoints = etcd.members.map((m) => m.clientUrl);
    // Another cluster, another CA: same shape, its own state.
    other = synthCluster({ nodeCount: 4, ...sandboxNetwork(22) }, "other");
    otherRoot = path.join(etcd.root, "other-ca");
    for (const f of other.ignitionFiles) {
      const m = readMachine(f);
      layFiles(m, path.join(otherRoot, m.name));
    }
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  const otherFile = (machine: string, file: string) => path.join(otherRoot, machine, file);

  it("forms a healthy cluster over https, with the node's own client certificate", () => {
    expect(endpoints.every((u) => u.startsWith("https://"))).toBe(true);
    const put = etcd.etcdctl(endpoints, ["put", "secret", "only-for-members"]);
    expect(put.out).toContain("OK");
  });

  /**
   * The four refused clients, started together once the secret is written: each waits out
   * etcdctl's command timeout (5 s) before it gives up, so one after another took 20 s.
   */
  let refused:
    | Promise<Record<"noCertificate" | "plainHttp" | "otherCa" | "memberAdd", Refusal>>
    | undefined;
  type Refusal = { ok: boolean; out: string };
  const refusals = () =>
    (refused ??= (async () => {
      const intruder = [
        "member",
        "add",
        "intruder",
        `--peer-urls=https://${net.networkCidr.replace(/0\/24$/, "200")}:2380`,
      ];
      const plain = endpoints.map((u) => u.replace("https://", "http://"));
      const [noCertificate, plainHttp, otherCa, memberAdd] = await Promise.all([
        etcd.etcdctlAsync(endpoints, ["get", "secret"], 8000, { cacert: etcd.client.cacert }),
        etcd.etcdctlAsync(plain, ["get", "secret"], 8000, null),
        etcd.etcdctlAsync(endpoints, ["get", "secret"], 8000, {
          cacert: etcd.client.cacert,
          cert: otherFile("core-04", ETCD_TLS_FILES.clientCert),
          key: otherFile("core-04", ETCD_TLS_FILES.clientKey),
        }),
        etcd.etcdctlAsync(endpoints, intruder, 8000, { cacert: etcd.client.cacert }),
      ]);
      return { noCertificate, plainHttp, otherCa, memberAdd };
    })());

  it("refuses a client without a certificate", async () => {
    const r = (await refusals()).noCertificate;
    expect(r.ok).toBe(false);
    expect(r.out).not.toContain("only-for-members");
  });

  it("refuses plain http", async () => {
    const r = (await refusals()).plainHttp;
    expect(r.ok).toBe(false);
  });

  it("refuses a client certificate of another CA", async () => {
    const r = (await refusals()).otherCa;
    expect(r.ok).toBe(false);
    expect(r.out).not.toContain("only-for-members");
  });

  it("refuses `member add` without credentials", async () => {
    const anonymous = (await refusals()).memberAdd;
    expect(anonymous.ok).toBe(false);
    const list = etcd.etcdctl(endpoints, ["member", "list"]);
    expect(list.ok).toBe(true);
    expect(list.out).not.toContain("intruder");
  });

  /** Starts a would-be member at .200 with the given peer certificate; resolves with its exit and log. */
  async function joinAttempt(name: string, cert: string, key: string, ca: string) {
    const peerUrl = `https://${net.networkCidr.replace(/0\/24$/, "200")}:2380`;
    // etcd refuses reconfiguration until its leader has seen every member for a few seconds.
    let add = etcd.etcdctl(endpoints, ["member", "add", name, `--peer-urls=${peerUrl}`]);
    for (let i = 0; i < 60 && /unhealthy cluster|member not found/.test(add.out); i++) {
      await sleep(500);
      add = etcd.etcdctl(endpoints, ["member", "add", name, `--peer-urls=${peerUrl}`]);
    }
    expect(add.out).toContain("ETCD_INITIAL_CLUSTER=");
    const initial = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(add.out)?.[1] as string;
    const dataDir = path.join(etcd.root, name);
    const child = spawnSyncInSandbox("etcd", [], {
      env: {
        PATH: process.env.PATH,
        ETCD_NAME: name,
        ETCD_DATA_DIR: dataDir,
        ETCD_LISTEN_PEER_URLS: peerUrl,
        ETCD_INITIAL_ADVERTISE_PEER_URLS: peerUrl,
        ETCD_LISTEN_CLIENT_URLS: peerUrl.replace(":2380", ":2379"),
        ETCD_ADVERTISE_CLIENT_URLS: peerUrl.replace(":2380", ":2379"),
        ETCD_INITIAL_CLUSTER: initial,
        ETCD_INITIAL_CLUSTER_STATE: "existing",
        ETCD_PEER_CERT_FILE: cert,
        ETCD_PEER_KEY_FILE: key,
        ETCD_PEER_TRUSTED_CA_FILE: ca,
        ETCD_PEER_CLIENT_CERT_AUTH: "true",
      },
      encoding: "utf8",
      timeout: 45000,
    });
    // `member list`: id, status, name, peer addrs, client addrs, is learner.
    const list = etcd.etcdctl(endpoints, ["member", "list"]);
    const entry = list.out
      .split("\n")
      .map((l) => l.split(", "))
      .find((f) => f[3] === peerUrl);
    // Clean up: the member slot the test added.
    if (entry) expect(etcd.etcdctl(endpoints, ["member", "remove", entry[0]]).ok).toBe(true);
    return {
      status: child.status,
      log: `${child.stdout}${child.stderr}`,
      joined: entry?.[1] === "started",
    };
  }

  it("keeps out a peer whose certificate comes from another CA, even after `member add`", async () => {
    const r = await joinAttempt(
      "intruder-ca",
      otherFile("core-01", ETCD_TLS_FILES.memberCert),
      otherFile("core-01", ETCD_TLS_FILES.memberKey),
      otherFile("core-01", ETCD_TLS_FILES.ca),
    );
    expect(r.joined).toBe(false);
    expect(r.status).not.toBe(0);
    expect(r.log).toMatch(/certificate|tls/i);
    await etcd.waitHealthy(Date.now());
  });

  it("keeps out a peer that presents a client certificate of the cluster's own CA", async () => {
    const node4 = path.join(etcd.root, "core-04");
    const r = await joinAttempt(
      "intruder-client",
      path.join(node4, ETCD_TLS_FILES.clientCert),
      path.join(node4, ETCD_TLS_FILES.clientKey),
      path.join(node4, ETCD_TLS_FILES.ca),
    );
    expect(r.joined).toBe(false);
    expect(r.status).not.toBe(0);
    await etcd.waitHealthy(Date.now());
  });

  it("serves the node's own etcdctl profile (/etc/profile.d/etcdctl.sh), on a member and on a client node", () => {
    for (const machine of ["core-02", "core-04"]) {
      const root = path.join(etcd.root, machine);
      const profile = fs.readFileSync(path.join(root, "etc/profile.d/etcdctl.sh"), "utf8");
      // The profile's absolute paths, moved under the machine's folder like everything else.
      const moved = profile.replace(/=\/etc\//g, `=${root}/etc/`);
      const script = path.join(root, "profile.sh");
      fs.writeFileSync(script, moved);
      const r = spawnSyncInSandbox(
        "bash",
        ["-c", `. ${script} && etcdctl get secret --print-value-only`],
        {
          env: { PATH: process.env.PATH },
          encoding: "utf8",
          timeout: 10000,
        },
      );
      expect({ machine, out: r.stdout.trim() }).toEqual({ machine, out: "only-for-members" });
    }
  });

  it("writes private keys 0600 in the node config, and members' settings name them", () => {
    const settings = parseEnvironmentFile(
      fs.readFileSync(path.join(etcd.members[0].root, ETCD_ENV_FILE), "utf8"),
    );
    const moved = relocate(settings, (p) => p);
    expect(moved.ETCD_PEER_CLIENT_CERT_AUTH).toBe("true");
    expect(moved.ETCD_CLIENT_CERT_AUTH).toBe("true");
    const mode =
      fs.statSync(path.join(etcd.members[0].root, ETCD_TLS_FILES.memberKey)).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});
