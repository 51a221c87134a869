import { ClusterConfigError, PropIssue } from "../lib/core/errors";
import { Duration } from "../lib/core/duration";
import { LITERAL_REQUIRED, TOKEN_VALUE } from "../lib/core/validate";
import { ClusterPlan, planCluster } from "../lib/cluster/plan";
import { CoreOsClusterProps } from "../lib/cluster/props";
import { Failback, FailoverServiceProps, ServiceHealthCheck } from "../lib/services/options";
import {
  agentUnitName,
  ETCD_CALL_MS,
  FENCE_MARGIN_MS,
  keyPrefixOf,
  MIN_FENCE_AFTER_MS,
  minimumLeaseTtlMs,
  planFailoverService,
  planTiming,
  RENEW_INTERVAL_MS,
  ServiceContext,
} from "../lib/services/plan";

/*
 * A failover service's plan without a stack: candidates in preference order,
 * failback, failover limits, the health check and the lease timing that keeps
 * two copies from running; each bad prop named with its value and what is allowed.
 */

const UNIT = { name: "db.service", contents: "[Service]\nExecStart=/bin/db\n" };
const ctx: ServiceContext = { path: "s/core/db", id: "DB", takenUnits: [], takenServices: [] };

function cluster(props: CoreOsClusterProps = { nodeCount: 4 }): ClusterPlan {
  return planCluster(props, { id: "core", path: "s/core" });
}

function plan(props: Partial<FailoverServiceProps>, context: ServiceContext = ctx) {
  return planFailoverService(
    cluster(),
    { units: [UNIT], ...props } as FailoverServiceProps,
    context,
  );
}

function issuesOf(props: unknown, context: ServiceContext = ctx): PropIssue[] {
  try {
    planFailoverService(cluster(), { units: [UNIT], ...(props as object) } as never, context);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterConfigError);
    expect((e as ClusterConfigError).subject).toBe(`FailoverService "${context.path}"`);
    return [...(e as ClusterConfigError).issues];
  }
  throw new Error(`no issue for ${JSON.stringify(props)}`);
}

function issueOf(props: unknown, context: ServiceContext = ctx): PropIssue {
  const found = issuesOf(props, context);
  expect(found.map((i) => i.prop)).toHaveLength(1);
  return found[0];
}

const node = (name: string) => ({ name });

describe("timing", () => {
  it("stops the owner's units before its lease can pass to another node", () => {
    const t = planTiming(10_000, 2_000);
    expect(t.fenceAfterMs).toBe(
      10_000 - (RENEW_INTERVAL_MS + 2 * ETCD_CALL_MS + 2_000 + FENCE_MARGIN_MS),
    );
    expect(t).toMatchObject({
      leaseTtlMs: 10_000,
      renewIntervalMs: RENEW_INTERVAL_MS,
      etcdCallMs: ETCD_CALL_MS,
      stopTimeoutMs: 2_000,
      marginMs: FENCE_MARGIN_MS,
      worstCaseStopMs: 10_000,
    });
    expect([RENEW_INTERVAL_MS, ETCD_CALL_MS, FENCE_MARGIN_MS, MIN_FENCE_AFTER_MS]).toEqual([
      500, 1000, 500, 1500,
    ]);
  });

  it("rounds the smallest lease up to whole seconds that leave the minimum fence time", () => {
    // 500 + 2000 + 2000 + 500 + 1500 = 6500 ms → 7 s.
    expect(minimumLeaseTtlMs(2_000)).toBe(7_000);
    expect(minimumLeaseTtlMs(3_000)).toBe(8_000);
    expect(planTiming(minimumLeaseTtlMs(2_000), 2_000).fenceAfterMs).toBeGreaterThanOrEqual(
      MIN_FENCE_AFTER_MS,
    );
  });

  it("defaults to a 10 s lease and a 2 s stop timeout; takes the lease that leaves exactly the minimum", () => {
    expect(plan({}).timing).toEqual(planTiming(10_000, 2_000));
    // stop 1 s: overhead 4 s, fence 1.5 s → 5.5 s minimum; 6 s is the first whole second.
    expect(
      plan({ leaseTtl: Duration.seconds(6), stopTimeout: Duration.seconds(1) }).timing.fenceAfterMs,
    ).toBe(2000);
    const tight = planTiming(5_500, 1_000);
    expect(tight.fenceAfterMs).toBe(MIN_FENCE_AFTER_MS);
  });

  it("rejects a lease too short for the stop timeout, naming the minimum", () => {
    expect(issueOf({ leaseTtl: Duration.seconds(6) })).toEqual({
      prop: "leaseTtl",
      value: "6000ms",
      allowed:
        "at least 7000ms with stopTimeout 2000ms: the owner must stop its units (stopTimeout) before its lease ends, and tolerate 1500ms without reaching etcd",
    });
    expect(plan({ leaseTtl: Duration.seconds(7) }).timing.leaseTtlMs).toBe(7000);
  });

  it("takes leases in whole seconds from 3 s to 120 s, stop timeouts from 1 s to 60 s", () => {
    expect(issueOf({ leaseTtl: Duration.millis(10_500) })).toEqual({
      prop: "leaseTtl",
      value: "10500ms",
      allowed: "whole seconds (etcd leases count seconds)",
    });
    expect(plan({ leaseTtl: Duration.seconds(120) }).timing.leaseTtlMs).toBe(120_000);
    expect(issueOf({ leaseTtl: Duration.seconds(121) })).toEqual({
      prop: "leaseTtl",
      value: "121s",
      allowed: "from 3s to 120s",
    });
    expect(issueOf({ leaseTtl: 10 })).toEqual({
      prop: "leaseTtl",
      value: 10,
      allowed: "a Duration from 3s to 120s, e.g. Duration.seconds(10)",
    });
    expect(
      plan({ leaseTtl: Duration.seconds(120), stopTimeout: Duration.seconds(60) }).timing
        .stopTimeoutMs,
    ).toBe(60_000);
    expect(plan({ stopTimeout: Duration.seconds(1) }).timing.stopTimeoutMs).toBe(1_000);
    expect(issueOf({ stopTimeout: Duration.millis(999) }).prop).toBe("stopTimeout");
    expect(issuesOf({ stopTimeout: Duration.seconds(61) }).map((i) => i.prop)).toContain(
      "stopTimeout",
    );
  });
});

