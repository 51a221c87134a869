import { ClusterPlan } from "../cluster/plan";
import { Provisioning } from "../cluster/provisioning";

/**
 * `cluster.json`: the resolved plan in a form a person (or a script) reads to
 * see what each node gets, without opening every Ignition file.
 */
export function renderPlanSummary(
  plan: ClusterPlan,
  ignitionDir: string,
  cloudConfigDir: string,
): string {
  const cloudConfig = plan.provisioning === Provisioning.CLOUD_CONFIG;
  const summary = {
    name: plan.name,
    os: { family: plan.os.family, channel: plan.os.channel },
    network: { cidr: plan.network.cidr, firstHostNumber: plan.firstHostNumber },
    resources: { cpus: plan.cpus, memoryMiB: plan.memoryMiB },
    rebootStrategy: plan.rebootStrategy,
    ...(plan.maintenanceWindow ? { maintenanceWindow: plan.maintenanceWindow } : {}),
    provisioning: plan.provisioning,
    etcd: {
      members: plan.etcd.members.map((m) => m.name),
      clusterToken: plan.etcd.clusterToken,
      imageTag: plan.etcd.imageTag,
      image: plan.etcd.image.reference,
      clientEndpoints: plan.etcd.clientEndpoints,
      discovery: plan.etcd.discovery.kind,
    },
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      etcd: n.etcdMember ? "member" : "client",
      state: n.standby ? "standby" : "active",
      ...(n.files.length ? { files: n.files.map((f) => f.path) } : {}),
      ignition: `${ignitionDir}/${n.name}.ign`,
      ...(cloudConfig ? { cloudConfig: `${cloudConfigDir}/${n.name}.yml` } : {}),
    })),
  };
  return `${JSON.stringify(summary, null, 2)}\n`;
}
