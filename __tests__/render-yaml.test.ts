import { parse } from "yaml";
import {
  CLOUDINIT_PLACEHOLDERS,
  renderYamlDocument,
  Substituted,
  YamlValue,
} from "../lib/render/yaml";
import { applyCloudinitEnvironment, checkCloudConfig } from "./support/cloud-config-schema";

/*
 * The cloud-config YAML writer on its own (moved here from cloud-config.test.ts,
 * which builds cdktf stacks): what coreos-cloudinit reads back
 * (YAML 1.1 after its placeholder substitution) is what was given, and
 * multi-line text stays readable as a literal block.
 */

const MACHINE = {
  $private_ipv4: "10.1.2.3",
  $public_ipv4: "203.0.113.9",
  $private_ipv6: "fd00::3",
  $public_ipv6: "2001:db8::9",
};

/** The document as coreos-cloudinit reads it on a machine. */
function onMachine(doc: string): Record<string, unknown> {
  return parse(applyCloudinitEnvironment(doc, MACHINE), { version: "1.1" }) as Record<
    string,
    unknown
  >;
}

function roundTrip(value: string | Substituted): unknown {
  const doc = renderYamlDocument(["#cloud-config"], {
    write_files: [{ path: "/x", content: value }],
  });
  expect(checkCloudConfig(doc).findings).toEqual([]);
  return (onMachine(doc).write_files as { content: unknown }[])[0].content;
}

describe("strings read back as given", () => {
  const texts = [
    "",
    "plain",
    " leading space\nx\n",
    "\nleading newline",
    "\n",
    "a\nb\n",
    "a\nb",
    "a\nb\n\n\n",
    "a\n\n  \nb\n",
    "tab\tin\nblock\n",
    "\tleading tab\nx\n",
    "#comment\n---\n...\n",
    "key: value\n- item\n",
    "\"'\\",
    "back\\slash\nand \\n\n",
    "\u0000\u0007\b\u000b\f\u001b\u001f\u007f\u0080\u0085\u009f\u2028\u2029\ufeff\ufffe\uffff",
    "line\u0085next\n",
    "line\u2028sep\n",
    "bom\ufeff\n",
    "ctl\u0001\n",
    "del\u007f\n",
    "\r\n\r",
    "crlf\r\nline\r\n",
    "é 日本 🙂\n",
    "\ud800 lone high",
    "lone low \udc00",
    "pair 🙂 \ud83d\ude42",
    "yes",
    "0644",
    "1e3",
    "null",
    "~",
    "{a: 1}",
    "[x]",
    "&anchor *alias !tag %directive @ `",
  ];
  it.each(texts.map((t) => [JSON.stringify(t), t]))("%s", (_l, text) => {
    expect(roundTrip(text)).toBe(text);
  });
});

describe("the platform's placeholders", () => {
  it("stay literal in user text, whatever surrounds them", () => {
    for (const p of CLOUDINIT_PLACEHOLDERS) {
      for (const text of [p, `${p}\n`, `a ${p}${p} b\n`, `x\n${p}`, `"${p}"`, `\\${p}\n`]) {
        expect(roundTrip(text)).toBe(text);
      }
    }
  });

  it("are the four coreos-cloudinit replaces", () => {
    expect([...CLOUDINIT_PLACEHOLDERS].sort()).toEqual(Object.keys(MACHINE).sort());
  });

  it("are replaced in Substituted text, quoted or in a block", () => {
    expect(roundTrip(new Substituted("ip=$private_ipv4 pub=$public_ipv4"))).toBe(
      "ip=10.1.2.3 pub=203.0.113.9",
    );
    expect(roundTrip(new Substituted("A=$private_ipv6\nB=$public_ipv6\n"))).toBe(
      "A=fd00::3\nB=2001:db8::9\n",
    );
    expect(roundTrip(new Substituted('q="$private_ipv4"\t'))).toBe('q="10.1.2.3"\t');
  });
});

describe("multi-line text is a readable literal block", () => {
  it("a unit file appears line by line, indented under its key", () => {
    const unit = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n";
    const doc = renderYamlDocument(["#cloud-config"], {
      coreos: { units: [{ name: "a.service", content: unit }] },
    });
    expect(doc).toBe(
      '#cloud-config\ncoreos:\n  units:\n    - name: "a.service"\n      content: |\n        [Unit]\n        Description=x\n\n        [Service]\n        ExecStart=/bin/true\n',
    );
  });

  it("keeps or strips final newlines with the chomping indicator", () => {
    const doc = renderYamlDocument([], { a: "x\ny", b: "x\ny\n", c: "x\ny\n\n" });
    expect(doc).toBe("a: |-\n  x\n  y\nb: |\n  x\n  y\nc: |+\n  x\n  y\n\n");
  });

  it("double-quoted text spells quotes, backslashes, tabs and newlines the short way", () => {
    expect(renderYamlDocument([], { a: 'say "hi"\\there\t', b: " x\ny" })).toBe(
      'a: "say \\"hi\\"\\\\there\\t"\nb: " x\\ny"\n',
    );
  });

  it("one-line text and text YAML cannot hold in a block are double-quoted", () => {
    const doc = renderYamlDocument([], {
      a: "one line",
      b: " lead\nx",
      c: "cr\r\nx",
      d: "nel\u0085\nx",
      e: "\nx",
    });
    expect(doc).toBe(
      'a: "one line"\nb: " lead\\nx"\nc: "cr\\u000d\\nx"\nd: "nel\\u0085\\nx"\ne: "\\nx"\n',
    );
  });
});

describe("structure", () => {
  it("writes numbers and booleans as YAML scalars, leaves out undefined, keeps empty lists", () => {
    const value: { [k: string]: YamlValue | undefined } = {
      num: 3,
      t: true,
      f: false,
      gone: undefined,
      empty: [],
      list: ["a", 1, [2, "b"], { k: "v", w: 2 }, {}],
      map: { inner: { deep: "x" } },
    };
    const doc = renderYamlDocument(["#cloud-config", "# comment"], value);
    expect(doc.startsWith("#cloud-config\n# comment\n")).toBe(true);
    expect(doc).not.toContain("gone");
    expect(parse(doc, { version: "1.1" })).toEqual({
      num: 3,
      t: true,
      f: false,
      empty: [],
      list: ["a", 1, [2, "b"], { k: "v", w: 2 }, {}],
      map: { inner: { deep: "x" } },
    });
  });

  it("indents a block inside a list item under the item", () => {
    const doc = renderYamlDocument([], { files: [{ path: "/a", content: "1\n2\n" }, "3\n4\n"] });
    expect(doc).toBe(
      'files:\n  - path: "/a"\n    content: |\n      1\n      2\n  - |\n    3\n    4\n',
    );
  });

  it.each([
    "Key",
    "1a",
    "a b",
    "a:b",
    "",
    "a\n",
    "_x",
    "-x",
    "a.b",
    "y",
    "n",
    "yes",
    "no",
    "true",
    "false",
    "on",
    "off",
    "null",
  ])("refuses the key %j (not a plain string key in YAML 1.1)", (key) => {
    expect(() => renderYamlDocument([], { [key]: "v" })).toThrow(
      `not a cloud-config key: ${JSON.stringify(key)}`,
    );
  });

  it.each(["a", "write_files", "drop-ins", "x9", "yesterday", "online", "nullable"])(
    "takes the key %j",
    (key) => {
      expect(parse(renderYamlDocument([], { [key]: "v" }))).toEqual({ [key]: "v" });
    },
  );
});
