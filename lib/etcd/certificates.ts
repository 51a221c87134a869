import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import * as asn from "@peculiar/asn1-x509";

/*
 * X.509 certificates for etcd, made synchronously at synth: node's crypto
 * makes the keys and signatures, @peculiar/asn1-x509 (the ASN.1 schema of
 * RFC 5280) encodes the certificate. Keys are EC P-256: compact enough for
 * EC2's 16 KiB of user data, and accepted by etcd, etcdctl and locksmithd.
 */

/** A certificate with its private key, both PEM. */
export interface KeyPair {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** What a leaf certificate says about its holder. */
export interface LeafProfile {
  readonly commonName: string;
  /** DNS names in the subjectAltName. */
  readonly dnsNames: readonly string[];
  /** IPv4 addresses in the subjectAltName. */
  readonly ipAddresses: readonly string[];
  /** TLS server (a member's client and peer port). */
  readonly server: boolean;
  /** TLS client (etcdctl, locksmithd, a member dialling its peers). */
  readonly client: boolean;
}

const DAY_MS = 24 * 3600 * 1000;
/** A certificate is valid from an hour before it is made: clocks of nodes and deployer differ. */
const CLOCK_SKEW_MS = 3600 * 1000;

const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ecdsaWithSha384: "1.2.840.10045.4.3.3",
  sha256WithRsa: "1.2.840.113549.1.1.11",
} as const;

function name(commonName: string): asn.Name {
  return new asn.Name([
    new asn.RelativeDistinguishedName([
      new asn.AttributeTypeAndValue({
        type: OID.commonName,
        value: new asn.AttributeValue({ utf8String: commonName }),
      }),
    ]),
  ]);
}

