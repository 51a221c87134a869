import * as fs from "node:fs";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { IssueCollector } from "../core/errors";
import { PRIVATE_KEY_SHOWN } from "../core/validate";
import {
  issueLeaf,
  KeyPair,
  LeafProfile,
  newCertificateAuthority,
  subjectAltNameText,
} from "./certificates";
import { StateFiles } from "./state-directory";

/** How long certificates made here are valid. */
export const CERTIFICATE_VALIDITY_DAYS = { ca: 3650, leaf: 1825 } as const;
/** A synth reissues a leaf certificate that expires within this many days. */
export const RENEW_BEFORE_DAYS = 90;
/** Common name of every member certificate: members accept peers only with it (`peer-cert-allowed-cn`). */
export const MEMBER_COMMON_NAME = "etcd-member";

type TlsSource =
  | { readonly kind: "generated" }
  | { readonly kind: "provided"; readonly certificatePem: unknown; readonly privateKeyPem: unknown }
  | { readonly kind: "disabled" };

/**
 * How etcd's TLS credentials are made. etcd speaks only mutual TLS unless
 * disabled: a per-cluster CA signs one certificate per member (server and
 * peer) and one client certificate per machine (etcdctl, locksmithd).
 */
export class EtcdTls {
  /**
   * A CA made on the first synth and kept in the cluster's state folder
   * (`.coreos-cluster/<stack>/<cluster>/pki`, 0700/0600), reused by every later
   * synth so node configs stay the same. The default.
   */
  public static generatedCa(): EtcdTls {
    return new EtcdTls({ kind: "generated" });
  }

  /**
   * Your own CA (PEM text): it signs the member and client certificates,
   * which are still kept in the state folder. EC P-256/P-384 or RSA keys.
   */
  public static fromCa(props: {
    readonly certificatePem: string;
    readonly privateKeyPem: string;
  }): EtcdTls {
    return new EtcdTls({ kind: "provided", ...props });
  }

  /** Your own CA from PEM files on the deploying machine. */
  public static fromCaFiles(certificateFile: string, privateKeyFile: string): EtcdTls {
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined);
    return new EtcdTls({
      kind: "provided",
      certificatePem: read(certificateFile) ?? `(no file ${certificateFile})`,
      privateKeyPem: read(privateKeyFile) ?? `(no file ${privateKeyFile})`,
    });
  }

  /**
   * Plain HTTP and no authentication: anyone who reaches port 2379 reads and
   * writes every key. For debugging only.
   */
  public static disabled(): EtcdTls {
    return new EtcdTls({ kind: "disabled" });
  }

  private constructor(private readonly source: TlsSource) {}

  /** True unless disabled. */
  public get enabled(): boolean {
    return this.source.kind !== "disabled";
  }

  /** Checks a provided CA; adds issues under `prop`. */
  public check(issues: IssueCollector, prop: string): void {
    if (this.source.kind !== "provided") return;
    const { certificatePem, privateKeyPem } = this.source;
    let cert: X509Certificate | undefined;
    try {
      cert = new X509Certificate(String(certificatePem));
    } catch {
      issues.add(`${prop}.certificatePem`, certificatePem, "a PEM X.509 certificate");
    }
    if (cert && !cert.ca) {
      issues.add(
        `${prop}.certificatePem`,
        cert.subject,
        "a CA certificate (basicConstraints CA:TRUE)",
      );
    }
    let keyOk = false;
    try {
      const key = createPrivateKey(String(privateKeyPem));
      keyOk = cert ? cert.checkPrivateKey(key) : true;
      if (!keyOk) {
        issues.add(`${prop}.privateKeyPem`, PRIVATE_KEY_SHOWN, "the private key of certificatePem");
      }
    } catch {
      issues.add(
        `${prop}.privateKeyPem`,
        "(not shown)",
        "a PEM private key (PKCS#8, SEC1 or PKCS#1)",
      );
    }
    if (
      cert &&
      keyOk &&
      new Date(cert.validTo).getTime() < Date.now() + RENEW_BEFORE_DAYS * 864e5
    ) {
      issues.add(
        `${prop}.certificatePem`,
        `valid to ${cert.validTo}`,
        `a CA valid for more than ${RENEW_BEFORE_DAYS} days`,
      );
    }
  }

  /**
   * The CA from the state folder (made there on first use) or the one given.
   * Only called for an enabled, checked source.
   */
  public certificateAuthority(store: StateFiles, clusterName: string): KeyPair {
    if (this.source.kind === "provided") {
      return {
        certificatePem: String(this.source.certificatePem),
        privateKeyPem: String(this.source.privateKeyPem),
      };
    }
    const cert = store.read("pki/ca.crt");
    const key = store.read("pki/ca.key");
    if (cert && key) return { certificatePem: cert, privateKeyPem: key };
    const ca = newCertificateAuthority(`${clusterName} etcd CA`, CERTIFICATE_VALIDITY_DAYS.ca);
    store.write("pki/ca.key", ca.privateKeyPem);
    store.write("pki/ca.crt", ca.certificatePem);
    return ca;
  }
}

