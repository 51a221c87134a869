import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { Testing, TerraformStack } from "cdktf";
import { CoreOsCluster, ETCD_TLS_FILES, EtcdTls, STATE_DIRECTORY_CONTEXT } from "../lib";
import { RENEW_BEFORE_DAYS } from "../lib/etcd/tls";
import { issueLeaf, newCertificateAuthority } from "../lib/etcd/certificates";
import { fileText as ignitionFileText, IgnitionConfig } from "../lib/render/ignition";
import { describeWithTool } from "./support/tools";

/*
 * Where etcd's keys come from and where they stay: the state folder keeps the
 * CA and every certificate, 0700/0600, so a second synth gives byte-identical
 * node configs; a certificate is reissued only when what it says changes.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function stateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pki-state-"));
  dirs.push(dir);
  return dir;
}

function cluster(state: string, props: ConstructorParameters<typeof CoreOsCluster>[2] = {}) {
  const app = Testing.app({ context: { [STATE_DIRECTORY_CONTEXT]: state } });
  return new CoreOsCluster(new TerraformStack(app, "pki"), "core", props);
}

function fileOf(ignition: string, p: string): string | undefined {
  const ign: IgnitionConfig = JSON.parse(ignition);
  const f = ign.storage.files.find((x) => x.path === p);
  return f ? ignitionFileText(f) : undefined;
}

describe("the state folder keeps etcd's keys", () => {
  const state = stateDir();
  const first = cluster(state);

  it("makes the CA and certificates on the first synth, private to the owner", () => {
    const dir = first.stateDirectory;
    expect(dir).toBe(path.join(state, "pki", "core"));
    const mode = (p: string) => fs.statSync(path.join(dir, p)).mode & 0o777;
    expect(mode(".")).toBe(0o700);
    expect(mode("pki")).toBe(0o700);
    for (const f of ["pki/ca.key", "pki/ca.crt", "pki/nodes/core-01/member-192.168.56.101.key"]) {
      expect({ f, mode: mode(f) }).toEqual({ f, mode: 0o600 });
    }
  });

  it("gives the same node configs on the next synth (no node is replaced)", () => {
    const again = cluster(state);
    expect(again.nodes.map((n) => n.ignition)).toEqual(first.nodes.map((n) => n.ignition));
  });

  it("reissues only the certificate whose holder changed", () => {
    const moved = cluster(state, { firstHostNumber: 150 });
    // Addresses are in member certificates: members get new ones; client certificates stay.
    const member = (c: CoreOsCluster) => fileOf(c.nodes[0].ignition, ETCD_TLS_FILES.memberCert);
    const client = (c: CoreOsCluster) => fileOf(c.nodes[0].ignition, ETCD_TLS_FILES.clientCert);
    expect(member(moved)).not.toEqual(member(first));
    expect(client(moved)).toEqual(client(first));
    const cert = new X509Certificate(member(moved) as string);
    expect(cert.subjectAltName).toBe(
      "DNS:core-01, IP Address:192.168.56.150, IP Address:127.0.0.1",
    );
  });

  it("makes a new CA for another cluster", () => {
    const other = new CoreOsCluster(
      new TerraformStack(Testing.app({ context: { [STATE_DIRECTORY_CONTEXT]: state } }), "pki2"),
      "core",
    );
    expect(fileOf(other.nodes[0].ignition, ETCD_TLS_FILES.ca)).not.toEqual(
      fileOf(first.nodes[0].ignition, ETCD_TLS_FILES.ca),
    );
  });
});

describe("a CA of your own", () => {
  const ca = newCertificateAuthority("my org etcd CA", 365);

  it("signs the member and client certificates", () => {
    const state = stateDir();
    const c = cluster(state, { etcd: { tls: EtcdTls.fromCa(ca) } });
    const caCert = new X509Certificate(ca.certificatePem);
    expect(fileOf(c.nodes[0].ignition, ETCD_TLS_FILES.ca)).toBe(ca.certificatePem);
    const member = new X509Certificate(fileOf(c.nodes[0].ignition, ETCD_TLS_FILES.memberCert)!);
    expect(member.verify(caCert.publicKey)).toBe(true);
    expect(fs.existsSync(path.join(c.stateDirectory, "pki/ca.key"))).toBe(false);
  });

  it("is checked: a key that does not match, text that is not PEM", () => {
    const other = newCertificateAuthority("other", 365);
    const state = stateDir();
    expect(() =>
      cluster(state, {
        etcd: {
          tls: EtcdTls.fromCa({
            certificatePem: ca.certificatePem,
            privateKeyPem: other.privateKeyPem,
          }),
        },
      }),
    ).toThrow(/etcd\.tls\.privateKeyPem: .*the private key of certificatePem/);
    expect(() =>
      cluster(state, {
        etcd: { tls: EtcdTls.fromCa({ certificatePem: "nope", privateKeyPem: "nope" }) },
      }),
    ).toThrow(/etcd\.tls\.certificatePem: got "nope"; allowed: a PEM X.509 certificate/);
    expect(fs.readdirSync(state)).toEqual([]);
  });

  it("is checked: not a CA, a key that is no key, a CA about to expire", () => {
    const state = stateDir();
    const leaf = issueLeaf(
      ca,
      { commonName: "not-a-ca", dnsNames: [], ipAddresses: [], server: true, client: false },
      365,
    );
    expect(() => cluster(state, { etcd: { tls: EtcdTls.fromCa(leaf) } })).toThrow(
      /etcd\.tls\.certificatePem: got "CN=not-a-ca"; allowed: a CA certificate \(basicConstraints CA:TRUE\)/,
    );
    expect(() =>
      cluster(state, {
        etcd: { tls: EtcdTls.fromCa({ certificatePem: ca.certificatePem, privateKeyPem: "nope" }) },
      }),
    ).toThrow(
      /etcd\.tls\.privateKeyPem: got "\(not shown\)"; allowed: a PEM private key \(PKCS#8, SEC1 or PKCS#1\)/,
    );
    const expiring = newCertificateAuthority("expiring", RENEW_BEFORE_DAYS - 1);
    const soon = new X509Certificate(expiring.certificatePem).validTo;
    expect(() => cluster(state, { etcd: { tls: EtcdTls.fromCa(expiring) } })).toThrow(
      `etcd.tls.certificatePem: got "valid to ${soon}"; allowed: a CA valid for more than ${RENEW_BEFORE_DAYS} days`,
    );
    // Just long enough is accepted.
    const enough = newCertificateAuthority("enough", RENEW_BEFORE_DAYS + 2);
    expect(() => cluster(stateDir(), { etcd: { tls: EtcdTls.fromCa(enough) } })).not.toThrow();
    expect(fs.readdirSync(state)).toEqual([]);
  });

  it("from files: read from the deploying machine, or named when missing", () => {
    const dir = stateDir();
    fs.writeFileSync(path.join(dir, "ca.crt"), ca.certificatePem);
    fs.writeFileSync(path.join(dir, "ca.key"), ca.privateKeyPem, { mode: 0o600 });
    const state = stateDir();
    const c = cluster(state, {
      etcd: { tls: EtcdTls.fromCaFiles(path.join(dir, "ca.crt"), path.join(dir, "ca.key")) },
    });
    expect(fileOf(c.nodes[0].ignition, ETCD_TLS_FILES.ca)).toBe(ca.certificatePem);
    expect(() =>
      cluster(stateDir(), {
        etcd: { tls: EtcdTls.fromCaFiles(path.join(dir, "gone.crt"), path.join(dir, "gone.key")) },
      }),
    ).toThrow(
      new RegExp(
        `etcd\\.tls\\.certificatePem: got "\\(no file ${dir}/gone\\.crt\\)"; allowed: a PEM X\\.509 certificate[\\s\\S]*etcd\\.tls\\.privateKeyPem: got "\\(not shown\\)"`,
      ),
    );
    expect(EtcdTls.disabled().enabled).toBe(false);
    expect(EtcdTls.fromCaFiles(path.join(dir, "ca.crt"), path.join(dir, "ca.key")).enabled).toBe(
      true,
    );
  });
});

describeWithTool("openssl", "openssl", "openssl accepts the certificates", () => {
  it("verifies member and client certificates against the CA, with the usages TLS needs", () => {
    const state = stateDir();
    const c = cluster(state);
    const dir = path.join(c.stateDirectory, "pki");
    const verify = (purpose: string, cert: string) =>
      spawnSync("openssl", ["verify", "-purpose", purpose, "-CAfile", `${dir}/ca.crt`, cert], {
        encoding: "utf8",
      });
    expect(verify("sslserver", `${dir}/nodes/core-01/member-192.168.56.101.crt`).status).toBe(0);
    expect(verify("sslclient", `${dir}/nodes/core-01/member-192.168.56.101.crt`).status).toBe(0);
    expect(verify("sslclient", `${dir}/nodes/core-01/client.crt`).status).toBe(0);
    // A client certificate is no server certificate (so it cannot serve as a member's).
    expect(verify("sslserver", `${dir}/nodes/core-01/client.crt`).status).not.toBe(0);
  });
});

describe("what the certificates allow, and when a kept one is not reused", () => {
  const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  const cert = (c: CoreOsCluster, p: string) =>
    new X509Certificate(fileOf(c.nodes[0].ignition, p)!);
  const caOf = (c: CoreOsCluster) =>
    new X509Certificate(fileOf(c.nodes[0].ignition, ETCD_TLS_FILES.ca)!);

  it("member: server and client auth, signed by the cluster CA; client: client auth only", () => {
    const state = stateDir();
    const c = cluster(state);
    const ca = caOf(c);
    expect(ca.ca).toBe(true);
    const member = cert(c, ETCD_TLS_FILES.memberCert);
    const client = cert(c, ETCD_TLS_FILES.clientCert);
    expect([...(member.keyUsage ?? [])].sort()).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(client.keyUsage).toEqual([CLIENT_AUTH]);
    for (const leaf of [member, client]) {
      expect(leaf.ca).toBe(false);
      expect(leaf.verify(ca.publicKey)).toBe(true);
    }
  });

  it("reissues a kept member certificate that another CA signed", () => {
    const [mine, other] = [stateDir(), stateDir()];
    dirs.push(mine, other);
    const c = cluster(mine);
    cluster(other);
    const member = "member-192.168.56.101";
    const foreign = path.join(other, "pki", "core", "pki", "nodes", "core-01");
    const dir = path.join(mine, "pki", "core", "pki", "nodes", "core-01");
    for (const ext of [".crt", ".key"]) {
      fs.copyFileSync(path.join(foreign, `${member}${ext}`), path.join(dir, `${member}${ext}`));
    }
    const again = cluster(mine);
    expect(cert(again, ETCD_TLS_FILES.memberCert).verify(caOf(c).publicKey)).toBe(true);
  });

  it("reissues a kept member certificate whose addresses are not the member's", () => {
    const state = stateDir();
    cluster(state);
    // core-02's member certificate (same CA and common name, core-02's addresses) as core-01's.
    const nodes = path.join(state, "pki", "core", "pki", "nodes");
    for (const ext of [".crt", ".key"]) {
      fs.copyFileSync(
        path.join(nodes, "core-02", `member-192.168.56.102${ext}`),
        path.join(nodes, "core-01", `member-192.168.56.101${ext}`),
      );
    }
    const member = cert(cluster(state), ETCD_TLS_FILES.memberCert);
    expect(member.subject).toBe("CN=etcd-member");
    expect(member.subjectAltName).toContain("IP Address:192.168.56.101");
  });

  it.each([
    ["another common name", "etcd-intruder", 1825],
    ["expiry within the renewal margin (90 days)", "etcd-member", 60],
  ])("reissues a kept member certificate with %s", (_what, commonName, validDays) => {
    const state = stateDir();
    const core = path.join(state, "pki", "core", "pki");
    cluster(state);
    const ca = {
      certificatePem: fs.readFileSync(path.join(core, "ca.crt"), "utf8"),
      privateKeyPem: fs.readFileSync(path.join(core, "ca.key"), "utf8"),
    };
    const planted = issueLeaf(
      ca,
      {
        commonName,
        dnsNames: ["core-01"],
        ipAddresses: ["192.168.56.101", "127.0.0.1"],
        server: true,
        client: true,
      },
      validDays,
    );
    const base = path.join(core, "nodes", "core-01", "member-192.168.56.101");
    fs.writeFileSync(`${base}.crt`, planted.certificatePem);
    fs.writeFileSync(`${base}.key`, planted.privateKeyPem);
    const member = cert(cluster(state), ETCD_TLS_FILES.memberCert);
    expect(member.subject).toBe("CN=etcd-member");
    expect(member.serialNumber).not.toBe(new X509Certificate(planted.certificatePem).serialNumber);
    expect(new Date(member.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 864e5);
  });
});
