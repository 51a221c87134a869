import { ContainerImage } from "./container-image";

/**
 * Images the nodes and front machines run unless props name others. This
 * library is built without registry access, so it pins a default only where
 * the image's publisher recorded its digest; the others are tag references
 * (a digest nobody published would be a guess), and the policy check warns
 * about them (CC-W7, CC-W8): pin your own with `ContainerImage.pinned(...)`.
 */
export const DEFAULT_IMAGES = {
  /** etcd's own release image; the nodes run etcd and etcdctl from it. Tag only. */
  etcd: ContainerImage.unpinned("quay.io/coreos/etcd:v3.5.21"),
  /**
   * HAProxy 2.6 (2.6.34), the major version the front tests run. Digest of
   * `haproxy:2.6` (the multi-platform index) as the official image's
   * publisher records it: docker-library/repo-info, repos/haproxy/remote/2.6.md.
   */
  haproxy: ContainerImage.pinned(
    "docker.io/library/haproxy:2.6@sha256:27d5ea8c22a63b2f072974b3d15e34816ee7f19fa68d13e37ec1d69e2a5df8d1",
  ),
  /** keepalived (with busybox wget for the HAProxy check). Tag only. */
  keepalived: ContainerImage.unpinned("docker.io/osixia/keepalived:2.0.20"),
} as const;
