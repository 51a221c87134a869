/*
 * The shared validators of lib/core/validate.ts, called directly: they are the gate between
 * strings from props and the shells, unit files, Ruby and Terraform expressions they reach.
 * Each test names a rule and checks both sides of its boundary (what passes, what is refused,
 * and the words the user is shown). No cdktf here: the file runs in well under a second, so a
 * mutation run can afford it for every mutant.
 */
import {
  checkClusterNetwork,
  checkCommandLine,
  checkDropinName,
  checkFileMode,
  checkHostAddress,
  checkImageReference,
  checkNodePath,
  checkPropsObject,
  checkSourceCidr,
  checkUnitContents,
  checkUnitName,
  checkUnitText,
  checkUrlPath,
  containsPrivateKey,
  findTokens,
  hasControlChars,
  isPlainObject,
  parentFolders,
  parseSshPublicKey,
  pathConflict,
  PRIVATE_KEY_SHOWN,
  SshPublicKey,
  UNIT_LINE_MAX_BYTES,
  unusableOverlap,
  unusableSource,
} from "../lib/core/validate";
import { parseCidr, Ipv4Network } from "../lib/core/network";

describe("control characters", () => {
  it.each([
    ["NUL", "\u0000"],
    ["unit separator", "\u001f"],
    ["newline", "\n"],
    ["escape", "\u001b"],
    ["DEL", "\u007f"],
    ["first C1", "\u0080"],
    ["last C1", "\u009f"],
    ["line separator", "\u2028"],
    ["paragraph separator", "\u2029"],
  ])("finds %s inside a string", (_name, ch) => {
    expect(hasControlChars(`a${ch}b`)).toBe(true);
  });

  it.each([
    ["space", " "],
    ["tilde", "~"],
    ["no-break space", "\u00a0"],
    ["e acute", "é"],
    ["U+2027", "\u2027"],
    ["U+202A", "\u202a"],
  ])("passes %s", (_name, ch) => {
    expect(hasControlChars(`a${ch}b`)).toBe(false);
  });
});

describe("isPlainObject and checkPropsObject", () => {
  class Thing {
    readonly x = 1;
  }
  it("takes object literals and null-prototype objects, nothing else", () => {
    expect(isPlainObject({ a: 1 })).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const v of [null, undefined, [], [1], "x", 3, new Date(0), new Thing(), new Map()]) {
      expect(isPlainObject(v)).toBe(false);
    }
  });

  it("accepts a missing props argument or an object, names what is allowed otherwise", () => {
    expect(checkPropsObject(undefined)).toBeUndefined();
    expect(checkPropsObject({})).toBeUndefined();
    expect(checkPropsObject(new Thing())).toBeUndefined();
    for (const v of [null, [], "props", 3, true]) {
      expect(checkPropsObject(v)).toBe("an object of props (or leave the argument out)");
    }
  });
});

describe("findTokens", () => {
  const isToken = (v: unknown) => v === "${TOKEN}" || v === -1.8881545897087626e289;

  it("gives the dotted path of every token in nested objects and arrays", () => {
    const props = {
      name: "ok",
      network: { cidr: "${TOKEN}", count: -1.8881545897087626e289 },
      nodes: [{ address: "10.0.0.1" }, { address: "${TOKEN}" }],
      list: ["a", "${TOKEN}"],
    };
    expect(findTokens(props, isToken)).toEqual([
      "network.cidr",
      "network.count",
      "nodes[1].address",
      "list[1]",
    ]);
  });

  it("names a token given as the whole value by the prefix", () => {
    expect(findTokens("${TOKEN}", isToken, "nodeCount")).toEqual(["nodeCount"]);
    expect(findTokens("plain", isToken, "nodeCount")).toEqual([]);
    expect(findTokens(-1.8881545897087626e289, isToken, "n")).toEqual(["n"]);
  });

  it("prefixes nested paths with the given prefix", () => {
    expect(findTokens({ a: ["${TOKEN}"] }, isToken, "front")).toEqual(["front.a[0]"]);
  });

  it("skips the paths it is told to skip, and does not enter class instances", () => {
    class Holder {
      readonly value = "${TOKEN}";
    }
    const props = { a: { b: "${TOKEN}" }, c: "${TOKEN}", d: new Holder(), e: true };
    expect(findTokens(props, isToken, "", ["a"])).toEqual(["c"]);
    expect(findTokens(props, isToken, "", ["a.b"])).toEqual(["c"]);
    expect(findTokens(props, isToken)).toEqual(["a.b", "c"]);
    expect(findTokens(props, isToken, "", ["x"])).toEqual(["a.b", "c"]);
  });
});

