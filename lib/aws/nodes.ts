import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { Ec2SubnetCidrReservation } from "@cdktf/provider-aws/lib/ec2-subnet-cidr-reservation";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { AwsClusterNetwork } from "./network";
import { AwsParts } from "./parts";

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
  reservations: readonly Ec2SubnetCidrReservation[],
  artifactDirectory: string,
): Instance[] {
  const { scope, plan, provider, named, tags } = parts;
  const ami = machineImageId(parts);
  return plan.nodes.map((n, i) =>
    named(
      new Instance(scope, n.name, {
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
      n.name,
    ),
  );
}
