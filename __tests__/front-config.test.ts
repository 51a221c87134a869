import { testApp } from "./support/state";
import fc from "fast-check";
import { TerraformStack } from "cdktf";
import {
  Balancing,
  ClientAffinity,
  CoreOsCluster,
  Duration,
  FrontProtocol,
  HealthCheckProtocol,
  LifecycleResource,
  NlbFront,
  VagrantCluster,
} from "../lib";
import { renderHaproxyCfg } from "../lib/render/haproxy";
import { HaproxyBackend, HaproxyConfig, haproxyMs } from "./support/haproxy-config";
import { KeepalivedBlock } from "./support/keepalived-config";

/*
 * What the generated haproxy.cfg and keepalived.conf SAY, read back with small
 * parsers and compared with the props that asked for it: check timing
 * (inter/fastinter/downinter/rise/fall, check timeout), servers (check port,
 * drained = disabled, standby backend tracking the active servers), retries and
 * timeouts, and for keepalived the VRRP roles (priorities, nopreempt),
 * unicast peers, the virtual address and the HAProxy probe. `haproxy -c` and
 * `keepalived -t` (front.test.ts) prove only that the files parse.
 */

interface GroupInput {
  protocol: FrontProtocol;
  port: number;
  targetPort: number;
  checkPort?: number;
  checkProtocol?: HealthCheckProtocol;
  path?: string;
  intervalMs?: number;
  timeoutMs?: number;
  healthy?: number;
  unhealthy?: number;
  balancing?: Balancing;
  affinity?: ClientAffinity;
  retryMs?: number;
}

interface FrontInput {
  nodeCount: number;
  standby: number;
  groups: GroupInput[];
  /** Indexes of active nodes to drain (never all of them). */
  drain: number[];
}

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const groupArb: fc.Arbitrary<GroupInput> = fc
  .record({
    protocol: fc.constantFrom(FrontProtocol.TCP, FrontProtocol.HTTP),
    targetPort: fc.integer({ min: 1, max: 65535 }),
    checkPort: maybe(fc.integer({ min: 1, max: 65535 })),
    checkProtocol: maybe(fc.constantFrom(HealthCheckProtocol.TCP, HealthCheckProtocol.HTTP)),
    path: maybe(fc.constantFrom("/", "/healthz", "/status?full=1")),
    intervalMs: maybe(fc.integer({ min: 100, max: 300_000 })),
    timeoutFraction: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
    healthy: maybe(fc.integer({ min: 1, max: 10 })),
    unhealthy: maybe(fc.integer({ min: 1, max: 10 })),
    balancing: maybe(fc.constantFrom(...Object.values(Balancing))),
    affinity: maybe(fc.constantFrom(...Object.values(ClientAffinity))),
    retryMs: maybe(fc.integer({ min: 100, max: 600_000 })),
  })
  .map(({ timeoutFraction, ...g }) => {
    const interval = g.intervalMs ?? 300_000;
    const timeoutMs =
      timeoutFraction === undefined
        ? undefined
        : Math.max(100, Math.floor(interval * timeoutFraction));
    const checkProtocol = g.checkProtocol;
    const http =
      checkProtocol === HealthCheckProtocol.HTTP ||
      (checkProtocol === undefined && g.protocol === FrontProtocol.HTTP);
    return {
      ...g,
      port: 0, // set below: distinct per listener
      timeoutMs,
      path: http ? g.path : undefined,
      retryMs: g.protocol === FrontProtocol.HTTP ? g.retryMs : undefined,
    };
  });

