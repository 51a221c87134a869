# Mocked apply of main.ts's CoreOsAwsStack ("coreos-aws"): the stack owns a VPC
# with three subnets and composes the cluster into it (AwsNetwork.existing).
# AwsCluster reads those subnets back (data.aws_subnet) and checks them.

mock_provider "aws" {
  source = "./tests/mocks"
}

# The stack's own subnets, as AWS would number them.
override_resource {
  target = aws_subnet.subnet-0
  values = { id = "subnet-0000000000000000a" }
}
override_resource {
  target = aws_subnet.subnet-1
  values = { id = "subnet-0000000000000000b" }
}
override_resource {
  target = aws_subnet.subnet-2
  values = { id = "subnet-0000000000000000c" }
}

# What AWS reports about them when AwsCluster reads them back.
override_data {
  target = data.aws_subnet.core_subnet_0
  values = { id = "subnet-0000000000000000a", cidr_block = "10.42.1.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
}
override_data {
  target = data.aws_subnet.core_subnet_1
  values = { id = "subnet-0000000000000000b", cidr_block = "10.42.2.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1b" }
}
override_data {
  target = data.aws_subnet.core_subnet_2
  values = { id = "subnet-0000000000000000c", cidr_block = "10.42.3.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1c" }
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
    condition     = output.node_public_addresses["core-01"] == "203.0.113.10"
    error_message = "public addresses come from the instances"
  }
  assert {
    condition     = output.etcd_endpoints == ["https://10.42.1.10:2379", "https://10.42.2.10:2379", "https://10.42.3.10:2379"]
    error_message = "etcd endpoints are the members' client URLs"
  }
  assert {
    condition     = toset(aws_lb.core_front.subnets) == toset(["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"])
    error_message = "the load balancer must use the stack's subnets"
  }
  assert {
    condition     = aws_instance.core_core-02.subnet_id == "subnet-0000000000000000b" && aws_security_group.core_nodes.vpc_id == aws_vpc.vpc.id
    error_message = "nodes and groups must live in the stack's VPC and subnets"
  }
  assert {
    condition     = aws_lb_target_group.core_front_hello.port == 8080 && aws_lb_listener.core_front_http.port == 80
    error_message = "HTTP on 80 must reach hello on 8080"
  }
}

run "a_subnet_with_another_cidr_stops_the_deploy" {
  command = plan

  override_data {
    target = data.aws_subnet.core_subnet_1
    values = { id = "subnet-0000000000000000b", cidr_block = "10.42.9.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1b" }
  }
  expect_failures = [data.aws_subnet.core_subnet_1]
}

run "subnets_sharing_a_zone_stop_the_deploy" {
  command = plan

  override_data {
    target = data.aws_subnet.core_subnet_2
    values = { id = "subnet-0000000000000000c", cidr_block = "10.42.3.0/24", vpc_id = "vpc-0a1b2c3d4e5f60718", availability_zone = "eu-central-1a" }
  }
  expect_failures = [aws_lb.core_front]
}