describe("name and units", () => {
  it("defaults the name to the id, lowercased, and keys state by cluster", () => {
    const p = plan({});
    expect(p.name).toBe("db");
    expect(p.clusterName).toBe("core");
    expect(p.keyPrefix).toBe("/coreos-cluster/core");
    expect(keyPrefixOf("x")).toBe("/coreos-cluster/x");
    expect(agentUnitName("db")).toBe("failover-db.service");
    expect(p.units).toEqual([UNIT]);
  });

  it("rejects a bad name, another service's name, and one whose agent unit is taken", () => {
    expect(issueOf({ name: "DB" })).toEqual({
      prop: "name",
      value: "DB",
      allowed: "1-24 of a-z 0-9 -, starting with a letter, not ending with '-'",
    });
    expect(plan({ name: `a${"b".repeat(23)}` }).name).toHaveLength(24);
    expect(issueOf({ name: `a${"b".repeat(24)}` }).prop).toBe("name");
    expect(issueOf({ name: "db" }, { ...ctx, takenServices: ["db"] })).toEqual({
      prop: "name",
      value: "db",
      allowed: "a name no other failover service of this cluster has",
    });
    expect(issueOf({ name: "db" }, { ...ctx, takenUnits: ["failover-db.service"] })).toEqual({
      prop: "name",
      value: "db",
      allowed: "a name whose agent unit failover-db.service is not one of the cluster's own units",
    });
  });

  it("needs one or more units, each an object with a good name", () => {
    for (const bad of [undefined, [], "db.service"]) {
      expect(issueOf({ units: bad })).toEqual({
        prop: "units",
        value: bad,
        allowed: "one or more systemd units: [{ name, contents }]",
      });
    }
    expect(issueOf({ units: ["db.service"] })).toMatchObject({
      prop: "units[0]",
      allowed: "a unit { name, contents?, dropins? }",
    });
    expect(issueOf({ units: [{ name: "db" }] })).toMatchObject({
      prop: "units[0].name",
      value: "db",
    });
  });

  it("keeps the cluster's and the agents' units, and units already given, out", () => {
    for (const name of ["etcd-member.service", "locksmithd.service", "failover-x.service"]) {
      const i = issueOf({ units: [{ name }] });
      expect(i).toMatchObject({ prop: "units[0].name", value: name });
      expect(i.allowed).toMatch(
        /^a unit the cluster and its agents do not configure \(not etcd-member\.service, .*failover-\*\)$/,
      );
    }
    expect(
      issueOf({ units: [{ name: "web.service" }] }, { ...ctx, takenUnits: ["web.service"] }),
    ).toEqual({
      prop: "units[0].name",
      value: "web.service",
      allowed: "a unit not already given to the cluster or another failover service",
    });
    expect(issueOf({ units: [UNIT, UNIT] })).toEqual({
      prop: "units[1].name",
      value: "db.service",
      allowed: "each unit name once",
    });
  });

  it("never enables a unit at boot, and checks contents and drop-ins", () => {
    expect(plan({ units: [{ ...UNIT, enabled: false }] }).units[0].enabled).toBe(false);
    expect(issueOf({ units: [{ ...UNIT, enabled: true }] })).toEqual({
      prop: "units[0].enabled",
      value: true,
      allowed: "false or left out: the failover agent starts the unit on one node, never at boot",
    });
    expect(issueOf({ units: [{ name: "db.service", contents: 5 }] }).prop).toBe(
      "units[0].contents",
    );
    const unit = (dropins: unknown) => ({ units: [{ ...UNIT, dropins }] });
    expect(
      plan(unit([{ name: "10-a.conf", contents: "[Service]\n" }]) as never).units[0].dropins,
    ).toHaveLength(1);
    expect(issueOf(unit("x"))).toMatchObject({
      prop: "units[0].dropins",
      allowed: "a list of { name, contents }",
    });
    expect(issueOf(unit([{ name: "50-failover.conf", contents: "[Service]\n" }]))).toEqual({
      prop: "units[0].dropins[0].name",
      value: "50-failover.conf",
      allowed: "a drop-in name, other than 50-failover.conf",
    });
    const bad = issueOf(unit([{ name: "x.txt", contents: "[Service]\n" }]));
    expect(bad).toMatchObject({ prop: "units[0].dropins[0].name", value: "x.txt" });
    expect(bad.allowed).toMatch(/ending in \.conf, other than 50-failover\.conf$/);
    expect(issuesOf(unit(["x"])).map((i) => i.prop)).toEqual([
      "units[0].dropins[0].name",
      "units[0].dropins[0].contents",
    ]);
    expect(issueOf(unit([{ name: "a.conf", contents: 1 }]))).toMatchObject({
      prop: "units[0].dropins[0].contents",
    });
  });
});

