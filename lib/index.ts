export * from "./cluster/cluster";
export * from "./cluster/props";
export { ClusterConfigError, PropIssue } from "./core/errors";
export * from "./cluster/operating-system";
export * from "./cluster/reboot-strategy";
export {
  ClusterPlan,
  EtcdPlan,
  NodePlan,
  planCluster,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  ETCD_MEMBER_COUNTS,
} from "./cluster/plan";
export {
  renderIgnition,
  renderIgnitionJson,
  IgnitionConfig,
  IGNITION_VERSION,
} from "./render/ignition";
export {
  etcdMemberEnvironment,
  etcdctlEnvironment,
  parseEnvironmentDropin,
  parseEnvironmentFile,
  renderEnvironmentDropin,
  renderEnvironmentFile,
  ETCD_ENV_FILE,
  ETCD_TLS_FILES,
} from "./render/etcd-environment";
export { ContainerImage } from "./core/container-image";
export { DEFAULT_IMAGES } from "./core/default-images";
export {
  EtcdTls,
  EtcdTlsMaterial,
  MachineCredentials,
  CERTIFICATE_VALIDITY_DAYS,
  MEMBER_COMMON_NAME,
} from "./etcd/tls";
export { KeyPair } from "./etcd/certificates";
export {
  DEFAULT_STATE_DIRECTORY,
  STATE_DIRECTORY_CONTEXT,
  STATE_DIRECTORY_ENV,
} from "./etcd/state-directory";
export * from "./vagrant/vagrant-cluster";
export * from "./vagrant/options";
export {
  VagrantPlan,
  VagrantNodePlan,
  planVagrant,
  flatcarBoxUrl,
  flatcarBoxName,
} from "./vagrant/plan";
export * from "./core/duration";
export * from "./config";
export * from "./topology";
export {
  ClusterTopology,
  TopologyFront,
  TopologyListener,
  TopologyNode,
  TOPOLOGY_MAX_NODES,
  renderTopologyMarkdown,
  renderTopologyMermaid,
  renderTopologySvg,
} from "./render/topology";
export { vagrantTopology } from "./vagrant/topology";
export * from "./front/front";
export * from "./front/options";
export * from "./front/target";
export {
  FrontPlan,
  ListenerPlan,
  TargetGroupPlan,
  TargetMemberPlan,
  HealthCheckPlan,
} from "./front/plan";
export { Policy, PolicyError, PolicyReport, ACKNOWLEDGED_RULES_CONTEXT } from "./policy/policy";
export {
  PolicyLevel,
  PolicyRule,
  PolicyFinding,
  POLICY_RULES,
  ADMIN_PORTS,
  UNAUTHENTICATED_CONTROL_PORTS,
} from "./policy/rules";
