/**
 * What a node does after it has downloaded an OS update.
 */
export enum RebootStrategy {
  /**
   * Take a lock in the cluster's etcd before rebooting, so updates roll
   * through the cluster one node at a time (Flatcar's locksmithd `etcd-lock`).
   * Flatcar only: Fedora CoreOS coordinates reboots through a FleetLock server.
   */
  ETCD_LOCK = "etcd-lock",
  /** Reboot as soon as the update is staged. */
  REBOOT = "reboot",
  /** Never reboot on its own; an operator reboots each node. */
  OFF = "off",
}
