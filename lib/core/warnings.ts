import { Annotations } from "cdktf";
import { IConstruct } from "constructs";
import { ContainerImage } from "./container-image";

/** Warns at synth about an image named by tag only: the registry, not the deploy, decides what runs. */
export function warnUnpinned(scope: IConstruct, prop: string, image: ContainerImage): void {
  if (image.pinned) return;
  Annotations.of(scope).addWarning(
    `${prop}: ${image.reference} is not pinned by digest; nodes run whatever the tag points to when they boot. Pin it with ContainerImage.pinned("${image.reference}@sha256:<digest>").`,
  );
}