describe("checkNodePath", () => {
  const ALLOWED =
    "an absolute, fully simplified file path (no ., .., // or trailing /; no control characters)";

  it.each(["/a", "/etc/systemd/system/x.service", "/opt/bin/a.b-c_d", "/a/..b/c."])(
    "accepts %s",
    (p) => expect(checkNodePath(p)).toBeUndefined(),
  );

  it.each([
    ["the root", "/"],
    ["empty", ""],
    ["relative", "etc/x"],
    ["a single letter", "a"],
    ["dot", "/etc/./x"],
    ["dot-dot", "/etc/../x"],
    ["double slash", "/etc//x"],
    ["leading double slash", "//etc"],
    ["trailing slash", "/etc/"],
    ["a trailing dot", "/etc/."],
    ["a newline", "/etc/x\ny"],
    ["a NUL", "/etc/x\u0000"],
  ])("refuses %s", (_name, p) => {
    expect(checkNodePath(p)).toBe(ALLOWED);
  });

  it("refuses values that are not strings", () => {
    for (const v of [undefined, null, 7, ["/etc"], { path: "/etc" }]) {
      expect(checkNodePath(v)).toBe(ALLOWED);
    }
  });

  it("takes paths up to 4095 bytes, counted in bytes", () => {
    const part = "a".repeat(200);
    const fill = (n: number) =>
      `/${Array(Math.ceil(n / 201))
        .fill(part)
        .join("/")}`.slice(0, n);
    const longest = fill(4095);
    expect(Buffer.byteLength(longest)).toBe(4095);
    expect(checkNodePath(longest)).toBeUndefined();
    expect(checkNodePath(`${longest}b`)).toBe(`${ALLOWED}, at most 4095 bytes`);
    // 4094 characters but 4096 bytes: é is two.
    expect(checkNodePath(`${longest.slice(0, -2)}é`)).toBeUndefined();
    expect(checkNodePath(`${longest.slice(0, -1)}é`)).toBe(`${ALLOWED}, at most 4095 bytes`);
  });

  it("takes path parts up to 255 bytes, counted in bytes", () => {
    expect(checkNodePath(`/etc/${"a".repeat(255)}`)).toBeUndefined();
    expect(checkNodePath(`/etc/${"a".repeat(256)}/x`)).toBe(
      `${ALLOWED}, each part at most 255 bytes`,
    );
    expect(checkNodePath(`/${"é".repeat(128)}`)).toBe(`${ALLOWED}, each part at most 255 bytes`);
    expect(checkNodePath(`/${"é".repeat(127)}a`)).toBeUndefined();
  });
});

describe("parentFolders and pathConflict", () => {
  it("lists the folders above a path, nearest first, without the root", () => {
    expect(parentFolders("/etc/a/b")).toEqual(["/etc/a", "/etc"]);
    expect(parentFolders("/etc")).toEqual([]);
  });

  const taken = new Map([
    ["/etc/a", "unit a"],
    ["/opt/bin/tool", "unit tool"],
  ]);

  it("finds the same path", () => {
    expect(pathConflict("/etc/a", taken)).toEqual({
      path: "/etc/a",
      owner: "unit a",
      how: "the same path",
    });
  });

  it("finds a file where the path needs a folder", () => {
    expect(pathConflict("/etc/a/b/c", taken)).toEqual({
      path: "/etc/a",
      owner: "unit a",
      how: "a file where /etc/a/b/c needs a folder",
    });
  });

  it("finds a file inside the path", () => {
    expect(pathConflict("/opt/bin", taken)).toEqual({
      path: "/opt/bin/tool",
      owner: "unit tool",
      how: "a file inside /opt/bin",
    });
    expect(pathConflict("/opt", taken)?.path).toBe("/opt/bin/tool");
  });

  it("lets paths that only share a name prefix live side by side", () => {
    expect(pathConflict("/etc/ab", taken)).toBeUndefined();
    expect(pathConflict("/etc/a.d/x", taken)).toBeUndefined();
    expect(pathConflict("/opt/bin/tool2", taken)).toBeUndefined();
    expect(pathConflict("/opt/bi", taken)).toBeUndefined();
    expect(pathConflict("/etc/b", new Map())).toBeUndefined();
  });
});

describe("checkFileMode", () => {
  const ALLOWED = "Unix permission bits from 0 to 0o777, written in octal, e.g. 0o644";

  it.each([0, 0o400, 0o600, 0o644, 0o640, 0o700, 0o755, 0o777, 0o111])("accepts 0o%o", (m) => {
    expect(checkFileMode(m)).toBeUndefined();
  });

  it("refuses what is not a whole, non-negative number", () => {
    for (const v of [-1, 1.5, "0644", "644", null, undefined, NaN, Infinity]) {
      expect(checkFileMode(v)).toBe(ALLOWED);
    }
  });

  it("names the setuid, setgid and sticky bits, which Ignition ignores", () => {
    expect(checkFileMode(0o4755)).toBe(
      `${ALLOWED}: 0o4755 sets setuid/setgid/sticky bits, which Ignition spec 3.3.0 ignores`,
    );
    expect(checkFileMode(0o7777)).toContain("0o7777 sets setuid/setgid/sticky bits");
    expect(checkFileMode(0o1000)).toContain("0o1000 sets setuid/setgid/sticky bits");
    expect(checkFileMode(0o10000)).toBe(ALLOWED);
  });

  it.each([
    [644, "0o1204", "0o644"],
    [600, "0o1130", "0o600"],
    [755, "0o1363", "0o755"],
    [777, "0o1411", "0o777"],
    [400, "0o620", "0o400"],
    [440, "0o670", "0o440"],
    [1644, "0o3154", "0o1644"],
    // 1440 is 0o2640: setgid plus bits that look right (rw-r-----); still a decimal typo.
    [1440, "0o2640", "0o1440"],
  ])("explains %i as an octal mode written in decimal", (mode, actual, meant) => {
    expect(checkFileMode(mode)).toBe(
      `${ALLOWED}: ${mode} is decimal, which is ${actual}; write ${meant} for rw modes like ${mode}`,
    );
  });

  it("gives no decimal hint when the octal reading is no mode a person writes either", () => {
    // 0o100 (--x------): the owner cannot read; 0o200 (-w-------): write without read;
    // 0o404 (r-----r--): others get what the group has not; 0o470: group more than owner.
    expect(checkFileMode(100)).toBeUndefined();
    expect(checkFileMode(200)).toBeUndefined();
    expect(checkFileMode(404)).toBeUndefined();
    expect(checkFileMode(470)).toBeUndefined();
    expect(checkFileMode(420)).toBeUndefined(); // 420 is 0o644 itself
    // 1000 is 0o1750: its octal reading 0o1000 sets no permission at all.
    expect(checkFileMode(1000)).toContain("0o1750 sets setuid/setgid/sticky bits");
    // 5 digits: not read as octal.
    expect(checkFileMode(10644)).toBe(ALLOWED);
  });
});

