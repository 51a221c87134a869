import { ClusterPlan } from "../cluster/plan";
import { IssueCollector } from "../core/errors";
import { hasControlChars, isPlainObject } from "../core/validate";

/**
 * The knobs of the generated `config.rb`: coreos-vagrant's own
 * (`$num_instances`, `$instance_name_prefix`, `$update_channel`, `$vm_gui`,
 * `$vm_memory`, `$vm_cpus`, `$forwarded_ports`, `$shared_folders`,
 * `$enable_serial_logging`) and this project's. All come from the synth:
 * Terraform planned the machines from the same values, so the Vagrantfile
 * stops with a message when one was edited by hand.
 */
export const CONFIG_RB_KNOBS = [
  "num_instances",
  "instance_name_prefix",
  "instance_name_width",
  "update_channel",
  "box_name",
  "box_url",
  "provider",
  "vm_gui",
  "vm_memory",
  "vm_cpus",
  "node_ips",
  "netmask",
  "front_ips",
  "forwarded_ports",
  "shared_folders",
  "enable_serial_logging",
] as const;

/** A knob of config.rb (the Ruby global without `$`). */
export type ConfigRbKnob = (typeof CONFIG_RB_KNOBS)[number];

/** Where each knob comes from in cdktf code: the default hint of the message. */
function defaultHints(cluster: ClusterPlan, vagrantPath: string): Record<ConfigRbKnob, string> {
  const c = (prop: string) => `${prop} of CoreOsCluster "${cluster.path}"`;
  const v = (prop: string) => `${prop} of VagrantCluster "${vagrantPath}"`;
  return {
    num_instances: c("nodeCount"),
    instance_name_prefix: c("namePrefix"),
    instance_name_width:
      "nothing: node numbers have two digits at least, so growing renames no node",
    update_channel: c("os (OperatingSystem.flatcar(FlatcarChannel.<channel>))"),
    box_name: v("boxName"),
    box_url: v("boxUrl"),
    provider: v("provider"),
    vm_gui: v("gui"),
    vm_memory: c("memoryMiB"),
    vm_cpus: c("cpus"),
    node_ips: c("networkCidr and firstHostNumber"),
    netmask: c("networkCidr"),
    front_ips: v("frontFirstHostNumber and frontHighAvailability"),
    forwarded_ports: v("forwardedPorts"),
    shared_folders: v("sharedFolders"),
    enable_serial_logging: v("serialLogging"),
  };
}

/** The hints of every knob: the given ones over the defaults, checked (they reach a Ruby file). */
export function planConfigRbHints(
  issues: IssueCollector,
  given: { readonly [knob: string]: string } | undefined,
  cluster: ClusterPlan,
  vagrantPath: string,
): Record<ConfigRbKnob, string> {
  const hints = defaultHints(cluster, vagrantPath);
  if (given === undefined) return hints;
  if (!isPlainObject(given)) {
    issues.add(
      "configRbHints",
      given,
      `an object of knob name → text (${CONFIG_RB_KNOBS.join(", ")})`,
    );
    return hints;
  }
  for (const [knob, hint] of Object.entries(given)) {
    if (!(CONFIG_RB_KNOBS as readonly string[]).includes(knob)) {
      issues.add(
        "configRbHints",
        knob,
        `knobs of config.rb: ${CONFIG_RB_KNOBS.join(", ")} (without the $)`,
      );
    } else if (
      typeof hint !== "string" ||
      hint.trim() === "" ||
      hint.length > 300 ||
      hasControlChars(hint)
    ) {
      issues.add(
        `configRbHints.${knob}`,
        hint,
        "a text of 1-300 characters on one line, e.g. NUM_INSTANCES=<n> (environment)",
      );
    } else {
      hints[knob as ConfigRbKnob] = hint;
    }
  }
  return hints;
}
