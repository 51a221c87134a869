/*
 * Failover of the default-like stack in a lab of network namespaces (needs root):
 * every node and both front machines in a namespace of its own at its planned
 * address, real etcd, HAProxy and keepalived from the generated configs, the
 * failover agents of service "db" from the generated units. Machines fail by
 * their link going down (and, when they die, everything on them killed), under
 * load from a client namespace. Prints, per scenario, detection time, takeover
 * time and failed requests (median, min and max over the rounds).
 *
 *   npm run bench:failover            (3 rounds, a fresh lab each)
 *   ROUNDS=5 npm run bench:failover
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterLab, waitFor } from "../__tests__/support/cluster-lab";
import {
  frontFails,
  nodeDies,
  ScenarioResult,
  serviceMoves,
  serviceNodeFails,
} from "../__tests__/support/failover-scenarios";
import { LAB_PORTS, synthLabStack } from "../__tests__/support/lab-stack";

type Row = { detection: number; takeover: number; failed: number; total: number; note: string };

async function round(results: Map<string, Row[]>): Promise<void> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-failover-"));
  const { stackDir } = synthLabStack(outdir);
  const lab = new ClusterLab({ stackDir, cluster: "core", backendPorts: LAB_PORTS });
  const add = (name: string, r: ScenarioResult, note: string) => {
    const rows = results.get(name) ?? [];
    rows.push({
      detection: r.detectionMs,
      takeover: r.takeoverMs,
      failed: r.failed,
      total: r.total,
      note,
    });
    results.set(name, rows);
  };
  try {
    await lab.start();
    const owner = await waitFor("db running", () => lab.owner("db"), 60000, 200);
    await lab.waitServer("be_db", owner, /^UP$/, 30000);

    // A node that does not run the failover service: its own scenarios come later.
    const web = ["core-02", "core-03", "core-01"].find((n) => n !== owner) as string;
    const node = await nodeDies(lab, web);
    add(
      "a node dies, HTTP (16 keep-alive clients)",
      node,
      "takeover = the slowest request sent around the failure (retried after retryTimeout)",
    );
    add(
      "a node dies, TCP (9 long-lived connections)",
      {
        ...node,
        failed: Number(node.details.tcpLost),
        total: Number(node.details.tcpConnections),
        takeoverMs: Number(node.details.tcpLostAfterMs),
      },
      `lost: the ${node.details.tcpOnDeadNode} on the dead node`,
    );
    await lab.recover(web);
    await lab.waitServer("be_web", web, /^UP$/, 30000);

    const holder = await lab.waitVip(10000);
    const front = await frontFails(lab, "machine");
    add(
      "the front holding the address dies",
      front,
      `${front.details.failedInFlight} in flight, ${front.details.failedDuringSwitch} in the switch; new connections failed after takeover: ${front.details.failedNewConnectionsAfterTakeover} of ${front.details.newConnections}`,
    );
    await lab.recover(holder);
    await lab.waitHaproxy(holder);

    const holder2 = await lab.waitVip(10000);
    const haproxy = await frontFails(lab, "haproxy");
    add(
      "HAProxy dies on the front holding the address",
      haproxy,
      `${haproxy.details.failedInFlight} in flight, ${haproxy.details.failedDuringSwitch} in the switch; new connections failed after takeover: ${haproxy.details.failedNewConnectionsAfterTakeover} of ${haproxy.details.newConnections}`,
    );
    await lab.startHaproxy(holder2);

    const dies = await serviceNodeFails(lab, "db", LAB_PORTS.service, "dies");
    add("the service's node dies (lease 10 s)", dies, `new connections while nobody runs it fail`);
    await lab.rejoin(dies.owner);

    const part = await serviceNodeFails(lab, "db", LAB_PORTS.service, "partition");
    add(
      "a partition isolates the service's node",
      part,
      `old copy stopped at ${part.details.oldCopyStoppedMs} ms, ${part.details.stoppedBeforeNewStartMs} ms before the new one`,
    );
    await lab.rejoin(part.owner);

    const from = lab.owner("db") as string;
    const to = ["core-01", "core-02", "core-03"].find((n) => n !== from) as string;
    const migrate = await serviceMoves(lab, LAB_PORTS.service, to, async () => {
      const r = await lab.cli(outdir, ["migrate", "db", to]);
      if (r.status !== 0) {
        throw new Error(`migrate failed: ${r.stdout}${r.stderr}\n${lab.diagnose("db")}`);
      }
    });
    add("migrate (CLI)", migrate, "detection = the command, takeover = first answer there");
  } finally {
    lab.destroy();
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const stats = (values: number[]): string => {
  const s = [...values].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  return s.length === 1 ? `${median}` : `${median} (${s[0]}–${s[s.length - 1]})`;
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the namespace lab needs root");
  const rounds = Number(process.env.ROUNDS ?? 3);
  const results = new Map<string, Row[]>();
  const failures: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = Date.now();
    try {
      await round(results);
    } catch (e) {
      // A round that fails is reported, not hidden; the next one starts from a fresh lab.
      failures.push(
        `round ${i + 1}: ${(e as Error).message.split("\n").slice(0, 12).join("\n  ")}`,
      );
    }
    console.error(`round ${i + 1}/${rounds}: ${Math.round((Date.now() - t) / 1000)} s`);
  }
  console.log(
    `failover in the namespace lab, ${rounds} rounds, median (min–max); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs\n`,
  );
  if (failures.length)
    console.log(`${failures.length} round(s) did not finish:\n${failures.join("\n")}\n`);
  console.log("| scenario | detection ms | takeover ms | failed / total | notes (last round) |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, rows] of results) {
    console.log(
      `| ${name} | ${stats(rows.map((r) => r.detection))} | ${stats(rows.map((r) => r.takeover))} | ${stats(rows.map((r) => r.failed))} / ${stats(rows.map((r) => r.total))} | ${rows[rows.length - 1].note} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
