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
  /** Reboot as soon as the update is staged, uncoordinated: every node may reboot at once. */
  REBOOT = "reboot",
  /** Never reboot on its own; an operator reboots each node. */
  OFF = "off",
  /**
   * Reboot only inside the node's own daily 30-minute window: node i's window
   * starts at hour i mod 24 (UTC), so no two of the first 24 nodes (every etcd
   * member among them) ever reboot together. Flatcar: locksmithd's reboot
   * window; Fedora CoreOS: Zincati's `periodic` strategy.
   */
  STAGGERED = "staggered",
}
