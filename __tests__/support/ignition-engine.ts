import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The Ignition engine of the Debian `ignition` package: it ships inside the
 * package's dracut module (the initramfs runs it on a real machine).
 */
export const IGNITION_ENGINE =
  process.env.IGNITION_ENGINE ?? "/usr/lib/dracut/modules.d/30ignition/ignition";

/** Where the host keeps the systemd targets the scratch root copies. */
const HOST_UNIT_DIR = "/usr/lib/systemd/system";

/** Units Flatcar ships that the cluster's configs rely on, as stand-ins with Flatcar's [Install]. */
const OS_UNITS: Record<string, string> = {
  // Flatcar's etcd-member.service (flatcar/scripts, coreos-overlay app-admin/etcd-wrapper).
  "etcd-member.service": `[Unit]
Description=etcd (System Application Container)
Wants=network-online.target network.target
After=network-online.target

[Service]
Type=notify
Restart=always
RestartSec=10s
TimeoutStartSec=0
Environment="ETCD_IMAGE_TAG=v3.5.16"
Environment="ETCD_DATA_DIR=/var/lib/etcd"
ExecStart=/usr/lib/flatcar/etcd-wrapper $ETCD_OPTS
ExecStop=/usr/bin/docker stop etcd-member

[Install]
WantedBy=multi-user.target
`,
  "docker.socket": `[Unit]
Description=Docker Socket for the API

[Socket]
ListenStream=/run/docker.sock
SocketMode=0660

[Install]
WantedBy=sockets.target
`,
  "docker.service": `[Unit]
Description=Docker Application Container Engine
After=network-online.target docker.socket
Wants=network-online.target
Requires=docker.socket

[Service]
Type=notify
ExecStart=/usr/bin/dockerd --host=fd://

[Install]
WantedBy=multi-user.target
`,
  "locksmithd.service": `[Unit]
Description=Cluster reboot manager

[Service]
ExecStart=/usr/lib/locksmith/locksmithd

[Install]
WantedBy=multi-user.target
`,
};

/** Programs the OS provides that units start; stand-ins are empty executables. */
const OS_PROGRAMS = [
  "/usr/bin/sh",
  "/usr/bin/mkdir",
  "/usr/bin/echo",
  "/usr/bin/docker",
  "/usr/bin/dockerd",
  "/usr/bin/podman",
  "/usr/sbin/iptables",
  "/usr/lib/flatcar/etcd-wrapper",
  "/usr/lib/locksmith/locksmithd",
];

/**
 * A root file system that looks like a Flatcar root after its first boot:
 * a machine id, the `core` user, the OS's units (targets from this host,
 * stand-ins of the Flatcar units the configs use), default.target =
 * multi-user.target. The Ignition engine applies a config to it with
 * `-platform file`, the way the initramfs applies one to /sysroot.
 */