/** The credentials one machine gets. */
export interface MachineCredentials {
  /** Server and peer certificate of an etcd member. */
  readonly member?: KeyPair;
  /** Client certificate for etcdctl, locksmithd and the membership scripts. */
  readonly client: KeyPair;
}

/** The cluster's TLS material, as renderers read it. */
export interface EtcdTlsMaterial {
  /** The CA certificate every machine trusts. */
  readonly caCertificatePem: string;
  /** By machine name. */
  readonly machines: Readonly<Record<string, MachineCredentials>>;
}

/**
 * Issues (or reuses from the state folder) certificates: a certificate is kept
 * while it is signed by the CA, names the same holder and is not about to
 * expire; otherwise a new one is issued and stored. So synths are stable and
 * node configs change only when a certificate must.
 */
export class CertificateIssuer {
  private readonly caCert: X509Certificate;

  constructor(
    private readonly ca: KeyPair,
    private readonly store: StateFiles,
    private readonly now = new Date(),
  ) {
    this.caCert = new X509Certificate(ca.certificatePem);
  }

  get caCertificatePem(): string {
    return this.ca.certificatePem;
  }

  /**
   * Member certificate: server and peer, the node's name and address in the
   * SANs, and 127.0.0.1 (etcd checks a peer's source address against its
   * certificate; a member talking to itself or to a peer over loopback comes
   * from 127.0.0.1).
   */
  member(name: string, address: string): KeyPair {
    // Kept per address: stacks that reuse a name elsewhere (tests) keep their own certificates.
    return this.leaf(`pki/nodes/${name}/member-${address}`, {
      commonName: MEMBER_COMMON_NAME,
      dnsNames: [name],
      ipAddresses: [address, "127.0.0.1"],
      server: true,
      client: true,
    });
  }

  /** Client certificate of one machine. */
  client(name: string): KeyPair {
    return this.leaf(`pki/nodes/${name}/client`, {
      commonName: `etcd-client ${name}`,
      dnsNames: [],
      ipAddresses: [],
      server: false,
      client: true,
    });
  }

  private leaf(base: string, profile: LeafProfile): KeyPair {
    const certificatePem = this.store.read(`${base}.crt`);
    const privateKeyPem = this.store.read(`${base}.key`);
    if (certificatePem && privateKeyPem && this.stillGood(certificatePem, profile)) {
      return { certificatePem, privateKeyPem };
    }
    const pair = issueLeaf(this.ca, profile, CERTIFICATE_VALIDITY_DAYS.leaf, this.now);
    this.store.write(`${base}.key`, pair.privateKeyPem);
    this.store.write(`${base}.crt`, pair.certificatePem);
    return pair;
  }

  private stillGood(pem: string, profile: LeafProfile): boolean {
    try {
      const cert = new X509Certificate(pem);
      const renewAt = this.now.getTime() + RENEW_BEFORE_DAYS * 864e5;
      return (
        cert.verify(this.caCert.publicKey) &&
        cert.subject === `CN=${profile.commonName}` &&
        (cert.subjectAltName ?? "") === subjectAltNameText(profile) &&
        new Date(cert.validTo).getTime() > renewAt
      );
    } catch {
      return false;
    }
  }
}
