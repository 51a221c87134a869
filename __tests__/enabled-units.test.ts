import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { Testing, TerraformStack } from "cdktf";
import { CoreOsClusterStack } from "../main";
import { CoreOsCluster, FailoverService, OperatingSystem, VagrantCluster, NlbFront } from "../lib";
import { AwsCluster } from "../lib/aws";
import { READY_CHECK_PATH } from "../lib/render/ready-check";
import { IGNITION_ENGINE, ScratchRoot } from "./support/ignition-engine";
import { tempOutdir } from "./support/synth";
import { describeWithRequirement, hasCommand } from "./support/tools";

/*
 * Issue 17, point 1: every unit a config marks enabled starts at boot, also
 * when Ignition runs on a machine that booted before (VirtualBox: the box
 * boots once, then Ignition applies the cluster's config on the reboot).
 * The real Ignition engine (Debian's `ignition`, the one its initramfs module
 * runs) applies each generated config to a scratch root that looks like a
 * Flatcar root after its first boot — machine id present, so systemd would
 * not apply presets again. Then systemd's own tools read that root:
 * `systemctl --root is-enabled`, `systemd-analyze verify --root`, and the
 * boot transaction from default.target through the .wants/.requires links.
 * Stand-ins: the OS's units (Flatcar's etcd-member, docker, locksmithd with
 * Flatcar's [Install] sections), empty programs for what units start, and a
 * no-op `setfiles` for Ignition's SELinux relabeling.
 */

type Unit = { name: string; enabled?: boolean; contents?: string };
type Config = { systemd: { units: Unit[] }; storage: { links?: unknown[] } };

/** What a machine applies: the config, or the one a compressed config replaces itself with. */
function configOf(ignition: string): Config {
  const config = JSON.parse(ignition);
  const replace = config.ignition?.config?.replace;
  if (!replace) return config as Config;
  const gz = Buffer.from(String(replace.source).replace(/^data:;base64,/, ""), "base64");
  return JSON.parse(gunzipSync(gz).toString("utf8")) as Config;
}

interface Case {
  readonly label: string;
  readonly ignition: string;
}