describe("candidates", () => {
  it("are every node in node order by default, with their addresses", () => {
    const p = plan({});
    expect(p.candidates).toEqual([
      { name: "core-01", address: "192.168.56.101" },
      { name: "core-02", address: "192.168.56.102" },
      { name: "core-03", address: "192.168.56.103" },
      { name: "core-04", address: "192.168.56.104" },
    ]);
    expect(p.preferredNodes).toEqual([]);
  });

  it("put preferred nodes first, then the allowed others in node order", () => {
    const p = plan({
      nodes: [node("core-04"), node("core-03"), node("core-01")],
      preferredNodes: [node("core-03")],
    });
    expect(p.candidates.map((c) => c.name)).toEqual(["core-03", "core-01", "core-04"]);
    expect(p.preferredNodes).toEqual(["core-03"]);
  });

  it("take nodes of this cluster, each once, at least one", () => {
    expect(issueOf({ nodes: [node("core-09")] })).toEqual({
      prop: "nodes[0]",
      value: "core-09",
      allowed: "a node of the cluster: core-01, core-02, core-03, core-04",
    });
    expect(issueOf({ nodes: ["core-01"] })).toMatchObject({ prop: "nodes[0]", value: "core-01" });
    expect(issueOf({ nodes: [node("core-01"), node("core-01")] })).toEqual({
      prop: "nodes[1]",
      value: "core-01",
      allowed: "each node once",
    });
    expect(issueOf({ nodes: [] })).toEqual({
      prop: "nodes",
      value: "none",
      allowed: "at least one node that may run the service",
    });
    expect(issueOf({ nodes: "core-01" })).toEqual({
      prop: "nodes",
      value: "core-01",
      allowed: "a list of the cluster's nodes (cluster.nodeNamed(...))",
    });
  });

  it("prefer only nodes that may run the service", () => {
    expect(issueOf({ nodes: [node("core-01")], preferredNodes: [node("core-02")] })).toEqual({
      prop: "preferredNodes",
      value: "core-02",
      allowed: "nodes that may run the service: core-01",
    });
    expect(issueOf({ preferredNodes: [node("x")] }).prop).toBe("preferredNodes[0]");
  });
});

