import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CoreOsClusterProps, Duration, EtcdTls, OperatingSystem, planCluster } from "../lib";
import { ClusterPlan } from "../lib/cluster/plan";
import { ETCD_TLS_FILES } from "../lib/render/etcd-environment";
import {
  FAILOVER_AGENT_PATH,
  failoverConfPath,
  INSTALL_ETCDCTL_PATH,
  NODE_ETCDCTL_PATH,
  renderFailoverConf,
  renderFailoverNodeContent,
} from "../lib/render/failover-units";
import { FAILOVER_AGENT_SCRIPT } from "../lib/render/failover-agent";
import { Failback, FailoverServiceProps, ServiceHealthCheck } from "../lib/services/options";
import { FailoverServicePlan, planFailoverService } from "../lib/services/plan";

/*
 * What a failover service adds to every node, from pure plans: the agent's
 * config as the agent reads it (sourced by sh), the agent's unit, and the
 * drop-ins that bind the service's units to it. The agents themselves run in
 * failover-lab.test.ts and failover-policies.test.ts.
 */

const cluster = (props: CoreOsClusterProps = {}) =>
  planCluster({ nodeCount: 3, ...props }, { id: "core", path: "s/core" });

function service(c: ClusterPlan, props: Partial<FailoverServiceProps> = {}): FailoverServicePlan {
  return planFailoverService(
    c,
    {
      units: [
        { name: "db.service", contents: "[Service]\nExecStart=/bin/sleep infinity\n" },
        { name: "db-backup.timer", dropins: [{ name: "10-x.conf", contents: "[Timer]\n" }] },
      ],
      ...props,
    } as FailoverServiceProps,
    { id: "db", path: "s/db", takenUnits: [], takenServices: [] },
  );
}

