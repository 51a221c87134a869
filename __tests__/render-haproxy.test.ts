import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Duration } from "../lib/core/duration";
import {
  Balancing,
  ClientAffinity,
  FrontProtocol,
  HealthCheckProtocol,
  TargetGroupProps,
} from "../lib/front/options";
import { FrontPlan, planFront, planTargetGroup } from "../lib/front/plan";
import { FrontTargets } from "../lib/front/target";
import {
  FRONT_SERVER_STATE_FILE,
  HaproxyRenderOptions,
  renderHaproxyCfg,
} from "../lib/render/haproxy";
import { HaproxyConfig, haproxyMs } from "./support/haproxy-config";
import { describeWithTool } from "./support/tools";

/*
 * haproxy.cfg from pure front plans (no cdktf stack), read back by the test
 * reader: the settings that decide behaviour (timeouts, retries, check timing,
 * which servers a backend has and how they are checked, N+I standby, drains).
 * `haproxy -c` checks each shape below (npm test; the mutation run has it);
 * the real HAProxy runs in front-failover.test.ts.
 */

const OPTIONS: HaproxyRenderOptions = {
  bindAddress: "192.168.56.10",
  statsSocket: "/run/haproxy/admin.sock",
  monitorPort: 18484,
};

const hosts = (n: number, standby = 0) =>
  Array.from({ length: n + standby }, (_, i) =>
    FrontTargets.host(`node-${i + 1}`, `10.0.0.${i + 1}`, { standby: i >= n }),
  );

interface Listener {
  name: string;
  port: number;
  protocol: FrontProtocol;
  group: Omit<TargetGroupProps, "targets"> & { targets?: TargetGroupProps["targets"] };
}

function front(listeners: Listener[], draining: string[] = []): FrontPlan {
  return planFront(
    "web",
    listeners.map((l) => ({
      name: l.name,
      port: l.port,
      protocol: l.protocol,
      targetGroup: planTargetGroup(
        `${l.name}-tg`,
        l.protocol,
        { targets: hosts(2), ...l.group },
        "front",
      ),
    })),
    draining,
    "stack/web",
  );
}

const cfg = (plan: FrontPlan, options: Partial<HaproxyRenderOptions> = {}) =>
  new HaproxyConfig(renderHaproxyCfg(plan, { ...OPTIONS, ...options }));

const tcp = (group: Listener["group"] = { port: 8080 }): Listener => ({
  name: "db",
  port: 5432,
  protocol: FrontProtocol.TCP,
  group,
});
const http = (group: Listener["group"] = { port: 8080 }): Listener => ({
  name: "api",
  port: 80,
  protocol: FrontProtocol.HTTP,
  group,
});

describe("global and defaults", () => {
  const c = cfg(front([tcp()]));

  it("opens the admin socket to its owner only, and keeps runtime states across reloads", () => {
    const global = c.section("global");
    expect(HaproxyConfig.one(global, "stats", "socket").join(" ")).toBe(
      "/run/haproxy/admin.sock mode 600 level admin expose-fd listeners",
    );
    expect(HaproxyConfig.one(global, "server-state-file")).toEqual([FRONT_SERVER_STATE_FILE]);
    expect(FRONT_SERVER_STATE_FILE).toBe("/var/lib/haproxy/server-state");
    expect(haproxyMs(HaproxyConfig.one(global, "hard-stop-after")[0])).toBe(600_000);
    expect(HaproxyConfig.one(global, "log")).toEqual(["stdout", "format", "raw", "local0", "info"]);
    expect(HaproxyConfig.one(c.defaults, "load-server-state-from-file")).toEqual(["global"]);
    const other = cfg(front([tcp()]), { serverStateFile: "/tmp/states" });
    expect(HaproxyConfig.one(other.section("global"), "server-state-file")).toEqual([
      "/tmp/states",
    ]);
  });

  it("retries a failed connection 3 times, each on another node, with short connect and 60 s idle timeouts", () => {
    const d = c.defaults;
    expect(HaproxyConfig.one(d, "retries")).toEqual(["3"]);
    expect(HaproxyConfig.one(d, "option", "redispatch")).toEqual(["1"]);
    const timeouts = Object.fromEntries(
      HaproxyConfig.find(d, "timeout").map((t) => [t[1], haproxyMs(t[2])]),
    );
    expect(timeouts).toEqual({ connect: 1000, client: 60_000, server: 60_000 });
    expect(HaproxyConfig.one(d, "log")).toEqual(["global"]);
    expect(HaproxyConfig.find(d, "option", "dontlognull")).toHaveLength(1);
  });

  it("answers keepalived's liveness probe on loopback only", () => {
    const m = c.frontend("fe_monitor");
    expect(m.mode).toBe("http");
    expect(m.binds).toEqual(["127.0.0.1:18484"]);
    expect(HaproxyConfig.one(c.section("frontend", "fe_monitor"), "monitor-uri")).toEqual([
      "/healthz",
    ]);
  });
});