const frontArb: fc.Arbitrary<FrontInput> = fc
  .record({
    nodeCount: fc.integer({ min: 1, max: 5 }),
    standbyWish: fc.integer({ min: 0, max: 2 }),
    groups: fc.array(groupArb, { minLength: 1, maxLength: 3 }),
    drainWish: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .map(({ nodeCount, standbyWish, groups, drainWish }) => {
    const standby = Math.min(standbyWish, nodeCount - 1);
    const active = nodeCount - standby;
    const drain = [...new Set(drainWish.filter((i) => i < active))].slice(0, active - 1);
    return {
      nodeCount,
      standby,
      drain,
      groups: groups.map((g, i) => ({ ...g, port: 8000 + i })),
    };
  });

function buildFront(input: FrontInput) {
  const stack = new TerraformStack(testApp(), "test");
  const cluster = new CoreOsCluster(stack, "core", {
    nodeCount: input.nodeCount,
    standby: input.standby,
  });
  const front = new NlbFront(stack, "front");
  input.groups.forEach((g, i) => {
    front.addListener(`l${i}`, { port: g.port, protocol: g.protocol }).addTargets(`g${i}`, {
      targets: [cluster],
      port: g.targetPort,
      balancing: g.balancing,
      affinity: g.affinity,
      retryTimeout: g.retryMs === undefined ? undefined : Duration.millis(g.retryMs),
      healthCheck: {
        protocol: g.checkProtocol,
        path: g.path,
        port: g.checkPort,
        interval: g.intervalMs === undefined ? undefined : Duration.millis(g.intervalMs),
        timeout: g.timeoutMs === undefined ? undefined : Duration.millis(g.timeoutMs),
        healthyThreshold: g.healthy,
        unhealthyThreshold: g.unhealthy,
      },
    });
  });
  for (const i of input.drain) front.drain(cluster.nodes[i]);
  return { cluster, front };
}

const OPTIONS = { bindAddress: "192.168.56.10", statsSocket: "/run/x.sock", monitorPort: 8404 };

/** What every backend of group g must say about check timing. */
function expectCheckTiming(be: HaproxyBackend, g: GroupInput): void {
  const interval = g.intervalMs ?? 500;
  expect(haproxyMs(be.defaults.inter)).toBe(interval);
  expect(haproxyMs(be.defaults.downinter)).toBe(interval);
  // Faster probes after a first failure, never below 100 ms and never slower than inter.
  const fast = haproxyMs(be.defaults.fastinter);
  expect(fast).toBe(Math.max(100, Math.round(interval / 2)));
  expect(fast).toBeLessThanOrEqual(Math.max(interval, 100));
  expect(be.defaults.rise).toBe(String(g.healthy ?? 2));
  expect(be.defaults.fall).toBe(String(g.unhealthy ?? 2));
  expect(haproxyMs(be.timeouts.check)).toBe(g.timeoutMs ?? interval);
  // TCP: a node marked down loses its connections at once; HTTP keeps them (retries save them).
  expect(be.defaults["on-marked-down"]).toBe(
    g.protocol === FrontProtocol.TCP ? "shutdown-sessions" : undefined,
  );
}

describe("haproxy.cfg says what the front's props ask for", () => {
  it("listeners, backends, check timing, servers, retries and timeouts follow the props", () => {
    fc.assert(
      fc.property(frontArb, (input) => {
        const { cluster, front } = buildFront(input);
        const cfg = new HaproxyConfig(renderHaproxyCfg(front.plan("test"), OPTIONS));
        const active = cluster.nodes.slice(0, input.nodeCount - input.standby);
        const standby = cluster.nodes.slice(input.nodeCount - input.standby);
        const drained = new Set(input.drain.map((i) => cluster.nodes[i].name));

        // Defaults: 3 retries, each on another node; bounded connect; long-lived sessions.
        const d = cfg.defaults;
        expect(HaproxyConfig.one(d, "retries")).toEqual(["3"]);
        expect(HaproxyConfig.one(d, "option", "redispatch")).toEqual(["1"]);
        expect(HaproxyConfig.one(d, "timeout", "connect")).toEqual(["1s"]);
        expect(HaproxyConfig.one(d, "timeout", "client")).toEqual(["60s"]);
        expect(HaproxyConfig.one(d, "timeout", "server")).toEqual(["60s"]);
        expect(HaproxyConfig.one(d, "load-server-state-from-file")).toEqual(["global"]);
        const global = cfg.section("global");
        expect(HaproxyConfig.one(global, "stats", "socket")).toEqual([
          "/run/x.sock",
          "mode",
          "600",
          "level",
          "admin",
          "expose-fd",
          "listeners",
        ]);
        const monitor = cfg.frontend("fe_monitor");
        expect(monitor.binds).toEqual(["127.0.0.1:8404"]);

        const expectedBackends: string[] = [];
        input.groups.forEach((g, i) => {
          const be = `be_g${i}`;
          const fe = cfg.frontend(`fe_l${i}`);
          expect(fe.mode).toBe(g.protocol);
          expect(fe.binds).toEqual([`192.168.56.10:${g.port}`]);
          expect(fe.defaultBackend).toBe(be);
          // N+I: the standby backend takes over while fewer than all active nodes are up.
          expect(fe.useBackends).toEqual(
            standby.length > 0 ? [[`${be}_standby`, `nbsrv(${be}) lt ${active.length}`]] : [],
          );

          const main = cfg.backend(be);
          expect(main.mode).toBe(g.protocol);
          expect(main.balance).toBe(
            g.balancing === Balancing.LEAST_CONNECTIONS ? "leastconn" : "roundrobin",
          );
          expectCheckTiming(main, g);
          const httpCheck =
            g.checkProtocol === HealthCheckProtocol.HTTP ||
            (g.checkProtocol === undefined && g.protocol === FrontProtocol.HTTP);
          expect(main.httpCheckPath).toBe(httpCheck ? (g.path ?? "/") : undefined);
          const stick = HaproxyConfig.find(cfg.section("backend", be), "stick", "on");
          expect(stick.map((s) => s[2])).toEqual(
            g.affinity === ClientAffinity.SINGLE
              ? ["src"]
              : g.affinity === ClientAffinity.NETWORK
                ? ["src,ipmask(24)"]
                : [],
          );
          const checkPort = g.checkPort ?? g.targetPort;
          const server = (n: { name: string; address: string }, track?: string) => ({
            name: n.name,
            address: n.address,
            port: g.targetPort,
            check: track === undefined,
            checkPort: track === undefined ? checkPort : undefined,
            track,
            disabled: drained.has(n.name),
          });
          expect(main.servers).toEqual(active.map((n) => server(n)));
          expectRetries(cfg, be, g);
          expectedBackends.push(be);

          if (standby.length > 0) {
            const sb = cfg.backend(`${be}_standby`);
            expectCheckTiming(sb, g);
            // Active servers follow the main backend's checks; standby ones are probed here.
            expect(sb.servers).toEqual([
              ...active.map((n) => server(n, `${be}/${n.name}`)),
              ...standby.map((n) => server(n)),
            ]);
            expectRetries(cfg, `${be}_standby`, g);
            expectedBackends.push(`${be}_standby`);
          }
        });
        expect(cfg.names("backend")).toEqual(expectedBackends);
        expect(cfg.names("frontend")).toEqual([
          "fe_monitor",
          ...input.groups.map((_g, i) => `fe_l${i}`),
        ]);
      }),
      { numRuns: 40 },
    );
  });
});

/** HTTP: idempotent requests are retried on another node after retryTimeout; others never. */
function expectRetries(cfg: HaproxyConfig, backend: string, g: GroupInput): void {
  const s = cfg.section("backend", backend);
  if (g.protocol === FrontProtocol.TCP) {
    expect(HaproxyConfig.find(s, "retry-on")).toEqual([]);
    expect(HaproxyConfig.find(s, "http-request")).toEqual([]);
    return;
  }
  expect(HaproxyConfig.one(s, "retry-on").sort()).toEqual(
    ["conn-failure", "empty-response", "response-timeout"].sort(),
  );
  const methods = HaproxyConfig.one(s, "acl", "idempotent", "method");
  expect(methods.sort()).toEqual(["DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE"]);
  expect(HaproxyConfig.one(s, "http-request", "disable-l7-retry")).toEqual(["if", "!idempotent"]);
  expect(HaproxyConfig.one(s, "http-request", "set-timeout", "server")).toEqual([
    `${g.retryMs ?? 1500}ms`,
    "if",
    "idempotent",
  ]);
}

/** The default-like Vagrant front: 3 nodes, an HTTP and a TCP listener, the HA pair unless told. */
function vagrantFront(
  options: {
    ha?: boolean;
    firstHostNumber?: number;
    iface?: string;
    vrid?: number;
    networkCidr?: string;
  } = {},
) {
  const stack = new TerraformStack(testApp(), "test");
  const cluster = new CoreOsCluster(stack, "core", {
    nodeCount: 3,
    networkCidr: options.networkCidr,
  });
  const front = new NlbFront(stack, "front");
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: 8080 });
  front.addListener("tcp", { port: 5000 }).addTargets("raw", { targets: [cluster], port: 5000 });
  const vagrant = new VagrantCluster(stack, "local", {
    cluster,
    front,
    frontHighAvailability: options.ha,
    frontFirstHostNumber: options.firstHostNumber,
    frontInterface: options.iface,
    virtualRouterId: options.vrid,
    lifecycle: LifecycleResource.TERRAFORM_DATA,
  });
  return vagrant.plan.front!;
}

