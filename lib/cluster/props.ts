import { ContainerImage } from "../core/container-image";
import { Duration } from "../core/duration";
import { EtcdDiscovery } from "../etcd/discovery";
import { EtcdTls } from "../etcd/tls";
import { OperatingSystem } from "./operating-system";
import { Provisioning } from "./provisioning";
import { RebootStrategy } from "./reboot-strategy";

/** A systemd drop-in for a unit. */
export interface SystemdDropin {
  /** File name of the drop-in, ending in `.conf`. */
  readonly name: string;
  /** The drop-in's contents. */
  readonly contents: string;
}

/** A systemd unit put on every node. */
export interface SystemdUnit {
  /** Unit name with its type suffix, e.g. `hello.service`. */
  readonly name: string;
  /**
   * Full unit contents. Leave out to only add drop-ins to, or enable, a unit
   * the OS already ships.
   * @default - the unit is not written
   */
  readonly contents?: string | undefined;
  /**
   * Start the unit at boot.
   * @default true when contents are given, otherwise unchanged
   */
  readonly enabled?: boolean | undefined;
  /**
   * Drop-ins for the unit.
   * @default - none
   */
  readonly dropins?: readonly SystemdDropin[] | undefined;
}

/** A file put on every node. */
export interface NodeFile {
  /** Absolute path on the node. */
  readonly path: string;
  /** UTF-8 contents. */
  readonly contents: string;
  /**
   * Unix permission bits.
   * @default 0o644
   */
  readonly mode?: number | undefined;
}

/** etcd topology of the cluster. */
export interface EtcdProps {
  /**
   * How many nodes run an etcd member: 1, 3, 5 or 7. The first nodes are the
   * members; the others are etcd clients that talk to them.
   * @default 3, or 1 when the cluster has fewer than 3 nodes
   */
  readonly members?: number | undefined;
  /**
   * The `initial-cluster-token`. It keeps members of two clusters on one
   * network from joining each other.
   * @default - derived from the construct path: stable across synths, different per cluster
   */
  readonly clusterToken?: string | undefined;
  /**
   * etcd container image tag run by `etcd-member.service`; ignored when
   * `image` is given.
   * @default "v3.5.21"
   */
  readonly imageTag?: string | undefined;
  /**
   * The etcd image every member runs (and whose etcdctl the membership
   * scripts use). Pin it: `ContainerImage.pinned("quay.io/coreos/etcd:v3.5.21@sha256:…")`.
   * @default - quay.io/coreos/etcd:<imageTag>, unpinned (each synth warns)
   */
  readonly image?: ContainerImage | undefined;
  /**
   * TLS for etcd's client and peer traffic.
   * @default EtcdTls.generatedCa(): mutual TLS with a CA kept in the state folder
   */
  readonly tls?: EtcdTls | undefined;
  /**
   * How the members find each other on their first boot: static bootstrap
   * (no outside service), a v2 discovery URL (the public service, a
   * self-hosted one, a token you bring) or v3 discovery (etcd ≥ 3.6). Tokens
   * are made by the deploy, one per cluster generation. Vagrant target only.
   * @default EtcdDiscovery.staticBootstrap()
   */
  readonly discovery?: EtcdDiscovery | undefined;
  /**
   * Also listen on etcd's legacy ports, 4001 (clients) and 7001 (peers), as
   * the coreos-vagrant recipe did, besides 2379 and 2380; the AWS security
   * group opens them between the nodes too.
   * @default false
   */
  readonly legacyPorts?: boolean | undefined;
}

/**
 * When a Flatcar node may reboot into an update: locksmithd's reboot window,
 * on top of the etcd lock (one node at a time) or of an uncoordinated reboot.
 */
export interface MaintenanceWindow {
  /**
   * Start of the window, UTC, as locksmithd reads it: `"HH:MM"` every day or
   * `"Sun HH:MM"` once a week (Sun, Mon, Tue, Wed, Thu, Fri, Sat).
   */
  readonly start: string;
  /** Length of the window: whole minutes, 1 minute to 7 days. */
  readonly length: Duration;
}

