// The same cluster on AWS, in a VPC of the user's own: the `/aws` entry point
// and the user's @cdktf/provider-aws classes work together.
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { CoreOsCluster, NlbFront } from "coreos-cluster-cdktf";
import { AwsCluster, AwsNetwork } from "coreos-cluster-cdktf/aws";

export class PlatformAwsStack extends TerraformStack {
  public readonly aws: AwsCluster;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const vpc = new Vpc(this, "vpc", { cidrBlock: "10.42.0.0/16" });
    const subnetCidrs = ["10.42.1.0/24", "10.42.2.0/24"];
    const subnets = subnetCidrs.map(
      (cidrBlock, i) => new Subnet(this, `subnet-${i}`, { vpcId: vpc.id, cidrBlock }),
    );
    // Public subnets: a default route to an internet gateway, built in the same deploy.
    const gateway = new InternetGateway(this, "gateway", { vpcId: vpc.id });
    const routes = new RouteTable(this, "routes", {
      vpcId: vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
    });
    const associations = subnets.map(
      (s, i) =>
        new RouteTableAssociation(this, `public-${i}`, { subnetId: s.id, routeTableId: routes.id }),
    );
    const cluster = new CoreOsCluster(this, "core", {
      networkCidr: "10.42.0.0/16",
      subnetCidrs,
      firstHostNumber: 10,
    });
    const front = new NlbFront(this, "front");
    front.addListener("tcp", { port: 443 }).addTargets("web", { targets: [cluster], port: 8443 });
    this.aws = new AwsCluster(this, "ec2", {
      cluster,
      front,
      network: AwsNetwork.existing({
        vpcId: vpc.id,
        subnetIds: subnets.map((s) => s.id),
        dependsOn: associations, // the nodes and the load balancer wait for their routes
      }),
      publicAddresses: true, // the subnets route to the internet gateway (false: through NAT)
      region: "eu-central-1",
    });
    new TerraformOutput(this, "front_dns", { value: this.aws.loadBalancerDnsName });
    new TerraformOutput(this, "node_private_addresses", {
      value: this.aws.nodes.map((n) => n.privateAddress),
    });
  }
}
