/** The hypervisor Vagrant drives. */
export enum VagrantProvider {
  /** VirtualBox: host-only networks inside 192.168.56.0/21; nodes come up one at a time. */
  VIRTUALBOX = "virtualbox",
  /** libvirt (QEMU/KVM): Ignition through fw_cfg; nodes may come up in parallel. */
  LIBVIRT = "libvirt",
}

/** The Terraform resource type that carries each node's lifecycle. */
export enum LifecycleResource {
  /** `null_resource` from hashicorp/null (provider download needed). */
  NULL_RESOURCE = "null_resource",
  /** Terraform's built-in `terraform_data`: no provider, for air-gapped machines. */
  TERRAFORM_DATA = "terraform_data",
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
