import { freshTestState, testApp } from "./support/state";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TerraformStack } from "cdktf";
import {
  Balancing,
  ClientAffinity,
  ClusterConfigError,
  CoreOsCluster,
  Duration,
  FrontProtocol,
  FrontTargets,
  HealthCheckProtocol,
  LifecycleResource,
  NlbFront,
  TargetGroupProps,
  VagrantCluster,
} from "../lib";
import { renderHaproxyCfg } from "../lib/render/haproxy";
import { renderKeepalivedConf } from "../lib/render/keepalived";
import { StandIns } from "./support/stand-ins";
import { describeWithTool } from "./support/tools";

function setup(nodeCount = 3, standby = 0) {
  const stack = new TerraformStack(testApp(), "test");
  const cluster = new CoreOsCluster(stack, "core", { nodeCount, standby });
  const front = new NlbFront(stack, "front");
  return { stack, cluster, front };
}

function issueLine(fn: () => unknown, prop: string): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterConfigError);
    const line = (e as Error).message.split("\n").find((l) => l.startsWith(`  - ${prop}:`));
    if (line) return line;
    throw new Error(`no issue for ${prop} in:\n${(e as Error).message}`);
  }
  throw new Error("accepted");
}

describe("NlbFront model", () => {
  it("resolves defaults: TCP listener, round robin, no affinity, HTTP check for HTTP listeners", () => {
    const { cluster, front } = setup(4, 1);
    front.addListener("raw", { port: 9000 }).addTargets("raw", { targets: [cluster], port: 9090 });
    front
      .addListener("web", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("web", { targets: [cluster], port: 8080 });
    front.drain(cluster.nodes[1]);
    const plan = front.plan();
    const [raw, web] = plan.listeners;
    expect(raw.protocol).toBe(FrontProtocol.TCP);
    expect(raw.targetGroup.healthCheck).toMatchObject({
      protocol: HealthCheckProtocol.TCP,
      port: 9090,
    });
    expect(web.targetGroup.healthCheck).toMatchObject({
      protocol: HealthCheckProtocol.HTTP,
      path: "/",
    });
    expect(web.targetGroup.balancing).toBe(Balancing.ROUND_ROBIN);
    expect(web.targetGroup.affinity).toBe(ClientAffinity.NONE);
    expect(web.targetGroup.activeCount).toBe(3);
    expect(web.targetGroup.members.map((m) => [m.name, m.standby, m.draining])).toEqual([
      ["core-01", false, false],
      ["core-02", false, true],
      ["core-03", false, false],
      ["core-04", true, false],
    ]);
  });

  it("takes hosts that are not a cluster", () => {
    const { front } = setup();
    front.addListener("db", { port: 5432 }).addTargets("db", {
      targets: [
        FrontTargets.host("db-1", "10.0.0.5"),
        FrontTargets.host("db-2", "10.0.0.6", { standby: true }),
      ],
      port: 5432,
    });
    expect(front.plan().listeners[0].targetGroup.members.map((m) => m.name)).toEqual([
      "db-1",
      "db-2",
    ]);
  });

  it("refuses changes after a target read it", () => {
    const { cluster, front } = setup();
    front.addListener("web", { port: 80 }).addTargets("web", { targets: [cluster], port: 80 });
    front.plan("VagrantCluster x");
    expect(() => front.addListener("late", { port: 81 })).toThrow(
      /after VagrantCluster x read the front/,
    );
  });

  const bad: [string, (s: ReturnType<typeof setup>) => unknown, string, string][] = [
    ["port 0", ({ front }) => front.addListener("web", { port: 0 }), "port", "1-65535"],
    [
      "duplicate port",
      ({ front }) => {
        front.addListener("a", { port: 80 });
        front.addListener("b", { port: 80 });
      },
      "port",
      'not used by listener "a"',
    ],
    [
      "bad protocol",
      ({ front }) => front.addListener("a", { port: 80, protocol: "udp" as FrontProtocol }),
      "protocol",
      "tcp | http",
    ],
    ["bad listener id", ({ front }) => front.addListener("Web", { port: 80 }), "id", "a-z 0-9"],
  ];
  const group = (props: Partial<TargetGroupProps>) => (s: ReturnType<typeof setup>) =>
    s.front.addListener("web", { port: 80, protocol: FrontProtocol.HTTP }).addTargets("web", {
      targets: [s.cluster],
      port: 8080,
      ...props,
    });
  bad.push(
    ["no targets", group({ targets: [] }), "targets", "one or more targets"],
    ["target port", group({ port: 70000 }), "port", "1-65535"],
    [
      "balancing",
      group({ balancing: "random" as Balancing }),
      "balancing",
      "round_robin | least_connections",
    ],
    [
      "affinity",
      group({ affinity: "class-c" as ClientAffinity }),
      "affinity",
      "none | single | network",
    ],
    [
      "check path",
      group({ healthCheck: { path: "health" } }),
      "healthCheck.path",
      "absolute URL path",
    ],
    [
      "check timeout over interval",
      group({ healthCheck: { interval: Duration.seconds(1), timeout: Duration.seconds(2) } }),
      "healthCheck.timeout",
      "at most the interval (1s)",
    ],
    [
      "check interval",
      group({ healthCheck: { interval: Duration.millis(10) } }),
      "healthCheck.interval",
      "100 ms to 300 s",
    ],
    [
      "threshold",
      group({ healthCheck: { unhealthyThreshold: 0 } }),
      "healthCheck.unhealthyThreshold",
      "1-10",
    ],
    [
      "duplicate member",
      (s) =>
        s.front.addListener("web", { port: 80 }).addTargets("web", {
          targets: [s.cluster, FrontTargets.host("core-01", "10.0.0.9")],
          port: 80,
        }),
      "targets[1]",
      "each member once",
    ],
    [
      "drain of an unknown node",
      (s) => {
        group({})(s);
        s.front.drain({ name: "core-09" });
        s.front.plan();
      },
      "drain",
      "a member of the front: core-01, core-02, core-03",
    ],
    [
      "drain of every member",
      (s) => {
        group({})(s);
        s.cluster.nodes.forEach((n) => s.front.drain(n));
        s.front.plan();
      },
      "drain",
      'at least one active member of "web" not draining',
    ],
    ["no listeners", (s) => s.front.plan(), "listeners", "at least one listener"],
    [
      "retry timeout",
      group({ retryTimeout: Duration.millis(50) }),
      "retryTimeout",
      "a Duration of whole milliseconds from 100 ms to 10 minutes",
    ],
    [
      "retry timeout on TCP",
      (s) =>
        s.front.addListener("raw", { port: 9000 }).addTargets("raw", {
          targets: [s.cluster],
          port: 9090,
          retryTimeout: Duration.seconds(1),
        }),
      "retryTimeout",
      "left out on TCP listeners",
    ],
  );
  it.each(bad)("rejects %s with prop, value and what is allowed", (_l, act, prop, allowed) => {
    expect(issueLine(() => act(setup()), prop)).toContain(allowed);
  });
});

describe("the local front's failover timing", () => {
  function cfg(retryTimeout?: Duration): string {
    const { cluster, front } = setup();
    front
      .addListener("web", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("web", { targets: [cluster], port: 8080, retryTimeout });
    front.addListener("raw", { port: 9000 }).addTargets("raw", { targets: [cluster], port: 9090 });
    const plan = front.plan("test");
    return renderHaproxyCfg(plan, {
      bindAddress: "192.168.56.10",
      statsSocket: "/s",
      monitorPort: 8404,
    });
  }
  const section = (text: string, name: string) =>
    text.split(`\nbackend ${name}\n`)[1].split("\n\n")[0];

  it("HTTP: idempotent requests wait retryTimeout (1.5 s by default) for an answer, then go to another node", () => {
    expect(section(cfg(), "be_web")).toContain(
      "http-request set-timeout server 1500ms if idempotent",
    );
    expect(section(cfg(Duration.seconds(30)), "be_web")).toContain(
      "set-timeout server 30000ms if idempotent",
    );
    // Closing sessions of a node marked down would cut the requests the retry saves.
    expect(section(cfg(), "be_web")).not.toContain("shutdown-sessions");
  });

  it("TCP: connections of a node marked down are closed at once; runtime states survive reloads", () => {
    expect(section(cfg(), "be_raw")).toMatch(
      /default-server .* on-marked-down shutdown-sessions$/m,
    );
    expect(cfg()).toContain("server-state-file /var/lib/haproxy/server-state\n");
    expect(cfg()).toContain("load-server-state-from-file global\n");
  });

  it("keepalived: VRRPv3 adverts every 0.3 s; a failed HAProxy probe gives the address up at once", () => {
    const conf = renderKeepalivedConf({
      routerName: "front-01",
      interface: "eth1",
      virtualRouterId: 7,
      priority: 150,
      address: "192.168.56.11",
      peers: ["192.168.56.12"],
      virtualAddress: "192.168.56.10",
      prefixLength: 21,
      monitorPort: 8404,
    });
    expect(conf).toMatch(/version 3\n\s+advert_int 0\.3\n/);
    // VRRPv3 carries no authentication: adverts count only from the peer.
    expect(conf).toMatch(/check_unicast_src\n\s+unicast_peer \{\n\s+192\.168\.56\.12\n/);
    expect(conf).not.toContain("authentication");
    expect(conf).toMatch(/interval 1\n\s+timeout 3\n\s+fall 1\n/);
  });
});

/** One state folder for every version of the front stack: the same certificates throughout. */
const frontState = freshTestState();

/** The default-like stack: 3 nodes behind an HA front, synthesized to disk. */
function synthFrontStack(options: { ha?: boolean; drain?: string } = {}, outdir?: string) {
  const dir = outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), "front-stack-"));
  const app = testApp({ outdir: dir, stateDir: frontState });
  const stack = new TerraformStack(app, "test");
  const cluster = new CoreOsCluster(stack, "core", { nodeCount: 3 });
  const front = new NlbFront(stack, "front");
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: 8080 });
  front.addListener("tcp", { port: 5000 }).addTargets("raw", { targets: [cluster], port: 5000 });
  if (options.drain) front.drain(cluster.nodeNamed(options.drain));
  const vagrant = new VagrantCluster(stack, "local", {
    cluster,
    front,
    frontHighAvailability: options.ha,
    lifecycle: LifecycleResource.TERRAFORM_DATA,
  });
  app.synth();
  const stackDir = path.join(dir, "stacks", "test");
  const config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  return { vagrant, stackDir, vagrantDir: path.join(stackDir, vagrant.directory), config };
}

