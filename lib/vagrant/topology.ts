import { HAPROXY_DEFAULT_INTERVAL_MS } from "../render/haproxy";
import { ClusterTopology } from "../render/topology";
import { clusterTopology, frontListeners } from "../topology/model";
import { VagrantProvider } from "./options";
import { VagrantPlan } from "./plan";

const PROVIDER_TITLES: Record<string, string> = { [VagrantProvider.VIRTUALBOX]: "VirtualBox" };

/** The picture's panel of a Vagrant environment: local machines, the HAProxy front and its address. */
export function vagrantTopology(plan: VagrantPlan, directory: string): ClusterTopology {
  const c = plan.cluster;
  const f = plan.front;
  return clusterTopology(
    c,
    {
      kind: "vagrant",
      title: `Vagrant + ${PROVIDER_TITLES[plan.provider] ?? plan.provider} (local machines)`,
      details: [
        `box ${plan.boxName}`,
        `${c.cpus} CPU, ${c.memoryMiB} MiB per machine`,
        `host-only network, netmask ${plan.netmask}`,
        `folder ${directory}`,
      ],
    },
    f && {
      plan: f.plan,
      kind: f.highAvailability ? "HAProxy + keepalived (VRRP)" : "HAProxy",
      address: f.highAvailability
        ? `${f.address} (virtual address, moves between the front machines)`
        : f.address,
      machines: f.machines.map((m) => ({ name: m.name, address: m.address })),
      listeners: frontListeners(f.plan, `${HAPROXY_DEFAULT_INTERVAL_MS}ms`),
    },
  );
}
