/**
 * What the AWS constructs make of a plan (network, route checks, address
 * reservations, instances, load balancer): each test builds and synthesizes
 * its own stack, so under mutation testing a mutant runs only the tests that
 * reach it. Every wiring is checked by logical id: each listener forwards to
 * its own target group, each registration to its own group and instance.
 */
import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { VagrantCluster } from "../lib/vagrant/vagrant-cluster";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { ClusterConfigError } from "../lib/core/errors";
import { CoreOsCluster } from "../lib/cluster/cluster";
import { CoreOsClusterProps } from "../lib/cluster/props";
import { EtcdTls } from "../lib/etcd/tls";
import { NlbFront } from "../lib/front/front";
import { ClientAffinity, FrontProtocol } from "../lib/front/options";
import { AwsCluster, AwsClusterProps } from "../lib/aws/aws-cluster";
import { AwsMachineImage, AwsNetwork } from "../lib/aws/options";
import * as fs from "node:fs";
import * as path from "node:path";
import { testApp } from "./support/state";
import { fileAttribute, tempOutdir } from "./support/synth";

type Block = Record<string, unknown>;
interface Config {
  resource: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
  provider?: Record<string, Block[]>;
}

const CLUSTER: CoreOsClusterProps = {
  nodeCount: 3,
  standby: 1,
  networkCidr: "10.0.0.0/16",
  subnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
  firstHostNumber: 10,
  // etcd's certificates come from the state folder; without TLS each synth is quicker.
  etcd: { tls: EtcdTls.disabled() },
};

const EXISTING = {
  vpcId: "vpc-01234567",
  subnetIds: ["subnet-0000000a", "subnet-0000000b"],
};

/** A web (HTTP) and a tls (TCP, source-IP stickiness) listener over the cluster; core-02 drained. */
function twoListeners(front: NlbFront, cluster: CoreOsCluster): void {
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: 8080 });
  front
    .addListener("tls", { port: 443 })
    .addTargets("secure", { targets: [cluster], port: 8443, affinity: ClientAffinity.SINGLE });
  front.drain({ name: "core-02" });
}

/** What a token of `stack` stands for in its Terraform configuration. */
function resolveIn(stack: TerraformStack, value: unknown): unknown {
  const id = `resolved${resolveCount++}`;
  new TerraformOutput(stack, id, { value });
  const config = JSON.parse(Testing.synth(stack)) as { output: Record<string, { value: unknown }> };
  return config.output[id].value;
}
let resolveCount = 0;

function synth(
  options: {
    cluster?: CoreOsClusterProps;
    aws?: Partial<AwsClusterProps>;
    front?: (front: NlbFront, cluster: CoreOsCluster) => void;
  } = {},
) {
  const stack = new TerraformStack(testApp(), "test");
  const cluster = new CoreOsCluster(stack, "core", options.cluster ?? CLUSTER);
  let front: NlbFront | undefined;
  if (options.front) {
    front = new NlbFront(stack, "front");
    options.front(front, cluster);
  }
  const aws = new AwsCluster(stack, "aws", { cluster, front, ...options.aws });
  const config = JSON.parse(Testing.synth(stack)) as Config;
  const resource = (type: string) => config.resource[type] ?? {};
  const data = (type: string) => config.data?.[type] ?? {};
  return { stack, aws, config, resource, data, resolved: (v: unknown) => resolveIn(stack, v) };
}

