/*
 * Failover of the local front with default settings: real HAProxy with the
 * generated haproxy.cfg in front of 3 backend processes on loopback; one
 * backend is SIGKILLed under load. Prints, per mode, the time from kill to
 * detection (HAProxy marks the node DOWN), requests/connections failed and
 * served.
 *
 *   npm run bench:failover            (5 rounds per mode)
 *   ROUNDS=10 npm run bench:failover
 */
import { Testing, TerraformStack } from "cdktf";
import { CoreOsCluster, FrontPlan, FrontProtocol, NlbFront } from "../lib";
import { FrontTestbed, httpLoad, LineClient } from "../__tests__/support/front-harness";

const HTTP_PORT = 28080;
const TCP_PORT = 29090;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function defaultPlan(): FrontPlan {
  const stack = new TerraformStack(Testing.app(), "bench");
  const cluster = new CoreOsCluster(stack, "core", { nodeCount: 3 });
  const front = new NlbFront(stack, "front");
  front
    .addListener("http", { port: 8000, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: HTTP_PORT });
  front
    .addListener("tcp", { port: 9000 })
    .addTargets("raw", { targets: [cluster], port: TCP_PORT });
  return front.plan("bench");
}

interface Round {
  detectionMs: number;
  failed: number;
  served: number;
}

async function withBed<T>(net: number, body: (b: FrontTestbed) => Promise<T>): Promise<T> {
  const bed = new FrontTestbed(defaultPlan(), net, { http: HTTP_PORT, tcp: TCP_PORT });
  try {
    await bed.startNodes();
    await bed.startHaproxy();
    await bed.waitUntil((s) => s.filter((x) => x.status === "UP").length === 6, 10000);
    return await body(bed);
  } finally {
    await bed.stop();
  }
}

const isDown = (backend: string) => (s: { backend: string; server: string; status: string }[]) =>
  s.some((x) => x.backend === backend && x.server === "core-02" && x.status === "DOWN");

/** HTTP: 32 clients, keep-alive, 20 ms per request; kill after 2 s, run 3 s more. */
async function httpRound(net: number): Promise<Round> {
  return withBed(net, async (b) => {
    const load = httpLoad(b.frontAddress, 8000, 32, "/?delay=20");
    await sleep(2000);
    await b.kill("core-02");
    const detectionMs = await b.waitUntil(isDown("be_web"), 10000);
    await sleep(3000);
    const r = await load.stop();
    return { detectionMs, failed: r.failed, served: r.ok };
  });
}

/** TCP: 30 long-lived connections ping-ponging lines plus new connections one after another. */
async function tcpRound(net: number): Promise<Round> {
  return withBed(net, async (b) => {
    const clients = await Promise.all(
      Array.from({ length: 30 }, () => LineClient.connect(b.frontAddress, 9000)),
    );
    let served = 0;
    let failed = 0;
    let running = true;
    const pingers = clients.map(async (c) => {
      while (running) {
        try {
          await c.ask("ping");
          served++;
        } catch {
          failed++;
          return;
        }
      }
    });
    const fresh = (async () => {
      while (running) {
        try {
          const c = await LineClient.connect(b.frontAddress, 9000);
          await c.ask("new");
          c.close();
          served++;
        } catch {
          failed++;
        }
      }
    })();
    await sleep(2000);
    await b.kill("core-02");
    const detectionMs = await b.waitUntil(isDown("be_raw"), 10000);
    await sleep(3000);
    running = false;
    await Promise.all([...pingers, fresh]);
    clients.forEach((c) => c.close());
    return { detectionMs, failed, served };
  });
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]}, min ${s[0]}, max ${s[s.length - 1]}`;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 5);
  console.log(`front failover, default settings (check every 500 ms, fall 2), ${rounds} rounds`);
  for (const [mode, run] of [
    ["HTTP", httpRound],
    ["TCP", tcpRound],
  ] as const) {
    const results: Round[] = [];
    for (let i = 0; i < rounds; i++) results.push(await run(70 + i));
    console.log(
      `${mode}: kill → detection ms: ${summary(results.map((r) => r.detectionMs))}; ` +
        `failed: ${summary(results.map((r) => r.failed))}; served: ${summary(results.map((r) => r.served))}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
