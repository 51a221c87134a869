import { gunzipSync, gzipSync } from "node:zlib";
import { Provisioning } from "../lib/cluster/provisioning";
import { gzipBase64 } from "../lib/render/gzip";
import {
  nodeConfig,
  nodeIgnitionCompact,
  nodeIgnitionJson,
  releaseRendered,
} from "../lib/render/ignition-cache";
import { renderPlan } from "./support/render-plans";

/*
 * The shared gzip of node files and the per-node caches of rendered configs:
 * what they hand out must be what rendering gives, whatever the caches hold.
 */

const TEXTS = ["#!/bin/sh\necho hello\n".repeat(40), "é 日本 🙂\n", ""];

describe("gzipBase64: what Ignition and coreos-cloudinit decompress, the same on every machine", () => {
  it.each(TEXTS.map((t) => [JSON.stringify(t.slice(0, 12)), t]))("%s reads back", (_l, text) => {
    const bytes = Buffer.from(gzipBase64(text), "base64");
    expect(gunzipSync(bytes).toString("utf8")).toBe(text);
    // Header: no file name or comment flags, no time, OS "unknown" (not this machine's).
    expect([...bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
  });

  it("compresses at level 9, and gives the same text again from its cache and after it", () => {
    const text = TEXTS[0];
    const level9 = gzipSync(Buffer.from(text), { level: 9 });
    level9[9] = 0xff;
    const first = gzipBase64(text);
    expect(first).toBe(level9.toString("base64"));
    expect(gzipBase64(text)).toBe(first);
    // Many other texts push it out of the cache: compressed again, the same.
    for (let i = 0; i < 200; i++) gzipBase64(`other ${i}`);
    expect(gzipBase64(text)).toBe(first);
    for (let i = 0; i < 200; i++)
      expect(gunzipSync(Buffer.from(gzipBase64(`other ${i}`), "base64")).toString()).toBe(
        `other ${i}`,
      );
  });
});

describe("the configs a node boots with, rendered once per plan", () => {
  it("Ignition by default, its #cloud-config with cloud-config provisioning", () => {
    const ignition = renderPlan();
    const json = JSON.parse(nodeConfig(ignition, ignition.nodes[0]));
    expect(json.ignition.version).toMatch(/^3\./);
    const cloud = renderPlan({ provisioning: Provisioning.CLOUD_CONFIG });
    expect(nodeConfig(cloud, cloud.nodes[0])).toMatch(/^#cloud-config\n/);
  });

  it("each node its own config; the compact form is the same JSON without the whitespace", () => {
    const plan = renderPlan({ nodeCount: 2 });
    const [a, b] = plan.nodes;
    expect(nodeIgnitionJson(plan, a)).not.toBe(nodeIgnitionJson(plan, b));
    for (const n of plan.nodes) {
      const text = nodeIgnitionJson(plan, n);
      expect(nodeIgnitionCompact(plan, n)).toBe(JSON.stringify(JSON.parse(text)));
      // Strings keep their spaces: a unit's text is not squeezed.
      expect(JSON.parse(nodeIgnitionCompact(plan, n))).toEqual(JSON.parse(text));
    }
  });

  it("after release, the same texts again", () => {
    const plan = renderPlan({ nodeCount: 2 });
    const before = plan.nodes.map((n) => nodeIgnitionJson(plan, n));
    releaseRendered(plan);
    expect(plan.nodes.map((n) => nodeIgnitionJson(plan, n))).toEqual(before);
  });
});