describe("AwsCluster with a created VPC and a front", () => {
  it("builds the VPC: public subnets in the given zones behind one internet gateway route", () => {
    const { resource, data, aws } = synth({
      aws: {
        network: AwsNetwork.create({ availabilityZones: ["eu-central-1a", "eu-central-1b"] }),
        tags: { team: "platform" },
      },
    });
    expect(resource("aws_vpc").core_vpc).toMatchObject({
      cidr_block: "10.0.0.0/16",
      enable_dns_support: true,
      enable_dns_hostnames: true,
      tags: { Name: "core", "coreos-cluster": "core", team: "platform" },
    });
    expect(resource("aws_internet_gateway").core_gateway).toMatchObject({
      vpc_id: "${aws_vpc.core_vpc.id}",
    });
    expect(resource("aws_route_table").core_public).toMatchObject({
      vpc_id: "${aws_vpc.core_vpc.id}",
      route: [{ cidr_block: "0.0.0.0/0", gateway_id: "${aws_internet_gateway.core_gateway.id}" }],
      tags: { Name: "core-public" },
    });
    expect(Object.keys(data("aws_availability_zones"))).toEqual([]);
    const subnets = resource("aws_subnet");
    expect(Object.keys(subnets)).toEqual(["core_subnet_0", "core_subnet_1"]);
    [0, 1].forEach((i) => {
      expect(subnets[`core_subnet_${i}`]).toMatchObject({
        vpc_id: "${aws_vpc.core_vpc.id}",
        cidr_block: `10.0.${i + 1}.0/24`,
        availability_zone: `eu-central-1${"ab"[i]}`,
        map_public_ip_on_launch: false,
        tags: { Name: `core-${i}` },
      });
      expect(resource("aws_route_table_association")[`core_public_${i}`]).toEqual({
        subnet_id: `\${aws_subnet.core_subnet_${i}.id}`,
        route_table_id: "${aws_route_table.core_public.id}",
      });
    });
    expect(aws.nodes.map((n) => [n.name, n.privateAddress, n.etcdMember, n.standby])).toEqual([
      ["core-01", "10.0.1.10", true, false],
      ["core-02", "10.0.2.10", true, false],
      ["core-03", "10.0.1.11", true, true],
    ]);
  });

  it("looks the zones up when none are given, and stops the plan in a region with fewer zones than subnets", () => {
    const { data, resource } = synth();
    const zones = data("aws_availability_zones").core_zones;
    expect(zones).toMatchObject({
      state: "available",
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });
    const [post] = (
      zones.lifecycle as { postcondition: { condition: string; error_message: string }[] }
    ).postcondition;
    expect(post.condition).toBe("${(length(self.names) >= 2)}");
    expect(post.error_message).toMatch(
      /^cluster core has 2 subnets, one per availability zone, but the region has fewer zones/,
    );
    expect(resource("aws_subnet").core_subnet_1.availability_zone).toBe(
      "${element(data.aws_availability_zones.core_zones.names, 1)}",
    );
  });

  it("runs each node on its address in its subnet, hardened, after its reservation and the routes", () => {
    const { resource, data } = synth({
      aws: { instanceType: "m6i.large", rootVolumeGiB: 30, tags: { team: "x" } },
    });
    const reservations = resource("aws_ec2_subnet_cidr_reservation");
    const instances = resource("aws_instance");
    const expected = [
      ["core-01", "10.0.1.10", 0],
      ["core-02", "10.0.2.10", 1],
      ["core-03", "10.0.1.11", 0],
    ] as const;
    for (const [name, address, subnet] of expected) {
      expect(reservations[`core_reserved_${name}`]).toEqual({
        subnet_id: `\${aws_subnet.core_subnet_${subnet}.id}`,
        cidr_block: `${address}/32`,
        reservation_type: "explicit",
        description: `Address of node ${name} of CoreOS cluster core`,
      });
      expect(instances[`core_${name}`]).toEqual({
        ami: "${data.aws_ami.core_image.id}",
        instance_type: "m6i.large",
        subnet_id: `\${aws_subnet.core_subnet_${subnet}.id}`,
        private_ip: address,
        vpc_security_group_ids: ["${aws_security_group.core_nodes.id}"],
        associate_public_ip_address: true,
        user_data: `\${file("\${path.module}/clusters/core/aws-user-data/${name}.ign")}`,
        user_data_replace_on_change: true,
        metadata_options: { http_endpoint: "enabled", http_tokens: "required" },
        root_block_device: {
          volume_type: "gp3",
          volume_size: 30,
          encrypted: true,
          delete_on_termination: true,
        },
        tags: { Name: name, "coreos-cluster": "core", team: "x" },
        lifecycle: { ignore_changes: ["ami"] },
        depends_on: [
          "aws_route_table_association.core_public_0",
          "aws_route_table_association.core_public_1",
          `aws_ec2_subnet_cidr_reservation.core_reserved_${name}`,
        ],
      });
    }
    expect(data("aws_ami").core_image).toEqual({
      most_recent: true,
      owners: ["075585003325"],
      filter: [
        { name: "name", values: ["Flatcar-stable-*"] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "root-device-type", values: ["ebs"] },
      ],
    });
  });

  it("takes a fixed AMI as it is, and replaces nodes on a new image when asked", () => {
    const { resource, data } = synth({
      aws: { image: AwsMachineImage.fixed("ami-0123456789abcdef0"), replaceOnImageChange: true },
    });
    expect(Object.keys(data("aws_ami"))).toEqual([]);
    const i = resource("aws_instance")["core_core-01"];
    expect(i.ami).toBe("ami-0123456789abcdef0");
    expect(i.lifecycle).toBeUndefined();
  });

  it("forwards each listener to its own target group, registering the active, undrained nodes of that group", () => {
    const { resource, aws, resolved } = synth({ front: twoListeners });
    const lb = resource("aws_lb").core_front;
    expect(lb).toMatchObject({
      name: "core-front",
      load_balancer_type: "network",
      internal: false,
      subnets: ["${aws_subnet.core_subnet_0.id}", "${aws_subnet.core_subnet_1.id}"],
      security_groups: ["${aws_security_group.core_front.id}"],
      enable_cross_zone_load_balancing: true,
      tags: { Name: "core-front", "coreos-cluster": "core" },
    });
    expect(lb.depends_on).toEqual([
      "aws_route_table_association.core_public_0",
      "aws_route_table_association.core_public_1",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-01",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-02",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-03",
    ]);
    expect(lb.lifecycle).toBeUndefined();
    const listeners = resource("aws_lb_listener");
    for (const [listener, group, port] of [
      ["http", "web", 80],
      ["tls", "secure", 443],
    ] as const) {
      expect(listeners[`core_front_${listener}`]).toEqual({
        load_balancer_arn: "${aws_lb.core_front.arn}",
        port,
        protocol: "TCP",
        default_action: [
          { type: "forward", target_group_arn: `\${aws_lb_target_group.core_front_${group}.arn}` },
        ],
        tags: { Name: `core-front-${listener}`, "coreos-cluster": "core" },
        // core-02 drains, core-03 stands by: core-01 only.
        depends_on: [`aws_lb_target_group_attachment.core_${group}_core-01`],
      });
    }
    const attachments = resource("aws_lb_target_group_attachment");
    expect(Object.keys(attachments).sort()).toEqual(["core_secure_core-01", "core_web_core-01"]);
    expect(attachments["core_web_core-01"]).toEqual({
      target_group_arn: "${aws_lb_target_group.core_front_web.arn}",
      target_id: "10.0.1.10",
      port: 8080,
      depends_on: ["aws_instance.core_core-01"],
      lifecycle: {
        replace_triggered_by: [
          "aws_instance.core_core-01.id",
          "aws_instance.core_core-01.instance_type",
        ],
      },
    });
    expect(attachments["core_secure_core-01"]).toMatchObject({
      target_group_arn: "${aws_lb_target_group.core_front_secure.arn}",
      port: 8443,
    });
    expect(aws.loadBalancer).toBeDefined();
    expect(resolved({ dns: aws.loadBalancerDnsName, group: aws.frontSecurityGroupId })).toEqual({
      dns: "${aws_lb.core_front.dns_name}",
      group: "${aws_security_group.core_front.id}",
    });
  });

  it("gives each target group AWS's terms of its plan: TCP to IPs, health check, stickiness, replaced create-first", () => {
    const { resource } = synth({ front: twoListeners, aws: { deregistrationDelay: undefined } });
    const groups = resource("aws_lb_target_group");
    expect(groups.core_front_web).toEqual({
      name_prefix: "web-",
      port: 8080,
      protocol: "TCP",
      target_type: "ip",
      vpc_id: "${aws_vpc.core_vpc.id}",
      deregistration_delay: "30",
      health_check: {
        enabled: true,
        protocol: "HTTP",
        port: "8080",
        path: "/",
        matcher: "200-399",
        interval: 5,
        timeout: 4,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
      },
      tags: { Name: "core-web", "coreos-cluster": "core" },
      lifecycle: { create_before_destroy: true },
    });
    expect(groups.core_front_secure).toMatchObject({
      name_prefix: "secur-",
      port: 8443,
      health_check: { protocol: "TCP", port: "8443" },
      stickiness: { type: "source_ip", enabled: true },
    });
    expect((groups.core_front_secure.health_check as Block).path).toBeUndefined();
  });

  it("makes an internal load balancer when not internet-facing", () => {
    const { resource } = synth({ front: twoListeners, aws: { internetFacing: false } });
    expect(resource("aws_lb").core_front.internal).toBe(true);
  });
});

