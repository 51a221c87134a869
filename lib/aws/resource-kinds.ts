import {
  Ec2SubnetCidrReservation,
  Ec2SubnetCidrReservationConfig,
} from "@cdktf/provider-aws/lib/ec2-subnet-cidr-reservation";
import {
  Instance,
  InstanceConfig,
  instanceMetadataOptionsToTerraform,
  instanceRootBlockDeviceToTerraform,
} from "@cdktf/provider-aws/lib/instance";
import {
  LbTargetGroupAttachment,
  LbTargetGroupAttachmentConfig,
} from "@cdktf/provider-aws/lib/lb-target-group-attachment";
import {
  META_ARGUMENT_KEYS,
  metaArgumentsJson,
  MetaArgumentsConfig,
  onlyKnownKeys,
  ResourceKind,
} from "../core/resource-blocks";

/*
 * The per-node AWS resources as ResourceKinds: each config type names the
 * fields the target sets, and toJson writes them as the provider class
 * (@cdktf/provider-aws 20.1) synthesizes them.
 */

/** The fields of an EC2 instance a node sets. */
export type NodeInstanceConfig = Pick<
  InstanceConfig,
  | "ami"
  | "instanceType"
  | "subnetId"
  | "privateIp"
  | "vpcSecurityGroupIds"
  | "associatePublicIpAddress"
  | "userData"
  | "userDataReplaceOnChange"
  | "metadataOptions"
  | "rootBlockDevice"
  | "tags"
> &
  MetaArgumentsConfig;

const INSTANCE_FIELDS = [
  "ami",
  "instanceType",
  "subnetId",
  "privateIp",
  "vpcSecurityGroupIds",
  "associatePublicIpAddress",
  "userData",
  "userDataReplaceOnChange",
  "metadataOptions",
  "rootBlockDevice",
  "tags",
  ...META_ARGUMENT_KEYS,
];

export const EC2_INSTANCE: ResourceKind<NodeInstanceConfig> = {
  terraformResourceType: "aws_instance",
  toJson(c) {
    onlyKnownKeys("aws_instance", c, INSTANCE_FIELDS);
    return {
      ami: c.ami,
      associate_public_ip_address: c.associatePublicIpAddress,
      instance_type: c.instanceType,
      private_ip: c.privateIp,
      subnet_id: c.subnetId,
      tags: c.tags,
      user_data: c.userData,
      user_data_replace_on_change: c.userDataReplaceOnChange,
      vpc_security_group_ids: c.vpcSecurityGroupIds,
      metadata_options: instanceMetadataOptionsToTerraform(c.metadataOptions),
      root_block_device: instanceRootBlockDeviceToTerraform(c.rootBlockDevice),
      ...metaArgumentsJson(c),
    };
  },
  construct: (scope, id, c) => new Instance(scope, id, c),
};

/** The fields of a subnet CIDR reservation a node's address sets. */
export type AddressReservationConfig = Pick<
  Ec2SubnetCidrReservationConfig,
  "subnetId" | "cidrBlock" | "reservationType" | "description"
> &
  MetaArgumentsConfig;

export const SUBNET_CIDR_RESERVATION: ResourceKind<AddressReservationConfig> = {
  terraformResourceType: "aws_ec2_subnet_cidr_reservation",
  toJson(c) {
    onlyKnownKeys("aws_ec2_subnet_cidr_reservation", c, [
      "subnetId",
      "cidrBlock",
      "reservationType",
      "description",
      ...META_ARGUMENT_KEYS,
    ]);
    return {
      cidr_block: c.cidrBlock,
      description: c.description,
      reservation_type: c.reservationType,
      subnet_id: c.subnetId,
      ...metaArgumentsJson(c),
    };
  },
  construct: (scope, id, c) => new Ec2SubnetCidrReservation(scope, id, c),
};

/** The fields of a target group registration a node's target sets. */
export type TargetRegistrationConfig = Pick<
  LbTargetGroupAttachmentConfig,
  "targetGroupArn" | "targetId" | "port"
> &
  MetaArgumentsConfig;

export const TARGET_GROUP_ATTACHMENT: ResourceKind<TargetRegistrationConfig> = {
  terraformResourceType: "aws_lb_target_group_attachment",
  toJson(c) {
    onlyKnownKeys("aws_lb_target_group_attachment", c, [
      "targetGroupArn",
      "targetId",
      "port",
      ...META_ARGUMENT_KEYS,
    ]);
    return {
      port: c.port,
      target_group_arn: c.targetGroupArn,
      target_id: c.targetId,
      ...metaArgumentsJson(c),
    };
  },
  construct: (scope, id, c) => new LbTargetGroupAttachment(scope, id, c),
};
