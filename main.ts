import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { CoreOsCluster, FlatcarChannel, OperatingSystem } from "./lib";

/**
 * The seed's cluster: three Flatcar nodes on the stable channel, joined into
 * one etcd cluster by static bootstrap.
 */
export class CoreOsClusterStack extends TerraformStack {
  public readonly cluster: CoreOsCluster;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.cluster = new CoreOsCluster(this, "core", {
      nodeCount: 3,
      os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
    });
    new TerraformOutput(this, "node_addresses", {
      description: "Private address of each node",
      value: Object.fromEntries(this.cluster.nodes.map((n) => [n.name, n.address])),
    });
    new TerraformOutput(this, "etcd_endpoints", {
      description: "Client URLs of the etcd members",
      value: this.cluster.etcdEndpoints,
    });
  }
}

if (require.main === module) {
  const app = new App();
  new CoreOsClusterStack(app, "coreos-cluster");
  app.synth();
}
