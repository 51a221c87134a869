import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { CoreOsCluster, FlatcarChannel, OperatingSystem, VagrantCluster } from "./lib";

/**
 * The seed's cluster: three Flatcar nodes on the stable channel, joined into
 * one etcd cluster by static bootstrap, run as local VirtualBox machines that
 * Terraform brings up with Vagrant.
 */
export class CoreOsClusterStack extends TerraformStack {
  public readonly cluster: CoreOsCluster;
  public readonly vagrant: VagrantCluster;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.cluster = new CoreOsCluster(this, "core", {
      nodeCount: 3,
      os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
    });
    this.vagrant = new VagrantCluster(this, "local", { cluster: this.cluster });
    new TerraformOutput(this, "node_addresses", {
      description: "Private address of each node",
      value: Object.fromEntries(this.cluster.nodes.map((n) => [n.name, n.address])),
    });
    new TerraformOutput(this, "etcd_endpoints", {
      description: "Client URLs of the etcd members",
      value: this.cluster.etcdEndpoints,
    });
    new TerraformOutput(this, "vagrant_directory", {
      description: "Where to run vagrant status / vagrant ssh <node>, relative to the stack folder",
      value: this.vagrant.directory,
    });
  }
}

if (require.main === module) {
  const app = new App();
  new CoreOsClusterStack(app, "coreos-cluster");
  app.synth();
}
