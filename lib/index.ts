export * from "./cluster";
export * from "./cluster-props";
export { ClusterConfigError, PropIssue } from "./errors";
export * from "./operating-system";
export * from "./reboot-strategy";
export {
  ClusterPlan,
  EtcdPlan,
  NodePlan,
  planCluster,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  ETCD_MEMBER_COUNTS,
} from "./plan";
export {
  renderIgnition,
  renderIgnitionJson,
  IgnitionConfig,
  IGNITION_VERSION,
} from "./render/ignition";
export {
  etcdMemberEnvironment,
  parseEnvironmentDropin,
  renderEnvironmentDropin,
} from "./render/etcd-environment";
export * from "./vagrant-cluster";
export * from "./vagrant-options";
export { VagrantPlan, VagrantNodePlan, planVagrant, flatcarBoxUrl } from "./vagrant-plan";
export * from "./duration";
export * from "./front";
export * from "./front-options";
export * from "./front-target";
export {
  FrontPlan,
  ListenerPlan,
  TargetGroupPlan,
  TargetMemberPlan,
  HealthCheckPlan,
} from "./front-plan";
export * from "./aws-cluster";
export * from "./aws-options";
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
} from "./aws-plan";
