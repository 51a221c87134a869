// A user's own stack: the CoreOS cluster, its front and the Vagrant target are
// parts of it, next to resources and outputs of the user's own.
import { TerraformOutput, TerraformResource, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import {
  CoreOsCluster,
  FrontProtocol,
  LifecycleResource,
  NlbFront,
  VagrantCluster,
} from "coreos-cluster-cdktf";

/** Props of the user's stack; optional values (even `undefined`) go straight on to the cluster. */
export interface PlatformStackProps {
  readonly nodeCount?: number | undefined;
  readonly sshPublicKeys?: readonly string[] | undefined;
}

export class PlatformStack extends TerraformStack {
  public readonly cluster: CoreOsCluster;
  public readonly front: NlbFront;
  public readonly vagrant: VagrantCluster;

  constructor(scope: Construct, id: string, props: PlatformStackProps = {}) {
    super(scope, id);
    this.cluster = new CoreOsCluster(this, "core", {
      nodeCount: props.nodeCount,
      sshPublicKeys: props.sshPublicKeys,
      units: [
        {
          name: "web.service",
          contents: "[Service]\nExecStart=/usr/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
        },
      ],
    });
    this.front = new NlbFront(this, "front");
    this.front
      .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("web", { targets: [this.cluster], port: 8080, healthCheck: { path: "/" } });
    this.vagrant = new VagrantCluster(this, "local", {
      cluster: this.cluster,
      front: this.front,
      lifecycle: LifecycleResource.TERRAFORM_DATA,
    });

    // The user's own resource: a release record that follows the cluster's
    // nodes and is created once every machine is up.
    const release = new TerraformResource(this, "release", {
      terraformResourceType: "terraform_data",
      dependsOn: [...this.vagrant.machines],
    });
    release.addOverride("input", { nodes: this.cluster.nodes.map((n) => n.name) });

    const first = this.cluster.nodes[0]; // noUncheckedIndexedAccess: may be undefined
    if (!first) throw new Error("a cluster has at least one node");
    new TerraformOutput(this, "first_node", { value: first.address });
    new TerraformOutput(this, "node_addresses", {
      value: Object.fromEntries(this.cluster.nodes.map((n) => [n.name, n.address])),
    });
    new TerraformOutput(this, "etcd_endpoints", { value: this.cluster.etcdEndpoints });
    new TerraformOutput(this, "front_url", { value: `http://${this.vagrant.frontAddress}/` });
    new TerraformOutput(this, "release_id", { value: release.getStringAttribute("id") });
  }
}
