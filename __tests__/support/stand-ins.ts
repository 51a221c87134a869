import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A folder of stand-in commands to put first on PATH. Only for what cannot
 * run here: VirtualBox (no hypervisor) and the machines `vagrant up` would
 * create.
 */
export class StandIns {
  public readonly bin: string;
  /** File the recording `vagrant` appends its arguments to, one call per line. */
  public readonly vagrantCalls: string;

  constructor() {
    this.bin = fs.mkdtempSync(path.join(os.tmpdir(), "stand-ins-"));
    this.vagrantCalls = path.join(this.bin, "vagrant-calls.log");
  }

  /** `VBoxManage --version` answers like VirtualBox 7.0, so vagrant checks VirtualBox settings. */
  addVBoxManage(): this {
    this.write("VBoxManage", '#!/bin/sh\n[ "$1" = "--version" ] && echo "7.0.20r163906"\nexit 0\n');
    return this;
  }

  /**
   * A `vagrant` that records each call and keeps Vagrant's record of which
   * machines exist the way Vagrant does: `up --provider <p> <m>` writes
   * `.vagrant/machines/<m>/<p>/id`, `destroy -f <m>` deletes it. `box list`
   * prints no boxes.
   */
  addRecordingVagrant(): this {
    const script = [
      "#!/bin/sh",
      `echo "$*" >> "${this.vagrantCalls}"`,
      "for m; do :; done",
      'case "$1" in',
      '  up) mkdir -p ".vagrant/machines/$m/$3" && echo stand-in > ".vagrant/machines/$m/$3/id" ;;',
      '  destroy) rm -f .vagrant/machines/"$m"/*/id ;;',
      "esac",
      "exit 0",
      "",
    ].join("\n");
    this.write("vagrant", script);
    return this;
  }

  /** Calls recorded since the last take, then forgets them. */
  takeVagrantCalls(): string[] {
    if (!fs.existsSync(this.vagrantCalls)) return [];
    const calls = fs.readFileSync(this.vagrantCalls, "utf8").split("\n").filter(Boolean);
    fs.rmSync(this.vagrantCalls);
    return calls;
  }

  /** PATH with the stand-ins first. */
  path(): string {
    return `${this.bin}:${process.env.PATH}`;
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
