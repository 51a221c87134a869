import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import * as fs from "node:fs";
import * as path from "node:path";
import { Testing, TerraformStack } from "cdktf";
import {
  ClusterConfigError,
  ContainerImage,
  CoreOsCluster,
  CoreOsClusterProps,
  Duration,
  EtcdTls,
  Failback,
  FailoverService,
  FailoverServiceProps,
  FedoraCoreOsStream,
  FrontProtocol,
  NlbFront,
  OperatingSystem,
  ServiceHealthCheck,
  VagrantCluster,
} from "../lib";
import { fileText, renderIgnitionJson } from "../lib/render/ignition";
import { AwsCluster } from "../lib/aws";
import {
  FAILOVER_AGENT_PATH,
  failoverConfPath,
  INSTALL_ETCDCTL_PATH,
  NODE_ETCDCTL_PATH,
} from "../lib/render/failover-units";
import { ETCD_TLS_FILES } from "../lib/render/etcd-environment";
import { MIN_FENCE_AFTER_MS, planTiming } from "../lib/services/plan";
import { tempOutdir } from "./support/synth";
import { IGNITION_ENGINE, ScratchRoot } from "./support/ignition-engine";
import { describeWithRequirement, describeWithTool } from "./support/tools";

/*
 * The failover service model: defaults, bad input, the timing that keeps two
 * copies from running, and what every node gets (checked by ignition-validate,
 * sh and shellcheck). The agent's behaviour runs in failover-agent.test.ts and
 * failover-lab.test.ts.
 */

const DB_UNIT = "[Service]\nExecStart=/usr/bin/sleep infinity\n";

function stackWith(
  clusterProps: CoreOsClusterProps = { nodeCount: 3 },
  service: Partial<FailoverServiceProps> = {},
) {
  const outdir = tempOutdir();
  const app = Testing.app({ outdir });
  const stack = new TerraformStack(app, "test");
  const cluster = new CoreOsCluster(stack, "core", clusterProps);
  const make = (id: string, props: Partial<FailoverServiceProps> = {}) =>
    new FailoverService(stack, id, {
      cluster,
      units: [{ name: `${id}.service`, contents: DB_UNIT }],
      ...props,
    });
  return { app, stack, cluster, make, outdir, db: make("db", service) };
}

type Ignition = {
  storage: {
    files: { path: string; mode: number; contents: { source: string; compression?: string } }[];
  };
  systemd: {
    units: {
      name: string;
      enabled?: boolean;
      contents?: string;
      dropins?: { name: string; contents: string }[];
    }[];
  };
};

const fileOf = (ign: Ignition, p: string) => {
  const f = ign.storage.files.find((x) => x.path === p);
  if (!f) throw new Error(`no ${p}`);
  return { mode: f.mode, text: fileText(f) };
};