type Data = Record<string, { triggers_replace: { inputs: string }; depends_on?: string[] }>;

describe("the front in the Vagrant environment", () => {
  const base = synthFrontStack();
  const data = base.config.resource.terraform_data as Data;

  it("adds two front machines and a config step each, after the nodes", () => {
    expect(base.vagrant.frontAddress).toBe("192.168.56.10");
    expect(
      Object.keys(data)
        .filter((k) => k.includes("front"))
        .sort(),
    ).toEqual([
      "vagrant_core_front-01",
      "vagrant_core_front-01-config",
      "vagrant_core_front-02",
      "vagrant_core_front-02-config",
    ]);
    expect(data["vagrant_core_front-01"].depends_on).toContain(
      "terraform_data.vagrant_core_core-03",
    );
    const configRb = fs.readFileSync(path.join(base.vagrantDir, "config.rb"), "utf8");
    expect(configRb).toContain(
      '$front_ips = {\n  "front-01" => "192.168.56.11",\n  "front-02" => "192.168.56.12",\n}',
    );
  });

  it("a drain changes only the config steps: HAProxy reloads, no machine is replaced", () => {
    const drained = synthFrontStack({ drain: "core-02" }).config.resource.terraform_data as Data;
    const changed = Object.keys(data).filter(
      (k) => data[k].triggers_replace.inputs !== drained[k].triggers_replace.inputs,
    );
    expect(changed.sort()).toEqual([
      "vagrant_core_front-01-config",
      "vagrant_core_front-02-config",
    ]);
  });

  it("a single front has no keepalived and binds its own address", () => {
    const single = synthFrontStack({ ha: false });
    expect(single.vagrant.frontAddress).toBe("192.168.56.11");
    const cfg = fs.readFileSync(path.join(single.vagrantDir, "front/haproxy.cfg"), "utf8");
    expect(cfg).toContain("bind 192.168.56.11:80");
    expect(fs.existsSync(path.join(single.vagrantDir, "front/front-01-keepalived.conf"))).toBe(
      false,
    );
  });
});