/** The config's settings as the agent sees them after `. "$CONF"`. */
function sourced(conf: string): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-failover-"));
  try {
    const file = path.join(dir, "db.conf");
    fs.writeFileSync(file, conf);
    const r = spawnSync("/bin/sh", ["-c", `set -a; . "$1"; env -0`, "sh", file], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    expect(r.stderr).toBe("");
    return Object.fromEntries(
      r.stdout
        .split("\0")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the agent's config", () => {
  it("gives the agent every setting of the plan, with TLS to etcd", () => {
    const c = cluster();
    const s = service(c, {
      preferredNodes: [{ name: "core-03" }, { name: "core-02" }],
      failback: Failback.between(22, 5),
      maxFailovers: 4,
      failoverPeriod: Duration.hours(2),
      restartAttempts: 3,
      restartPeriod: Duration.minutes(5),
      healthCheck: ServiceHealthCheck.http(8080, "/ok?x=1", {
        interval: Duration.seconds(2),
        timeout: Duration.millis(1500),
        failures: 4,
      }),
      stopTimeout: Duration.seconds(3),
    });
    const env = sourced(renderFailoverConf(c, s));
    expect(env).toMatchObject({
      SERVICE: "db",
      KEY_PREFIX: "/coreos-cluster/core",
      UNITS: "db.service db-backup.timer",
      CANDIDATES: "core-03 core-02 core-01",
      ADDRESSES: "core-03=192.168.56.103 core-02=192.168.56.102 core-01=192.168.56.101",
      PREFERRED: "core-03 core-02",
      FAILBACK: "window",
      FAILBACK_START: "22",
      FAILBACK_END: "5",
      MAX_FAILOVERS: "4",
      FAILOVER_PERIOD: "7200",
      RESTART_ATTEMPTS: "3",
      RESTART_PERIOD: "300",
      CHECK_KIND: "http",
      CHECK_PORT: "8080",
      CHECK_PATH: "/ok?x=1",
      CHECK_COMMAND: "",
      CHECK_INTERVAL_MS: "2000",
      CHECK_TIMEOUT_MS: "1500",
      CHECK_FAILURES: "4",
      LEASE_TTL: String(s.timing.leaseTtlMs / 1000),
      RENEW_MS: String(s.timing.renewIntervalMs),
      ETCD_CALL_MS: String(s.timing.etcdCallMs),
      FENCE_AFTER_MS: String(s.timing.fenceAfterMs),
      STOP_TIMEOUT_MS: "3000",
      ETCDCTL: NODE_ETCDCTL_PATH,
      ETCDCTL_ENDPOINTS: c.etcd.clientEndpoints.join(","),
      ETCDCTL_CACERT: ETCD_TLS_FILES.ca,
      ETCDCTL_CERT: ETCD_TLS_FILES.clientCert,
      ETCDCTL_KEY: ETCD_TLS_FILES.clientKey,
    });
    expect(s.timing.leaseTtlMs).toBeGreaterThan(s.timing.fenceAfterMs);
  });

  it("defaults: no check, failback never, and no TLS files without TLS", () => {
    const c = cluster({ etcd: { tls: EtcdTls.disabled() } });
    const s = service(c);
    const conf = renderFailoverConf(c, s);
    expect(sourced(conf)).toMatchObject({
      PREFERRED: "",
      FAILBACK: "never",
      FAILBACK_START: "0",
      FAILBACK_END: "0",
      CHECK_KIND: "none",
      CHECK_PORT: "0",
      CHECK_PATH: "/",
      CHECK_INTERVAL_MS: "0",
      CHECK_TIMEOUT_MS: "0",
      CHECK_FAILURES: "0",
      ETCDCTL_ENDPOINTS:
        "http://192.168.56.101:2379,http://192.168.56.102:2379,http://192.168.56.103:2379",
      ETCDCTL_CACERT: "",
      ETCDCTL_CERT: "",
      ETCDCTL_KEY: "",
    });
    expect(conf).toContain(
      `# The owner stops its units ${s.timing.fenceAfterMs} ms after its last lease renewal, at the latest\n# ${s.timing.worstCaseStopMs} ms after it: before its ${s.timing.leaseTtlMs / 1000} s lease can pass to another node.\n`,
    );
  });

  it("a command check's text reaches the agent unchanged, quotes and all", () => {
    const c = cluster({ etcd: { tls: EtcdTls.disabled() } });
    const command = `test "$(cat /run/x)" = 'ok' && echo \`id\` $HOME; exit 0`;
    const s = service(c, { healthCheck: ServiceHealthCheck.command(command) });
    expect(sourced(renderFailoverConf(c, s))).toMatchObject({
      CHECK_KIND: "command",
      CHECK_COMMAND: command,
    });
  });
});

describe("the node content", () => {
  it("ships the agent, etcdctl's installer and the config, executable where run", () => {
    const c = cluster();
    const s = service(c);
    const { files } = renderFailoverNodeContent(c, s);
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      [FAILOVER_AGENT_PATH, 0o755],
      [INSTALL_ETCDCTL_PATH, 0o755],
      ["/etc/coreos-cluster/failover/db.conf", 0o644],
    ]);
    expect(failoverConfPath("db")).toBe("/etc/coreos-cluster/failover/db.conf");
    expect(files[0].contents).toBe(FAILOVER_AGENT_SCRIPT);
    expect(files[2].contents).toBe(renderFailoverConf(c, s));
  });

  it("binds each unit of the service to its agent, never started on its own", () => {
    const c = cluster();
    const s = service(c, { stopTimeout: Duration.seconds(4) });
    const { units } = renderFailoverNodeContent(c, s);
    expect(units.map((u) => [u.name, u.enabled])).toEqual([
      ["db.service", false],
      ["db-backup.timer", false],
      ["failover-db.service", true],
    ]);
    expect(units[0].contents).toBe("[Service]\nExecStart=/bin/sleep infinity\n");
    expect(units[1].contents).toBeUndefined();
    expect(units[0].dropins).toEqual([
      {
        name: "50-failover.conf",
        contents:
          "[Unit]\n# Started and stopped by failover-db.service on the one node that owns db.\nBindsTo=failover-db.service\nAfter=failover-db.service\n\n[Service]\n# The agent's lease outlives this stop timeout (see the agent's config).\nTimeoutStopSec=4000ms\n",
      },
    ]);
    // A timer has no [Service] section; its own drop-ins stay, before the binding.
    expect(units[1].dropins?.map((d) => d.name)).toEqual(["10-x.conf", "50-failover.conf"]);
    expect(units[1].dropins?.[1].contents).not.toContain("[Service]");
  });

  it.each([
    ["Flatcar", {}, "/usr/bin/docker", " docker.service"],
    ["Fedora CoreOS", { os: OperatingSystem.fedoraCoreOs() }, "/usr/bin/podman", ""],
  ])(
    "%s: the agent installs etcdctl from the cluster's image, restarts forever",
    (_l, props, runtime, docker) => {
      const c = cluster(props);
      const agent = renderFailoverNodeContent(c, service(c)).units[2].contents!;
      const line = (key: string) =>
        agent
          .split("\n")
          .filter((l) => l.startsWith(`${key}=`))
          .map((l) => l.slice(key.length + 1));
      expect(line("ExecStartPre")).toEqual([
        `${INSTALL_ETCDCTL_PATH} ${runtime} ${c.etcd.image.reference} ${NODE_ETCDCTL_PATH}`,
      ]);
      expect(line("ExecStart")).toEqual([
        `${FAILOVER_AGENT_PATH} /etc/coreos-cluster/failover/db.conf`,
      ]);
      expect(line("Wants")).toEqual([`network-online.target${docker}`]);
      expect(line("After")).toEqual([`network-online.target${docker} etcd-member.service`]);
      expect(line("Restart")).toEqual(["always"]);
      expect(line("RestartSec")).toEqual(["5s"]);
      expect(line("KillMode")).toEqual(["mixed"]);
      expect(line("StartLimitIntervalSec")).toEqual(["0"]);
      expect(line("WantedBy")).toEqual(["multi-user.target"]);
      expect(line("Description")).toEqual([
        "Failover agent of db: runs db.service db-backup.timer on exactly one node (etcd lease)",
      ]);
    },
  );
});

