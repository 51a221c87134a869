import { createHash } from "node:crypto";
import { IssueCollector } from "../core/errors";
import { OsFamily } from "../cluster/operating-system";
import { ClusterPlan } from "../cluster/plan";
import { nodeIgnitionJson } from "../render/ignition-cache";
import { contains, hostAddress, netmaskOf, parseCidr } from "../core/network";
import { Duration } from "../core/duration";
import { FrontPlan } from "../front/plan";
import { renderHaproxyCfg } from "../render/haproxy";
import { renderKeepalivedConf } from "../render/keepalived";
import {
  FRONT_MONITOR_PORT,
  FRONT_STATS_SOCKET,
  renderFrontIgnitionJson,
} from "../render/front-ignition";
import { ForwardedPort, LifecycleResource, SharedFolder, VagrantProvider } from "./options";

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
  readonly readyTimeout?: Duration;
  /** The front's plan, when the environment runs the front. */
  readonly front?: FrontPlan;
  readonly frontHighAvailability?: boolean;
  readonly frontFirstHostNumber?: number;
  readonly frontInterface?: string;
  readonly virtualRouterId?: number;
}

/** A front machine: HAProxy (and keepalived in an HA pair). */
export interface VagrantFrontMachinePlan extends VagrantNodePlan {
  readonly keepalivedConf?: string;
}

/** The front as the Vagrant environment runs it. */
export interface VagrantFrontPlan {
  readonly plan: FrontPlan;
  /** Where clients connect: the virtual address of the pair, or the single front's address. */
  readonly address: string;
  readonly highAvailability: boolean;
  readonly machines: readonly VagrantFrontMachinePlan[];
  /** haproxy.cfg, the same on every front machine. */
  readonly haproxyCfg: string;
  /** Changes with haproxy.cfg only: a drain reloads HAProxy, it does not replace the machines. */
  readonly haproxyCfgHash: string;
  readonly virtualRouterId?: number;
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
  /** Bring nodes up in parallel (never with VirtualBox). */
  readonly parallel: boolean;
  /** How long, in whole seconds, a machine may take after `vagrant up` to pass its ready check. */
  readonly readyTimeoutSeconds: number;
  /** Netmask of the private network: the cluster network's. */
  readonly netmask: string;
  readonly nodes: readonly VagrantNodePlan[];
  readonly front?: VagrantFrontPlan;
}

/**
 * Flatcar's box metadata for a channel: the current release's box for each
 * provider (VirtualBox, Parallels), with its version and checksum, under the
 * name `flatcar-<channel>`; `vagrant box update` follows it to new releases.
 */
export function flatcarBoxUrl(channel: string): string {
  return `https://${channel}.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json`;
}

/** The box name Flatcar's metadata declares for a channel (Vagrant refuses another). */
export function flatcarBoxName(channel: string): string {
  return `flatcar-${channel}`;
}

/** Default bound on how long a machine may take to come up after `vagrant up`. */
export const DEFAULT_READY_TIMEOUT = Duration.seconds(600);

const BOX_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