describeWithTool("haproxy", "haproxy", "haproxy -c on the synthesized haproxy.cfg", () => {
  it("accepts it, and rejects a broken one", () => {
    for (const options of [{}, { ha: false }, { drain: "core-03" }]) {
      const { vagrantDir } = synthFrontStack(options);
      const cfg = path.join(vagrantDir, "front/haproxy.cfg");
      const r = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8", timeout: 30000 });
      expect(`${r.stdout}${r.stderr}`).toContain("Configuration file is valid");
      expect(r.status).toBe(0);
    }
    const { vagrantDir } = synthFrontStack();
    const cfg = path.join(vagrantDir, "front/haproxy.cfg");
    fs.writeFileSync(
      cfg,
      fs.readFileSync(cfg, "utf8").replace("balance roundrobin", "balance fastest"),
    );
    expect(spawnSync("haproxy", ["-c", "-f", cfg], { timeout: 30000 }).status).not.toBe(0);
  });
});

describeWithTool(
  "keepalived",
  "keepalived",
  "keepalived -t on the synthesized keepalived.conf",
  () => {
    // keepalived checks that the interface exists: map eth1 to an interface of this machine.
    const iface = fs.readdirSync("/sys/class/net").find((n) => n !== "lo") ?? "lo";
    const check = (file: string) => {
      const mapped = `${file}.mapped`;
      fs.writeFileSync(mapped, fs.readFileSync(file, "utf8").replaceAll("eth1", iface));
      return spawnSync("keepalived", ["-t", "-f", mapped], { encoding: "utf8", timeout: 30000 });
    };

    it("accepts both machines' configs, and rejects a broken one", () => {
      const { vagrantDir } = synthFrontStack();
      for (const m of ["front-01", "front-02"]) {
        const r = check(path.join(vagrantDir, `front/${m}-keepalived.conf`));
        expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: "" });
      }
      const file = path.join(vagrantDir, "front/front-01-keepalived.conf");
      fs.writeFileSync(
        file,
        fs.readFileSync(file, "utf8").replace(/virtual_router_id \d+/, "virtual_router_id 300"),
      );
      expect(check(file).status).not.toBe(0);
    });
  },
);

