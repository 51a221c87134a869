import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** How the recording `vagrant` behaves; changeable between steps of a test. */
export interface VagrantBehaviour {
  /** Lines `vagrant box list` prints, as Vagrant does: `<name> (<provider>, <version>)`. */
  readonly boxes?: readonly string[];
  /** Calls that fail: when the arguments start with `args`, print `message` to stderr and exit 1. */
  readonly failures?: ReadonlyArray<{ readonly args: readonly string[]; readonly message: string }>;
  /**
   * Per machine: seconds after its `vagrant up` until `vagrant ssh <m> -c …`
   * (the ready check) succeeds, or "never". Machines not named are ready at once.
   */
  readonly readyAfterSeconds?: Readonly<Record<string, number | "never">>;
}

/**
 * A folder of stand-in commands to put first on PATH. Only for what cannot
 * run here: VirtualBox (no hypervisor) and the machines `vagrant up` would
 * create.
 */
export class StandIns {
  public readonly bin: string;
  /** File the recording `vagrant` appends its arguments to: one JSON array per call. */
  public readonly vagrantCalls: string;
  private readonly state: string;

  constructor() {
    this.bin = fs.mkdtempSync(path.join(os.tmpdir(), "stand-ins-"));
    this.vagrantCalls = path.join(this.bin, "vagrant-calls.jsonl");
    this.state = path.join(this.bin, "vagrant-state.json");
  }

  /** `VBoxManage --version` answers like VirtualBox 7.0, so vagrant checks VirtualBox settings. */
  addVBoxManage(): this {
    this.write("VBoxManage", '#!/bin/sh\n[ "$1" = "--version" ] && echo "7.0.20r163906"\nexit 0\n');
    return this;
  }

  /**
   * A `vagrant` that records each call's arguments exactly and keeps Vagrant's
   * record of which machines exist the way Vagrant does: `up --provider <p> <m>`
   * writes `.vagrant/machines/<m>/<p>/id`, `destroy -f <m>` deletes it.
   * `box list` prints the boxes it knows (`box add` adds one); `ssh <m> -c …`
   * answers as the machine's ready check would (see VagrantBehaviour).
   */
  addRecordingVagrant(behaviour: VagrantBehaviour = {}): this {
    this.setVagrantBehaviour(behaviour);
    const script = `#!${process.execPath}
const fs = require("fs");
const path = require("path");
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(this.vagrantCalls)}, JSON.stringify(argv) + "\\n");
const stateFile = ${JSON.stringify(this.state)};
const s = JSON.parse(fs.readFileSync(stateFile, "utf8"));
const save = () => fs.writeFileSync(stateFile, JSON.stringify(s));
for (const f of s.failures || []) {
  if (f.args.every((a, i) => argv[i] === a)) {
    process.stderr.write(f.message + "\\n");
    process.exit(1);
  }
}
const option = (name) => argv[argv.indexOf(name) + 1];
const machine = argv[argv.length - 1];
if (argv[0] === "box" && argv[1] === "list") {
  const boxes = s.boxes || [];
  console.log(boxes.length ? boxes.join("\\n") : "There are no installed boxes! Use \`vagrant box add\` to add some.");
} else if (argv[0] === "box" && argv[1] === "add") {
  s.boxes = [...(s.boxes || []), option("--name") + " (" + option("--provider") + ", 0)"];
  save();
} else if (argv[0] === "up") {
  const dir = path.join(".vagrant", "machines", machine, option("--provider"));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "id"), "stand-in");
  s.upAt = { ...(s.upAt || {}), [machine]: Date.now() };
  save();
} else if (argv[0] === "destroy") {
  const dir = path.join(".vagrant", "machines", machine);
  // Like Vagrant, only the provider folders count (files next to them, such as the
  // deploy's generation marker, are not machines).
  for (const p of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
    if (p.isDirectory()) fs.rmSync(path.join(dir, p.name, "id"), { force: true });
  }
} else if (argv[0] === "ssh") {
  const m = argv[1];
  const after = (s.readyAfterSeconds || {})[m] ?? 0;
  const upAt = (s.upAt || {})[m];
  if (upAt === undefined || after === "never" || Date.now() - upAt < after * 1000) {
    console.log(m + ": etcd member not healthy (stand-in machine, not ready yet)");
    process.exit(1);
  }
  console.log(m + ": up");
}
`;
    this.write("vagrant", script);
    return this;
  }

  /** Changes how the recording `vagrant` behaves from its next call on; keeps machines and boxes it made. */
  setVagrantBehaviour(behaviour: VagrantBehaviour): void {
    const previous = fs.existsSync(this.state)
      ? JSON.parse(fs.readFileSync(this.state, "utf8"))
      : {};
    fs.writeFileSync(this.state, JSON.stringify({ ...previous, ...behaviour }));
  }

  /** Calls recorded since the last take (each the exact argument list), then forgets them. */
  takeVagrantCalls(): string[][] {
    if (!fs.existsSync(this.vagrantCalls)) return [];
    const calls = fs
      .readFileSync(this.vagrantCalls, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);
    fs.rmSync(this.vagrantCalls);
    return calls;
  }

  /** PATH with the stand-ins first. */
  path(): string {
    return `${this.bin}:${process.env.PATH}`;
  }

  /**
   * A PATH like this one in which `command` does not exist: a folder of links
   * to every other program of PATH (a machine where it is not installed).
   */
  pathWithout(command: string): string {
    const dir = path.join(this.bin, `without-${command}`);
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of this.path().split(":")) {
      if (!fs.existsSync(entry)) continue;
      for (const name of fs.readdirSync(entry)) {
        const link = path.join(dir, name);
        if (name === command || fs.existsSync(link)) continue;
        fs.symlinkSync(path.join(entry, name), link);
      }
    }
    return dir;
  }

  cleanup(): void {
    fs.rmSync(this.bin, { recursive: true, force: true });
  }

  private write(name: string, script: string): void {
    const file = path.join(this.bin, name);
    fs.writeFileSync(file, script);
    fs.chmodSync(file, 0o755);
  }
}