describe("failback", () => {
  const preferredNodes = [node("core-01")];

  it("never fails back by default; immediately or in a window with preferred nodes", () => {
    expect(plan({}).failback).toEqual({ mode: "never" });
    expect(plan({ preferredNodes, failback: Failback.IMMEDIATE }).failback).toEqual({
      mode: "immediate",
    });
    expect(plan({ preferredNodes, failback: Failback.between(22, 4) }).failback).toEqual({
      mode: "window",
      startHour: 22,
      endHour: 4,
    });
    expect(plan({ preferredNodes, failback: Failback.between(0, 23) }).failback.endHour).toBe(23);
  });

  it("needs preferred nodes to go back to", () => {
    expect(issueOf({ failback: Failback.IMMEDIATE })).toEqual({
      prop: "failback",
      value: "immediate",
      allowed: "Failback.NEVER without preferredNodes (failback goes back to a preferred node)",
    });
  });

  it("takes hours 0-23 and a window of at least an hour", () => {
    expect(issueOf({ preferredNodes, failback: Failback.between(24, 4) })).toEqual({
      prop: "failback.startHour",
      value: 24,
      allowed: "an hour of the day, 0-23 (UTC)",
    });
    expect(issueOf({ preferredNodes, failback: Failback.between(1, -1) }).prop).toBe(
      "failback.endHour",
    );
    expect(issueOf({ preferredNodes, failback: Failback.between(3, 3) })).toEqual({
      prop: "failback",
      value: "between 3h and 3h UTC",
      allowed: "a window of at least one hour (start ≠ end)",
    });
    expect(issueOf({ preferredNodes, failback: "never" })).toMatchObject({
      prop: "failback",
      value: "never",
    });
  });
});

describe("failover and restart limits", () => {
  it("defaults: one failover less than the candidates (at least 1) per 6 h; one restart per 15 min", () => {
    const p = plan({});
    expect(p).toMatchObject({
      maxFailovers: 3,
      failoverPeriodMs: 6 * 3600_000,
      restartAttempts: 1,
      restartPeriodMs: 15 * 60_000,
    });
    expect(plan({ nodes: [node("core-02")] }).maxFailovers).toBe(1);
    expect(plan({ nodes: [node("core-02"), node("core-03")] }).maxFailovers).toBe(1);
    expect(plan({ nodes: [node("core-02"), node("core-03"), node("core-04")] }).maxFailovers).toBe(
      2,
    );
  });

  it("takes 0-100 failovers and 0-10 restarts", () => {
    expect(plan({ maxFailovers: 0, restartAttempts: 0 })).toMatchObject({
      maxFailovers: 0,
      restartAttempts: 0,
    });
    expect(plan({ maxFailovers: 100, restartAttempts: 10 })).toMatchObject({
      maxFailovers: 100,
      restartAttempts: 10,
    });
    for (const bad of [-1, 101, 1.5]) {
      expect(issueOf({ maxFailovers: bad })).toEqual({
        prop: "maxFailovers",
        value: bad,
        allowed: "a whole number from 0 to 100",
      });
    }
    for (const bad of [-1, 11]) {
      expect(issueOf({ restartAttempts: bad })).toEqual({
        prop: "restartAttempts",
        value: bad,
        allowed: "a whole number from 0 to 10",
      });
    }
  });

  it("takes failover periods from 1 min to 30 days, restart periods from 1 min to 24 h", () => {
    expect(plan({ failoverPeriod: Duration.minutes(1) }).failoverPeriodMs).toBe(60_000);
    expect(plan({ failoverPeriod: Duration.hours(720) }).failoverPeriodMs).toBe(720 * 3600_000);
    expect(issueOf({ failoverPeriod: Duration.hours(721) })).toEqual({
      prop: "failoverPeriod",
      value: "2595600s",
      allowed: "from 60s to 2592000s",
    });
    expect(issueOf({ failoverPeriod: Duration.seconds(59) }).prop).toBe("failoverPeriod");
    expect(plan({ restartPeriod: Duration.hours(24) }).restartPeriodMs).toBe(24 * 3600_000);
    expect(plan({ restartPeriod: Duration.minutes(1) }).restartPeriodMs).toBe(60_000);
    expect(issueOf({ restartPeriod: Duration.hours(25) })).toMatchObject({ prop: "restartPeriod" });
  });
});