describeWithTool(
  "ignition-validate",
  "ignition",
  "ignition-validate on the front machines' configs",
  () => {
    it("accepts them", () => {
      const { vagrantDir } = synthFrontStack();
      for (const m of ["front-01", "front-02"]) {
        const r = spawnSync("ignition-validate", [path.join(vagrantDir, `ignition/${m}.ign`)], {
          encoding: "utf8",
          timeout: 30000,
        });
        expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: "" });
      }
    });
  },
);

describeWithTool("vagrant", "vagrant", "vagrant validate with the front machines", () => {
  it("passes with VirtualBox settings checked", () => {
    const standIns = new StandIns().addVBoxManage();
    try {
      const { vagrantDir } = synthFrontStack();
      const r = spawnSync("vagrant", ["validate"], {
        cwd: vagrantDir,
        encoding: "utf8",
        timeout: 60000,
        env: { ...process.env, PATH: standIns.path() },
      });
      expect(r.stdout).toContain("validated successfully");
      const status = spawnSync("vagrant", ["status"], {
        cwd: vagrantDir,
        encoding: "utf8",
        timeout: 60000,
        env: { ...process.env, PATH: standIns.path() },
      });
      expect(status.stdout).toMatch(/front-01\s+not created/);
      expect(status.stdout).toMatch(/front-02\s+not created/);
    } finally {
      standIns.cleanup();
    }
  });
});