describe("listeners", () => {
  it("each binds the front address at its port, in its mode, to its backend", () => {
    const c = cfg(front([tcp(), http()]));
    expect(c.names("frontend")).toEqual(["fe_monitor", "fe_db", "fe_api"]);
    expect(c.names("backend")).toEqual(["be_db-tg", "be_api-tg"]);
    const db = c.frontend("fe_db");
    expect([db.mode, db.binds, db.defaultBackend, db.useBackends]).toEqual([
      "tcp",
      ["192.168.56.10:5432"],
      "be_db-tg",
      [],
    ]);
    expect(HaproxyConfig.find(c.section("frontend", "fe_db"), "option", "tcplog")).toHaveLength(1);
    const api = c.frontend("fe_api");
    expect([api.mode, api.binds, api.defaultBackend]).toEqual([
      "http",
      ["192.168.56.10:80"],
      "be_api-tg",
    ]);
    expect(HaproxyConfig.find(c.section("frontend", "fe_api"), "option", "httplog")).toHaveLength(
      1,
    );
    expect(c.backend("be_db-tg").mode).toBe("tcp");
    expect(c.backend("be_api-tg").mode).toBe("http");
  });

  it("N+I: the standby backend takes over while fewer than N active nodes are up", () => {
    const c = cfg(front([tcp({ port: 8080, targets: hosts(3, 2) })]));
    expect(c.frontend("fe_db").useBackends).toEqual([["be_db-tg_standby", "nbsrv(be_db-tg) lt 3"]]);
    const main = c.backend("be_db-tg");
    expect(main.servers.map((s) => [s.name, s.address, s.port, s.check, s.checkPort])).toEqual([
      ["node-1", "10.0.0.1", 8080, true, 8080],
      ["node-2", "10.0.0.2", 8080, true, 8080],
      ["node-3", "10.0.0.3", 8080, true, 8080],
    ]);
    const standby = c.backend("be_db-tg_standby");
    expect(standby.servers.map((s) => [s.name, s.check, s.track ?? null])).toEqual([
      ["node-1", false, "be_db-tg/node-1"],
      ["node-2", false, "be_db-tg/node-2"],
      ["node-3", false, "be_db-tg/node-3"],
      ["node-4", true, null],
      ["node-5", true, null],
    ]);
    expect(standby.defaults).toEqual(main.defaults);
  });
});

