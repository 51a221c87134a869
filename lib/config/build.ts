import { Annotations } from "cdktf";
import { Construct } from "constructs";
import { CoreOsCluster } from "../cluster/cluster";
import { CoreOsClusterProps } from "../cluster/props";
import { ClusterConfigError } from "../core/errors";
import { NlbFront } from "../front/front";
import { VagrantCluster } from "../vagrant/vagrant-cluster";
import { AppSettings, settingsError, targetClusterProps } from "./settings";

/**
 * Runs `build` (a construct taking props from the settings). A
 * ClusterConfigError it throws is reported against the settings instead: each
 * prop becomes its settings key (`key(prop)`), or the environment variable
 * that set it, with the construct that found it.
 */
export function withSettings<T>(
  settings: AppSettings,
  key: (prop: string) => string,
  build: () => T,
): T {
  try {
    return build();
  } catch (e) {
    if (!(e instanceof ClusterConfigError) || e.message.startsWith("Invalid settings ")) throw e;
    throw settingsError(
      settings,
      e.issues.map((i) => ({ ...i, prop: key(i.prop) })),
      e.subject,
    );
  }
}

/** A target's prop → settings key: the cluster's own props are top-level keys, the rest under `section`. */
export function targetKey(section: string): (prop: string) => string {
  return (prop) =>
    prop.startsWith("cluster.") ? prop.slice("cluster.".length) : `${section}.${prop}`;
}

/**
 * The CoreOsCluster of the settings (with the target's network defaults,
 * see targetClusterProps); `code` adds props the settings do not hold
 * (units, files) or overrides them.
 */
export function clusterFromSettings(
  scope: Construct,
  id: string,
  settings: AppSettings,
  code: CoreOsClusterProps = {},
): CoreOsCluster {
  const cluster = withSettings(
    settings,
    (prop) => prop,
    () => new CoreOsCluster(scope, id, { ...targetClusterProps(settings), ...code }),
  );
  const fromEnvironment = Object.entries(settings.fromEnvironment);
  if (fromEnvironment.length > 0) {
    // Terraform runs a machine's destroy step only while its config has it: a destroy without
    // the same variables would leave the machines they added running.
    Annotations.of(cluster).addWarning(
      `settings from the environment (${fromEnvironment.map(([, e]) => `${e.name}=${e.text}`).join(" ")}): set them for every later synth, deploy and destroy too, or write them into ${settings.source}`,
    );
  }
  return cluster;
}

/**
 * The NlbFront of the settings over `cluster`, or undefined when they have
 * none (`"front": false` or no key). Its listeners, targets and drains are
 * checked here, so the front is read (fixed): a target takes it as it is.
 */
export function frontFromSettings(
  scope: Construct,
  id: string,
  settings: AppSettings,
  cluster: CoreOsCluster,
): NlbFront | undefined {
  const s = settings.front;
  if (!s) return undefined;
  const front = withSettings(
    settings,
    (prop) => `front.${prop}`,
    () => new NlbFront(scope, id, { name: s.name }),
  );
  s.listeners.forEach((l, i) => {
    const at = `front.listeners[${i}]`;
    const listener = withSettings(
      settings,
      (prop) => `${at}.${prop === "id" ? "name" : prop}`,
      () => front.addListener(l.name, l.listener),
    );
    withSettings(
      settings,
      (prop) => `${at}.targets.${prop === "id" ? "name" : prop}`,
      () => listener.addTargets(l.targets.name, { ...l.targets.props, targets: [cluster] }),
    );
  });
  withSettings(
    settings,
    (prop) => `front.${prop === "targetGroups" ? "listeners" : prop}`,
    () => {
      for (const name of s.drain) front.drain({ name });
      front.plan(`the settings (${settings.source})`);
    },
  );
  return front;
}

/** The VagrantCluster of the settings, running `cluster` and `front`. */
export function vagrantFromSettings(
  scope: Construct,
  id: string,
  settings: AppSettings,
  inputs: { readonly cluster: CoreOsCluster; readonly front?: NlbFront | undefined },
): VagrantCluster {
  return withSettings(
    settings,
    targetKey("vagrant"),
    () => new VagrantCluster(scope, id, { ...settings.vagrant, ...inputs }),
  );
}