function defaultStackConfigs(): Case[] {
  const outdir = tempOutdir();
  try {
    const app = Testing.app({ outdir });
    const stack = new CoreOsClusterStack(app, "coreos-cluster");
    app.synth();
    const dir = path.join(outdir, "stacks", "coreos-cluster", stack.vagrant.directory, "ignition");
    return fs.readdirSync(dir).map((f) => ({
      label: `default stack ${f.replace(".ign", "")}`,
      ignition: fs.readFileSync(path.join(dir, f), "utf8"),
    }));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** More shapes of units: a timer, RequiredBy + Alias, an OS unit enabled without contents, an etcd client. */
function otherConfigs(): Case[] {
  const app = Testing.app();
  const stack = new TerraformStack(app, "other");
  const cluster = new CoreOsCluster(stack, "core", {
    nodeCount: 4,
    etcd: { members: 3 },
    units: [
      {
        name: "backup.service",
        contents: "[Service]\nType=oneshot\nExecStart=/usr/bin/echo backup\n",
        enabled: false,
      },
      {
        name: "backup.timer",
        contents: "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n",
      },
      {
        name: "metrics.service",
        contents:
          "[Service]\nExecStart=/usr/bin/echo metrics\n[Install]\nRequiredBy=multi-user.target\nAlias=stats.service\n",
      },
      { name: "docker.service", enabled: true },
    ],
  });
  const front = new NlbFront(stack, "front");
  front.addListener("tcp", { port: 5432 }).addTargets("db", { targets: [cluster], port: 5432 });
  const single = new VagrantCluster(stack, "local", {
    cluster,
    front,
    frontHighAvailability: false,
  });
  const fcosStack = new TerraformStack(app, "fcos");
  const fcos = new CoreOsCluster(fcosStack, "core", {
    nodeCount: 1,
    os: OperatingSystem.fedoraCoreOs(),
    networkCidr: "10.0.0.0/24",
  });
  // A failover service: its units disabled (the agent starts them), its agent enabled; on
  // AWS the node's config travels compressed in the user data (Ignition's config.replace).
  const svcStack = new TerraformStack(app, "svc");
  const svcCluster = new CoreOsCluster(svcStack, "core", {
    nodeCount: 3,
    networkCidr: "192.168.56.0/21",
    subnetCidrs: ["192.168.56.0/24", "192.168.57.0/24"],
    firstHostNumber: 10,
  });
  new FailoverService(svcStack, "db", {
    cluster: svcCluster,
    units: [{ name: "db.service", contents: "[Service]\nExecStart=/usr/bin/echo db\n" }],
  });
  const aws = new AwsCluster(svcStack, "aws", { cluster: svcCluster });
  return [
    { label: "node with a failover service", ignition: svcCluster.nodes[0].ignition },
    {
      label: "AWS node with a failover service (compressed user data)",
      ignition: aws.plan.nodes[1].userData,
    },
    {
      label: "etcd member with timer, RequiredBy, Alias, OS unit",
      ignition: cluster.nodes[0].ignition,
    },
    { label: "etcd client core-04", ignition: cluster.nodes[3].ignition },
    { label: "single front (no keepalived)", ignition: single.plan.front!.machines[0].ignition },
    { label: "Fedora CoreOS member (AWS target)", ignition: fcos.nodes[0].ignition },
  ];
}

const available =
  fs.existsSync(IGNITION_ENGINE) && hasCommand("systemctl") && hasCommand("systemd-analyze");

describeWithRequirement(
  available,
  "the Ignition engine and systemd's tools",
  `${IGNITION_ENGINE}, systemctl or systemd-analyze missing: install the Debian packages "ignition" and "systemd"`,
  "enabled units start after Ignition on an already-booted machine (real Ignition engine)",
  () => {
    jest.setTimeout(120_000);
    const cases = [...defaultStackConfigs(), ...otherConfigs()];

    it("covers every kind of machine and unit the project enables", () => {
      const enabled = new Set(
        cases.flatMap((c) =>
          configOf(c.ignition)
            .systemd.units.filter((u) => u.enabled)
            .map((u) => u.name),
        ),
      );
      expect([...enabled].sort()).toEqual([
        "backup.timer",
        "docker.service",
        "etcd-member-leave.service",
        "etcd-member-promote.service",
        "etcd-member.service",
        "failover-db.service",
        "haproxy.service",
        "hello.service",
        "keepalived.service",
        "metrics.service",
        "vrrp-peer-only.service",
      ]);
    });

    describe.each(cases)("$label", ({ ignition }) => {
      const config = configOf(ignition);
      const enabled = config.systemd.units.filter((u) => u.enabled).map((u) => u.name);
      let root: ScratchRoot;
      beforeAll(() => {
        root = new ScratchRoot();
        const file = path.join(root.dir, "config.ign");
        fs.writeFileSync(file, ignition);
        expect(root.applyIgnition(file)).toContain("files passed");
      });
      afterAll(() => root?.cleanup());

      it("systemctl --root says every enabled unit is enabled", () => {
        expect(root.isEnabled(enabled)).toEqual(
          Object.fromEntries(enabled.map((u) => [u, "enabled"])),
        );
      });

      it("systemd would start every enabled unit from default.target; no link dangles", () => {
        const { started, dangling } = root.bootTransaction();
        expect(dangling).toEqual([]);
        for (const unit of enabled) expect(started).toContain(unit);
      });

      it("systemd-analyze verify accepts the units, read inside the root", () => {
        const written = config.systemd.units.filter((u) => u.contents || u.enabled);
        const r = root.verify(written.map((u) => u.name));
        expect(r).toEqual({ status: 0, output: "" });
      });

      it("writes the ready check as an executable shell script", () => {
        const check = root.at(READY_CHECK_PATH);
        expect(fs.statSync(check).mode & 0o777).toBe(0o755);
        expect(spawnSync("sh", ["-n", check]).status).toBe(0);
      });
    });

    it("container units keep retrying while a pull fails: no start limit, at least 5 s apart", () => {
      const restarting = cases.flatMap((c) =>
        configOf(c.ignition).systemd.units.filter((u) =>
          /^Restart=(always|on-failure)/m.test(u.contents ?? ""),
        ),
      );
      expect(new Set(restarting.map((u) => u.name))).toEqual(
        new Set([
          "etcd-member.service",
          "failover-db.service",
          "haproxy.service",
          "hello.service",
          "keepalived.service",
        ]),
      );
      for (const unit of restarting) {
        const section = (name: string) =>
          (unit.contents ?? "").split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? "";
        expect([unit.name, section("Unit")]).toEqual([
          unit.name,
          expect.stringMatching(/^StartLimitIntervalSec=0$/m),
        ]);
        const restartSec = /^RestartSec=(\d+)s$/m.exec(section("Service"));
        expect([unit.name, Number(restartSec?.[1])]).toEqual([unit.name, expect.any(Number)]);
        expect(Number(restartSec?.[1])).toBeGreaterThanOrEqual(5);
      }
    });

    it.each([
      "node with a failover service",
      "AWS node with a failover service (compressed user data)",
    ])("%s: only the agent starts at boot; the service's units wait for it", (label) => {
      const c = cases.find((x) => x.label === label) as Case;
      const root = new ScratchRoot();
      try {
        const file = path.join(root.dir, "config.ign");
        fs.writeFileSync(file, c.ignition);
        root.applyIgnition(file);
        expect(root.isEnabled(["failover-db.service", "db.service"])).toEqual({
          "failover-db.service": "enabled",
          // No [Install] section: nothing could enable it ("static"); never "enabled".
          "db.service": expect.stringMatching(/^(disabled|static)$/),
        });
        const { started } = root.bootTransaction();
        expect(started).toContain("failover-db.service");
        expect(started).not.toContain("db.service");
      } finally {
        root.cleanup();
      }
    });

    it("systemd-analyze verify reports a misplaced directive (the check is real)", () => {
      const member = cases.find((c) => c.label === "default stack core-01") as Case;
      const config = JSON.parse(member.ignition);
      const hello = config.systemd.units.find((u: Unit) => u.name === "hello.service");
      hello.contents = hello.contents.replace(
        "[Service]\n",
        "[Service]\nStartLimitIntervalSec=0\n",
      );
      const root = new ScratchRoot();
      try {
        const file = path.join(root.dir, "config.ign");
        fs.writeFileSync(file, JSON.stringify(config));
        root.applyIgnition(file);
        expect(root.verify(["hello.service"]).output).toContain(
          "Unknown key 'StartLimitIntervalSec' in section [Service]",
        );
      } finally {
        root.cleanup();
      }
    });

    it("without the links, Ignition's preset alone leaves the units disabled (the check can fail)", () => {
      const member = cases.find((c) => c.label === "default stack core-01") as Case;
      const config = JSON.parse(member.ignition);
      delete config.storage.links;
      const root = new ScratchRoot();
      try {
        const file = path.join(root.dir, "config.ign");
        fs.writeFileSync(file, JSON.stringify(config));
        root.applyIgnition(file);
        const preset = fs.readFileSync(
          root.at("/etc/systemd/system-preset/20-ignition.preset"),
          "utf8",
        );
        expect(preset).toContain("enable etcd-member.service");
        expect(preset).toContain("enable hello.service");
        expect(root.isEnabled(["etcd-member.service", "hello.service"])).toEqual({
          "etcd-member.service": "disabled",
          "hello.service": "disabled",
        });
        expect(root.bootTransaction().started).not.toContain("etcd-member.service");
      } finally {
        root.cleanup();
      }
    });
  },
);
