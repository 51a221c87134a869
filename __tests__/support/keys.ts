import { generateKeyPairSync } from "node:crypto";

/** SSH wire-format string: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** SSH mpint from unsigned big-endian bytes (a leading zero keeps it positive). */
function mpint(bytes: Buffer): Buffer {
  return sshString(bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

const b64url = (s: string | undefined) => Buffer.from(s ?? "", "base64url");

/** Builds an OpenSSH public key line from a type and the blob fields after the type. */
export function keyLine(type: string, fields: readonly Buffer[], comment = "test@example"): string {
  const blob = Buffer.concat([sshString(type), ...fields]);
  return `${type} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}`;
}

/** A real, freshly generated Ed25519 public key line. */
export function ed25519PublicKey(comment = "test@example"): string {
  const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  return keyLine("ssh-ed25519", [sshString(b64url(jwk.x))], comment);
}

/** A real RSA public key line of `bits` bits. */
export function rsaPublicKey(bits = 3072, comment = "test@example"): string {
  const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({
    format: "jwk",
  });
  return keyLine("ssh-rsa", [mpint(b64url(jwk.e)), mpint(b64url(jwk.n))], comment);
}

/** A real ECDSA public key line on nistp256/384/521. */
export function ecdsaPublicKey(curve: 256 | 384 | 521 = 256, comment = "test@example"): string {
  const jwk = generateKeyPairSync("ec", { namedCurve: `P-${curve}` }).publicKey.export({
    format: "jwk",
  });
  const point = Buffer.concat([Buffer.from([4]), b64url(jwk.x), b64url(jwk.y)]);
  return keyLine(
    `ecdsa-sha2-nistp${curve}`,
    [sshString(`nistp${curve}`), sshString(point)],
    comment,
  );
}