describe("backends", () => {
  it("balances round robin by default, least connections when asked", () => {
    expect(cfg(front([tcp()])).backend("be_db-tg").balance).toBe("roundrobin");
    const lc = cfg(front([tcp({ port: 8080, balancing: Balancing.LEAST_CONNECTIONS })]));
    expect(lc.backend("be_db-tg").balance).toBe("leastconn");
  });

  it.each([
    [ClientAffinity.NONE, null],
    [ClientAffinity.SINGLE, "src"],
    [ClientAffinity.NETWORK, "src,ipmask(24)"],
  ])("affinity %s sticks on %s", (affinity, key) => {
    const b = cfg(front([tcp({ port: 8080, affinity })])).backend("be_db-tg");
    if (key === null) {
      expect(b.directives.filter((d) => d[0].startsWith("stick"))).toEqual([]);
    } else {
      expect(b.directives.filter((d) => d[0] === "stick")).toEqual([["stick", "on", key]]);
      expect(b.directives.filter((d) => d[0] === "stick-table")).toEqual([
        ["stick-table", "type", "ip", "size", "1m", "expire", "30m"],
      ]);
    }
  });

  it("TCP: probes every 500 ms by default, twice as often after a failure, closes sessions of a node marked down", () => {
    const b = cfg(front([tcp()])).backend("be_db-tg");
    expect(b.defaults).toEqual({
      inter: "500ms",
      fastinter: "250ms",
      downinter: "500ms",
      rise: "2",
      fall: "2",
      "on-marked-down": "shutdown-sessions",
    });
    expect(b.timeouts).toEqual({ check: "500ms" });
    expect(b.httpCheckPath).toBeUndefined();
    expect(b.directives.some((d) => d[0] === "retry-on" || d[0] === "http-request")).toBe(false);
  });

  it("takes the health check's interval, timeout, thresholds and port", () => {
    const b = cfg(
      front([
        tcp({
          port: 8080,
          healthCheck: {
            interval: Duration.seconds(3),
            timeout: Duration.millis(1200),
            healthyThreshold: 4,
            unhealthyThreshold: 5,
            port: 9000,
          },
        }),
      ]),
    ).backend("be_db-tg");
    expect(b.defaults).toMatchObject({
      inter: "3000ms",
      fastinter: "1500ms",
      downinter: "3000ms",
      rise: "4",
      fall: "5",
    });
    expect(b.timeouts).toEqual({ check: "1200ms" });
    expect(b.servers.map((s) => [s.port, s.checkPort])).toEqual([
      [8080, 9000],
      [8080, 9000],
    ]);
  });

  it.each([
    [100, "100ms"],
    [201, "101ms"],
    [300, "150ms"],
  ])("fastinter: half of a %i ms interval, 100 ms at least", (interval, fastinter) => {
    const b = cfg(
      front([tcp({ port: 8080, healthCheck: { interval: Duration.millis(interval) } })]),
    ).backend("be_db-tg");
    expect(b.defaults.fastinter).toBe(fastinter);
    expect(b.timeouts.check).toBe(`${interval}ms`);
  });

  it("HTTP: checks GET <path> for 2xx/3xx, retries only idempotent requests, each try bounded", () => {
    const b = cfg(front([http({ port: 8080, healthCheck: { path: "/healthz?full=1" } })])).backend(
      "be_api-tg",
    );
    expect(b.httpCheckPath).toBe("/healthz?full=1");
    const section = { kind: "backend", name: b.name, directives: b.directives };
    expect(HaproxyConfig.one(section, "option", "httpchk")).toEqual(["GET", "/healthz?full=1"]);
    expect(HaproxyConfig.one(section, "http-check", "expect")).toEqual(["status", "200-399"]);
    expect(HaproxyConfig.one(section, "retry-on")).toEqual([
      "conn-failure",
      "empty-response",
      "response-timeout",
    ]);
    expect(HaproxyConfig.one(section, "acl", "idempotent", "method")).toEqual([
      "GET",
      "HEAD",
      "PUT",
      "DELETE",
      "OPTIONS",
      "TRACE",
    ]);
    expect(HaproxyConfig.find(section, "http-request")).toEqual([
      ["http-request", "disable-l7-retry", "if", "!idempotent"],
      ["http-request", "set-timeout", "server", "1500ms", "if", "idempotent"],
    ]);
    expect(b.defaults["on-marked-down"]).toBeUndefined();
    const slow = cfg(front([http({ port: 8080, retryTimeout: Duration.seconds(4) })])).backend(
      "be_api-tg",
    );
    const slowSection = { kind: "backend", name: slow.name, directives: slow.directives };
    expect(HaproxyConfig.find(slowSection, "http-request", "set-timeout")).toEqual([
      ["http-request", "set-timeout", "server", "4000ms", "if", "idempotent"],
    ]);
    expect(slow.httpCheckPath).toBe("/");
  });

  it("a TCP health check on an HTTP listener has no httpchk", () => {
    const b = cfg(
      front([http({ port: 8080, healthCheck: { protocol: HealthCheckProtocol.TCP } })]),
    ).backend("be_api-tg");
    expect(b.httpCheckPath).toBeUndefined();
    expect(b.directives.some((d) => d[0] === "http-check")).toBe(false);
  });

  it("a draining member starts disabled in every backend it is in, the others stay in service", () => {
    const c = cfg(front([tcp({ port: 8080, targets: hosts(2, 1) })], ["node-2", "node-3"]));
    const main = c.backend("be_db-tg").servers.map((s) => [s.name, s.disabled]);
    expect(main).toEqual([
      ["node-1", false],
      ["node-2", true],
    ]);
    const standby = c.backend("be_db-tg_standby").servers.map((s) => [s.name, s.disabled]);
    expect(standby).toEqual([
      ["node-1", false],
      ["node-2", true],
      ["node-3", true],
    ]);
    expect(renderHaproxyCfg(front([tcp()], ["node-1"]), OPTIONS)).toContain(
      "server node-1 10.0.0.1:8080 check port 8080 disabled  # draining\n",
    );
  });
});

describeWithTool("haproxy", "haproxy", "haproxy -c accepts every shape of haproxy.cfg", () => {
  it.each([
    ["TCP", [tcp()], []],
    [
      "HTTP with an HTTP check and a retry timeout",
      [http({ port: 8080, healthCheck: { path: "/h?x=1" }, retryTimeout: Duration.seconds(2) })],
      [],
    ],
    [
      "both, least connections, network affinity",
      [
        tcp({
          port: 8080,
          balancing: Balancing.LEAST_CONNECTIONS,
          affinity: ClientAffinity.NETWORK,
        }),
        http({ port: 8080, affinity: ClientAffinity.SINGLE }),
      ],
      [],
    ],
    ["N+I with a drain", [tcp({ port: 8080, targets: hosts(2, 1) })], ["node-1"]],
  ] as [string, Listener[], string[]][])("%s", (_l, listeners, draining) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-haproxy-"));
    try {
      const file = path.join(dir, "haproxy.cfg");
      // A state file that exists, as on the machine after a first reload.
      const serverStateFile = path.join(dir, "server-state");
      fs.writeFileSync(serverStateFile, "1\n");
      fs.writeFileSync(
        file,
        renderHaproxyCfg(front(listeners, draining), { ...OPTIONS, serverStateFile }),
      );
      const r = spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8", timeout: 30_000 });
      expect(r.stderr.split("\n").filter((l) => /ALERT|WARNING/.test(l))).toEqual([]);
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
