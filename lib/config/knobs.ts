/*
 * Where an app configured without code takes its settings from, named once:
 * the settings object (cdktf.json's context), the environment variables that
 * override it, and how coreos-vagrant's config.rb knobs map onto both. Other
 * parts (the Vagrantfile's config.rb check, docs, help) point here.
 */

/** The file cdktf reads, whose `context` holds the settings. */
export const CONFIG_FILE = "cdktf.json";

/** The key of the settings object in cdktf.json's `context` (and in any construct context). */
export const CONFIG_CONTEXT_KEY = "coreos-cluster:config";

/** The settings source as messages name it. */
export const CONFIG_SOURCE = `${CONFIG_FILE} (context "${CONFIG_CONTEXT_KEY}")`;

/** How an environment variable's text becomes a value. */
export type EnvValueKind = "count" | "boolean" | "text";

/** One environment variable that overrides a setting. */
export interface ConfigEnvVariable {
  /** The settings key it overrides (a dotted path, e.g. `os.channel`). */
  readonly key: string;
  readonly kind: EnvValueKind;
}

/**
 * Environment variables that override settings, by name. coreos-vagrant's
 * names where it had the knob (its Vagrantfile read NUM_INSTANCES; the others
 * are its config.rb knobs in capitals), `COREOS_CLUSTER_*` for the rest. An
 * empty variable counts as unset.
 */
export const CONFIG_ENV: Readonly<Record<string, ConfigEnvVariable>> = {
  NUM_INSTANCES: { key: "nodeCount", kind: "count" },
  INSTANCE_NAME_PREFIX: { key: "namePrefix", kind: "text" },
  UPDATE_CHANNEL: { key: "os.channel", kind: "text" },
  VM_CPUS: { key: "cpus", kind: "count" },
  VM_MEMORY: { key: "memoryMiB", kind: "count" },
  VM_GUI: { key: "vagrant.gui", kind: "boolean" },
  ENABLE_SERIAL_LOGGING: { key: "vagrant.serialLogging", kind: "boolean" },
  COREOS_CLUSTER_TARGET: { key: "target", kind: "text" },
  COREOS_CLUSTER_OS: { key: "os.family", kind: "text" },
  COREOS_CLUSTER_ETCD_MEMBERS: { key: "etcd.members", kind: "count" },
  COREOS_CLUSTER_STANDBY: { key: "standby", kind: "count" },
};

/** A knob of coreos-vagrant's config.rb and where its value comes from here. */
export interface ConfigKnob {
  /** The Ruby global as config.rb writes it, e.g. `$num_instances`. */
  readonly rubyVariable: string;
  /** The settings keys that decide it (dotted paths in the settings object). */
  readonly keys: readonly string[];
  /** The environment variable that overrides it, when there is one. */
  readonly env?: string | undefined;
  /** How to change it, in one line, for messages. */
  readonly hint: string;
}

function knob(name: string, keys: readonly string[], how?: string): ConfigKnob {
  const env = Object.entries(CONFIG_ENV).find(([, v]) => keys.length === 1 && v.key === keys[0]);
  const where = keys.map((k) => `"${k}"`).join(" and ");
  const hint = how
    ? how
    : `set ${where} in ${CONFIG_SOURCE}${env ? ` or ${env[0]}=…` : ""}, then run npm run synth`;
  return { rubyVariable: `$${name}`, keys, env: env?.[0], hint };
}

/**
 * coreos-vagrant's config.rb knobs (name without `$`) → the setting that
 * decides each here. config.rb is written by the synth from these settings;
 * editing it does not change the cluster, the settings do.
 */
export const CONFIG_KNOBS: Readonly<Record<string, ConfigKnob>> = {
  num_instances: knob("num_instances", ["nodeCount"]),
  instance_name_prefix: knob("instance_name_prefix", ["namePrefix"]),
  instance_name_width: knob(
    "instance_name_width",
    ["nodeCount"],
    `follows "nodeCount" (two digits at least): set "nodeCount" in ${CONFIG_SOURCE} or NUM_INSTANCES=…, then run npm run synth`,
  ),
  update_channel: knob("update_channel", ["os.channel"]),
  box_name: knob("box_name", ["vagrant.boxName"]),
  box_url: knob("box_url", ["vagrant.boxUrl"]),
  provider: knob("provider", ["vagrant.provider"]),
  vm_gui: knob("vm_gui", ["vagrant.gui"]),
  vm_memory: knob("vm_memory", ["memoryMiB"]),
  vm_cpus: knob("vm_cpus", ["cpus"]),
  node_ips: knob("node_ips", ["networkCidr", "firstHostNumber"]),
  netmask: knob("netmask", ["networkCidr"]),
  front_ips: knob("front_ips", ["vagrant.frontFirstHostNumber", "vagrant.frontHighAvailability"]),
  forwarded_ports: knob("forwarded_ports", ["vagrant.forwardedPorts"]),
  shared_folders: knob("shared_folders", ["vagrant.sharedFolders"]),
  enable_serial_logging: knob("enable_serial_logging", ["vagrant.serialLogging"]),
};