/**
 * The platform-neutral description of a CoreOS cluster. Targets (Vagrant,
 * AWS) turn the validated plan into machines.
 */
export interface CoreOsClusterProps {
  /**
   * Cluster name: names the artifact folder and, on cloud targets, resources.
   * Lowercase letters, digits and `-`.
   * @default - the construct id, lowercased
   */
  readonly name?: string | undefined;
  /**
   * Number of nodes, standby nodes included (1..9999).
   * @default 3
   */
  readonly nodeCount?: number | undefined;
  /**
   * Node name prefix; nodes are `<prefix>-01`, `<prefix>-02`, … `<prefix>-99`,
   * `<prefix>-100`: two digits at least, so growing renames no node.
   * @default "core"
   */
  readonly namePrefix?: string | undefined;
  /**
   * OS and channel of every node.
   * @default OperatingSystem.flatcar(FlatcarChannel.STABLE)
   */
  readonly os?: OperatingSystem | undefined;
  /**
   * Virtual CPUs per node (1..64).
   * @default 1
   */
  readonly cpus?: number | undefined;
  /**
   * Memory per node in MiB (512..262144).
   * @default 1024
   */
  readonly memoryMiB?: number | undefined;
  /**
   * SSH public keys authorised for user `core`. Private keys are rejected.
   * @default - none: nodes accept no SSH logins
   */
  readonly sshPublicKeys?: readonly string[] | undefined;
  /**
   * Private network of the nodes. The default lies inside VirtualBox's
   * allowed host-only range (192.168.56.0/21).
   * @default "192.168.56.0/21"
   */
  readonly networkCidr?: string | undefined;
  /**
   * Host number of the first node inside `networkCidr`; node i gets host
   * number `firstHostNumber + i`, so addresses are deterministic.
   * @default 101 (core-01 = 192.168.56.101)
   */
  readonly firstHostNumber?: number | undefined;
  /**
   * Subnets inside `networkCidr` to spread the nodes over (e.g. one per cloud
   * availability zone): node i goes to subnet `i mod k` with host number
   * `firstHostNumber + floor(i / k)` inside it.
   * @default - one subnet: `networkCidr` itself
   */
  readonly subnetCidrs?: readonly string[] | undefined;
  /**
   * Extra systemd units on every node.
   * @default - none
   */
  readonly units?: readonly SystemdUnit[] | undefined;
  /**
   * Extra files on every node.
   * @default - none
   */
  readonly files?: readonly NodeFile[] | undefined;
  /**
   * Extra files on single nodes, by node name (e.g. a node-specific role
   * marker). Changing them re-provisions only those nodes.
   * @default - none
   */
  readonly nodeFiles?: { readonly [nodeName: string]: readonly NodeFile[] } | undefined;
  /**
   * etcd topology.
   * @default - 3 members (1 below 3 nodes), derived token
   */
  readonly etcd?: EtcdProps | undefined;
  /**
   * Standby nodes (the I of N+I): the last nodes of the cluster. They run and
   * join etcd as clients, but a front sends them traffic only when active
   * nodes are down. At least one node must stay active.
   * @default 0
   */
  readonly standby?: number | undefined;
  /**
   * What a node does after an OS update.
   * @default RebootStrategy.ETCD_LOCK on Flatcar, RebootStrategy.STAGGERED on Fedora CoreOS
   */
  readonly rebootStrategy?: RebootStrategy | undefined;
  /**
   * When nodes may reboot into an update (Flatcar, with ETCD_LOCK or REBOOT):
   * with ETCD_LOCK one node at a time and only inside the window.
   * @default - any time (ETCD_LOCK still reboots one node at a time)
   */
  readonly maintenanceWindow?: MaintenanceWindow | undefined;
  /**
   * How each node's config reaches it: Ignition, or the seed's
   * `#cloud-config` (Flatcar only) from the same model.
   * @default Provisioning.IGNITION
   */
  readonly provisioning?: Provisioning | undefined;
}