function extension(id: string, critical: boolean, value: object): asn.Extension {
  return new asn.Extension({
    extnID: id,
    critical,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

/** The signature algorithm a CA key signs with; RSA and EC (P-256, P-384) CAs are accepted. */
function signatureFor(key: KeyObject): { oid: string; hash: string; nullParams: boolean } {
  if (key.asymmetricKeyType === "rsa") {
    return { oid: OID.sha256WithRsa, hash: "sha256", nullParams: true };
  }
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1")
      return { oid: OID.ecdsaWithSha256, hash: "sha256", nullParams: false };
    if (curve === "secp384r1")
      return { oid: OID.ecdsaWithSha384, hash: "sha384", nullParams: false };
  }
  throw new Error(
    `unsupported CA key (${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ""}): use EC P-256, EC P-384 or RSA`,
  );
}

function keyIdentifier(spki: asn.SubjectPublicKeyInfo): ArrayBuffer {
  const digest = createHash("sha1").update(Buffer.from(spki.subjectPublicKey)).digest();
  return new Uint8Array(digest).buffer;
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A fresh EC P-256 key, PKCS#8 PEM. */
export function newPrivateKey(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

interface SignRequest {
  readonly subject: string;
  readonly publicKeyOf: KeyObject;
  readonly issuer: {
    readonly name: asn.Name;
    readonly key: KeyObject;
    readonly keyId: ArrayBuffer;
  };
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: asn.Extension[];
}

function signCertificate(req: SignRequest): { pem: string; subject: asn.Name; keyId: ArrayBuffer } {
  const spkiDer = createPublicKey(req.publicKeyOf).export({ type: "spki", format: "der" });
  const spki = AsnConvert.parse(spkiDer, asn.SubjectPublicKeyInfo);
  const alg = signatureFor(req.issuer.key);
  const algorithm = new asn.AlgorithmIdentifier({
    algorithm: alg.oid,
    ...(alg.nullParams ? { parameters: null } : {}),
  });
  // Positive 128-bit serial: the top bit cleared keeps the DER INTEGER unsigned.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  const subject = name(req.subject);
  const keyId = keyIdentifier(spki);
  const tbs = new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: algorithm,
    issuer: req.issuer.name,
    validity: new asn.Validity({ notBefore: req.notBefore, notAfter: req.notAfter }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new asn.Extensions([
      ...req.extensions,
      extension(asn.id_ce_subjectKeyIdentifier, false, new asn.SubjectKeyIdentifier(keyId)),
      extension(
        asn.id_ce_authorityKeyIdentifier,
        false,
        new asn.AuthorityKeyIdentifier({ keyIdentifier: new asn.KeyIdentifier(req.issuer.keyId) }),
      ),
    ]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(alg.hash, tbsDer, req.issuer.key);
  const cert = new asn.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: new Uint8Array(signature).buffer,
  });
  return {
    pem: toPem("CERTIFICATE", Buffer.from(AsnConvert.serialize(cert))),
    subject,
    keyId,
  };
}

/** A new self-signed CA for one cluster's etcd. */
export function newCertificateAuthority(
  commonName: string,
  validDays: number,
  now = new Date(),
): KeyPair {
  const key = newPrivateKey();
  const spki = AsnConvert.parse(
    createPublicKey(key).export({ type: "spki", format: "der" }),
    asn.SubjectPublicKeyInfo,
  );
  const signed = signCertificate({
    subject: commonName,
    publicKeyOf: key,
    issuer: { name: name(commonName), key, keyId: keyIdentifier(spki) },
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + validDays * DAY_MS),
    extensions: [
      extension(
        asn.id_ce_basicConstraints,
        true,
        new asn.BasicConstraints({ cA: true, pathLenConstraint: 0 }),
      ),
      extension(
        asn.id_ce_keyUsage,
        true,
        new asn.KeyUsage(asn.KeyUsageFlags.keyCertSign | asn.KeyUsageFlags.cRLSign),
      ),
    ],
  });
  return { certificatePem: signed.pem, privateKeyPem: privateKeyPem(key) };
}

/** A leaf certificate signed by `ca`, valid no longer than the CA itself. */
export function issueLeaf(
  ca: KeyPair,
  profile: LeafProfile,
  validDays: number,
  now = new Date(),
): KeyPair {
  const caCert = new X509Certificate(ca.certificatePem);
  const caKey = createPrivateKey(ca.privateKeyPem);
  const caSpki = AsnConvert.parse(
    caCert.publicKey.export({ type: "spki", format: "der" }),
    asn.SubjectPublicKeyInfo,
  );
  const caName = AsnConvert.parse(caCert.raw, asn.Certificate).tbsCertificate.subject;
  const key = newPrivateKey();
  const usages: string[] = [];
  if (profile.server) usages.push(asn.id_kp_serverAuth);
  if (profile.client) usages.push(asn.id_kp_clientAuth);
  const altNames = [
    ...profile.dnsNames.map((d) => new asn.GeneralName({ dNSName: d })),
    ...profile.ipAddresses.map((ip) => new asn.GeneralName({ iPAddress: ip })),
  ];
  const caEnd = new Date(caCert.validTo).getTime();
  const notAfter = new Date(Math.min(now.getTime() + validDays * DAY_MS, caEnd));
  const signed = signCertificate({
    subject: profile.commonName,
    publicKeyOf: key,
    issuer: { name: caName, key: caKey, keyId: keyIdentifier(caSpki) },
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    extensions: [
      extension(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false })),
      extension(asn.id_ce_keyUsage, true, new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature)),
      extension(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage(usages)),
      ...(altNames.length
        ? [extension(asn.id_ce_subjectAltName, false, new asn.SubjectAlternativeName(altNames))]
        : []),
    ],
  });
  return { certificatePem: signed.pem, privateKeyPem: privateKeyPem(key) };
}

/** The subjectAltName a profile gives, in the form node's X509Certificate reports it. */
export function subjectAltNameText(profile: LeafProfile): string {
  return [
    ...profile.dnsNames.map((d) => `DNS:${d}`),
    ...profile.ipAddresses.map((ip) => `IP Address:${ip}`),
  ].join(", ");
}
