import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/*
 * A loopback block 127.<b>.0.0/16 of this process's own. Test beds that bind
 * fixed ports (the front harness's listeners, backends and monitor URL) bind
 * them on addresses in this block, so two jest workers, or two clones of the
 * project tested at the same time on one machine, never bind the same
 * address and port. The reservation is a file named after <b> holding the pid;
 * a file whose process is gone is taken over.
 */

const LOCKS = path.join(os.tmpdir(), "coreos-cluster-test-loopback");
let reserved: number | undefined;

const alive = (pid: number): boolean => pid > 0 && fs.existsSync(`/proc/${pid}`);

function tryTake(block: number): boolean {
  const file = path.join(LOCKS, String(block));
  try {
    fs.writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const owner = Number(fs.readFileSync(file, "utf8") || 0);
  if (alive(owner)) return false;
  // A stale reservation: remove it and race for it like everyone else.
  fs.rmSync(file, { force: true });
  try {
    fs.writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch {
    return false;
  }
}

/** The second octet of this process's loopback block (1-254), reserved on first use. */
export function loopbackBlock(): number {
  if (reserved !== undefined) return reserved;
  fs.mkdirSync(LOCKS, { recursive: true });
  const start = process.pid % 254;
  for (let i = 0; i < 254; i++) {
    const block = ((start + i) % 254) + 1;
    if (tryTake(block)) {
      reserved = block;
      process.once("exit", () => fs.rmSync(path.join(LOCKS, String(block)), { force: true }));
      return block;
    }
  }
  throw new Error(`no free loopback block: every 127.x reserved in ${LOCKS}`);
}
