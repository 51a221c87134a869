export * from "./cluster/cluster";
export * from "./cluster/props";
export { ClusterConfigError, PropIssue } from "./core/errors";
export * from "./cluster/operating-system";
export * from "./cluster/reboot-strategy";
export * from "./cluster/provisioning";
export {
  EtcdDiscovery,
  DiscoveryKind,
  DiscoveryPlan,
  V3DiscoveryOptions,
  PUBLIC_DISCOVERY_SERVICE,
  DISCOVERY_ENV_FILE,
} from "./etcd/discovery";
export {
  ClusterPlan,
  EtcdPlan,
  NodePlan,
  planCluster,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  ETCD_LEGACY_CLIENT_PORT,
  ETCD_LEGACY_PEER_PORT,
  ETCD_MEMBER_COUNTS,
  MaintenanceWindowPlan,
} from "./cluster/plan";
export { renderCloudConfig, CLOUD_CONFIG_HEADER, PRIVATE_IPV4 } from "./render/cloud-config";
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
  ETCD_TLS_DIR,
  ETCD_TLS_FILES,
} from "./render/etcd-environment";
export {
  ResourceBlocks,
  ResourceKind,
  ResourceReference,
  MetaArgumentsConfig,
  metaArgumentsJson,
} from "./core/resource-blocks";
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
export { CONFIG_RB_KNOBS, ConfigRbKnob } from "./vagrant/config-rb";
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
export * from "./services/options";
export * from "./services/failover-service";
export {
  FailoverServicePlan,
  ServiceTimingPlan,
  ServiceCheckPlan,
  planFailoverService,
} from "./services/plan";
export {
  ClusterOperations,
  ClusterStatus,
  ClusterEvent,
  FrontStatus,
  NodeStatus,
  OperationReport,
  OperationsOptions,
  ServiceStatus,
} from "./ops/operations";
export {
  ExecResult,
  MachineTransport,
  NamespaceTransport,
  VagrantTransport,
} from "./ops/transport";
export { ClusterDescription, ServiceSummary, findCluster } from "./ops/cluster-files";