describe("AwsCluster with an existing VPC", () => {
  it("checks the given subnets' CIDRs and VPC, and that the nodes' subnets route through NAT", () => {
    const { data, resource } = synth({
      aws: { network: AwsNetwork.existing(EXISTING), publicAddresses: false },
    });
    const subnets = data("aws_subnet");
    expect(Object.keys(subnets)).toEqual(["core_subnet_0", "core_subnet_1"]);
    expect(subnets.core_subnet_1).toEqual({
      id: "subnet-0000000b",
      lifecycle: {
        postcondition: [
          {
            condition: '${(self.cidr_block == "10.0.2.0/24")}',
            error_message:
              "subnet 1 of cluster core must have the CIDR 10.0.2.0/24 (the cluster's subnetCidrs[1])",
          },
          {
            condition: '${(self.vpc_id == "vpc-01234567")}',
            error_message: "subnet 1 of cluster core must lie in the VPC given as network.vpcId",
          },
        ],
      },
    });
    expect(data("aws_route_table").core_main_routes).toEqual({
      vpc_id: "vpc-01234567",
      filter: [{ name: "association.main", values: ["true"] }],
    });
    expect(data("aws_route_tables").core_subnet_1_route_tables).toEqual({
      vpc_id: "vpc-01234567",
      filter: [{ name: "association.subnet-id", values: ["${data.aws_subnet.core_subnet_1.id}"] }],
    });
    const routes = data("aws_route_table").core_subnet_1_routes;
    expect(routes.route_table_id).toBe(
      "${element(concat(data.aws_route_tables.core_subnet_1_route_tables.ids, [data.aws_route_table.core_main_routes.id]), 0)}",
    );
    const [check] = (
      routes.lifecycle as { postcondition: { condition: string; error_message: string }[] }
    ).postcondition;
    expect(check.condition).toMatch(
      /^\$\{anytrue\(\[for r in self\.routes : r\.cidr_block == "0\.0\.0\.0\/0" && length\(compact\(\[r\.nat_gateway_id, r\.transit_gateway_id,/,
    );
    expect(check.condition).not.toContain('"igw-"');
    expect(check.error_message).toBe(
      "subnet ${data.aws_subnet.core_subnet_1.id} (subnetCidrs[1] of cluster core) has no default route (0.0.0.0/0) through a NAT gateway (or a transit gateway, a NAT instance) in its route table ${self.route_table_id}: nodes without public addresses (publicAddresses: false) need NAT to pull their images at boot; add a NAT route, or set publicAddresses: true if the subnet routes to an internet gateway. If the stack builds that route in the same deploy, pass it (or its route table association) as AwsNetwork.existing({ dependsOn }).",
    );
    // Nothing is created; the nodes wait for the checks, in their subnets by id.
    expect(resource("aws_vpc")).toEqual({});
    expect(resource("aws_subnet")).toEqual({});
    const instance = resource("aws_instance")["core_core-02"];
    expect(instance.subnet_id).toBe("${data.aws_subnet.core_subnet_1.id}");
    expect(instance.associate_public_ip_address).toBe(false);
    expect(instance.depends_on).toEqual([
      "data.aws_route_table.core_subnet_0_routes",
      "data.aws_route_table.core_subnet_1_routes",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-02",
    ]);
  });

  it("gives the load balancer its own public subnets, checked for an internet gateway, zones distinct and covering the nodes'", () => {
    const { data, resource } = synth({
      front: twoListeners,
      aws: {
        network: AwsNetwork.existing({
          ...EXISTING,
          loadBalancerSubnetIds: ["subnet-0000000c", "subnet-0000000d"],
        }),
        publicAddresses: false,
      },
    });
    expect(data("aws_subnet").core_lb_subnet_1).toEqual({
      id: "subnet-0000000d",
      lifecycle: {
        postcondition: [
          {
            condition: '${(self.vpc_id == "vpc-01234567")}',
            error_message:
              "load balancer subnet 1 of cluster core must lie in the VPC given as network.vpcId",
          },
        ],
      },
    });
    const lbRoutes = data("aws_route_table").core_lb_subnet_1_routes;
    const [igw] = (
      lbRoutes.lifecycle as { postcondition: { condition: string; error_message: string }[] }
    ).postcondition;
    expect(igw.condition).toBe(
      '${anytrue([for r in self.routes : r.cidr_block == "0.0.0.0/0" && startswith(coalesce(r.gateway_id, "-"), "igw-")])}',
    );
    expect(igw.error_message).toMatch(
      /^subnet \$\{data\.aws_subnet\.core_lb_subnet_1\.id\} \(loadBalancerSubnetIds\[1\] of cluster core\) has no default route \(0\.0\.0\.0\/0\) to an internet gateway \(igw-…\) in its route table \$\{self\.route_table_id\}: an internet-facing Network Load Balancer needs public subnets/,
    );
    const lb = resource("aws_lb").core_front;
    expect(lb.subnets).toEqual([
      "${data.aws_subnet.core_lb_subnet_0.id}",
      "${data.aws_subnet.core_lb_subnet_1.id}",
    ]);
    expect(lb.depends_on).toEqual([
      "data.aws_route_table.core_lb_subnet_0_routes",
      "data.aws_route_table.core_lb_subnet_1_routes",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-01",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-02",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-03",
    ]);
    const lbZones =
      "[data.aws_subnet.core_lb_subnet_0.availability_zone, data.aws_subnet.core_lb_subnet_1.availability_zone]";
    const nodeZones =
      "[data.aws_subnet.core_subnet_0.availability_zone, data.aws_subnet.core_subnet_1.availability_zone]";
    expect((lb.lifecycle as { precondition: unknown[] }).precondition).toEqual([
      {
        condition: `\${(length(distinct(${lbZones})) == 2)}`,
        error_message:
          "the load balancer subnets of cluster core must lie in distinct availability zones: a Network Load Balancer takes one subnet per zone",
      },
      {
        condition: `\${(length(setsubtract(${nodeZones}, ${lbZones})) < 1)}`,
        error_message: `the load balancer subnets of cluster core must cover every availability zone with nodes (cross-zone balancing reaches only zones the load balancer is in); missing: \${join(", ", sort(setsubtract(${nodeZones}, ${lbZones})))}`,
      },
    ]);
    // The target groups live in the given VPC.
    expect(resource("aws_lb_target_group").core_front_web.vpc_id).toBe("vpc-01234567");
    // The nodes wait for their own subnets' routes only, and need NAT there, not the load balancer's gateway.
    expect(resource("aws_instance")["core_core-01"].depends_on).toEqual([
      "data.aws_route_table.core_subnet_0_routes",
      "data.aws_route_table.core_subnet_1_routes",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-01",
    ]);
    const [nodeCheck] = (
      data("aws_route_table").core_subnet_0_routes.lifecycle as {
        postcondition: { error_message: string }[];
      }
    ).postcondition;
    expect(nodeCheck.error_message).not.toContain("load balancer");
  });

  it("makes the same configuration with a construct per resource", () => {
    const network = AwsNetwork.existing({
      ...EXISTING,
      loadBalancerSubnetIds: ["subnet-0000000c", "subnet-0000000d"],
    });
    const blocks = synth({ front: twoListeners, aws: { network, publicAddresses: false } });
    const constructs = synth({
      front: twoListeners,
      aws: { network, publicAddresses: false, constructPerResource: true },
    });
    expect(constructs.config).toEqual(blocks.config);
    // The rollout markers too.
    expect(constructs.aws.node.findAll().some((c) => c.node.id === "core-01-applied")).toBe(true);
    expect(blocks.aws.node.findAll().some((c) => c.node.id === "core-01-applied")).toBe(false);
    expect(constructs.aws.node.findAll().some((c) => c.node.id === "Target-web-core-01")).toBe(
      true,
    );
  });

  it("checks shared public subnets for an internet gateway, for the nodes and the load balancer in them", () => {
    const route = synth({
      front: twoListeners,
      aws: { network: AwsNetwork.existing(EXISTING), publicAddresses: true },
    });
    const tables = route.data("aws_route_table");
    expect(Object.keys(tables).sort()).toEqual([
      "core_main_routes",
      "core_subnet_0_routes",
      "core_subnet_1_routes",
    ]);
    const [check] = (
      tables.core_subnet_0_routes.lifecycle as {
        postcondition: { condition: string; error_message: string }[];
      }
    ).postcondition;
    expect(check.condition).toContain('startswith(coalesce(r.gateway_id, "-"), "igw-")');
    expect(check.error_message).toContain(
      "to an internet gateway (igw-…) in its route table ${self.route_table_id}: nodes with public addresses (publicAddresses: true) reach the internet through one; route the subnet to an internet gateway, or set publicAddresses: false and route it through NAT; the internet-facing load balancer in it needs one too.",
    );
    const lb = route.resource("aws_lb").core_front;
    expect(lb.subnets).toEqual([
      "${data.aws_subnet.core_subnet_0.id}",
      "${data.aws_subnet.core_subnet_1.id}",
    ]);
    expect(lb.depends_on).toEqual(
      expect.arrayContaining(["data.aws_route_table.core_subnet_0_routes"]),
    );
    // Two subnets of the nodes' own: distinct zones checked, coverage holds by construction.
    expect(
      (lb.lifecycle as { precondition: { error_message: string }[] }).precondition.map(
        (p) => p.error_message,
      ),
    ).toEqual([expect.stringMatching(/must lie in distinct availability zones/)]);
  });

  it("checks the nodes' routes only for themselves behind an internal load balancer, and reads the routes after what builds them", () => {
    const { config } = (() => {
      const s = new TerraformStack(testApp(), "test");
      new AwsProvider(s, "default-aws");
      const cluster = new CoreOsCluster(s, "core", CLUSTER);
      const front = new NlbFront(s, "front");
      twoListeners(front, cluster);
      const association = { fqn: "aws_route_table_association.nat" };
      new AwsCluster(s, "aws", {
        cluster,
        front,
        internetFacing: false,
        network: AwsNetwork.existing({
          ...EXISTING,
          loadBalancerSubnetIds: ["subnet-0000000c", "subnet-0000000d"],
          dependsOn: [association as never],
        }),
        publicAddresses: false,
      });
      return { config: JSON.parse(Testing.synth(s)) as Config };
    })();
    const tables = config.data!.aws_route_table;
    // An internal load balancer needs no internet gateway: its subnets are not checked.
    expect(Object.keys(tables).sort()).toEqual([
      "core_main_routes",
      "core_subnet_0_routes",
      "core_subnet_1_routes",
    ]);
    expect(tables.core_main_routes.depends_on).toEqual(["aws_route_table_association.nat"]);
    expect(config.data!.aws_route_tables.core_subnet_0_route_tables.depends_on).toEqual([
      "aws_route_table_association.nat",
    ]);
    const [check] = (
      tables.core_subnet_0_routes.lifecycle as { postcondition: { error_message: string }[] }
    ).postcondition;
    expect(tables.core_subnet_0_routes.depends_on).toEqual(["aws_route_table_association.nat"]);
    expect(check.error_message).not.toContain("load balancer");
    // With dependsOn given, the message does not suggest it.
    expect(check.error_message).not.toContain("AwsNetwork.existing({ dependsOn })");
    expect(check.error_message).toMatch(
      /NAT route, or set publicAddresses: true if the subnet routes to an internet gateway\.$/,
    );
    const instance = config.resource.aws_instance["core_core-01"];
    expect(instance.depends_on).toEqual([
      "aws_route_table_association.nat",
      "data.aws_route_table.core_subnet_0_routes",
      "data.aws_route_table.core_subnet_1_routes",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-01",
    ]);
    const lb = config.resource.aws_lb.core_front;
    expect(lb.internal).toBe(true);
    expect(lb.depends_on).toEqual([
      "aws_route_table_association.nat",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-01",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-02",
      "aws_ec2_subnet_cidr_reservation.core_reserved_core-03",
    ]);
    // The stack's own provider serves the cluster: none added.
    expect(config.provider?.aws).toHaveLength(1);
  });

  it("checks a single load balancer subnet for coverage only", () => {
    const { resource } = synth({
      front: twoListeners,
      aws: {
        network: AwsNetwork.existing({ ...EXISTING, loadBalancerSubnetIds: ["subnet-0000000c"] }),
        publicAddresses: true,
      },
    });
    const pre = (
      resource("aws_lb").core_front.lifecycle as { precondition: { error_message: string }[] }
    ).precondition;
    expect(pre.map((p) => p.error_message)).toEqual([
      expect.stringMatching(/must cover every availability zone with nodes/),
    ]);
  });
});

describe("AwsCluster construct", () => {
  it("adds one default AWS provider per stack, with the region, and refuses a region when the stack has one", () => {
    const stack = new TerraformStack(testApp(), "test");
    const a = new CoreOsCluster(stack, "a", { ...CLUSTER, name: "a" });
    const b = new CoreOsCluster(stack, "b", { ...CLUSTER, name: "b" });
    new AwsCluster(stack, "aws-a", { cluster: a, region: "eu-west-1" });
    new AwsCluster(stack, "aws-b", { cluster: b });
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(config.provider?.aws).toEqual([{ region: "eu-west-1" }]);
    const c = new CoreOsCluster(stack, "c", { ...CLUSTER, name: "c" });
    let error: unknown;
    try {
      new AwsCluster(stack, "aws-c", { cluster: c, region: "us-east-1" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterConfigError);
    expect((error as Error).message).toMatch(/^Invalid props for AwsCluster "test\/aws-c":/);
    expect((error as ClusterConfigError).issues).toEqual([
      {
        prop: "region",
        value: "us-east-1",
        allowed:
          "no region: the stack already has an AWS provider (test/aws-provider); set the region there",
      },
    ]);
  });

  it("uses the given provider on every resource and adds none", () => {
    const stack = new TerraformStack(testApp(), "test");
    const provider = new AwsProvider(stack, "west", { region: "us-west-2", alias: "west" });
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    const front = new NlbFront(stack, "front");
    twoListeners(front, cluster);
    new AwsCluster(stack, "aws", { cluster, front, provider });
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(config.provider?.aws).toEqual([{ alias: "west", region: "us-west-2" }]);
    for (const [type, blocks] of Object.entries(config.resource)) {
      if (!type.startsWith("aws_")) continue;
      for (const [id, block] of Object.entries(blocks))
        expect([type, id, block.provider]).toEqual([type, id, "aws.west"]);
    }
    for (const [type, blocks] of Object.entries(config.data ?? {})) {
      for (const [id, block] of Object.entries(blocks))
        expect([type, id, block.provider]).toEqual([type, id, "aws.west"]);
    }
  });

  it("refuses a second AwsCluster over the same cluster", () => {
    const stack = new TerraformStack(testApp(), "test");
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    new AwsCluster(stack, "one", { cluster });
    let error: unknown;
    try {
      new AwsCluster(stack, "two", { cluster });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/^Invalid props for AwsCluster "test\/two":/);
    expect((error as ClusterConfigError).issues).toEqual([
      {
        prop: "cluster",
        value: 'CoreOsCluster "test/core"',
        allowed:
          'a cluster no other AwsCluster of this stack runs: AwsCluster "test/one" already runs it',
      },
    ]);
    // Another cluster is fine.
    const other = new CoreOsCluster(stack, "other", { ...CLUSTER, name: "other" });
    expect(() => new AwsCluster(stack, "three", { cluster: other })).not.toThrow();
  });

  it("exposes the nodes and network as references to what it created", () => {
    const stack = new TerraformStack(testApp(), "test");
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    const aws = new AwsCluster(stack, "aws", { cluster });
    const n = aws.nodes[1];
    expect(
      resolveIn(stack, {
        vpc: aws.vpcId,
        subnets: aws.subnetIds,
        group: aws.securityGroupId,
        instance: n.instanceId,
        publicIp: n.publicAddress,
        zone: n.availabilityZone,
      }),
    ).toEqual({
      vpc: "${aws_vpc.core_vpc.id}",
      subnets: ["${aws_subnet.core_subnet_0.id}", "${aws_subnet.core_subnet_1.id}"],
      group: "${aws_security_group.core_nodes.id}",
      instance: "${aws_instance.core_core-02.id}",
      publicIp: "${aws_instance.core_core-02.public_ip}",
      zone: "${aws_instance.core_core-02.availability_zone}",
    });
    expect(aws.instances).toHaveLength(3);
    expect(aws.addressReservations).toHaveLength(3);
    expect(aws.etcdEndpoints).toEqual(cluster.etcdEndpoints);
    expect(aws.loadBalancer).toBeUndefined();
    expect(aws.frontSecurityGroupId).toBeUndefined();
    expect(aws.plan.nodes.map((x) => x.userDataFile)).toEqual([
      "aws-user-data/core-01.ign",
      "aws-user-data/core-02.ign",
      "aws-user-data/core-03.ign",
    ]);
  });
});

describe("AwsCluster artifacts and rollout", () => {
  it("writes each node's user data where its instance reads it, readable by the owner only", () => {
    const outdir = tempOutdir();
    try {
      const app = testApp({ outdir });
      const stack = new TerraformStack(app, "files");
      const aws = new AwsCluster(stack, "aws", {
        cluster: new CoreOsCluster(stack, "core", CLUSTER),
      });
      app.synth();
      const stackDir = path.join(outdir, "stacks", "files");
      const config = JSON.parse(
        fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"),
      ) as Config;
      for (const n of aws.plan.nodes) {
        const file = path.join(stackDir, "clusters/core", n.userDataFile);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        expect(
          fileAttribute(stackDir, config.resource.aws_instance[`core_${n.name}`].user_data),
        ).toBe(n.userData);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("confirms each node's config after its instance when rolling, and not without", () => {
    const rolling = synth().resource("terraform_data");
    expect(Object.keys(rolling)).toEqual([
      "core_core-01_applied",
      "core_core-02_applied",
      "core_core-03_applied",
    ]);
    expect(rolling["core_core-02_applied"].depends_on).toEqual(["aws_instance.core_core-02"]);
    expect(synth({ aws: { rollingReplacement: false } }).resource("terraform_data")).toEqual({});
  });
});

describe("AwsCluster next to other constructs", () => {
  it("runs a cluster that a Vagrant environment of the same stack runs too, adds its provider next to another one, takes references", () => {
    const stack = new TerraformStack(testApp(), "test");
    new NullProvider(stack, "null");
    const cluster = new CoreOsCluster(stack, "core", {
      ...CLUSTER,
      networkCidr: "192.168.56.0/21",
      subnetCidrs: ["192.168.56.0/24", "192.168.57.0/24"],
      firstHostNumber: 101,
    });
    new VagrantCluster(stack, "local", { cluster });
    const type = new TerraformVariable(stack, "type", { type: "string" });
    const aws = new AwsCluster(stack, "aws", { cluster, instanceType: type.stringValue });
    const config = JSON.parse(Testing.synth(stack)) as Config;
    expect(config.provider?.aws).toEqual([{}]);
    expect(config.resource.aws_instance["core_core-01"].instance_type).toBe("${var.type}");
    expect(aws.plan.cluster).toBe(cluster.plan);
  });

  it("names itself when it read a front that is changed afterwards, and when its props are missing", () => {
    const stack = new TerraformStack(testApp(), "test");
    const cluster = new CoreOsCluster(stack, "core", CLUSTER);
    const front = new NlbFront(stack, "front");
    twoListeners(front, cluster);
    new AwsCluster(stack, "aws", { cluster, front });
    expect(() => front.addListener("late", { port: 8000 })).toThrow(
      /^NlbFront "test\/front": addListener\(\) after AwsCluster "test\/aws" read the front/,
    );
    expect(() => new AwsCluster(stack, "none", undefined as never)).toThrow(
      /^Invalid props for AwsCluster "test\/none":\n {2}- props: got undefined; allowed: an object of AwsClusterProps with a cluster/,
    );
  });
});