describe("paths", () => {
  it("the agent, its helper, etcdctl and the configs live where the OS lets Ignition write (/usr is read-only)", () => {
    for (const p of [FAILOVER_AGENT_PATH, INSTALL_ETCDCTL_PATH, NODE_ETCDCTL_PATH]) {
      expect(p).toMatch(/^\/opt\/coreos-cluster\/[a-z/-]+$/);
    }
    expect(new Set([FAILOVER_AGENT_PATH, INSTALL_ETCDCTL_PATH, NODE_ETCDCTL_PATH]).size).toBe(3);
    expect(failoverConfPath("db")).toMatch(/^\/etc\/.*\/db\.conf$/);
  });
});

describe("install-etcdctl", () => {
  it("copies etcdctl out of the image once per image, renamed into place", () => {
    const c = cluster();
    const script = renderFailoverNodeContent(c, service(c)).files[1].contents;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-etcdctl-"));
    try {
      const runtime = path.join(dir, "runtime");
      fs.writeFileSync(
        runtime,
        `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase "$1" in create) echo c1 ;; cp) printf 'etcdctl of %s' "$2" > "$3" ;; esac\n`,
        { mode: 0o755 },
      );
      fs.writeFileSync(path.join(dir, "install"), script, { mode: 0o755 });
      const target = path.join(dir, "bin", "etcdctl");
      const install = (image: string) =>
        spawnSync(path.join(dir, "install"), [runtime, image, target], { encoding: "utf8" });
      expect(install("etcd:v1").status).toBe(0);
      expect(fs.readFileSync(target, "utf8")).toBe("etcdctl of c1:/usr/local/bin/etcdctl");
      expect(fs.statSync(target).mode & 0o777).toBe(0o755);
      expect(fs.readFileSync(`${target}.image`, "utf8")).toBe("etcd:v1\n");
      expect(install("etcd:v1").status).toBe(0);
      expect(install("etcd:v2").status).toBe(0);
      expect(
        fs
          .readFileSync(path.join(dir, "calls"), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(" ")[0]),
      ).toEqual(["create", "cp", "rm", "create", "cp", "rm"]);
      expect(fs.readFileSync(`${target}.image`, "utf8")).toBe("etcd:v2\n");
      expect(fs.readdirSync(path.join(dir, "bin")).sort()).toEqual(["etcdctl", "etcdctl.image"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