describe("health check", () => {
  it("is left out unless given", () => {
    expect("healthCheck" in plan({})).toBe(false);
  });

  it("probes TCP, HTTP (path / by default) or a command, every 2 s with a 1 s timeout, 3 failures", () => {
    expect(plan({ healthCheck: ServiceHealthCheck.tcp(5432) }).healthCheck).toEqual({
      kind: "tcp",
      port: 5432,
      intervalMs: 2000,
      timeoutMs: 1000,
      failures: 3,
    });
    expect(plan({ healthCheck: ServiceHealthCheck.http(8080) }).healthCheck).toMatchObject({
      kind: "http",
      port: 8080,
      path: "/",
    });
    expect(
      plan({ healthCheck: ServiceHealthCheck.http(8080, "/ready?x=1") }).healthCheck?.path,
    ).toBe("/ready?x=1");
    const cmd = plan({ healthCheck: ServiceHealthCheck.command("pg_isready -q") }).healthCheck;
    expect(cmd).toEqual({
      kind: "command",
      command: "pg_isready -q",
      intervalMs: 2000,
      timeoutMs: 1000,
      failures: 3,
    });
  });

  it("takes an interval from 0.5 s to 5 min and a timeout shorter than it", () => {
    const hc = (o: object) => ({ healthCheck: ServiceHealthCheck.tcp(80, o) });
    expect(
      plan(hc({ interval: Duration.millis(500), timeout: Duration.millis(100), failures: 1 }))
        .healthCheck,
    ).toMatchObject({ intervalMs: 500, timeoutMs: 100, failures: 1 });
    expect(plan(hc({ interval: Duration.minutes(5), failures: 10 })).healthCheck).toMatchObject({
      intervalMs: 300_000,
      failures: 10,
    });
    expect(issueOf(hc({ interval: Duration.millis(499) }))).toEqual({
      prop: "healthCheck.interval",
      value: "499ms",
      allowed: "from 500ms to 300s",
    });
    expect(issueOf(hc({ timeout: Duration.seconds(2) }))).toEqual({
      prop: "healthCheck.timeout",
      value: "2000ms",
      allowed: "shorter than the interval (2000ms)",
    });
    expect(issueOf(hc({ timeout: Duration.millis(99) })).prop).toBe("healthCheck.timeout");
    for (const bad of [0, 11, 2.5]) {
      expect(issueOf(hc({ failures: bad }))).toEqual({
        prop: "healthCheck.failures",
        value: bad,
        allowed: "a whole number from 1 to 10",
      });
    }
  });

  it("checks the port, the path and the command line (which a shell runs)", () => {
    for (const bad of [0, 65536]) {
      expect(issueOf({ healthCheck: ServiceHealthCheck.tcp(bad) })).toEqual({
        prop: "healthCheck.port",
        value: bad,
        allowed: "a port 1-65535",
      });
    }
    expect(issueOf({ healthCheck: ServiceHealthCheck.http(0) }).prop).toBe("healthCheck.port");
    expect(plan({ healthCheck: ServiceHealthCheck.tcp(65535) }).healthCheck?.port).toBe(65535);
    expect(issueOf({ healthCheck: ServiceHealthCheck.http(80, "/a b") })).toMatchObject({
      prop: "healthCheck.path",
      value: "/a b",
    });
    expect(issueOf({ healthCheck: ServiceHealthCheck.command("a\nb") })).toMatchObject({
      prop: "healthCheck.command",
      value: "a\nb",
    });
    expect(issueOf({ healthCheck: { kind: "tcp", port: 80 } })).toMatchObject({
      prop: "healthCheck",
      allowed: "ServiceHealthCheck.tcp(port), .http(port, path) or .command(cmd)",
    });
  });

  it("takes literals only: tokens in the check and elsewhere are named", () => {
    const isToken = (v: unknown) => v === "${var.cmd}" || v === 1e9;
    const found = issuesOf(
      { healthCheck: ServiceHealthCheck.command("${var.cmd}"), maxFailovers: 1e9 },
      { ...ctx, isToken },
    );
    expect(found.filter((i) => i.value === TOKEN_VALUE).map((i) => [i.prop, i.allowed])).toEqual([
      ["maxFailovers", LITERAL_REQUIRED],
      ["healthCheck.command", LITERAL_REQUIRED],
    ]);
    const port = issuesOf(
      { healthCheck: ServiceHealthCheck.http(1e9, "${var.cmd}") },
      { ...ctx, isToken },
    );
    expect(port.filter((i) => i.value === TOKEN_VALUE).map((i) => i.prop)).toEqual([
      "healthCheck.path",
      "healthCheck.port",
    ]);
    // Node references are read by name only.
    expect(() =>
      plan({ nodes: [{ name: "core-01", other: 1e9 } as never] }, { ...ctx, isToken }),
    ).not.toThrow();
  });
});

describe("checks against the given cluster", () => {
  it("uses the cluster's own node names and addresses", () => {
    const c = cluster({
      nodeCount: 2,
      namePrefix: "db",
      networkCidr: "10.0.0.0/24",
      firstHostNumber: 5,
    });
    const p = planFailoverService(c, { units: [UNIT] } as never, ctx);
    expect(p.candidates).toEqual([
      { name: "db-01", address: "10.0.0.5" },
      { name: "db-02", address: "10.0.0.6" },
    ]);
    expect(p.maxFailovers).toBe(1);
  });
});
