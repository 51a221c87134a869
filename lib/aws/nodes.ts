import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { ResourceBlocks, ResourceReference } from "../core/resource-blocks";
import { AwsClusterNetwork } from "./network";
import { AwsParts } from "./parts";
import { EC2_INSTANCE } from "./resource-kinds";

/** The machine image: the fixed id, or the newest image the lookup finds. */
function machineImageId(parts: AwsParts): string {
  const image = parts.plan.image;
  if (image.amiId) return image.amiId;
  const lookup = image.lookup as NonNullable<typeof image.lookup>;
  return parts.named(
    new DataAwsAmi(parts.scope, "Image", {
      mostRecent: true,
      owners: [lookup.owner],
      filter: lookup.filters.map((f) => ({ name: f.name, values: [...f.values] })),
      provider: parts.provider,
    }),
    "image",
  ).id;
}

/**
 * Terraform reading a file of the stack folder, relative to the module (the
 * stack folder wherever `terraform` runs): `file()` takes the text verbatim,
 * so `${VAR}` in a unit stays as it is.
 */
function fileExpression(relativePath: string): string {
  return `\${file("\${path.module}/${relativePath}")}`;
}

/**
 * One EC2 instance per node, in node order: its planned private address in
 * its subnet, its Ignition as user data (read from its file in the cluster's
 * artifact folder), IMDSv2 only, an encrypted root.
 * Each waits for its network (routes out) and its address reservation.
 */
export function nodeInstances(
  parts: AwsParts,
  network: AwsClusterNetwork,
  securityGroupId: string,
  reservations: readonly ResourceReference[],
  artifactDirectory: string,
): ResourceReference[] {
  const { scope, plan, provider, logicalId, tags } = parts;
  const ami = machineImageId(parts);
  const blocks = new ResourceBlocks(scope, "NodeInstances", EC2_INSTANCE, parts);
  return plan.nodes.map((n, i) =>
    blocks.add(n.name, logicalId(n.name), {
      ami,
      instanceType: plan.instanceType,
      subnetId: network.subnetIds[n.subnetIndex],
      privateIp: n.address,
      vpcSecurityGroupIds: [securityGroupId],
      associatePublicIpAddress: plan.publicAddresses,
      userData: fileExpression(`${artifactDirectory}/${n.userDataFile}`),
      // Ignition runs on first boot only: a changed config means a new node.
      userDataReplaceOnChange: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
      rootBlockDevice: {
        volumeType: "gp3",
        volumeSize: plan.rootVolumeGiB,
        encrypted: true,
        deleteOnTermination: true,
      },
      tags: tags(n.name),
      lifecycle: plan.replaceOnImageChange ? undefined : { ignoreChanges: ["ami"] },
      dependsOn: [...network.nodesReady, reservations[i]],
      provider,
    }),
  );
}
