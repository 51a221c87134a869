import { createHash } from "node:crypto";
import { IssueCollector } from "./errors";
import { OsFamily } from "./operating-system";
import { ClusterPlan } from "./plan";
import { renderIgnitionJson } from "./render/ignition";
import { contains, parseCidr } from "./network";
import { ForwardedPort, LifecycleResource, SharedFolder, VagrantProvider } from "./vagrant-options";

/** VirtualBox ≥ 6.1.28 allows host-only networks only here (without /etc/vbox/networks.conf). */
export const VIRTUALBOX_HOST_ONLY_RANGE = "192.168.56.0/21";

/** Props of the Vagrant target that are not about the cluster itself. */
export interface VagrantOptions {
  readonly provider?: VagrantProvider;
  readonly lifecycle?: LifecycleResource;
  readonly boxName?: string;
  readonly boxUrl?: string;
  readonly gui?: boolean;
  readonly forwardedPorts?: readonly ForwardedPort[];
  readonly sharedFolders?: readonly SharedFolder[];
  readonly serialLogging?: boolean;
  readonly parallel?: boolean;
}

/** One machine of the Vagrant environment. */
export interface VagrantNodePlan {
  readonly name: string;
  readonly address: string;
  /** Ignition file, relative to the Vagrant folder. */
  readonly ignitionFile: string;
  readonly ignition: string;
  /** Hash of everything that shapes this machine: a change re-provisions only this node. */
  readonly inputsHash: string;
}

/** The resolved Vagrant environment. */
export interface VagrantPlan {
  readonly cluster: ClusterPlan;
  readonly provider: VagrantProvider;
  readonly lifecycle: LifecycleResource;
  readonly boxName: string;
  readonly boxUrl: string;
  readonly gui: boolean;
  readonly forwardedPorts: readonly ForwardedPort[];
  readonly sharedFolders: readonly SharedFolder[];
  readonly serialLogging: boolean;
  /** Bring nodes up in parallel (libvirt only). */
  readonly parallel: boolean;
  readonly nodes: readonly VagrantNodePlan[];
}

/** Flatcar's published Vagrant box for a channel and provider. */
export function flatcarBoxUrl(channel: string, provider: VagrantProvider): string {
  const file =
    provider === VagrantProvider.LIBVIRT
      ? "flatcar_production_vagrant_libvirt.box"
      : "flatcar_production_vagrant.box";
  return `https://${channel}.release.flatcar-linux.net/amd64-usr/current/${file}`;
}

function isPort(p: unknown): p is number {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** Validates the Vagrant options against the cluster and resolves defaults. Pure. */
export function planVagrant(
  cluster: ClusterPlan,
  options: VagrantOptions,
  constructPath: string,
): VagrantPlan {
  const issues = new IssueCollector();
  const provider = options.provider ?? VagrantProvider.VIRTUALBOX;
  if (!(Object.values(VagrantProvider) as string[]).includes(provider)) {
    issues.add("provider", provider, Object.values(VagrantProvider).join(" | "));
  }
  const lifecycle = options.lifecycle ?? LifecycleResource.NULL_RESOURCE;
  if (!(Object.values(LifecycleResource) as string[]).includes(lifecycle)) {
    issues.add("lifecycle", lifecycle, Object.values(LifecycleResource).join(" | "));
  }
  if (cluster.os.family !== OsFamily.FLATCAR) {
    issues.add(
      "cluster.os",
      cluster.os.toString(),
      "a Flatcar OS: Fedora CoreOS publishes no Vagrant box (use the AWS target for Fedora CoreOS)",
    );
  }
  const range = parseCidr(VIRTUALBOX_HOST_ONLY_RANGE);
  if (provider === VagrantProvider.VIRTUALBOX && !("reason" in range)) {
    const outside = cluster.nodes.find((n) => !contains(range, n.address));
    if (outside) {
      issues.add(
        "cluster.networkCidr",
        cluster.network.cidr,
        `node addresses inside ${VIRTUALBOX_HOST_ONLY_RANGE} for VirtualBox (${outside.name} would get ${outside.address}); VirtualBox ≥ 6.1.28 refuses other host-only networks unless /etc/vbox/networks.conf allows them`,
      );
    }
  }
  const boxName = options.boxName ?? `flatcar-${cluster.os.channel}`;
  if (!/^[A-Za-z0-9._/-]+$/.test(boxName)) {
    issues.add("boxName", boxName, "letters, digits, '.', '_', '-' or '/'");
  }
  const boxUrl = options.boxUrl ?? flatcarBoxUrl(cluster.os.channel, provider);
  if (!/^(https?|file):\/\/\S+$/.test(boxUrl)) {
    issues.add("boxUrl", boxUrl, "an http(s):// or file:// URL of a .box file or box metadata");
  }
  const forwardedPorts = options.forwardedPorts ?? [];
  forwardedPorts.forEach((p, i) => {
    if (!isPort(p?.guest)) issues.add(`forwardedPorts[${i}].guest`, p?.guest, "a port 1-65535");
    if (!isPort(p?.host)) issues.add(`forwardedPorts[${i}].host`, p?.host, "a port 1-65535");
  });
  const sharedFolders = options.sharedFolders ?? [];
  sharedFolders.forEach((f, i) => {
    if (typeof f?.host !== "string" || f.host.length === 0 || /["\\]/.test(f.host)) {
      issues.add(`sharedFolders[${i}].host`, f?.host, "a host folder path without quotes");
    }
    if (typeof f?.guest !== "string" || !f.guest.startsWith("/") || /["\\]/.test(f.guest)) {
      issues.add(`sharedFolders[${i}].guest`, f?.guest, "an absolute guest path without quotes");
    }
  });
  const gui = options.gui ?? false;
  if (typeof gui !== "boolean") issues.add("gui", gui, "true or false");
  const serialLogging = options.serialLogging ?? false;
  if (typeof serialLogging !== "boolean") {
    issues.add("serialLogging", serialLogging, "true or false");
  }
  const parallel = options.parallel ?? provider === VagrantProvider.LIBVIRT;
  if (parallel && provider === VagrantProvider.VIRTUALBOX) {
    issues.add(
      "parallel",
      parallel,
      "false with VirtualBox: parallel `vagrant up` races on box import and host-only network creation",
    );
  }
  issues.throwIfAny(`VagrantCluster "${constructPath}"`);

  const nodes = cluster.nodes.map((n) => {
    const ignition = renderIgnitionJson(cluster, n);
    const inputs = JSON.stringify({
      ignition,
      address: n.address,
      cpus: cluster.cpus,
      memoryMiB: cluster.memoryMiB,
      provider,
      boxName,
      boxUrl,
      gui,
      serialLogging,
      forwardedPorts,
      sharedFolders,
    });
    return {
      name: n.name,
      address: n.address,
      ignitionFile: `ignition/${n.name}.ign`,
      ignition,
      inputsHash: createHash("sha256").update(inputs).digest("hex"),
    };
  });
  return {
    cluster,
    provider,
    lifecycle,
    boxName,
    boxUrl,
    gui,
    forwardedPorts,
    sharedFolders,
    serialLogging,
    parallel,
    nodes,
  };
}
