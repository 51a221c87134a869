import { createHash } from "node:crypto";
import { IssueCollector } from "../core/errors";
import {
  checkNodePath,
  checkPropsObject,
  isPlainObject,
  findTokens,
  hasControlChars,
  LITERAL_REQUIRED,
  TOKEN_VALUE,
} from "../core/validate";
import { OsFamily } from "../cluster/operating-system";
import { ClusterPlan } from "../cluster/plan";
import { nodeConfig, nodeIgnitionJson } from "../render/ignition-cache";
import { Provisioning } from "../cluster/provisioning";
import { ConfigRbKnob, planConfigRbHints } from "./config-rb";
import { contains, hostAddress, netmaskOf, parseCidr } from "../core/network";
import { Duration } from "../core/duration";
import { checkFrontRunsCluster, FrontPlan } from "../front/plan";
import { renderHaproxyCfg } from "../render/haproxy";
import { renderKeepalivedConf } from "../render/keepalived";
import {
  FRONT_MONITOR_PORT,
  FRONT_STATS_SOCKET,
  renderFrontIgnitionJson,
} from "../render/front-ignition";
import {
  ForwardedPort,
  FrontImages,
  LifecycleResource,
  SharedFolder,
  VagrantClusterOptions,
  VagrantProvider,
} from "./options";
import { checkImage, ContainerImage } from "../core/container-image";
import { DEFAULT_IMAGES } from "../core/default-images";
import { MachineCredentials } from "../etcd/tls";

/** VirtualBox ≥ 6.1.28 allows host-only networks only here (without /etc/vbox/networks.conf). */
export const VIRTUALBOX_HOST_ONLY_RANGE = "192.168.56.0/21";

/** The Vagrant target's props as the plan reads them: the front already planned. */
export interface VagrantOptions extends VagrantClusterOptions {
  /** The front's plan, when the environment runs the front. */
  readonly front?: FrontPlan | undefined;
  /** etcd client credentials of a front machine (its reboot lock), when etcd speaks TLS. */
  readonly frontCredentials?: ((machine: string) => MachineCredentials | undefined) | undefined;
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
  /** The images the front machines run. */
  readonly images: { readonly haproxy: ContainerImage; readonly keepalived: ContainerImage };
}

