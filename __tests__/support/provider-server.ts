import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** A provider plugin kept running for many terraform commands. */
export interface ProviderServer {
  /** Environment that makes terraform use the running provider (TF_REATTACH_PROVIDERS). */
  readonly env: NodeJS.ProcessEnv;
  /** Stops the provider. */
  stop(): Promise<void>;
}

/** Where the mirror keeps the provider binary of `source` (e.g. hashicorp/aws). */
function providerBinary(mirror: string, source: string): string {
  const dir = path.join(mirror, "registry.terraform.io", source);
  for (const version of fs.readdirSync(dir).sort().reverse()) {
    const platform = path.join(dir, version, `${process.platform}_${archOf(process.arch)}`);
    if (!fs.existsSync(platform)) continue;
    const binary = fs.readdirSync(platform).find((f) => f.startsWith("terraform-provider-"));
    if (binary) return path.join(platform, binary);
  }
  throw new Error(`no ${source} provider binary for this platform under ${dir}`);
}

const archOf = (arch: string) => ({ x64: "amd64", ia32: "386" })[arch] ?? arch;

/**
 * Starts the provider binary of `source` from the filesystem mirror once, in
 * its debug mode, for the terraform commands of one test file: each terraform
 * command otherwise starts its own provider process, several per `terraform
 * test` (hashicorp/aws: a 700 MB binary, about 2 s of CPU to start and load
 * its schema). It is the same binary and schema; only its process is shared.
 * `terraform init` still installs it from the mirror (run init without `env`).
 * The process is bounded in time (`timeout`) should the test runner die.
 */
export async function startProviderServer(
  mirror: string,
  source: string,
  logDir: string,
): Promise<ProviderServer> {
  const log = path.join(logDir, `provider-${source.replace("/", "-")}.log`);
  const out = fs.openSync(log, "w");
  const child: ChildProcess = spawn("timeout", ["1800", providerBinary(mirror, source), "-debug"], {
    stdio: ["ignore", out, out],
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const text = fs.readFileSync(log, "utf8");
    const reattach = /TF_REATTACH_PROVIDERS='([^']+)'/.exec(text);
    if (reattach) return { env: { TF_REATTACH_PROVIDERS: reattach[1] }, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${source} provider did not start in debug mode:\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
