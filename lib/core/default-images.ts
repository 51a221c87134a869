import { ContainerImage } from "./container-image";

/**
 * Images the nodes and front machines run unless props name others. They are
 * tag references: this library is built without registry access, so it cannot
 * look their digests up, and a digest it did not see would be a guess. Every
 * synth that uses one warns; pin your own with `ContainerImage.pinned(...)`.
 */
export const DEFAULT_IMAGES = {
  /** etcd's own release image; the nodes run etcd and etcdctl from it. */
  etcd: ContainerImage.unpinned("quay.io/coreos/etcd:v3.5.21"),
  /** HAProxy 2.6, the version the front tests run. */
  haproxy: ContainerImage.unpinned("docker.io/library/haproxy:2.6"),
  /** keepalived (with busybox wget for the HAProxy check). */
  keepalived: ContainerImage.unpinned("docker.io/osixia/keepalived:2.0.20"),
} as const;