/** One machine of the Vagrant environment. */
export interface VagrantNodePlan {
  readonly name: string;
  readonly address: string;
  /** How its config reaches it (front machines: Ignition). */
  readonly provisioning: Provisioning;
  /** Its config file (`ignition/<name>.ign` or `cloud-config/<name>.yml`), relative to the Vagrant folder. */
  readonly configFile: string;
  /** The config the machine gets. */
  readonly config: string;
  /** Its Ignition config (with cloud-config: the same model, for reference). */
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
  /** How to change each config.rb knob, for the message an edited config.rb gets. */
  readonly configRbHints: Readonly<Record<ConfigRbKnob, string>>;
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

/** A list prop: its entries, or none after an issue when it is not a list. */
function listOption<T>(
  issues: IssueCollector,
  prop: string,
  value: readonly T[] | undefined,
  fields: string,
): readonly T[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  issues.add(prop, value, `a list of { ${fields} }`);
  return [];
}

function isPort(p: unknown): p is number {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/**
 * Validates the Vagrant options against the cluster and resolves defaults.
 * Pure. `isToken` tells unresolved tokens (Terraform references, variables)
 * from literals: every Vagrant prop shapes files written at synth, so each
 * must be a literal.
 */
export function planVagrant(
  cluster: ClusterPlan,
  given: VagrantOptions,
  constructPath: string,
  isToken: (value: unknown) => boolean = () => false,
): VagrantPlan {
  const issues = new IssueCollector();
  const where = `VagrantCluster "${constructPath}"`;
  const propsReason = checkPropsObject(given);
  if (propsReason) issues.add("props", given, propsReason);
  issues.throwIfAny(where);
  const options: VagrantOptions = given ?? {};
  // Tokens first: their encoded values would only produce nonsense below.
  for (const prop of findTokens(options, isToken, "", ["front"])) {
    issues.add(prop, TOKEN_VALUE, LITERAL_REQUIRED);
  }
  issues.throwIfAny(where);
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
  const forwardedPorts = listOption(
    issues,
    "forwardedPorts",
    options.forwardedPorts,
    "guest, host",
  );
  forwardedPorts.forEach((p, i) => {
    if (!isPort(p?.guest)) issues.add(`forwardedPorts[${i}].guest`, p?.guest, "a port 1-65535");
    if (!isPort(p?.host)) issues.add(`forwardedPorts[${i}].host`, p?.host, "a port 1-65535");
  });
  const sharedFolders = listOption(issues, "sharedFolders", options.sharedFolders, "host, guest");
  sharedFolders.forEach((f, i) => {
    const host = f?.host;
    if (
      typeof host !== "string" ||
      host.length === 0 ||
      /["\\]/.test(host) ||
      hasControlChars(host)
    ) {
      issues.add(
        `sharedFolders[${i}].host`,
        host,
        "a host folder path without quotes, backslashes or control characters (newline, NUL, …)",
      );
    }
    const guest = f?.guest;
    if (typeof guest !== "string" || checkNodePath(guest) !== undefined || /["\\]/.test(guest)) {
      issues.add(
        `sharedFolders[${i}].guest`,
        guest,
        "an absolute guest path without quotes or backslashes: fully simplified (no ., .., // or trailing /), no control characters",
      );
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
    const shown = readyTimeout instanceof Duration ? readyTimeout.toString() : readyTimeout;
    issues.add("readyTimeout", shown, "a Duration from 1 s to 24 h");
  }
  const frontAddresses = options.front
    ? planFrontAddresses(cluster, options, provider, issues)
    : undefined;
  const givenImages: unknown = options.frontImages ?? {};
  if (!isPlainObject(givenImages)) {
    issues.add("frontImages", givenImages, "{ haproxy?, keepalived? } of ContainerImage");
  }
  const frontImages: FrontImages = isPlainObject(givenImages) ? givenImages : {};
  const images = {
    haproxy: frontImages.haproxy ?? DEFAULT_IMAGES.haproxy,
    keepalived: frontImages.keepalived ?? DEFAULT_IMAGES.keepalived,
  };
  for (const key of ["haproxy", "keepalived"] as const) {
    if (frontImages[key] !== undefined) checkImage(issues, `frontImages.${key}`, frontImages[key]);
  }
  if (options.front) checkFrontRunsCluster(issues, options.front, cluster);
  const configRbHints = planConfigRbHints(issues, options.configRbHints, cluster, constructPath);
  issues.throwIfAny(where);

  const nodes = cluster.nodes.map((n) => {
    const ignition = nodeIgnitionJson(cluster, n);
    const cloudConfig = cluster.provisioning === Provisioning.CLOUD_CONFIG;
    const config = nodeConfig(cluster, n);
    const inputs = JSON.stringify({
      ignition: config,
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
      provisioning: cluster.provisioning,
      configFile: cloudConfig ? `cloud-config/${n.name}.yml` : `ignition/${n.name}.ign`,
      config,
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
      ? planVagrantFront(cluster, options.front, frontAddresses, machineInputs, {
          images,
          credentials: options.frontCredentials,
        })
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
    configRbHints,
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
  // Linux interface names: at most 15 bytes, never "." or "..".
  if (typeof iface !== "string" || !/^[a-zA-Z0-9_.-]{1,15}$/.test(iface) || /^\.\.?$/.test(iface)) {
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
  run: {
    readonly images: { readonly haproxy: ContainerImage; readonly keepalived: ContainerImage };
    readonly credentials?: (machine: string) => MachineCredentials | undefined;
  },
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
    const spec = {
      name: m.name,
      slot: cluster.nodes.length + i,
      images: run.images,
      keepalivedConf,
      vrrpPeer: a.highAvailability ? a.machines.find((o) => o !== m)?.address : undefined,
      etcdCredentials: run.credentials?.(m.name),
    };
    const ignition = renderFrontIgnitionJson(cluster, { ...spec, haproxyCfg });
    // haproxy.cfg is left out: it changes by reload (front config step), not by a new machine.
    const shape = renderFrontIgnitionJson(cluster, { ...spec, haproxyCfg: "" });
    return {
      name: m.name,
      address: m.address,
      provisioning: Provisioning.IGNITION,
      configFile: `ignition/${m.name}.ign`,
      config: ignition,
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
    images: run.images,
  };
}