/** An http(s) or file URL without whitespace or control characters. */
function isBoxUrl(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 2048 || /\s/.test(value)) return false;
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return false;
  try {
    return ["http:", "https:", "file:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
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
  if (provider === VagrantProvider.LIBVIRT) {
    issues.add(
      "provider",
      provider,
      "virtualbox: libvirt is not supported yet (Flatcar publishes Vagrant boxes for VirtualBox only, and QEMU reading the Ignition file and the network setup are not verified)",
    );
  }
  const lifecycle = options.lifecycle ?? LifecycleResource.TERRAFORM_DATA;
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
  const boxName = options.boxName ?? flatcarBoxName(cluster.os.channel);
  if (typeof boxName !== "string" || !BOX_NAME_RE.test(boxName)) {
    issues.add(
      "boxName",
      boxName,
      "1-100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit",
    );
  } else if (options.boxUrl === undefined && boxName !== flatcarBoxName(cluster.os.channel)) {
    issues.add(
      "boxName",
      boxName,
      `"${flatcarBoxName(cluster.os.channel)}", the name Flatcar's box metadata declares (set boxUrl for a box of your own)`,
    );
  }
  const boxUrl = options.boxUrl ?? flatcarBoxUrl(cluster.os.channel);
  if (!isBoxUrl(boxUrl)) {
    issues.add(
      "boxUrl",
      boxUrl,
      "an http(s):// or file:// URL of box metadata or a .box file, without spaces",
    );
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
  const readyTimeout = options.readyTimeout ?? DEFAULT_READY_TIMEOUT;
  const readyTimeoutSeconds =
    readyTimeout instanceof Duration ? Math.ceil(readyTimeout.toSeconds()) : Number.NaN;
  if (!(readyTimeoutSeconds >= 1 && readyTimeoutSeconds <= 86400)) {
    issues.add("readyTimeout", readyTimeout, "a Duration from 1 s to 24 h");
  }
  const frontAddresses = options.front
    ? planFrontAddresses(cluster, options, provider, issues)
    : undefined;
  issues.throwIfAny(`VagrantCluster "${constructPath}"`);

  const nodes = cluster.nodes.map((n) => {
    const ignition = nodeIgnitionJson(cluster, n);
    const inputs = JSON.stringify({
      ignition,
      address: n.address,
      netmask: netmaskOf(cluster.network.prefixLength),
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
  const machineInputs = {
    netmask: netmaskOf(cluster.network.prefixLength),
    cpus: cluster.cpus,
    memoryMiB: cluster.memoryMiB,
    provider,
    boxName,
    boxUrl,
    gui,
    serialLogging,
    forwardedPorts,
    sharedFolders,
  };
  const front =
    options.front && frontAddresses
      ? planVagrantFront(cluster, options.front, frontAddresses, machineInputs)
      : undefined;
  return {
    cluster,
    front,
    provider,
    lifecycle,
    boxName,
    boxUrl,
    gui,
    forwardedPorts,
    sharedFolders,
    serialLogging,
    parallel,
    readyTimeoutSeconds,
    netmask: netmaskOf(cluster.network.prefixLength),
    nodes,
  };
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

interface FrontAddresses {
  readonly highAvailability: boolean;
  readonly virtualAddress?: string;
  readonly machines: readonly { readonly name: string; readonly address: string }[];
  readonly interface: string;
  readonly virtualRouterId?: number;
}

/** Front addresses: virtual address at the first host number, machines after it. */
function planFrontAddresses(
  cluster: ClusterPlan,
  options: VagrantOptions,
  provider: VagrantProvider,
  issues: IssueCollector,
): FrontAddresses | undefined {
  const ha = options.frontHighAvailability ?? true;
  if (typeof ha !== "boolean") issues.add("frontHighAvailability", ha, "true or false");
  const iface = options.frontInterface ?? "eth1";
  if (typeof iface !== "string" || !/^[a-zA-Z0-9_.-]{1,15}$/.test(iface)) {
    issues.add("frontInterface", iface, "a network interface name, e.g. eth1");
  }
  const vrid =
    options.virtualRouterId ?? 1 + (parseInt(sha256(cluster.name).slice(0, 8), 16) % 255);
  if (!(Number.isInteger(vrid) && vrid >= 1 && vrid <= 255)) {
    issues.add(
      "virtualRouterId",
      vrid,
      "a whole number 1-255, unique among VRRP routers on the network",
    );
  }
  if (cluster.namePrefix === "front") {
    issues.add(
      "cluster.namePrefix",
      cluster.namePrefix,
      'a prefix other than "front" (the front machines are front-01, front-02)',
    );
  }
  const first = options.frontFirstHostNumber ?? 10;
  const hostNumbers = ha ? [first, first + 1, first + 2] : [first + 1];
  const addresses = hostNumbers.map((h) =>
    Number.isInteger(h) ? hostAddress(cluster.network, h) : undefined,
  );
  const taken = new Set(cluster.nodes.map((n) => n.address));
  if (addresses.some((a) => a === undefined) || addresses.some((a) => taken.has(a as string))) {
    issues.add(
      "frontFirstHostNumber",
      first,
      `host numbers (${hostNumbers.join(", ")}) inside ${cluster.network.cidr} that no node uses (nodes start at ${cluster.firstHostNumber})`,
    );
    return undefined;
  }
  const range = parseCidr(VIRTUALBOX_HOST_ONLY_RANGE);
  if (provider === VagrantProvider.VIRTUALBOX && !("reason" in range)) {
    const outside = addresses.find((a) => !contains(range, a as string));
    if (outside)
      issues.add(
        "frontFirstHostNumber",
        first,
        `front addresses inside ${VIRTUALBOX_HOST_ONLY_RANGE} for VirtualBox (got ${outside})`,
      );
  }
  const machineAddresses = ha ? addresses.slice(1) : addresses;
  return {
    highAvailability: ha,
    virtualAddress: ha ? addresses[0] : undefined,
    machines: machineAddresses.map((a, i) => ({
      name: `front-${String(i + 1).padStart(2, "0")}`,
      address: a as string,
    })),
    interface: iface,
    virtualRouterId: ha ? vrid : undefined,
  };
}

function planVagrantFront(
  cluster: ClusterPlan,
  front: FrontPlan,
  a: FrontAddresses,
  machineInputs: object,
): VagrantFrontPlan {
  const address = a.virtualAddress ?? a.machines[0].address;
  const haproxyCfg = renderHaproxyCfg(front, {
    bindAddress: address,
    statsSocket: FRONT_STATS_SOCKET,
    monitorPort: FRONT_MONITOR_PORT,
  });
  const machines = a.machines.map((m, i) => {
    const keepalivedConf = a.highAvailability
      ? renderKeepalivedConf({
          routerName: m.name,
          interface: a.interface,
          virtualRouterId: a.virtualRouterId as number,
          priority: 150 - 50 * i,
          address: m.address,
          peers: a.machines.filter((o) => o !== m).map((o) => o.address),
          virtualAddress: a.virtualAddress as string,
          prefixLength: cluster.network.prefixLength,
          monitorPort: FRONT_MONITOR_PORT,
        })
      : undefined;
    const ignition = renderFrontIgnitionJson(cluster, { name: m.name, haproxyCfg, keepalivedConf });
    // haproxy.cfg is left out: it changes by reload (front config step), not by a new machine.
    const shape = renderFrontIgnitionJson(cluster, {
      name: m.name,
      haproxyCfg: "",
      keepalivedConf,
    });
    return {
      name: m.name,
      address: m.address,
      ignitionFile: `ignition/${m.name}.ign`,
      ignition,
      keepalivedConf,
      inputsHash: sha256(JSON.stringify({ shape, address: m.address, ...machineInputs })),
    };
  });
  return {
    plan: front,
    address,
    highAvailability: a.highAvailability,
    machines,
    haproxyCfg,
    haproxyCfgHash: sha256(haproxyCfg),
    virtualRouterId: a.virtualRouterId,
  };
}