describe("checkUnitText", () => {
  it("accepts tab, newline and CRLF line ends", () => {
    expect(checkUnitText("[Unit]\r\nDescription=a\tb\r\n")).toBeUndefined();
  });

  it.each([
    ["NUL", "\u0000"],
    ["backspace", "\u0008"],
    ["vertical tab", "\u000b"],
    ["form feed", "\u000c"],
    ["shift out", "\u000e"],
    ["unit separator", "\u001f"],
    ["escape", "\u001b"],
    ["DEL", "\u007f"],
    ["line separator", "\u2028"],
    ["paragraph separator", "\u2029"],
  ])("refuses %s", (_name, ch) => {
    expect(checkUnitText(`[Unit]\nDescription=a${ch}b\n`)).toBe(
      "unit text without control characters (NUL, escape, …) other than tab and newline",
    );
  });

  it("takes lines of up to 2047 bytes (a CR at the end not counted) and names a longer one", () => {
    expect(UNIT_LINE_MAX_BYTES).toBe(2047);
    const key = "Description=";
    const line = key + "x".repeat(2047 - key.length);
    expect(checkUnitText(`[Unit]\n${line}\n`)).toBeUndefined();
    expect(checkUnitText(`[Unit]\r\n${line}\r\n`)).toBeUndefined();
    expect(checkUnitText(`[Unit]\n${line}x\n`)).toBe(
      "lines of at most 2047 bytes (line 2 has 2048): Ignition and systemd refuse longer ones; split it with a trailing \\",
    );
    // Only a CR ending the line is not counted; one inside it is.
    expect(checkUnitText(`[Unit]\n${line.slice(0, 20)}\r${line.slice(21)}x`)).toContain(
      "(line 2 has 2048)",
    );
    // Bytes, not characters: 1024 two-byte letters are 2048 bytes.
    expect(checkUnitText(`${"é".repeat(1024)}`)).toContain("(line 1 has 2048)");
  });

  const unparsable = (line: number, text: string) =>
    `unit text Ignition can parse: line ${line} (${JSON.stringify(text)}) is inside a section but is neither Key=Value, a comment, a [Section] header nor a continued value`;

  it("accepts sections, Key=Value, comments, blank lines and continued values", () => {
    const text = [
      "# leading comment",
      "[Unit]",
      "Description=x",
      "",
      "; another comment",
      "  # indented comment",
      "[Service]",
      "ExecStart=/bin/sh -c \\",
      "  'echo one' \\",
      "  two",
      "Restart=always",
    ].join("\n");
    expect(checkUnitText(text)).toBeUndefined();
  });

  it("refuses a line inside a section that is none of those, naming it", () => {
    expect(checkUnitText("[Unit]\nDescription=x\nnot a setting\n")).toBe(
      unparsable(3, "not a setting"),
    );
    expect(checkUnitText(`[Unit]\n${"y".repeat(50)}`)).toBe(unparsable(2, "y".repeat(40)));
  });

  it("refuses a section header without its closing bracket", () => {
    expect(checkUnitText("[Unit\nDescription=x")).toBe(unparsable(1, "[Unit"));
  });

  it("lets lines before the first section be", () => {
    expect(checkUnitText("free text before any section\n[Unit]\nA=b")).toBeUndefined();
  });

  it("continues only a Key=Value line or a continued line, never a comment", () => {
    expect(checkUnitText("[Unit]\n# note \\\nDescription=x")).toBeUndefined();
    expect(checkUnitText("[Unit]\n# note \\\ntail")).toBe(unparsable(3, "tail"));
    expect(checkUnitText("[Unit]\nA=1 \\\n  b \\\n  c\nB=2")).toBeUndefined();
    expect(checkUnitText("[Unit]\nA=1 \\\n  b\n  c")).toBe(unparsable(4, "  c"));
  });

  it("does not continue a line before the first section into the header", () => {
    expect(checkUnitText("x=1 \\\n[Unit]\nbar")).toBe(unparsable(3, "bar"));
  });
});

