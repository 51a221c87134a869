/*
 * How long the synthesized etcd settings take to form a healthy cluster, and
 * how long writes pause when one member is killed. Real etcd, in a network
 * namespace of its own (run as root).
 *
 *   npm run bench:etcd            (5 rounds each for 3 and 5 members)
 *   ROUNDS=10 npm run bench:etcd
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EtcdTestCluster } from "../__tests__/support/etcd-harness";
import { closeSandbox, sandboxNetwork } from "../__tests__/support/netns";
import { synthCluster } from "../__tests__/support/synth";

// Certificates for the benchmark clusters go to a temporary state folder, not the project's.
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-state-"));
process.env.COREOS_CLUSTER_STATE_DIR = stateDir;

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  return `median ${median} ms, min ${s[0]} ms, max ${s[s.length - 1]} ms`;
}

async function round(members: number, net: number): Promise<[number, number]> {
  const { ignitionFiles } = synthCluster(
    { nodeCount: members, etcd: { members }, ...sandboxNetwork(net) },
    `bench${members}`,
  );
  const etcd = new EtcdTestCluster(ignitionFiles);
  try {
    const started = Date.now();
    etcd.start();
    const healthy = await etcd.waitHealthy(started);
    await etcd.kill(etcd.members[0].name);
    const resumed = await etcd.waitWritable(etcd.liveEndpoints(), "k", "v", 15000);
    return [healthy, resumed];
  } finally {
    await etcd.stop();
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 5);
  console.log(
    `etcd bootstrap benchmark: ${rounds} rounds, etcd from PATH, members in a network namespace, mutual TLS`,
  );
  for (const members of [3, 5]) {
    const healthy: number[] = [];
    const resumed: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const [h, r] = await round(members, 40 + members);
      healthy.push(h);
      resumed.push(r);
    }
    console.log(`${members} members: start → all healthy: ${stats(healthy)}`);
    console.log(`${members} members: kill member 1 → write accepted: ${stats(resumed)}`);
  }
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    closeSandbox();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
