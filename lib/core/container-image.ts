import { checkImageReference } from "./validate";

/**
 * A container image a node pulls at boot. Pinned images name a content digest
 * (`repo:tag@sha256:<64 hex>`): the node runs exactly the bytes the deploy
 * named, whatever the registry's tag points to later.
 */
export class ContainerImage {
  /**
   * An image pinned by digest, e.g.
   * `quay.io/coreos/etcd:v3.5.21@sha256:<64 hex digits>`. Get the digest with
   * `docker buildx imagetools inspect <repo:tag>` or `skopeo inspect`.
   */
  public static pinned(reference: string): ContainerImage {
    return new ContainerImage(reference, true);
  }

  /**
   * An image named by tag only: the registry decides what the tag means when
   * the node boots. For the shipped defaults (whose digests could not be
   * looked up where this library is built) and for debugging; each synth warns.
   */
  public static unpinned(reference: string): ContainerImage {
    return new ContainerImage(reference, false);
  }

  private constructor(
    /** The full reference a container runtime pulls. */
    public readonly reference: string,
    /** True when the reference carries a sha256 digest. */
    public readonly pinned: boolean,
  ) {}

  /** Why the reference is not acceptable, or undefined when it is. */
  public problem(): string | undefined {
    return checkImageReference(this.reference, this.pinned);
  }

  public toString(): string {
    return this.reference;
  }
}

/** Checks an image prop; adds a prop / value / allowed issue when it is bad. */
export function checkImage(
  issues: { add(prop: string, value: unknown, allowed: string): void },
  prop: string,
  image: unknown,
): image is ContainerImage {
  if (!(image instanceof ContainerImage)) {
    issues.add(
      prop,
      image,
      'ContainerImage.pinned("repo:tag@sha256:…") or ContainerImage.unpinned("repo:tag")',
    );
    return false;
  }
  const problem = image.problem();
  if (problem) issues.add(prop, image.reference, problem);
  return problem === undefined;
}
