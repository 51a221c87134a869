import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import {
  CoreOsCluster,
  FlatcarChannel,
  FrontProtocol,
  NlbFront,
  OperatingSystem,
  VagrantCluster,
} from "./lib";

/** A tiny web service on every node that answers with the node's name: shows the balancing. */
const HELLO_UNIT = `[Unit]
Description=hello: answers with this node's name on port 8080
Wants=network-online.target docker.service
After=network-online.target docker.service

[Service]
ExecStartPre=-/usr/bin/docker rm --force hello
ExecStart=/usr/bin/docker run --rm --name hello --hostname %H --publish 8080:8080 docker.io/library/busybox:1.36 sh -c 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'
Restart=always

[Install]
WantedBy=multi-user.target
`;

/**
 * The seed's cluster: three Flatcar nodes on the stable channel, joined into
 * one etcd cluster by static bootstrap, run as local VirtualBox machines that
 * Terraform brings up with Vagrant, behind an HA pair of HAProxy front
 * machines sharing the address 192.168.56.10 (HTTP on port 80).
 */
export class CoreOsClusterStack extends TerraformStack {
  public readonly cluster: CoreOsCluster;
  public readonly vagrant: VagrantCluster;
  public readonly front: NlbFront;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.cluster = new CoreOsCluster(this, "core", {
      nodeCount: 3,
      os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
      units: [{ name: "hello.service", contents: HELLO_UNIT }],
    });
    this.front = new NlbFront(this, "front");
    this.front
      .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
      .addTargets("hello", { targets: [this.cluster], port: 8080 });
    this.vagrant = new VagrantCluster(this, "local", { cluster: this.cluster, front: this.front });
    new TerraformOutput(this, "node_addresses", {
      description: "Private address of each node",
      value: Object.fromEntries(this.cluster.nodes.map((n) => [n.name, n.address])),
    });
    new TerraformOutput(this, "etcd_endpoints", {
      description: "Client URLs of the etcd members",
      value: this.cluster.etcdEndpoints,
    });
    new TerraformOutput(this, "front_url", {
      description: "The cluster's one address: HTTP through the front",
      value: `http://${this.vagrant.frontAddress}/`,
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
