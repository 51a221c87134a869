# Mocked apply of main.ts's CoreOsAwsStack ("coreos-aws"): the stack owns a VPC
# with three public subnets and composes the cluster into it
# (AwsNetwork.existing). AwsCluster reads the subnets and their route tables
# back and checks them at plan time. Distinct ids per resource are appended
# by the test (distinctMockIds).

mock_provider "aws" {
  source = "./tests/mocks"
}

# Routes are given whole: an attribute left out would get a random mock value,
# where AWS (through the provider) reports "" for a target a route does not use.

# What AWS reports about the stack's subnets when AwsCluster reads them back.
override_data {
  target = data.aws_subnet.core_subnet_0
  values = { cidr_block = "10.42.1.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
}
override_data {
  target = data.aws_subnet.core_subnet_1
  values = { cidr_block = "10.42.2.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1b" }
}
override_data {
  target = data.aws_subnet.core_subnet_2
  values = { cidr_block = "10.42.3.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1c" }
}

# Their route table (the stack's "public" table): explicitly associated, default route to the gateway.
override_data {
  target = data.aws_route_tables.core_subnet_0_route_tables
  values = { ids = ["rtb-0000000000000a0b1"] }
}
override_data {
  target = data.aws_route_tables.core_subnet_1_route_tables
  values = { ids = ["rtb-0000000000000a0b1"] }
}
override_data {
  target = data.aws_route_tables.core_subnet_2_route_tables
  values = { ids = ["rtb-0000000000000a0b1"] }
}
override_data {
  target = data.aws_route_table.core_subnet_0_routes
  values = { id = "rtb-0000000000000a0b1", routes = [{ cidr_block = "0.0.0.0/0", gateway_id = "igw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}
override_data {
  target = data.aws_route_table.core_subnet_1_routes
  values = { id = "rtb-0000000000000a0b1", routes = [{ cidr_block = "0.0.0.0/0", gateway_id = "igw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}
override_data {
  target = data.aws_route_table.core_subnet_2_routes
  values = { id = "rtb-0000000000000a0b1", routes = [{ cidr_block = "0.0.0.0/0", gateway_id = "igw-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "", vpc_peering_connection_id = "" }] }
}

run "composed_into_the_stacks_vpc" {
  command = apply

  assert {
    condition     = output.front_url == "http://core-front-50dc6c495c0c9188.elb.eu-central-1.amazonaws.com/"
    error_message = "front_url must be the load balancer's DNS name"
  }
  assert {
    condition     = output.node_private_addresses == { "core-01" = "10.42.1.10", "core-02" = "10.42.2.10", "core-03" = "10.42.3.10" }
    error_message = "one node per subnet, at the planned addresses"
  }
  assert {
    condition     = output.node_public_addresses == { "core-01" = aws_instance.core_core-01.public_ip, "core-02" = aws_instance.core_core-02.public_ip, "core-03" = aws_instance.core_core-03.public_ip } && aws_instance.core_core-01.public_ip != aws_instance.core_core-02.public_ip
    error_message = "public addresses come from each node's own instance"
  }
  assert {
    condition     = output.etcd_endpoints == ["https://10.42.1.10:2379", "https://10.42.2.10:2379", "https://10.42.3.10:2379"]
    error_message = "etcd endpoints are the members' client URLs"
  }

  # Wiring, with distinct ids per resource: each node in its own subnet of the stack.
  assert {
    condition     = length(distinct([aws_subnet.subnet-0.id, aws_subnet.subnet-1.id, aws_subnet.subnet-2.id])) == 3
    error_message = "the mock must give the stack's subnets distinct ids, or the wiring checks below prove nothing"
  }
  assert {
    condition     = aws_lb.core_front.subnets == toset([aws_subnet.subnet-0.id, aws_subnet.subnet-1.id, aws_subnet.subnet-2.id])
    error_message = "the load balancer must use the stack's subnets"
  }
  assert {
    condition = (
      aws_instance.core_core-01.subnet_id == aws_subnet.subnet-0.id &&
      aws_instance.core_core-02.subnet_id == aws_subnet.subnet-1.id &&
      aws_instance.core_core-03.subnet_id == aws_subnet.subnet-2.id &&
      aws_security_group.core_nodes.vpc_id == aws_vpc.vpc.id
    )
    error_message = "node i must live in the stack's subnet i, the groups in its VPC"
  }

  # Each node's address is reserved (explicit: AWS never assigns it by itself) in the node's subnet.
  assert {
    condition = alltrue([
      for pair in [
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-01, aws_instance.core_core-01],
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-02, aws_instance.core_core-02],
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-03, aws_instance.core_core-03],
      ] : pair[0].reservation_type == "explicit" && pair[0].cidr_block == "${pair[1].private_ip}/32" && pair[0].subnet_id == pair[1].subnet_id
    ])
    error_message = "each node's address must be reserved, explicitly, in the node's own subnet"
  }

  # The listener forwards to its own group; the group registers the nodes; replaceable under a new name.
  assert {
    condition = (
      aws_lb_listener.core_front_http.port == 80 &&
      aws_lb_listener.core_front_http.default_action[0].target_group_arn == aws_lb_target_group.core_front_hello.arn &&
      aws_lb_target_group.core_front_hello.port == 8080
    )
    error_message = "HTTP on 80 must reach hello on 8080"
  }
  assert {
    condition = toset([
      for a in [aws_lb_target_group_attachment.core_hello_core-01, aws_lb_target_group_attachment.core_hello_core-02, aws_lb_target_group_attachment.core_hello_core-03] :
      "${a.target_group_arn} ${a.target_id}:${a.port}"
      ]) == toset([
      for i in [aws_instance.core_core-01, aws_instance.core_core-02, aws_instance.core_core-03] :
      "${aws_lb_target_group.core_front_hello.arn} ${i.private_ip}:8080"
    ])
    error_message = "group hello must register every node at its address, port 8080"
  }
  assert {
    condition     = aws_lb_target_group.core_front_hello.name_prefix == "hello-" && aws_lb_target_group.core_front_hello.tags["Name"] == "core-hello"
    error_message = "target groups get a unique name from a prefix (replaceable next to the old one); the readable name is a tag"
  }

  # The route checks read the subnets' own route table.
  assert {
    condition     = data.aws_route_table.core_subnet_1_routes.route_table_id == "rtb-0000000000000a0b1"
    error_message = "a subnet with its own route table must be checked against that table"
  }
}

run "a_subnet_without_its_own_route_table_is_checked_against_the_main_one" {
  command = plan

  override_data {
    target = data.aws_route_tables.core_subnet_2_route_tables
    values = { ids = [] }
  }
  assert {
    condition     = data.aws_route_table.core_subnet_2_routes.route_table_id == data.aws_route_table.core_main_routes.id
    error_message = "a subnet without an explicit association uses the VPC's main route table, as AWS does"
  }
}

run "a_public_subnet_without_a_route_stops_the_deploy" {
  command = plan

  override_data {
    target = data.aws_route_table.core_subnet_1_routes
    values = { id = "rtb-0000000000000a0b1", routes = [{ cidr_block = "10.99.0.0/16", vpc_peering_connection_id = "pcx-0123456789abcdef0", carrier_gateway_id = "", core_network_arn = "", destination_prefix_list_id = "", egress_only_gateway_id = "", gateway_id = "", instance_id = "", ipv6_cidr_block = "", local_gateway_id = "", nat_gateway_id = "", network_interface_id = "", transit_gateway_id = "", vpc_endpoint_id = "" }] }
  }
  expect_failures = [data.aws_route_table.core_subnet_1_routes]
}

run "a_subnet_with_another_cidr_stops_the_deploy" {
  command = plan

  override_data {
    target = data.aws_subnet.core_subnet_1
    values = { cidr_block = "10.42.9.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1b" }
  }
  expect_failures = [data.aws_subnet.core_subnet_1]
}

run "subnets_sharing_a_zone_stop_the_deploy" {
  command = plan

  override_data {
    target = data.aws_subnet.core_subnet_2
    values = { cidr_block = "10.42.3.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
  }
  expect_failures = [aws_lb.core_front]
}
