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
