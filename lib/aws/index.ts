/**
 * The AWS target, its own entry point (`coreos-cluster-cdktf/aws`) so that
 * the root entry point never loads `@cdktf/provider-aws`.
 */
export * from "./aws-cluster";
export * from "./options";
export * from "./from-settings";
export { awsTopology } from "./topology";
export {
  AwsPlan,
  AwsNodePlan,
  AwsFrontPlan,
  AwsListenerPlan,
  AwsTargetGroupPlan,
  AwsHealthCheckPlan,
  AwsNetworkPlan,
  AwsImagePlan,
  AMI_OWNERS,
  AWS_LIMITS,
  awsName,
} from "./plan";