/** a.b.c.d + n, within the last octet (the test networks leave room). */
const plus = (base: string, n: number) => base.replace(/\d+$/, (d) => String(Number(d) + n));

describe("keepalived.conf of the front pair says what the Vagrant props ask for", () => {
  const cases = [
    { name: "defaults", net: "192.168.56.0", prefix: 21, first: 10, iface: "eth1" },
    {
      name: "other network, host numbers, interface and router id",
      networkCidr: "192.168.60.0/24",
      net: "192.168.60.0",
      prefix: 24,
      firstHostNumber: 40,
      first: 40,
      iface: "enp0s8",
      vrid: 42,
    },
  ];
  it.each(cases)("$name", (c) => {
    const plan = vagrantFront({
      firstHostNumber: c.firstHostNumber,
      iface: c.iface === "eth1" ? undefined : c.iface,
      vrid: c.vrid,
      networkCidr: c.networkCidr,
    });
    const vip = plus(c.net, c.first);
    const addresses = [plus(c.net, c.first + 1), plus(c.net, c.first + 2)];
    expect(plan.address).toBe(vip);
    expect(plan.machines.map((m) => [m.name, m.address])).toEqual([
      ["front-01", addresses[0]],
      ["front-02", addresses[1]],
    ]);
    const haproxy = new HaproxyConfig(plan.haproxyCfg);
    // Every listener binds the shared address, which keepalived moves.
    expect(haproxy.frontend("fe_http").binds).toEqual([`${vip}:80`]);
    expect(haproxy.frontend("fe_tcp").binds).toEqual([`${vip}:5000`]);
    const monitorBind = haproxy.frontend("fe_monitor").binds[0];
    const monitorUri = HaproxyConfig.one(haproxy.section("frontend", "fe_monitor"), "monitor-uri");

    const priorities: number[] = [];
    const vrids: string[] = [];
    plan.machines.forEach((m, i) => {
      const conf = KeepalivedBlock.parse(m.keepalivedConf!);
      expect(conf.block("global_defs").value("router_id")).toBe(m.name);
      expect(conf.block("global_defs").has("enable_script_security")).toBe(true);
      const vrrp = conf.block("vrrp_instance", "front");
      // Both start as BACKUP and never take the address back (nopreempt): no flapping.
      expect(vrrp.value("state")).toBe("BACKUP");
      expect(vrrp.one("nopreempt").args).toEqual([]);
      expect(vrrp.has("preempt_delay")).toBe(false);
      expect(vrrp.value("interface")).toBe(c.iface);
      vrids.push(vrrp.value("virtual_router_id"));
      priorities.push(Number(vrrp.value("priority")));
      expect(vrrp.value("version")).toBe("3");
      expect(vrrp.value("advert_int")).toBe("0.3");
      // Unicast VRRP between the two machines only; adverts from elsewhere are dropped.
      expect(vrrp.value("unicast_src_ip")).toBe(m.address);
      expect(vrrp.entries("unicast_peer")).toEqual([[addresses[1 - i]]]);
      expect(vrrp.has("check_unicast_src")).toBe(true);
      expect(vrrp.has("authentication")).toBe(false);
      expect(vrrp.entries("virtual_ipaddress")).toEqual([[`${vip}/${c.prefix}`, "dev", c.iface]]);
      expect(vrrp.entries("track_script")).toEqual([["haproxy_alive"]]);

      // The probe asks this machine's HAProxy at its monitor URL; one failure gives the address up.
      const probe = conf.block("vrrp_script", "haproxy_alive");
      expect(probe.value("fall")).toBe("1");
      expect(probe.value("rise")).toBe("2");
      expect(probe.value("interval")).toBe("1");
      expect(Number(probe.value("timeout"))).toBeGreaterThan(Number(probe.value("interval")));
      const urls = probe.value("script").match(/http:\/\/[^\s';]+/g);
      expect(urls).toEqual([
        `http://${monitorBind}${monitorUri[0]}`,
        `http://${monitorBind}${monitorUri[0]}`,
      ]);
    });
    // One router id on both machines; front-01 holds the address when both are healthy.
    expect(new Set(vrids).size).toBe(1);
    const vrid = Number(vrids[0]);
    expect(vrid).toBe(c.vrid ?? plan.virtualRouterId);
    expect(vrid).toBeGreaterThanOrEqual(1);
    expect(vrid).toBeLessThanOrEqual(255);
    expect(priorities).toEqual([150, 100]);
  });

  it("derives the router id from the cluster name, stable across synths", () => {
    const a = vagrantFront().virtualRouterId;
    expect(vagrantFront().virtualRouterId).toBe(a);
    expect(a).toBeGreaterThanOrEqual(1);
    expect(a).toBeLessThanOrEqual(255);
  });

  it("a single front machine has no keepalived and binds its own address", () => {
    const plan = vagrantFront({ ha: false });
    expect(plan.machines.map((m) => [m.name, m.keepalivedConf])).toEqual([["front-01", undefined]]);
    const haproxy = new HaproxyConfig(plan.haproxyCfg);
    expect(haproxy.frontend("fe_http").binds).toEqual([`${plan.machines[0].address}:80`]);
  });
});

describe("the config parsers themselves", () => {
  it("notice a changed fall count, a dropped nopreempt and a lost peer", () => {
    const plan = vagrantFront();
    const be = (text: string) => new HaproxyConfig(text).backend("be_web");
    expect(be(plan.haproxyCfg).defaults.fall).toBe("2");
    expect(be(plan.haproxyCfg.replace(/ fall 2/g, " fall 3")).defaults.fall).toBe("3");
    const conf = plan.machines[0].keepalivedConf!;
    const vrrp = (text: string) => KeepalivedBlock.parse(text).block("vrrp_instance", "front");
    expect(vrrp(conf).has("nopreempt")).toBe(true);
    expect(vrrp(conf.replace("nopreempt\n", "")).has("nopreempt")).toBe(false);
    expect(vrrp(conf.replace(/(unicast_peer \{\n)\s+\S+\n/, "$1")).entries("unicast_peer")).toEqual(
      [],
    );
    expect(() => KeepalivedBlock.parse(`${conf}}\n`)).toThrow(/without a block/);
    expect(() => new HaproxyConfig("  bind :80\n")).toThrow(/outside a section/);
  });
});
