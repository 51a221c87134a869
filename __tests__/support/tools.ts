import { spawnSync } from "node:child_process";

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * `describe` for tests that need a real tool. Where the tool is missing:
 * on CI (any truthy CI) the block fails (CI must run it); elsewhere it is skipped with
 * a loud message naming the package to install.
 *
 * @param debianPackage the Debian package that has `command`, or
 *   `{ install: "..." }` for a tool Debian does not ship
 */
export function describeWithTool(
  command: string,
  debianPackage: string | { readonly install: string },
  name: string,
  body: () => void,
): void {
  const how =
    typeof debianPackage === "string"
      ? `install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`
      : debianPackage.install;
  describeWithRequirement(
    hasCommand(command),
    command,
    `${command} not found on PATH: ${how}`,
    name,
    body,
  );
}

/**
 * True on CI: any truthy CI variable (CI=true, CI=1, CI=yes, as CI services
 * set it; `.ci/run` sets it too). Only "", "0", "false" and "no" are false.
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? "").trim().toLowerCase();
  return !["", "0", "false", "no", "off"].includes(value);
}

/**
 * True under `npm run test:unit` (COREOS_TEST_TOOLS=skip): the fast loop of
 * unit and snapshot tests, which starts no real tool (jest.config.js leaves
 * out the files that only test with them).
 */
export function skipTools(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.COREOS_TEST_TOOLS === "skip";
}

/**
 * `describe` for tests that need something of the machine (a tool, a
 * provider mirror). Where it is missing: on CI (any truthy CI) the block fails;
 * elsewhere it is skipped with a loud message saying how to get it.
 */
export function describeWithRequirement(
  available: boolean,
  what: string,
  why: string,
  name: string,
  body: () => void,
): void {
  if (skipTools()) {
    describe.skip(`${name} [starts ${what}: npm test runs it]`, body);
    return;
  }
  if (available) {
    describe(name, body);
    return;
  }
  if (inCi()) {
    describe(name, () => {
      it(`has ${what}`, () => {
        throw new Error(`${why}. CI must run "${name}".`);
      });
    });
    return;
  }
  console.warn(`\n${"!".repeat(72)}\nSKIPPING "${name}": ${why}\n${"!".repeat(72)}\n`);
  describe.skip(name, body);
}