describe("unit and drop-in names", () => {
  const UNIT =
    "a systemd unit name with its type, e.g. hello.service (A-Z a-z 0-9 : _ . @ -, at most 255)";

  it.each([
    "hello.service",
    "a.socket",
    "a.timer",
    "var-lib.mount",
    "a.automount",
    "a.path",
    "multi-user.target",
    "a.slice",
    "dev-sda2.swap",
    "getty@tty1.service",
    "A_b:c.d-9.service",
  ])("accepts the unit name %s", (name) => expect(checkUnitName(name)).toBeUndefined());

  it.each([
    "hello",
    "hello.conf",
    "hello.service.bak",
    "/etc/hello.service",
    "he llo.service",
    "a$(x).service",
    "a;b.service",
    ".service",
    "hello.service\n",
  ])("refuses the unit name %j", (name) => expect(checkUnitName(name)).toBe(UNIT));

  it("takes unit names of up to 255 characters", () => {
    expect(checkUnitName(`${"a".repeat(247)}.service`)).toBeUndefined();
    expect(checkUnitName(`${"a".repeat(248)}.service`)).toBe(UNIT);
    expect(checkUnitName(42)).toBe(UNIT);
    // A list whose text would pass is still no name.
    expect(checkUnitName(["hello.service"])).toBe(UNIT);
  });

  const DROPIN = "a file name of A-Z a-z 0-9 _ . @ - ending in .conf";
  it("accepts drop-in names of up to 250 characters before .conf", () => {
    expect(checkDropinName("10-override.conf")).toBeUndefined();
    expect(checkDropinName("a.conf")).toBeUndefined();
    expect(checkDropinName(`${"a".repeat(250)}.conf`)).toBeUndefined();
    expect(checkDropinName(`${"a".repeat(251)}.conf`)).toBe(DROPIN);
    expect(checkDropinName(["10-override.conf"])).toBe(DROPIN);
  });

  it.each([".conf", "a.service", "a/b.conf", "../a.conf", "a b.conf", "a.conf.x", "x\na.conf"])(
    "refuses the drop-in name %j",
    (name) => expect(checkDropinName(name)).toBe(DROPIN),
  );
});

describe("checkUnitContents", () => {
  it("refuses a value that is not a string, showing it", () => {
    expect(checkUnitContents(3)).toEqual({ shown: 3, allowed: "a string" });
  });

  it("never shows a private key, and says why it is refused", () => {
    const text = "[Service]\nEnvironment=KEY=-----BEGIN OPENSSH PRIVATE KEY-----\n";
    expect(PRIVATE_KEY_SHOWN).toBe("-----BEGIN … PRIVATE KEY-----");
    expect(checkUnitContents(text)).toEqual({
      shown: PRIVATE_KEY_SHOWN,
      allowed: "no private keys: synthesized configs are plain text",
    });
  });

  it("shows the text with the reason it cannot be parsed, and passes good text", () => {
    expect(checkUnitContents("[Unit]\nbad")).toEqual({
      shown: "[Unit]\nbad",
      allowed: expect.stringContaining("line 2") as string,
    });
    expect(checkUnitContents("[Unit]\nDescription=ok\n")).toBeUndefined();
  });
});

describe("containsPrivateKey", () => {
  it.each([
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "PuTTY-User-Key-File-2: ssh-rsa",
    "PuTTY-User-Key-File-3: ssh-ed25519",
    "PuTTY-User-Key-File-10: ssh-ed25519",
  ])("finds %s", (marker) => {
    expect(containsPrivateKey(`before\n${marker}\nafter`)).toBe(true);
  });

  it.each([
    "-----BEGIN PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----",
    "-----BEGIN PGP PUBLIC KEY BLOCK-----",
    "ssh-ed25519 AAAA user@host",
    "PuTTY-User-Key-File-: x",
    "-----BEGIN private key-----",
  ])("does not take %s for a private key", (text) => {
    expect(containsPrivateKey(text)).toBe(false);
  });
});

describe("checkCommandLine and checkUrlPath", () => {
  const LINE = "one line of shell, 1-1024 printable ASCII characters";

  it("takes one line of printable ASCII up to the limit", () => {
    expect(checkCommandLine("curl -fsS http://127.0.0.1:8080/health || exit 1")).toBeUndefined();
    expect(checkCommandLine("~")).toBeUndefined();
    expect(checkCommandLine("x".repeat(1024))).toBeUndefined();
    expect(checkCommandLine("x".repeat(1025))).toBe(LINE);
    expect(checkCommandLine("x".repeat(11), 10)).toBe(
      "one line of shell, 1-10 printable ASCII characters",
    );
    expect(checkCommandLine("x".repeat(10), 10)).toBeUndefined();
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["a newline", "true\nrm -rf /"],
    ["a tab", "true\tfalse"],
    ["a DEL", "true\u007f"],
    ["non-ASCII", "échec"],
    ["a NUL", "true\u0000"],
  ])("refuses a command that is %s", (_name, cmd) => {
    expect(checkCommandLine(cmd)).toBe(LINE);
  });

  it("refuses a command that is not a string", () => {
    expect(checkCommandLine(["true"])).toBe(LINE);
  });

  const URL_PATH = (max: number) =>
    `an absolute URL path of printable ASCII without spaces, at most ${max} characters`;

  it("takes absolute URL paths of printable ASCII without spaces", () => {
    expect(checkUrlPath("/")).toBeUndefined();
    expect(checkUrlPath("/health?full=1&x=~")).toBeUndefined();
    expect(checkUrlPath(`/${"a".repeat(1023)}`)).toBeUndefined();
    expect(checkUrlPath(`/${"a".repeat(1024)}`)).toBe(URL_PATH(1024));
    expect(checkUrlPath("/abcd", 4)).toBe(URL_PATH(4));
    expect(checkUrlPath("/abc", 4)).toBeUndefined();
  });

  it.each([
    ["relative", "health"],
    ["empty", ""],
    ["with a space", "/a b"],
    ["with a newline", "/a\r\nX-Injected: 1"],
    ["non-ASCII", "/é"],
    ["a whole URL", "http://x/"],
  ])("refuses a URL path that is %s", (_name, p) => {
    expect(checkUrlPath(p)).toBe(URL_PATH(1024));
  });

  it("refuses a URL path that is not a string", () => {
    expect(checkUrlPath(8080)).toBe(URL_PATH(1024));
    expect(checkUrlPath(["/health"])).toBe(URL_PATH(1024));
  });
});

