import { CoreOsClusterProps, planCluster } from "../../lib";
import { ClusterPlan } from "../../lib/cluster/plan";

/**
 * A cluster plan as the renderers get it, without a cdktf stack: planCluster's
 * plan plus, when etcd speaks TLS, stand-in certificates and keys (short
 * texts; the renderers only copy them into files). CoreOsCluster issues the
 * real ones (pki.test.ts).
 */
export function renderPlan(props: CoreOsClusterProps = {}): ClusterPlan {
  const p = planCluster(props, { id: "core", path: "s/core" });
  if (p.etcd.scheme !== "https") return p;
  const pair = (n: string) => ({ certificatePem: `${n} cert\n`, privateKeyPem: `${n} key\n` });
  const machines = Object.fromEntries(
    p.nodes.map((n) => [
      n.name,
      {
        member: n.etcdMember ? pair(`${n.name} member`) : undefined,
        client: pair(`${n.name} client`),
      },
    ]),
  );
  return { ...p, etcd: { ...p.etcd, tls: { caCertificatePem: "CA\n", machines } } };
}
