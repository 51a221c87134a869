import { spawn } from "node:child_process";
import { inSandbox } from "./netns";

/*
 * locksmithd's reboot lock, as Flatcar's locksmith takes it (flatcar/locksmith
 * lock/etcd.go, lock/semaphore.go, README "Semaphore"): one JSON document at
 * `coreos.com/updateengine/rebootlock/semaphore`,
 * `{"semaphore":1,"max":1,"holders":[]}` when made; a machine takes the lock
 * by swapping in the document with the semaphore decremented and its machine
 * id among the holders, releases it by the reverse swap. The swap is a
 * compare-and-swap: v3 (locksmith's etcd v3 client) a transaction comparing
 * the key's version; v2 (its earlier etcd v2 client) a PUT with prevIndex
 * (creation with prevExist=false). Both are spoken here over etcd's HTTP
 * APIs with curl and the machine's own client certificate, as locksmithd
 * does with LOCKSMITHD_ETCD_CAFILE/CERTFILE/KEYFILE.
 */

export const SEMAPHORE_KEY = "coreos.com/updateengine/rebootlock/semaphore";

export interface Semaphore {
  readonly semaphore: number;
  readonly max: number;
  readonly holders: readonly string[];
}

/** The settings locksmithd gets (its drop-in or cloud-config's coreos.locksmith), paths on this host. */
export interface LocksmithSettings {
  readonly endpoints: readonly string[];
  readonly cafile: string;
  readonly certfile: string;
  readonly keyfile: string;
}

function curl(
  settings: LocksmithSettings,
  args: readonly string[],
): Promise<{ code: number; body: string }> {
  const [cmd, argv] = inSandbox("curl", [
    "-sS",
    "--http1.1",
    "--max-time",
    "5",
    "--cacert",
    settings.cafile,
    "--cert",
    settings.certfile,
    "--key",
    settings.keyfile,
    "-w",
    "\n%{http_code}",
    ...args,
  ]);
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", () => {
      const i = out.lastIndexOf("\n");
      resolve({ code: Number(out.slice(i + 1)) || 0, body: out.slice(0, i) });
    });
  });
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const INITIAL: Semaphore = { semaphore: 1, max: 1, holders: [] };

/** One machine's lock client, the way its locksmithd would act. */
export class RebootLock {
  constructor(
    private readonly settings: LocksmithSettings,
    public readonly machineId: string,
    private readonly api: "v2" | "v3",
  ) {}

  private async request(path: string, args: readonly string[]) {
    // locksmithd tries its endpoints in turn.
    let last = { code: 0, body: "no endpoint" };
    for (const endpoint of this.settings.endpoints) {
      last = await curl(this.settings, [...args, `${endpoint}${path}`]);
      if (last.code !== 0) return last;
    }
    return last;
  }

  /** Makes the semaphore when there is none (locksmith's Init). */
  async init(): Promise<void> {
    const doc = JSON.stringify(INITIAL);
    if (this.api === "v3") {
      const k = b64(SEMAPHORE_KEY);
      const txn = {
        compare: [{ key: k, target: "VERSION", version: "0" }],
        success: [{ request_put: { key: k, value: b64(doc) } }],
      };
      const r = await this.request("/v3/kv/txn", ["-X", "POST", "-d", JSON.stringify(txn)]);
      if (r.code !== 200) throw new Error(`init: HTTP ${r.code} ${r.body}`);
    } else {
      const r = await this.request(`/v2/keys/${SEMAPHORE_KEY}?prevExist=false`, [
        "-X",
        "PUT",
        "--data-urlencode",
        `value=${doc}`,
      ]);
      if (r.code !== 201 && r.code !== 412) throw new Error(`init: HTTP ${r.code} ${r.body}`);
    }
  }

  /** The semaphore and the version (v3) or index (v2) its swap compares against. */
  async get(): Promise<{ sem: Semaphore; index: string }> {
    if (this.api === "v3") {
      const r = await this.request("/v3/kv/range", [
        "-X",
        "POST",
        "-d",
        JSON.stringify({ key: b64(SEMAPHORE_KEY) }),
      ]);
      if (r.code !== 200) throw new Error(`get: HTTP ${r.code} ${r.body}`);
      const kv = (JSON.parse(r.body) as { kvs?: Array<{ value: string; version: string }> })
        .kvs?.[0];
      if (!kv) throw new Error("get: no semaphore");
      return { sem: JSON.parse(Buffer.from(kv.value, "base64").toString()), index: kv.version };
    }
    const r = await this.request(`/v2/keys/${SEMAPHORE_KEY}`, []);
    if (r.code !== 200) throw new Error(`get: HTTP ${r.code} ${r.body}`);
    const node = (JSON.parse(r.body) as { node: { value: string; modifiedIndex: number } }).node;
    return { sem: JSON.parse(node.value), index: String(node.modifiedIndex) };
  }

  /** The compare-and-swap; false when another machine swapped first. */
  private async swap(next: Semaphore, index: string): Promise<boolean> {
    const doc = JSON.stringify(next);
    if (this.api === "v3") {
      const k = b64(SEMAPHORE_KEY);
      const txn = {
        compare: [{ key: k, target: "VERSION", version: index }],
        success: [{ request_put: { key: k, value: b64(doc) } }],
      };
      const r = await this.request("/v3/kv/txn", ["-X", "POST", "-d", JSON.stringify(txn)]);
      if (r.code !== 200) throw new Error(`swap: HTTP ${r.code} ${r.body}`);
      return (JSON.parse(r.body) as { succeeded?: boolean }).succeeded === true;
    }
    const r = await this.request(`/v2/keys/${SEMAPHORE_KEY}?prevIndex=${index}`, [
      "-X",
      "PUT",
      "--data-urlencode",
      `value=${doc}`,
    ]);
    if (r.code === 412) return false;
    if (r.code !== 200) throw new Error(`swap: HTTP ${r.code} ${r.body}`);
    return true;
  }

  /**
   * Takes the lock once (locksmith's RecursiveLock): held already → true;
   * semaphore at 0 or a lost swap → false.
   */
  async tryLock(): Promise<boolean> {
    const { sem, index } = await this.get();
    if (sem.holders.includes(this.machineId)) return true;
    if (sem.semaphore <= 0) return false;
    return this.swap(
      { ...sem, semaphore: sem.semaphore - 1, holders: [...sem.holders, this.machineId] },
      index,
    );
  }

  /** Releases the lock if this machine holds it (locksmith's UnlockIfHeld); retries a lost swap. */
  async unlock(id = this.machineId): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const { sem, index } = await this.get();
      if (!sem.holders.includes(id)) return;
      const next = {
        ...sem,
        semaphore: sem.semaphore + 1,
        holders: sem.holders.filter((h) => h !== id),
      };
      if (await this.swap(next, index)) return;
    }
    throw new Error(`unlock ${id}: too many lost swaps`);
  }
}