// ---------------------------------------------------------------- SSH keys

/** SSH wire-format string. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}
const blobOf = (...parts: Buffer[]) => Buffer.concat(parts).toString("base64");
const line = (type: string, ...fields: Buffer[]) => `${type} ${blobOf(sshString(type), ...fields)}`;
const bytes = (n: number, first = 0x11) =>
  Buffer.concat([Buffer.from([first]), Buffer.alloc(n - 1, 0x5a)]);
/** An RSA modulus of exactly `bits` bits, as an mpint (leading zero when the top bit is set). */
function modulus(bits: number): Buffer {
  const n = Buffer.alloc(Math.ceil(bits / 8), 0xff);
  const top = bits % 8 === 0 ? 8 : bits % 8;
  n[0] = (1 << top) - 1;
  return sshString(n[0] & 0x80 ? Buffer.concat([Buffer.from([0]), n]) : n);
}
const E = sshString(Buffer.from([1, 0, 1]));
const ED = line("ssh-ed25519", sshString(bytes(32)));
const P256 = line("ecdsa-sha2-nistp256", sshString("nistp256"), sshString(bytes(65, 4)));

function parsed(text: unknown): SshPublicKey {
  const r = parseSshPublicKey(text);
  if ("reason" in r) throw new Error(r.reason);
  return r;
}
function reason(text: unknown): string {
  const r = parseSshPublicKey(text);
  if (!("reason" in r)) throw new Error(`accepted: ${String(text)}`);
  return r.reason;
}
const FORM =
  'an OpenSSH public key line "<type> <base64> [comment]" with type ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com';

