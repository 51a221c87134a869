/*
 * The library's app for `npm run bench`: main.ts's two stacks grown to
 * BENCH_NODES nodes, one target per run (BENCH_TARGET):
 *   vagrant       CoreOsCluster + NlbFront + VagrantCluster (terraform_data)
 *   vagrant-null  the same with LifecycleResource.NULL_RESOURCE
 *   aws           the AWS stack of main.ts: its own VPC, three subnets, AwsCluster behind an NLB
 * Run like `cdktf synth` runs an app: the output folder comes from CDKTF_OUTDIR.
 */
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import {
  CoreOsCluster,
  FlatcarChannel,
  FrontProtocol,
  LifecycleResource,
  NlbFront,
  OperatingSystem,
  Policy,
  VagrantCluster,
} from "../../lib";
import { BENCH_AWS, BENCH_STACK, BENCH_UNIT, benchTarget } from "./shape";
import { stackNetwork } from "./stack-network";

function frontOver(scope: Construct, cluster: CoreOsCluster): NlbFront {
  const front = new NlbFront(scope, "front");
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("hello", { targets: [cluster], port: 8080 });
  return front;
}

function vagrantStack(stack: TerraformStack, nodes: number, lifecycle: LifecycleResource): void {
  const cluster = new CoreOsCluster(stack, "core", {
    nodeCount: nodes,
    os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
    units: [BENCH_UNIT],
  });
  const front = frontOver(stack, cluster);
  const vagrant = new VagrantCluster(stack, "local", { cluster, front, lifecycle });
  new TerraformOutput(stack, "node_addresses", {
    value: Object.fromEntries(cluster.nodes.map((n) => [n.name, n.address])),
  });
  new TerraformOutput(stack, "etcd_endpoints", { value: cluster.etcdEndpoints });
  new TerraformOutput(stack, "front_url", { value: `http://${vagrant.frontAddress}/` });
  new TerraformOutput(stack, "vagrant_directory", { value: vagrant.directory });
}

async function awsStack(stack: TerraformStack, nodes: number): Promise<void> {
  const { AwsCluster, AwsNetwork } = await import("../../lib/aws");
  const { vpc, subnets, publicRoutes } = await stackNetwork(stack);
  const cluster = new CoreOsCluster(stack, "core", {
    nodeCount: nodes,
    os: OperatingSystem.flatcar(FlatcarChannel.STABLE),
    networkCidr: BENCH_AWS.vpcCidr,
    subnetCidrs: [...BENCH_AWS.subnetCidrs],
    firstHostNumber: BENCH_AWS.firstHostNumber,
    units: [BENCH_UNIT],
  });
  const front = frontOver(stack, cluster);
  const aws = new AwsCluster(stack, "ec2", {
    cluster,
    front,
    network: AwsNetwork.existing({
      vpcId: vpc.id,
      subnetIds: subnets.map((s) => s.id),
      dependsOn: publicRoutes,
    }),
    publicAddresses: true,
  });
  Policy.acknowledge(aws, ["CC-W2"], "benchmark: public subnets without NAT, as in main.ts");
  new TerraformOutput(stack, "front_url", { value: `http://${aws.loadBalancerDnsName}/` });
  new TerraformOutput(stack, "node_private_addresses", {
    value: Object.fromEntries(aws.nodes.map((n) => [n.name, n.privateAddress])),
  });
  new TerraformOutput(stack, "node_public_addresses", {
    value: Object.fromEntries(aws.nodes.map((n) => [n.name, n.publicAddress])),
  });
  new TerraformOutput(stack, "etcd_endpoints", { value: aws.etcdEndpoints });
}

async function main(): Promise<void> {
  const { target, nodes } = benchTarget();
  const app = new App();
  const stack = new TerraformStack(app, BENCH_STACK);
  if (target === "aws") await awsStack(stack, nodes);
  else
    vagrantStack(
      stack,
      nodes,
      target === "vagrant" ? LifecycleResource.TERRAFORM_DATA : LifecycleResource.NULL_RESOURCE,
    );
  app.synth();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