export class ScratchRoot {
  public readonly dir: string;
  public readonly root: string;
  private readonly bin: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "scratch-root-"));
    this.root = path.join(this.dir, "root");
    this.bin = path.join(this.dir, "bin");
    this.build();
  }

  /** Absolute path of a file inside the root. */
  at(file: string): string {
    return path.join(this.root, file);
  }

  private write(file: string, contents: string, mode = 0o644): void {
    fs.mkdirSync(path.dirname(this.at(file)), { recursive: true });
    fs.writeFileSync(this.at(file), contents, { mode });
  }

  private build(): void {
    fs.mkdirSync(this.root);
    fs.symlinkSync("usr/bin", this.at("bin"));
    this.write("/etc/machine-id", `${randomBytes(16).toString("hex")}\n`);
    this.write(
      "/etc/passwd",
      "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500::/home/core:/bin/bash\n",
    );
    this.write("/etc/group", "root:x:0:\ncore:x:500:\n");
    this.write("/etc/shadow", "root:*:1::::::\ncore:*:1::::::\n", 0o600);
    this.write("/etc/gshadow", "root:*::\ncore:!::\n", 0o600);
    fs.mkdirSync(this.at("/home/core"), { recursive: true });
    // Flatcar ships SELinux in permissive mode; Ignition relabels what it wrote (see `setfiles`).
    this.write("/etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=mcs\n");
    const units = this.at("/usr/lib/systemd/system");
    fs.mkdirSync(units, { recursive: true });
    for (const f of fs.readdirSync(HOST_UNIT_DIR).filter((n) => n.endsWith(".target"))) {
      if (f === "default.target") continue;
      fs.copyFileSync(path.join(HOST_UNIT_DIR, f), path.join(units, f));
    }
    fs.symlinkSync("multi-user.target", path.join(units, "default.target"));
    for (const [name, contents] of Object.entries(OS_UNITS)) {
      this.write(`/usr/lib/systemd/system/${name}`, contents);
    }
    for (const program of OS_PROGRAMS) this.write(program, "#!/bin/sh\nexit 0\n", 0o755);
    // What booting once did on Flatcar: the OS's own units enabled by their presets.
    for (const [unit, target] of [
      ["docker.socket", "sockets.target"],
      ["locksmithd.service", "multi-user.target"],
    ]) {
      const wants = this.at(`/etc/systemd/system/${target}.wants`);
      fs.mkdirSync(wants, { recursive: true });
      fs.symlinkSync(`/usr/lib/systemd/system/${unit}`, path.join(wants, unit));
    }
    // SELinux relabeling cannot run here (no policy): a `setfiles` that accepts the file list.
    fs.mkdirSync(this.bin);
    fs.writeFileSync(path.join(this.bin, "setfiles"), "#!/bin/sh\ncat >/dev/null\nexit 0\n", {
      mode: 0o755,
    });
  }

  /**
   * Applies an Ignition config as the initramfs does: the fetch-offline stage
   * reads it (platform `file`), the files stage writes users, files, links
   * and units into the root. Throws with the engine's log on failure.
   */
  applyIgnition(configFile: string): string {
    const run = path.join(this.dir, "run");
    fs.mkdirSync(run, { recursive: true });
    let log = "";
    for (const stage of ["fetch-offline", "files"]) {
      const r = spawnSync(
        IGNITION_ENGINE,
        [
          "-platform=file",
          `-stage=${stage}`,
          `-root=${this.root}`,
          `-config-cache=${path.join(run, "ignition.json")}`,
          `-state-file=${path.join(run, "state")}`,
          `-neednet=${path.join(run, "neednet")}`,
          "-log-to-stdout",
        ],
        {
          encoding: "utf8",
          timeout: 60_000,
          env: {
            ...process.env,
            IGNITION_CONFIG_FILE: configFile,
            PATH: `${this.bin}:${process.env.PATH}`,
          },
        },
      );
      log += `${r.stdout ?? ""}${r.stderr ?? ""}`;
      if (r.status !== 0) throw new Error(`ignition ${stage} failed:\n${log.slice(-4000)}`);
    }
    return log;
  }

  /** `systemctl --root=<root> is-enabled` for each unit: "enabled", "disabled", … */
  isEnabled(units: readonly string[]): Record<string, string> {
    const result: Record<string, string> = {};
    for (const unit of units) {
      const r = spawnSync("systemctl", [`--root=${this.root}`, "is-enabled", unit], {
        encoding: "utf8",
        timeout: 30_000,
      });
      result[unit] = `${r.stdout ?? ""}`.trim() || `${r.stderr ?? ""}`.trim();
    }
    return result;
  }

  /** `systemd-analyze verify` of units inside the root (executables looked up there too). */
  verify(units: readonly string[]): { status: number | null; output: string } {
    const r = spawnSync(
      "systemd-analyze",
      ["verify", "--man=no", `--root=${this.root}`, ...units],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  }

  /** The file a unit name resolves to in the root, following aliases, as systemd loads it. */
  private unitFile(name: string): string | undefined {
    for (const dir of ["/etc/systemd/system", "/usr/lib/systemd/system"]) {
      const candidate = this.at(`${dir}/${name}`);
      if (!fs.existsSync(candidate)) continue;
      const real = fs.realpathSync(candidate);
      return real.startsWith(this.root) ? real : undefined;
    }
    return undefined;
  }

  /** A link target read inside the root: absolute targets are relative to the root. */
  private resolveLink(link: string): string | undefined {
    const target = fs.readlinkSync(link);
    const inRoot = target.startsWith("/")
      ? this.at(target)
      : path.resolve(path.dirname(link), target);
    return fs.existsSync(inRoot) ? inRoot : undefined;
  }

  /**
   * The units systemd would start at boot: everything reached from
   * default.target through `.wants/` and `.requires/` links (which must
   * resolve inside the root) and `Wants=`/`Requires=` lines of the unit
   * files and their drop-ins. Dangling links are reported, not followed.
   */
  bootTransaction(): { started: Set<string>; dangling: string[] } {
    const started = new Set<string>();
    const dangling: string[] = [];
    const queue = ["default.target"];
    while (queue.length > 0) {
      const unit = queue.shift() as string;
      if (started.has(unit)) continue;
      const file = this.unitFile(unit);
      if (!file) continue;
      started.add(unit);
      const names = new Set([unit, path.basename(file)]);
      for (const name of names) {
        for (const dir of ["/etc/systemd/system", "/usr/lib/systemd/system"]) {
          for (const kind of ["wants", "requires"]) {
            const depDir = this.at(`${dir}/${name}.${kind}`);
            if (!fs.existsSync(depDir)) continue;
            for (const dep of fs.readdirSync(depDir)) {
              if (this.resolveLink(path.join(depDir, dep))) queue.push(dep);
              else dangling.push(`${dir}/${name}.${kind}/${dep}`);
            }
          }
          const dropins = this.at(`${dir}/${name}.d`);
          if (!fs.existsSync(dropins)) continue;
          for (const d of fs.readdirSync(dropins)) {
            queue.push(...dependencyLines(fs.readFileSync(path.join(dropins, d), "utf8")));
          }
        }
      }
      queue.push(...dependencyLines(fs.readFileSync(file, "utf8")));
    }
    return { started, dangling };
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Units named in `Wants=` and `Requires=` lines of a unit file. */
function dependencyLines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => /^(?:Wants|Requires)=(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .flatMap((m) => m[1].split(/\s+/).filter(Boolean));
}
