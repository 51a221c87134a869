import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Debian's package of the browser the picture tests draw with. */
export const CHROMIUM_PACKAGE = "chromium";

/** Headless, nothing fetched from the network, no sandbox (root in a container), a new empty profile per run. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Runs Debian's chromium once on `url` with `args`, bounded in time: coreutils
 * `timeout` ends it (and, with it, its helper processes) after `seconds`.
 */
export function runChromium(
  args: readonly string[],
  url: string,
  seconds = 60,
): { status: number | null; stdout: string; stderr: string } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  try {
    const r = spawnSync(
      "timeout",
      [
        "-k",
        "5",
        String(seconds),
        "chromium",
        ...FLAGS,
        `--user-data-dir=${profile}`,
        ...args,
        url,
      ],
      { encoding: "utf8", timeout: (seconds + 10) * 1000, maxBuffer: 64 * 1024 * 1024 },
    );
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** A PNG screenshot of `url` in a window of `width` × `height`. */
export function screenshot(url: string, file: string, width: number, height: number): void {
  const r = runChromium(
    [`--screenshot=${file}`, `--window-size=${width},${height}`, "--hide-scrollbars"],
    url,
  );
  if (!fs.existsSync(file)) {
    throw new Error(`chromium wrote no screenshot (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  }
}