describe("parseSshPublicKey", () => {
  it("reads type and comment and gives the line in canonical form", () => {
    expect(parsed(`  ${ED}   ops@example laptop  `)).toEqual({
      type: "ssh-ed25519",
      comment: "ops@example laptop",
      rsaBits: undefined,
      line: `${ED} ops@example laptop`,
    });
    expect(parsed(ED)).toEqual({ type: "ssh-ed25519", comment: "", rsaBits: undefined, line: ED });
    expect(parsed(ED.replace(" ", "    ")).line).toBe(ED);
  });

  it("accepts every key type with a complete blob", () => {
    const keys = [
      ED,
      P256,
      line("ecdsa-sha2-nistp384", sshString("nistp384"), sshString(bytes(97, 4))),
      line("ecdsa-sha2-nistp521", sshString("nistp521"), sshString(bytes(133, 4))),
      line("sk-ssh-ed25519@openssh.com", sshString(bytes(32)), sshString("ssh:")),
      line(
        "sk-ecdsa-sha2-nistp256@openssh.com",
        sshString("nistp256"),
        sshString(bytes(65, 4)),
        sshString("ssh:"),
      ),
      line("ssh-rsa", E, modulus(2048)),
    ];
    for (const key of keys) expect(parsed(key).line).toBe(key);
  });

  it("measures the RSA modulus (the second mpint) in bits and refuses less than 1024", () => {
    expect(parsed(line("ssh-rsa", E, modulus(2048))).rsaBits).toBe(2048);
    expect(parsed(line("ssh-rsa", E, modulus(3071))).rsaBits).toBe(3071);
    expect(parsed(line("ssh-rsa", E, modulus(1024))).rsaBits).toBe(1024);
    expect(parsed(line("ssh-rsa", E, modulus(1025))).rsaBits).toBe(1025);
    // Leading zero bytes do not count.
    const padded = sshString(Buffer.concat([Buffer.alloc(3), Buffer.alloc(128, 0xff)]));
    expect(parsed(line("ssh-rsa", E, padded)).rsaBits).toBe(1024);
    expect(reason(line("ssh-rsa", E, modulus(1023)))).toBe(
      `${FORM}: an RSA modulus of at least 1024 bits (OpenSSH refuses 1023)`,
    );
    expect(reason(line("ssh-rsa", modulus(2048), sshString(Buffer.alloc(4))))).toBe(
      `${FORM}: an RSA modulus of at least 1024 bits (OpenSSH refuses 0)`,
    );
  });

  it("refuses what is not a key line", () => {
    expect(reason(undefined)).toBe(FORM);
    expect(reason(42)).toBe(FORM);
    expect(reason("")).toBe(FORM);
    expect(reason("ssh-ed25519")).toBe(FORM);
    expect(reason(ED.replace("ssh-ed25519", "ssh-dss"))).toBe(FORM);
    expect(reason(`x${ED}`)).toBe(FORM);
  });

  it("refuses control characters anywhere in the line", () => {
    expect(reason(`${ED} ops\nssh-ed25519 AAAA evil`)).toBe(
      `${FORM}, on one line without control characters`,
    );
    expect(reason(`${ED} a\u0000b`)).toBe(`${FORM}, on one line without control characters`);
    // A tab too, even as the separator (OpenSSH would take it; the comment reaches config files).
    expect(reason(`${ED}\tops`)).toBe(`${FORM}, on one line without control characters`);
  });

  it("refuses a key part that is not canonical base64", () => {
    const [type, b64] = P256.split(" ");
    expect(b64).toMatch(/[^=]=$/);
    const NOT_B64 = `${FORM}: the key part is not canonical base64`;
    expect(reason(`${type} ${b64.replace(/=+$/, "")}`)).toBe(NOT_B64);
    expect(reason(`${type} ${b64.replace(/\+/g, "-").replace(/\//g, "_")}x`)).toBe(NOT_B64);
    expect(reason(`${type} ${b64}==`)).toBe(NOT_B64);
    expect(reason(`${type} -${b64}`)).toBe(NOT_B64);
    expect(reason(`${type} ${b64}-`)).toBe(NOT_B64);
  });

  it("refuses a blob too short for its first string", () => {
    expect(reason(`ssh-ed25519 ${Buffer.from([0, 0, 0]).toString("base64")}`)).toBe(
      `${FORM}: the base64 part is 3 bytes, too short for a ssh-ed25519 key`,
    );
    // Says 11 bytes follow, has 10.
    const short = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed2551")]);
    expect(reason(`ssh-ed25519 ${short.toString("base64")}`)).toBe(
      `${FORM}: the base64 part is 14 bytes, too short for a ssh-ed25519 key`,
    );
  });

  it("refuses a blob whose inner type differs from the line's", () => {
    const rsa = line("ssh-rsa", E, modulus(2048)).split(" ")[1];
    expect(reason(`ssh-ed25519 ${rsa}`)).toBe(
      `${FORM}: the base64 part holds a "ssh-rsa" key, but the line says ssh-ed25519`,
    );
    const longType = `ssh-${"x".repeat(60)}`;
    expect(reason(`ssh-ed25519 ${blobOf(sshString(longType))}`)).toContain(
      `holds a ${JSON.stringify(longType.slice(0, 40))} key`,
    );
  });

  it("refuses a blob missing a field, or with one cut short", () => {
    const edOnly = blobOf(sshString("ssh-ed25519"));
    expect(reason(`ssh-ed25519 ${edOnly}`)).toBe(
      `${FORM}: the base64 part is 15 bytes, too short for a ssh-ed25519 key`,
    );
    const cut = Buffer.concat([sshString("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), bytes(31)]);
    expect(reason(`ssh-ed25519 ${cut.toString("base64")}`)).toBe(
      `${FORM}: the base64 part is 50 bytes, too short for a ssh-ed25519 key`,
    );
    const rsaHalf = line("ssh-rsa", E);
    expect(reason(rsaHalf)).toContain("too short for a ssh-rsa key");
    const skNoApp = line("sk-ssh-ed25519@openssh.com", sshString(bytes(32)));
    expect(reason(skNoApp)).toContain("too short for a sk-ssh-ed25519@openssh.com key");
  });

  it("refuses an Ed25519 key that is not 32 bytes", () => {
    expect(reason(line("ssh-ed25519", sshString(bytes(31))))).toBe(
      `${FORM}: an Ed25519 key of 32 bytes (got 31)`,
    );
    expect(reason(line("ssh-ed25519", sshString(bytes(33))))).toBe(
      `${FORM}: an Ed25519 key of 32 bytes (got 33)`,
    );
    // An empty key as the blob's last field is read as empty, not as missing.
    expect(reason(line("ssh-ed25519", sshString(Buffer.alloc(0))))).toBe(
      `${FORM}: an Ed25519 key of 32 bytes (got 0)`,
    );
    // The security-key variant holds an Ed25519 key too.
    expect(
      reason(line("sk-ssh-ed25519@openssh.com", sshString(bytes(31)), sshString("ssh:"))),
    ).toBe(`${FORM}: an Ed25519 key of 32 bytes (got 31)`);
  });

  it("refuses an ECDSA key of another curve than its type says", () => {
    expect(
      reason(line("ecdsa-sha2-nistp256", sshString("nistp384"), sshString(bytes(97, 4)))),
    ).toBe(`${FORM}: the curve "nistp384" does not match ecdsa-sha2-nistp256`);
    expect(
      reason(line("ecdsa-sha2-nistp521", sshString("nistp256"), sshString(bytes(65, 4)))),
    ).toBe(`${FORM}: the curve "nistp256" does not match ecdsa-sha2-nistp521`);
    expect(
      reason(
        line(
          "sk-ecdsa-sha2-nistp256@openssh.com",
          sshString("nistp384"),
          sshString(bytes(97, 4)),
          sshString("ssh:"),
        ),
      ),
    ).toBe(`${FORM}: the curve "nistp384" does not match sk-ecdsa-sha2-nistp256@openssh.com`);
    // A part of the type's name is no curve.
    expect(reason(line("ecdsa-sha2-nistp256", sshString("nistp"), sshString(bytes(65, 4))))).toBe(
      `${FORM}: the curve "nistp" does not match ecdsa-sha2-nistp256`,
    );
  });

  it("refuses an ECDSA point of the wrong size or not uncompressed", () => {
    const msg = `${FORM}: an uncompressed nistp256 point of 65 bytes`;
    expect(
      reason(line("ecdsa-sha2-nistp256", sshString("nistp256"), sshString(bytes(64, 4)))),
    ).toBe(msg);
    expect(
      reason(line("ecdsa-sha2-nistp256", sshString("nistp256"), sshString(bytes(66, 4)))),
    ).toBe(msg);
    expect(
      reason(line("ecdsa-sha2-nistp256", sshString("nistp256"), sshString(bytes(65, 2)))),
    ).toBe(msg);
    expect(
      reason(line("ecdsa-sha2-nistp384", sshString("nistp384"), sshString(bytes(65, 4)))),
    ).toBe(`${FORM}: an uncompressed nistp384 point of 97 bytes`);
    expect(
      reason(line("ecdsa-sha2-nistp521", sshString("nistp521"), sshString(bytes(132, 4)))),
    ).toBe(`${FORM}: an uncompressed nistp521 point of 133 bytes`);
    expect(
      reason(
        line(
          "sk-ecdsa-sha2-nistp256@openssh.com",
          sshString("nistp256"),
          sshString(bytes(65, 2)),
          sshString("ssh:"),
        ),
      ),
    ).toBe(msg);
  });

  it("refuses extra bytes after the key data", () => {
    expect(reason(line("ssh-ed25519", sshString(bytes(32)), Buffer.from([0])))).toBe(
      `${FORM}: ssh-ed25519 key data followed by extra bytes`,
    );
  });
});

// ---------------------------------------------------------------- container images

describe("checkImageReference", () => {
  const FORMAT =
    "an image reference such as quay.io/coreos/etcd:v3.5.21 (registry/repository[:tag][@sha256:<64 hex>])";
  const PIN = "a reference pinned by digest: <repository>[:tag]@sha256:<64 lowercase hex digits>";
  const DIGEST = `@sha256:${"0123456789abcdef".repeat(4)}`;

  it.each([
    "etcd",
    "quay.io/coreos/etcd:v3.5.21",
    "registry.example:5000/team/app_x-y:1.0",
    "localhost:5000/a",
    "gcr.io/a/b/c:latest",
    "a.b-c_d/e",
    "quay.io/my-org/etcd-server.v2:v1",
    `quay.io/coreos/etcd${DIGEST}`,
    `quay.io/coreos/etcd:v3.5.21${DIGEST}`,
    `a:${"t".repeat(128)}`,
    "a:_x",
  ])("accepts %s", (ref) => {
    expect(checkImageReference(ref, false)).toBeUndefined();
  });

  it.each([
    "",
    "Quay.io/coreos/etcd",
    "quay.io/CoreOS/etcd",
    "quay.io/coreos/etcd:v1;rm -rf /",
    "quay.io/coreos/etcd v1",
    "quay.io/coreos/etcd:$(id)",
    "-a",
    "a-",
    "a/",
    "/a",
    "a//b",
    "a:",
    "a:.x",
    "a:-x",
    `a:${"t".repeat(129)}`,
    `a@sha256:${"0".repeat(63)}`,
    `a@sha256:${"A".repeat(64)}`,
    `a@sha512:${"0".repeat(64)}`,
    "a\nb",
    "a:port/b:c:d",
  ])("refuses %j", (ref) => {
    expect(checkImageReference(ref, false)).toBe(FORMAT);
  });

  it("refuses what is not a string, and references over 512 characters", () => {
    expect(checkImageReference(3, false)).toBe(FORMAT);
    const long = `a/${"b".repeat(509)}`;
    expect(long).toHaveLength(511);
    expect(checkImageReference(long, false)).toBeUndefined();
    expect(checkImageReference(`${long}c`, false)).toBeUndefined();
    expect(checkImageReference(`${long}cd`, false)).toBe(FORMAT);
  });

  it("requires a digest when pinned", () => {
    expect(checkImageReference("quay.io/coreos/etcd:v3.5.21", true)).toBe(PIN);
    expect(checkImageReference(`quay.io/coreos/etcd:v3.5.21${DIGEST}`, true)).toBeUndefined();
    expect(checkImageReference(`quay.io/coreos/etcd${DIGEST}`, true)).toBeUndefined();
  });
});

// ---------------------------------------------------------------- networks

const net = (cidr: string) => parseCidr(cidr) as Ipv4Network;

describe("unusable ranges", () => {
  it.each([
    ["0.0.0.0/32", '"this network" (0.0.0.0/8)'],
    ["0.255.255.255/32", '"this network" (0.0.0.0/8)'],
    ["127.0.0.0/32", "loopback (127.0.0.0/8)"],
    ["127.255.255.255/32", "loopback (127.0.0.0/8)"],
    ["126.0.0.0/7", "loopback (127.0.0.0/8)"],
    ["169.254.0.0/16", "link-local (169.254.0.0/16)"],
    ["169.254.255.255/32", "link-local (169.254.0.0/16)"],
    ["169.0.0.0/8", "link-local (169.254.0.0/16)"],
    ["224.0.0.0/32", "multicast (224.0.0.0/4)"],
    ["239.255.255.255/32", "multicast (224.0.0.0/4)"],
    ["240.0.0.0/32", "reserved and broadcast (240.0.0.0/4)"],
    ["255.255.255.255/32", "reserved and broadcast (240.0.0.0/4)"],
    ["0.0.0.0/0", '"this network" (0.0.0.0/8)'],
  ])("%s overlaps %s", (cidr, what) => {
    expect(unusableOverlap(net(cidr))).toBe(what);
  });

  it.each([
    "1.0.0.0/32",
    "126.255.255.255/32",
    "128.0.0.0/32",
    "169.253.255.255/32",
    "169.255.0.0/32",
    "223.255.255.255/32",
    "10.0.0.0/8",
    "192.168.56.0/21",
  ])("%s overlaps none", (cidr) => {
    expect(unusableOverlap(net(cidr))).toBeUndefined();
  });

  it("takes a source network as unusable only when it lies inside a range", () => {
    expect(unusableSource(net("127.0.0.0/8"))).toBe("loopback (127.0.0.0/8)");
    expect(unusableSource(net("127.255.255.255/32"))).toBe("loopback (127.0.0.0/8)");
    expect(unusableSource(net("127.0.0.1/32"))).toBe("loopback (127.0.0.0/8)");
    expect(unusableSource(net("126.0.0.0/7"))).toBeUndefined();
    expect(unusableSource(net("128.0.0.0/32"))).toBeUndefined();
    expect(unusableSource(net("126.255.255.255/32"))).toBeUndefined();
    expect(unusableSource(net("224.0.0.0/3"))).toBeUndefined();
    expect(unusableSource(net("0.0.0.0/1"))).toBeUndefined();
  });
});

describe("checkHostAddress", () => {
  const ALLOWED = "a unicast IPv4 address such as 10.0.0.5 (no leading zeros)";
  it("accepts unicast addresses", () => {
    for (const a of ["10.0.0.5", "1.1.1.1", "192.168.56.10", "223.255.255.254"]) {
      expect(checkHostAddress(a)).toBeUndefined();
    }
  });
  it("refuses what is no address, naming the range of an unusable one", () => {
    for (const a of ["010.0.0.5", "10.0.0", "10.0.0.256", "10.0.0.5/32", " 10.0.0.5", 167772165]) {
      expect(checkHostAddress(a)).toBe(ALLOWED);
    }
    expect(checkHostAddress("127.0.0.1")).toBe(`${ALLOWED}, not loopback (127.0.0.0/8)`);
    expect(checkHostAddress("0.0.0.0")).toBe(`${ALLOWED}, not "this network" (0.0.0.0/8)`);
    expect(checkHostAddress("255.255.255.255")).toBe(
      `${ALLOWED}, not reserved and broadcast (240.0.0.0/4)`,
    );
  });
});

describe("checkClusterNetwork and checkSourceCidr", () => {
  it("returns the parsed network of a usable CIDR", () => {
    expect(checkClusterNetwork("192.168.56.0/21")).toEqual({
      cidr: "192.168.56.0/21",
      base: 0xc0a83800,
      prefixLength: 21,
      size: 2048,
    });
  });

  it("refuses a CIDR overlapping an unusable range, or no CIDR at all", () => {
    expect(checkClusterNetwork("126.0.0.0/7")).toEqual({
      reason:
        "a private network such as 10.0.0.0/16 or 192.168.56.0/21; 126.0.0.0/7 overlaps loopback (127.0.0.0/8), where no node can be addressed",
    });
    expect(checkClusterNetwork(21)).toEqual({ reason: "an IPv4 CIDR such as 192.168.56.0/21" });
    expect(checkClusterNetwork("10.0.0.1/8")).toEqual({
      reason: "a network address without host bits, e.g. 10.0.0.0/8",
    });
  });

  it("takes anyone (0.0.0.0/0) or a network clients can connect from as a source", () => {
    expect(checkSourceCidr("0.0.0.0/0")).toBeUndefined();
    expect(checkSourceCidr("198.51.100.0/24")).toBeUndefined();
    expect(checkSourceCidr("0.0.0.0/1")).toBeUndefined();
    expect(checkSourceCidr("127.0.0.0/8")).toBe(
      "a network clients connect from, not loopback (127.0.0.0/8)",
    );
    expect(checkSourceCidr("0.0.0.0/8")).toBe(
      'a network clients connect from, not "this network" (0.0.0.0/8)',
    );
    expect(checkSourceCidr("198.51.100.1/24")).toBe(
      "a network address without host bits, e.g. 198.51.100.0/24",
    );
    expect(checkSourceCidr(["0.0.0.0/0"])).toBe("an IPv4 CIDR such as 198.51.100.0/24");
  });
});