/** Reads the agent's shell config back the way the agent does: sourced by sh. */
function sourceConf(text: string, names: string[]): Record<string, string> {
  const file = path.join(tempOutdir(), "service.conf");
  fs.writeFileSync(file, text);
  const script = `. "$1"; for v in ${names.join(" ")}; do eval "printf '%s\\0' \\"\\$$v\\""; done`;
  const r = spawnSync("sh", ["-c", script, "sh", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const values = r.stdout.split("\0");
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

describe("FailoverService: model", () => {
  it("resolves MSCS-like defaults", () => {
    const { db } = stackWith();
    expect(db.serviceName).toBe("db");
    expect(db.plan.candidates.map((c) => c.name)).toEqual(["core-01", "core-02", "core-03"]);
    expect(db.plan.failback).toEqual({ mode: "never" });
    expect(db.plan.maxFailovers).toBe(2); // possible owners - 1
    expect(db.plan.failoverPeriodMs).toBe(6 * 3600 * 1000);
    expect(db.plan.restartAttempts).toBe(1);
    expect(db.timing).toMatchObject({ leaseTtlMs: 10000, stopTimeoutMs: 2000, fenceAfterMs: 5000 });
    expect(db.plan.keyPrefix).toBe("/coreos-cluster/core");
  });

  it("orders candidates: preferred nodes first, then the allowed ones in node order", () => {
    const { cluster, make } = stackWith({ nodeCount: 5 });
    const s = make("web", {
      nodes: ["core-02", "core-03", "core-05"].map((n) => cluster.nodeNamed(n)),
      preferredNodes: [cluster.nodeNamed("core-05")],
      failback: Failback.between(22, 4),
    });
    expect(s.plan.candidates.map((c) => c.name)).toEqual(["core-05", "core-02", "core-03"]);
    expect(s.plan.failback).toEqual({ mode: "window", startHour: 22, endHour: 4 });
    expect(s.plan.maxFailovers).toBe(2);
  });

  it("orders its timing so the owner stops before its lease can pass on, for every accepted setting", () => {
    let accepted = 0;
    for (let ttl = 3; ttl <= 30; ttl++) {
      for (let stop = 1; stop <= 20; stop++) {
        const t = planTiming(ttl * 1000, stop * 1000);
        let ok = true;
        try {
          stackWith(undefined, {
            leaseTtl: Duration.seconds(ttl),
            stopTimeout: Duration.seconds(stop),
          });
        } catch (e) {
          ok = false;
          expect(e).toBeInstanceOf(ClusterConfigError);
          expect((e as ClusterConfigError).issues[0].prop).toBe("leaseTtl");
        }
        // Accepted exactly when the owner tolerates MIN_FENCE_AFTER_MS without etcd.
        expect(ok).toBe(t.fenceAfterMs >= MIN_FENCE_AFTER_MS);
        if (!ok) continue;
        accepted++;
        expect(t.worstCaseStopMs).toBeLessThanOrEqual(t.leaseTtlMs);
        expect(
          t.fenceAfterMs + t.renewIntervalMs + 2 * t.etcdCallMs + t.stopTimeoutMs,
        ).toBeLessThan(t.leaseTtlMs);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it("rejects bad input with prop, value and what is allowed, all at once", () => {
    const bad = (props: Partial<FailoverServiceProps>, cluster: CoreOsClusterProps = {}) => {
      try {
        stackWith({ nodeCount: 3, ...cluster }, props);
      } catch (e) {
        expect(e).toBeInstanceOf(ClusterConfigError);
        return (e as ClusterConfigError).issues.map((i) => `${i.prop}: ${i.allowed}`);
      }
      throw new Error("accepted");
    };
    expect(bad({ name: "DB_1" })).toEqual([expect.stringMatching(/^name: 1-24 of a-z/)]);
    expect(bad({ units: [] })).toEqual([expect.stringMatching(/^units: one or more/)]);
    expect(
      bad({
        units: [
          { name: "db", contents: "[Service]\n" },
          { name: "x.service", enabled: true },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^units\[0\]\.name: a systemd unit name/),
      expect.stringMatching(/^units\[1\]\.enabled: false or left out/),
    ]);
    expect(bad({ units: [{ name: "etcd-member.service" }] })[0]).toMatch(
      /^units\[0\]\.name: a unit the cluster/,
    );
    expect(
      bad(
        { units: [{ name: "hello.service", contents: "[Service]\n" }] },
        {
          units: [
            {
              name: "hello.service",
              contents:
                "[Service]\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n",
            },
          ],
        },
      ),
    ).toEqual([expect.stringMatching(/not already given to the cluster/)]);
    expect(bad({ nodes: [{ name: "core-09" }] })).toEqual([
      "nodes[0]: a node of the cluster: core-01, core-02, core-03",
    ]);
    expect(bad({ nodes: [{ name: "core-01" }], preferredNodes: [{ name: "core-02" }] })).toEqual([
      "preferredNodes: nodes that may run the service: core-01",
    ]);
    expect(bad({ failback: Failback.IMMEDIATE })).toEqual([
      expect.stringMatching(/^failback: Failback.NEVER without preferredNodes/),
    ]);
    expect(
      bad({ preferredNodes: [{ name: "core-01" }], failback: Failback.between(3, 24) }),
    ).toEqual(["failback.endHour: an hour of the day, 0-23 (UTC)"]);
    expect(
      bad({ maxFailovers: -1, restartAttempts: 11, failoverPeriod: Duration.seconds(5) }),
    ).toEqual([
      "maxFailovers: a whole number from 0 to 100",
      "failoverPeriod: from 60s to 2592000s",
      "restartAttempts: a whole number from 0 to 10",
    ]);
    expect(bad({ healthCheck: ServiceHealthCheck.http(0, "no slash") })).toEqual([
      "healthCheck.port: a port 1-65535",
      "healthCheck.path: an absolute URL path of printable ASCII without spaces, at most 1024 characters",
    ]);
    expect(
      bad({
        healthCheck: ServiceHealthCheck.command("pg_isready\nrm -rf /", {
          interval: Duration.seconds(1),
          timeout: Duration.seconds(1),
        }),
      }),
    ).toEqual([
      "healthCheck.timeout: shorter than the interval (1000ms)",
      "healthCheck.command: one line of shell, 1-1024 printable ASCII characters",
    ]);
    expect(bad({ leaseTtl: Duration.millis(8500) })).toEqual([
      "leaseTtl: whole seconds (etcd leases count seconds)",
    ]);
    expect(bad({ leaseTtl: Duration.seconds(6), stopTimeout: Duration.seconds(5) })).toEqual([
      expect.stringMatching(/^leaseTtl: at least 10000ms with stopTimeout 5000ms/),
    ]);
  });

  it("renders each node's Ignition once, from the plan with every service: cluster, Vagrant and AWS carry the agent", () => {
    const { stack, cluster, make } = stackWith({
      nodeCount: 3,
      networkCidr: "192.168.56.0/21",
      subnetCidrs: ["192.168.56.0/24", "192.168.57.0/24"],
      firstHostNumber: 10,
    });
    make("cache");
    const vagrant = new VagrantCluster(stack, "local", { cluster });
    const aws = new AwsCluster(stack, "aws", { cluster });
    const node = cluster.plan.nodes[1];
    // Rendered afresh from the final plan: the text every target got.
    const fresh = renderIgnitionJson(cluster.plan, node);
    expect(cluster.nodes[1].ignition).toBe(fresh);
    expect(vagrant.plan.nodes[1].ignition).toBe(fresh);
    // EC2 user data (16 KiB): too large as it is, the config travels gzipped inside one that
    // replaces itself with it; the machine gets the same files and units.
    const userData = JSON.parse(aws.plan.nodes[1].userData.replaceAll("$${", "${"));
    const replace = userData.ignition.config.replace;
    expect(replace.compression).toBe("gzip");
    expect(Buffer.byteLength(aws.plan.nodes[1].userData)).toBeLessThanOrEqual(16384);
    const inner = JSON.parse(
      gunzipSync(Buffer.from(replace.source.replace(/^data:;base64,/, ""), "base64")).toString(),
    ) as Ignition;
    const machine = (ign: Ignition) => ({
      units: ign.systemd.units,
      files: ign.storage.files.map((f) => [f.path, f.mode, fileText(f)]),
    });
    expect(machine(inner)).toEqual(machine(JSON.parse(fresh)));
    const units = (JSON.parse(fresh) as Ignition).systemd.units.map((u) => u.name);
    expect(units).toEqual(
      expect.arrayContaining(["failover-db.service", "failover-cache.service"]),
    );
  });

  it("reading a node's Ignition fixes the plan: a service added later is refused, never left out", () => {
    const { cluster, make } = stackWith();
    const before = cluster.nodes[0].ignition;
    expect(() => make("late")).toThrow(/"late" added after a target read the cluster/);
    expect(cluster.nodes[0].ignition).toBe(before);
    expect(before).toContain("failover-db.service");
  });

  it("refuses a second service of the same name, and a service added after a target read the cluster", () => {
    const { make, stack, cluster } = stackWith();
    expect(() => make("db2", { name: "db" })).toThrow(/name: .*no other failover service/s);
    new VagrantCluster(stack, "local", { cluster });
    expect(() => make("late")).toThrow(/added after a target read the cluster/);
  });
});

describe("FailoverService: what every node gets", () => {
  function synth(
    clusterProps: CoreOsClusterProps = { nodeCount: 3 },
    service: Partial<FailoverServiceProps> = {},
  ) {
    const s = stackWith(clusterProps, {
      healthCheck: ServiceHealthCheck.command(`pg_isready -h '$HOST' && test "$(cat /run/x)" = ok`),
      ...service,
    });
    s.make("cache");
    s.app.synth();
    const dir = path.join(s.outdir, "stacks", "test", "clusters", "core");
    const ign = (node: string) =>
      JSON.parse(fs.readFileSync(path.join(dir, "ignition", `${node}.ign`), "utf8")) as Ignition;
    return { ...s, dir, ign };
  }

  it("installs the units disabled and bound to an enabled agent, with the stop timeout the lease covers", () => {
    const { ign, db } = synth();
    const units = ign("core-02").systemd.units;
    const dbUnit = units.find((u) => u.name === "db.service");
    expect(dbUnit).toMatchObject({ enabled: false, contents: DB_UNIT });
    const dropin = dbUnit?.dropins?.find((d) => d.name === "50-failover.conf")?.contents ?? "";
    expect(dropin).toContain("BindsTo=failover-db.service");
    expect(dropin).toContain(`TimeoutStopSec=${db.timing.stopTimeoutMs}ms`);
    const agent = units.find((u) => u.name === "failover-db.service");
    expect(agent?.enabled).toBe(true);
    expect(agent?.contents).toContain(`ExecStart=${FAILOVER_AGENT_PATH} ${failoverConfPath("db")}`);
    // etcdctl from the image the members run, the reference as the cluster names it.
    expect(agent?.contents).toContain(
      `ExecStartPre=${INSTALL_ETCDCTL_PATH} /usr/bin/docker quay.io/coreos/etcd:v3.5.21 ${NODE_ETCDCTL_PATH}`,
    );
    expect(units.map((u) => u.name)).toEqual(
      expect.arrayContaining(["cache.service", "failover-cache.service"]),
    );
  });

  it("writes one agent script for all services, and each service's config as sh reads it", () => {
    const { ign, db } = synth();
    const node = ign("core-03");
    expect(node.storage.files.filter((f) => f.path === FAILOVER_AGENT_PATH)).toHaveLength(1);
    expect(fileOf(node, FAILOVER_AGENT_PATH).mode).toBe(0o755);
    const conf = fileOf(node, failoverConfPath("db"));
    expect(conf.mode).toBe(0o644);
    const v = sourceConf(conf.text, [
      "SERVICE",
      "CANDIDATES",
      "LEASE_TTL",
      "FENCE_AFTER_MS",
      "STOP_TIMEOUT_MS",
      "CHECK_COMMAND",
      "ETCDCTL",
      "ETCDCTL_ENDPOINTS",
      "ETCDCTL_CACERT",
      "ETCDCTL_CERT",
      "ETCDCTL_KEY",
    ]);
    expect(v).toEqual({
      SERVICE: "db",
      CANDIDATES: "core-01 core-02 core-03",
      LEASE_TTL: "10",
      FENCE_AFTER_MS: String(db.timing.fenceAfterMs),
      STOP_TIMEOUT_MS: String(db.timing.stopTimeoutMs),
      // The command reaches the agent verbatim: nothing in it is expanded by the config.
      CHECK_COMMAND: `pg_isready -h '$HOST' && test "$(cat /run/x)" = ok`,
      ETCDCTL: NODE_ETCDCTL_PATH,
      // Mutual TLS with the node's own client certificate from the etcd PKI.
      ETCDCTL_ENDPOINTS:
        "https://192.168.56.101:2379,https://192.168.56.102:2379,https://192.168.56.103:2379",
      ETCDCTL_CACERT: ETCD_TLS_FILES.ca,
      ETCDCTL_CERT: ETCD_TLS_FILES.clientCert,
      ETCDCTL_KEY: ETCD_TLS_FILES.clientKey,
    });
    // The files it names are on the node: the CA, and the key readable by root only.
    expect(fileOf(node, ETCD_TLS_FILES.clientKey).mode).toBe(0o600);
    expect(fileOf(node, ETCD_TLS_FILES.ca).text).toContain("BEGIN CERTIFICATE");
  });

  it("summarizes each service for the CLI next to cluster.json", () => {
    const { dir } = synth();
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "services", "db.json"), "utf8"));
    expect(summary).toMatchObject({
      name: "db",
      cluster: "core",
      units: ["db.service"],
      nodes: ["core-01", "core-02", "core-03"],
    });
    expect(fs.existsSync(path.join(dir, "services", "cache.json"))).toBe(true);
  });

  it("runs the etcdctl copy with podman on Fedora CoreOS", () => {
    const { ign } = synth({
      nodeCount: 3,
      os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.STABLE),
    });
    const agent = ign("core-01").systemd.units.find((u) => u.name === "failover-db.service");
    expect(agent?.contents).toContain("install-etcdctl /usr/bin/podman quay.io/coreos/etcd:");
  });

  it("copies etcdctl out of the pinned etcd image, by digest, when the cluster pins it", () => {
    const pinned = `quay.io/coreos/etcd:v3.5.21@sha256:${"ab".repeat(32)}`;
    const { ign } = synth({ nodeCount: 3, etcd: { image: ContainerImage.pinned(pinned) } });
    const agent = ign("core-01").systemd.units.find((u) => u.name === "failover-db.service");
    expect(agent?.contents).toContain(
      `ExecStartPre=${INSTALL_ETCDCTL_PATH} /usr/bin/docker ${pinned} ${NODE_ETCDCTL_PATH}`,
    );
    const member = ign("core-01").systemd.units.find((u) => u.name === "etcd-member.service");
    expect(member?.contents).toContain(` ${pinned} /usr/local/bin/etcd`);
  });

  it("speaks plain http to etcd only when the cluster disables TLS", () => {
    const { ign } = synth({ nodeCount: 3, etcd: { tls: EtcdTls.disabled() } });
    const v = sourceConf(fileOf(ign("core-01"), failoverConfPath("db")).text, [
      "ETCDCTL_ENDPOINTS",
      "ETCDCTL_CACERT",
      "ETCDCTL_KEY",
    ]);
    expect(v).toEqual({
      ETCDCTL_ENDPOINTS:
        "http://192.168.56.101:2379,http://192.168.56.102:2379,http://192.168.56.103:2379",
      ETCDCTL_CACERT: "",
      ETCDCTL_KEY: "",
    });
  });

  it("adds a front listener whose members are the nodes that may run the service", () => {
    const { stack, cluster, make } = stackWith();
    const front = new NlbFront(stack, "front");
    front
      .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("web", { targets: [cluster], port: 8080 });
    make("pg", {
      nodes: [cluster.nodeNamed("core-01"), cluster.nodeNamed("core-02")],
      listener: { front, port: 5432 },
    });
    const plan = front.plan("test");
    const pg = plan.listeners.find((l) => l.name === "pg");
    expect(pg?.targetGroup.members.map((m) => [m.name, m.standby])).toEqual([
      ["core-01", false],
      ["core-02", false],
    ]);
  });

  describeWithTool("ignition-validate", "ignition", "ignition-validate", () => {
    it("accepts every node's config with services (Flatcar and Fedora CoreOS)", () => {
      for (const os of [undefined, OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.STABLE)]) {
        const { dir } = synth({ nodeCount: 3, ...(os ? { os } : {}) });
        for (const node of ["core-01", "core-02", "core-03"]) {
          const r = spawnSync("ignition-validate", [path.join(dir, "ignition", `${node}.ign`)], {
            encoding: "utf8",
          });
          expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({
            status: 0,
            out: "",
          });
        }
      }
    });
  });

  describeWithRequirement(
    fs.existsSync(IGNITION_ENGINE),
    "the Ignition engine",
    `${IGNITION_ENGINE} not found: apt-get install ignition (its dracut module holds the engine)`,
    "the Ignition engine",
    () => {
      it("applies a node's config to a scratch root: the agent arrives byte for byte, its config and the drop-in too", () => {
        const { dir, ign } = synth();
        const root = new ScratchRoot();
        try {
          expect(root.applyIgnition(path.join(dir, "ignition", "core-02.ign"))).toContain(
            "files passed",
          );
          const agent = root.at(FAILOVER_AGENT_PATH);
          expect(fs.readFileSync(agent, "utf8")).toBe(
            fileOf(ign("core-02"), FAILOVER_AGENT_PATH).text,
          );
          expect(fs.statSync(agent).mode & 0o777).toBe(0o755);
          expect(fs.readFileSync(root.at(failoverConfPath("db")), "utf8")).toContain(
            "SERVICE='db'",
          );
          expect(
            fs.readFileSync(root.at("/etc/systemd/system/db.service.d/50-failover.conf"), "utf8"),
          ).toContain("BindsTo=failover-db.service");
          // enabled-units.test.ts checks what systemd starts at boot from this config.
        } finally {
          root.cleanup();
        }
      });
    },
  );

  describeWithTool("shellcheck", "shellcheck", "shellcheck on the agent", () => {
    it("finds nothing in the agent and its etcdctl installer, as POSIX sh; dash and bash parse them", () => {
      const { ign } = synth();
      const dir = tempOutdir();
      for (const p of [FAILOVER_AGENT_PATH, INSTALL_ETCDCTL_PATH]) {
        const file = path.join(dir, path.basename(p));
        fs.writeFileSync(file, fileOf(ign("core-01"), p).text);
        const r = spawnSync("shellcheck", ["-s", "sh", file], { encoding: "utf8" });
        expect(r.stdout).toBe("");
        expect(r.status).toBe(0);
        for (const sh of ["dash", "bash"]) expect(spawnSync(sh, ["-n", file]).status).toBe(0);
      }
    });
  });
});
