import { ContainerImage } from "../core/container-image";
import { Duration } from "../core/duration";

/** The hypervisor Vagrant drives. */
export enum VagrantProvider {
  /** VirtualBox: host-only networks inside 192.168.56.0/21; nodes come up one at a time. */
  VIRTUALBOX = "virtualbox",
  /**
   * libvirt (QEMU/KVM): not supported yet, refused with a ClusterConfigError.
   * Flatcar publishes no libvirt Vagrant box, and the rest of the path (QEMU
   * reading the Ignition file, Flatcar's network patch for Vagrant's CoreOS
   * guest) is not verified.
   */
  LIBVIRT = "libvirt",
}

/** The Terraform resource type that carries each node's lifecycle. */
export enum LifecycleResource {
  /** Terraform's built-in `terraform_data` (Terraform >= 1.4): no provider to download. */
  TERRAFORM_DATA = "terraform_data",
  /** `null_resource` from hashicorp/null: needs the package `@cdktf/provider-null` and a provider download. */
  NULL_RESOURCE = "null_resource",
}

/** A guest port forwarded to the host's loopback. */
export interface ForwardedPort {
  /** Port inside the guest. */
  readonly guest: number;
  /** Port on the host (127.0.0.1). Vagrant auto-corrects clashes between nodes. */
  readonly host: number;
}

/** A host folder synced into every node (rsync). */
export interface SharedFolder {
  /** Folder on the host, relative to the Vagrant folder or absolute. */
  readonly host: string;
  /** Absolute folder in the guest. */
  readonly guest: string;
}

/** The Vagrant target's own props (besides the cluster and the front). */
export interface VagrantClusterOptions {
  /**
   * Hypervisor.
   * @default VagrantProvider.VIRTUALBOX
   */
  readonly provider?: VagrantProvider | undefined;
  /**
   * Terraform resource type of each node's lifecycle. `NULL_RESOURCE` needs
   * the package `@cdktf/provider-null` and a download of hashicorp/null.
   * @default LifecycleResource.TERRAFORM_DATA
   */
  readonly lifecycle?: LifecycleResource | undefined;
  /**
   * Vagrant box name. With Flatcar's box metadata it must be the name the
   * metadata declares.
   * @default "flatcar-<channel>"
   */
  readonly boxName?: string | undefined;
  /**
   * Where the box comes from: box metadata (versions, checksums) or a .box file.
   * @default - Flatcar's box metadata for the channel (flatcar_production_vagrant.json)
   */
  readonly boxUrl?: string | undefined;
  /**
   * Show the VirtualBox window.
   * @default false
   */
  readonly gui?: boolean | undefined;
  /**
   * Guest ports forwarded to 127.0.0.1 on the host.
   * @default - none
   */
  readonly forwardedPorts?: readonly ForwardedPort[] | undefined;
  /**
   * Host folders synced into every node with rsync.
   * @default - none
   */
  readonly sharedFolders?: readonly SharedFolder[] | undefined;
  /**
   * Log each node's serial console to `log/<node>-serial.txt`.
   * @default false
   */
  readonly serialLogging?: boolean | undefined;
  /**
   * Bring nodes up in parallel. Rejected with VirtualBox, where parallel
   * `vagrant up` races on box import and host-only network creation.
   * @default false
   */
  readonly parallel?: boolean | undefined;
  /**
   * How long a machine may take, after `vagrant up` returned, to pass its
   * ready check (Ignition applied, units enabled, etcd member serving or
   * healthy, etcd reachable from a client, HAProxy answering). Past it the
   * deploy fails, naming the machine and what did not come up.
   * @default Duration.seconds(600)
   */
  readonly readyTimeout?: Duration | undefined;
  /**
   * Two front machines sharing a virtual address through keepalived (VRRP),
   * so the front is no single point of failure.
   * @default true
   */
  readonly frontHighAvailability?: boolean | undefined;
  /**
   * Host number of the front's address in the cluster network: the virtual
   * address here, the front machines at the next numbers.
   * @default 10 (192.168.56.10; front-01 = .11, front-02 = .12)
   */
  readonly frontFirstHostNumber?: number | undefined;
  /**
   * Interface of the front machines on the cluster network (keepalived's).
   * @default "eth1" (Vagrant's private network; eth0 is its NAT)
   */
  readonly frontInterface?: string | undefined;
  /**
   * VRRP virtual router id of the front pair, unique on the network.
   * @default - 1-255, derived from the cluster name
   */
  readonly virtualRouterId?: number | undefined;
  /**
   * Images of the front machines: HAProxy, and keepalived for the HA pair.
   * Pin them by digest (`ContainerImage.pinned(...)`).
   * @default - DEFAULT_IMAGES (HAProxy pinned; keepalived by tag: policy warning CC-W8)
   */
  readonly frontImages?: FrontImages | undefined;
  /**
   * How to change each knob of the generated `config.rb`, by knob name
   * (e.g. `{ num_instances: "NUM_INSTANCES=<n> (environment)" }`): a user
   * who edits config.rb is stopped with this hint, the edited value and the
   * synthesized one. An app that reads its settings from a config file or
   * the environment says so here.
   * @default - the prop of your cdktf code that sets it, e.g. `nodeCount of CoreOsCluster "app/core"`
   */
  readonly configRbHints?: { readonly [knob: string]: string } | undefined;
}

/** Container images of the front machines. */
export interface FrontImages {
  /**
   * @default - docker.io/library/haproxy:2.6, pinned by digest (DEFAULT_IMAGES.haproxy)
   */
  readonly haproxy?: ContainerImage | undefined;
  /**
   * An image whose PATH has `keepalived` and `wget`.
   * @default - docker.io/osixia/keepalived:2.0.20, tag only (policy warning CC-W8)
   */
  readonly keepalived?: ContainerImage | undefined;
}
