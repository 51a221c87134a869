/**
 * How a node's config reaches it and who applies it.
 */
export enum Provisioning {
  /**
   * Ignition v3 (spec 3.3.0): applied once, before systemd starts anything
   * (Flatcar's initramfs; on Vagrant on the reboot after the config is
   * copied in). Flatcar and Fedora CoreOS.
   */
  IGNITION = "ignition",
  /**
   * The seed's `#cloud-config`, applied by Flatcar's coreos-cloudinit on
   * every boot once the system is up; `$private_ipv4` is substituted by the
   * platform. Flatcar only: Fedora CoreOS has no cloud-config.
   */
  CLOUD_CONFIG = "cloud-config",
}
