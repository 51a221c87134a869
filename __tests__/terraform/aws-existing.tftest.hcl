# Mocked apply of the bring-your-own-network stack of aws-terraform.test.ts:
# 4 Flatcar nodes in two private subnets (NAT, publicAddresses: false) of an
# existing VPC, an internet-facing load balancer in two public subnets of
# their zones (network.loadBalancerSubnetIds). The overrides say what AWS
# would report about those subnets and their route tables; each run below
# changes one thing and expects the plan-time check that catches it. Distinct
# ids per resource are appended by the test (distinctMockIds).

mock_provider "aws" {
  source = "./tests/mocks"
}

# Routes are given whole: an attribute left out would get a random mock value,
# where AWS (through the provider) reports "" for a target a route does not use.

override_data {
  target = data.aws_subnet.core_subnet_0
  values = { cidr_block = "10.0.1.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
}
override_data {
  target = data.aws_subnet.core_subnet_1
  values = { cidr_block = "10.0.2.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1b" }
}
override_data {
  target = data.aws_subnet.core_lb_subnet_0
  values = { cidr_block = "10.0.101.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
}
override_data {
  target = data.aws_subnet.core_lb_subnet_1
  values = { cidr_block = "10.0.102.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1b" }
}

# Private subnets: their own route table, default route through a NAT gateway.
override_data {
  target = data.aws_route_tables.core_subnet_0_route_tables
  values = { ids = ["rtb-000000000000000a1"] }
}
override_data {
  target = data.aws_route_tables.core_subnet_1_route_tables
  values = { ids = ["rtb-000000000000000b1"] }
}
override_data {
  target = data.aws_route_table.core_subnet_0_routes
  values = { id = "rtb-000000000000000a1", routes = [{ cidr_block = "0.0.0.0/0", nat_gateway_id = "nat-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}
override_data {
  target = data.aws_route_table.core_subnet_1_routes
  values = { id = "rtb-000000000000000b1", routes = [{ cidr_block = "0.0.0.0/0", nat_gateway_id = "nat-0123456789abcdef1", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}

# Public subnets: the VPC's main route table (no association of their own), default route to the internet gateway.
override_data {
  target = data.aws_route_table.core_lb_subnet_0_routes
  values = { id = "rtb-0f0f0f0f0f0f0f0f0", routes = [{ cidr_block = "0.0.0.0/0", gateway_id = "igw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}
override_data {
  target = data.aws_route_table.core_lb_subnet_1_routes
  values = { id = "rtb-0f0f0f0f0f0f0f0f0", routes = [{ cidr_block = "0.0.0.0/0", gateway_id = "igw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}

run "private_nodes_behind_nat_and_a_public_load_balancer" {
  command = apply

  assert {
    condition     = aws_lb.core_front.subnets == toset(["subnet-00000000000000a01", "subnet-00000000000000b01"]) && aws_lb.core_front.internal == false
    error_message = "the internet-facing load balancer must use the given public subnets"
  }
  assert {
    condition = (
      aws_instance.core_core-01.subnet_id == "subnet-0000000000000000a" && aws_instance.core_core-02.subnet_id == "subnet-0000000000000000b" &&
      aws_instance.core_core-03.subnet_id == "subnet-0000000000000000a" && aws_instance.core_core-04.subnet_id == "subnet-0000000000000000b"
    )
    error_message = "the nodes must alternate between the private subnets"
  }
  assert {
    condition     = !aws_instance.core_core-01.associate_public_ip_address && !aws_instance.core_core-02.associate_public_ip_address
    error_message = "nodes behind NAT get no public address"
  }
  assert {
    condition = (
      aws_ec2_subnet_cidr_reservation.core_reserved_core-02.subnet_id == "subnet-0000000000000000b" &&
      aws_ec2_subnet_cidr_reservation.core_reserved_core-02.cidr_block == "10.0.2.10/32" &&
      aws_ec2_subnet_cidr_reservation.core_reserved_core-02.reservation_type == "explicit"
    )
    error_message = "a node's address must be reserved in the node's subnet, not the load balancer's"
  }
  assert {
    condition     = data.aws_route_table.core_lb_subnet_0_routes.route_table_id == data.aws_route_table.core_main_routes.id
    error_message = "a subnet without its own route table is checked against the VPC's main table"
  }
}

run "a_transit_gateway_is_a_way_out_too" {
  command = plan

  override_data {
    target = data.aws_route_table.core_subnet_1_routes
    values = { id = "rtb-000000000000000b1", routes = [{ cidr_block = "0.0.0.0/0", transit_gateway_id = "tgw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
  }
}

run "a_node_subnet_without_a_route_out_stops_the_deploy" {
  command = plan

  override_data {
    target = data.aws_route_table.core_subnet_1_routes
    values = { id = "rtb-000000000000000b1", routes = [{ cidr_block = "10.99.0.0/16", vpc_peering_connection_id = "pcx-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "" }] }
  }
  expect_failures = [data.aws_route_table.core_subnet_1_routes]
}

run "a_node_subnet_routed_only_to_an_internet_gateway_stops_the_deploy" {
  command = plan

  override_data {
    target = data.aws_route_table.core_subnet_0_routes
    values = { id = "rtb-000000000000000a1", routes = [{ cidr_block = "0.0.0.0/0", gateway_id = "igw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
  }
  expect_failures = [data.aws_route_table.core_subnet_0_routes]
}

run "a_load_balancer_in_private_subnets_stops_the_deploy" {
  command = plan

  override_data {
    target = data.aws_route_table.core_lb_subnet_0_routes
    values = { id = "rtb-0f0f0f0f0f0f0f0f0", routes = [{ cidr_block = "0.0.0.0/0", nat_gateway_id = "nat-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
  }
  expect_failures = [data.aws_route_table.core_lb_subnet_0_routes]
}

run "load_balancer_subnets_missing_a_node_zone_stop_the_deploy" {
  command = plan

  override_data {
    target = data.aws_subnet.core_lb_subnet_1
    values = { cidr_block = "10.0.102.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
  }
  expect_failures = [aws_lb.core_front]
}
