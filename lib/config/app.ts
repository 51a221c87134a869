import * as fs from "node:fs";
import * as path from "node:path";
import { Construct } from "constructs";
import { ClusterConfigError } from "../core/errors";
import { CONFIG_CONTEXT_KEY, CONFIG_FILE, CONFIG_SOURCE } from "./knobs";
import { AppSettings, parseAppSettings, SettingsEnvironment } from "./settings";

/**
 * The settings object of `cdktf.json` in `directory`: its context
 * "coreos-cluster:config", undefined when the file or the key is missing.
 * For an app run without the cdktf CLI (which hands cdktf.json's context to
 * the app itself).
 */
export function readConfigFile(directory: string): unknown {
  const file = path.join(directory, CONFIG_FILE);
  if (!fs.existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ClusterConfigError(
      CONFIG_FILE,
      [
        {
          prop: CONFIG_FILE,
          value: (e as Error).message,
          allowed: "a JSON file (cdktf reads it too)",
        },
      ],
      "settings",
    );
  }
  const context = (json as { context?: Record<string, unknown> } | null)?.context;
  return context && typeof context === "object" ? context[CONFIG_CONTEXT_KEY] : undefined;
}

/** Options of appSettings. */
export interface AppSettingsOptions {
  /**
   * Environment variables that override settings (CONFIG_ENV).
   * @default process.env
   */
  readonly env?: SettingsEnvironment | undefined;
  /**
   * Where cdktf.json is read from when the app's context has no settings
   * (the app was run without the cdktf CLI).
   * @default process.cwd()
   */
  readonly directory?: string | undefined;
}

/** The variable through which the cdktf CLI hands cdktf.json's context to the app (cdktf's CONTEXT_ENV). */
const CDKTF_CONTEXT_ENV = "CDKTF_CONTEXT_JSON";

/**
 * The app's settings: the context "coreos-cluster:config" — of `scope` when
 * given, else the one the cdktf CLI hands over (`cdktf synth` passes
 * cdktf.json's context in CDKTF_CONTEXT_JSON) — or cdktf.json itself when
 * the app runs without cdktf; overridden by the environment (NUM_INSTANCES,
 * …). Throws a ClusterConfigError naming the file or variable, the key, the
 * value and what is allowed. Called before the App is made, nothing is
 * written when it throws.
 */
export function appSettings(
  scope?: Construct | undefined,
  options: AppSettingsOptions = {},
): AppSettings {
  const env = options.env ?? process.env;
  let value: unknown = scope?.node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (value === undefined && !scope && env[CDKTF_CONTEXT_ENV]) {
    value = cliContext(env[CDKTF_CONTEXT_ENV] as string)[CONFIG_CONTEXT_KEY];
  }
  if (value === undefined) value = readConfigFile(options.directory ?? process.cwd());
  return parseAppSettings(value, env, { source: CONFIG_SOURCE });
}

function cliContext(json: string): Record<string, unknown> {
  try {
    const context: unknown = JSON.parse(json);
    return context && typeof context === "object" ? (context as Record<string, unknown>) : {};
  } catch {
    return {}; // cdktf's App refuses it with its own message
  }
}
