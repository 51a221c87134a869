# Mocked apply of the AWS test stack of aws-terraform.test.ts: 4 Fedora CoreOS
# nodes (core-04 standby) in two subnets of a created VPC, core-02 drained,
# an HTTP listener on 80 -> web:8080 and a TCP listener on 9000 -> raw:9000
# with source-IP affinity and a 5 s x 3 health check. Distinct ids per
# resource are appended by the test (distinctMockIds).

mock_provider "aws" {
  source = "./tests/mocks"
}

run "mocked_apply" {
  command = apply

  # The front is an internet-facing NLB over both subnets, behind its own security group.
  assert {
    condition     = aws_lb.core_front.load_balancer_type == "network"
    error_message = "the load balancer is not a Network Load Balancer"
  }
  assert {
    condition     = aws_lb.core_front.internal == false && aws_lb.core_front.enable_cross_zone_load_balancing == true
    error_message = "the load balancer must be internet-facing with cross-zone balancing"
  }
  assert {
    condition     = aws_subnet.core_subnet_0.id != aws_subnet.core_subnet_1.id && aws_lb_target_group.core_front_web.arn != aws_lb_target_group.core_front_raw.arn
    error_message = "the mock must give subnets and target groups distinct ids, or the wiring checks below prove nothing"
  }
  assert {
    condition     = toset(aws_lb.core_front.subnets) == toset([aws_subnet.core_subnet_0.id, aws_subnet.core_subnet_1.id])
    error_message = "the load balancer must span the cluster's subnets"
  }
  assert {
    condition     = toset(aws_lb.core_front.security_groups) == toset([aws_security_group.core_front.id])
    error_message = "the load balancer must use the front security group"
  }

  # One listener per front listener, each forwarding to its own target group.
  assert {
    condition     = aws_lb_listener.core_front_http.port == 80 && aws_lb_listener.core_front_http.protocol == "TCP"
    error_message = "listener http must be TCP on port 80"
  }
  assert {
    condition     = aws_lb_listener.core_front_http.default_action[0].target_group_arn == aws_lb_target_group.core_front_web.arn
    error_message = "listener http must forward to target group web"
  }
  assert {
    condition     = aws_lb_listener.core_front_raw.port == 9000 && aws_lb_listener.core_front_raw.default_action[0].target_group_arn == aws_lb_target_group.core_front_raw.arn
    error_message = "listener raw must forward port 9000 to target group raw"
  }

  # Health checks at AWS's floor by default: every 5 s, 2 failures (10 s to detect a dead node), timeout below the interval.
  assert {
    condition = (
      aws_lb_target_group.core_front_web.health_check[0].protocol == "HTTP" &&
      aws_lb_target_group.core_front_web.health_check[0].path == "/" &&
      aws_lb_target_group.core_front_web.health_check[0].port == "8080" &&
      aws_lb_target_group.core_front_web.health_check[0].interval == 5 &&
      aws_lb_target_group.core_front_web.health_check[0].timeout == 4 &&
      aws_lb_target_group.core_front_web.health_check[0].healthy_threshold == 2 &&
      aws_lb_target_group.core_front_web.health_check[0].unhealthy_threshold == 2
    )
    error_message = "target group web must probe HTTP / on 8080 every 5 s (timeout 4 s), 2 failures to fail"
  }
  assert {
    condition     = aws_lb_target_group.core_front_web.health_check[0].interval * aws_lb_target_group.core_front_web.health_check[0].unhealthy_threshold <= 10
    error_message = "default failure detection must take at most 10 s"
  }
  assert {
    condition = (
      aws_lb_target_group.core_front_raw.health_check[0].protocol == "TCP" &&
      aws_lb_target_group.core_front_raw.health_check[0].interval == 5 &&
      aws_lb_target_group.core_front_raw.health_check[0].timeout == 4 &&
      aws_lb_target_group.core_front_raw.health_check[0].unhealthy_threshold == 3
    )
    error_message = "target group raw must probe TCP every 5 s (timeout 4 s), 3 failures to fail"
  }
  assert {
    condition     = aws_lb_target_group.core_front_web.deregistration_delay == "30" && aws_lb_target_group.core_front_web.target_type == "ip"
    error_message = "drained targets keep connections for 30 s; targets are registered by IP"
  }
  assert {
    condition     = aws_lb_target_group.core_front_raw.stickiness[0].type == "source_ip" && aws_lb_target_group.core_front_raw.stickiness[0].enabled
    error_message = "affinity SINGLE must be source-IP stickiness"
  }

  # Registered targets: the active nodes that are not drained (core-01, core-03), at their instances' addresses.
  assert {
    condition = toset([
      aws_lb_target_group_attachment.core_web_core-01.target_id,
      aws_lb_target_group_attachment.core_web_core-03.target_id,
      ]) == toset([aws_instance.core_core-01.private_ip, aws_instance.core_core-03.private_ip]) && (
      aws_lb_target_group_attachment.core_web_core-01.target_group_arn == aws_lb_target_group.core_front_web.arn
    )
    error_message = "web must register exactly core-01 and core-03"
  }
  assert {
    condition = alltrue([
      for a in [aws_lb_target_group_attachment.core_raw_core-01, aws_lb_target_group_attachment.core_raw_core-03] :
      a.target_group_arn == aws_lb_target_group.core_front_raw.arn && a.port == 9000
    ])
    error_message = "raw must register its targets in its own group, on port 9000"
  }
  assert {
    condition     = aws_lb_target_group.core_front_web.name_prefix == "web-" && aws_lb_target_group.core_front_raw.name_prefix == "raw-"
    error_message = "target groups get unique names from a prefix, so that a replacement can exist next to the old group"
  }

  # Nodes: planned addresses spread over the subnets, Ignition as user data, IMDSv2, encrypted gp3.
  assert {
    condition = (
      aws_instance.core_core-01.private_ip == "10.0.1.10" && aws_instance.core_core-01.subnet_id == aws_subnet.core_subnet_0.id &&
      aws_instance.core_core-02.private_ip == "10.0.2.10" && aws_instance.core_core-02.subnet_id == aws_subnet.core_subnet_1.id &&
      aws_instance.core_core-03.private_ip == "10.0.1.11" && aws_instance.core_core-04.private_ip == "10.0.2.11"
    )
    error_message = "nodes must get their planned addresses, alternating between the subnets"
  }
  assert {
    condition = alltrue([
      for pair in [
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-01, aws_instance.core_core-01],
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-02, aws_instance.core_core-02],
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-03, aws_instance.core_core-03],
        [aws_ec2_subnet_cidr_reservation.core_reserved_core-04, aws_instance.core_core-04],
      ] : pair[0].reservation_type == "explicit" && pair[0].cidr_block == "${pair[1].private_ip}/32" && pair[0].subnet_id == pair[1].subnet_id
    ])
    error_message = "every node's address, standby included, must be reserved explicitly in its own subnet"
  }
  assert {
    condition     = jsondecode(aws_instance.core_core-01.user_data) == jsondecode(file("clusters/core/ignition/core-01.ign"))
    error_message = "user data must be exactly the node's Ignition config"
  }
  assert {
    condition     = strcontains(aws_instance.core_core-01.user_data, "$${HOME}")
    error_message = "systemd's $${HOME} must reach the node literally, not as a Terraform interpolation"
  }
  assert {
    condition     = aws_instance.core_core-01.metadata_options[0].http_tokens == "required"
    error_message = "nodes must require IMDSv2"
  }
  assert {
    condition     = aws_instance.core_core-01.root_block_device[0].encrypted && aws_instance.core_core-01.root_block_device[0].volume_type == "gp3"
    error_message = "root volumes must be encrypted gp3"
  }
  assert {
    condition     = aws_instance.core_core-01.ami == data.aws_ami.core_image.id
    error_message = "nodes must boot the looked-up image"
  }

  # etcd only between the nodes; SSH only from the given CIDR.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.core_etcd_2379.referenced_security_group_id == aws_security_group.core_nodes.id &&
      aws_vpc_security_group_ingress_rule.core_etcd_2380.referenced_security_group_id == aws_security_group.core_nodes.id &&
      aws_vpc_security_group_ingress_rule.core_etcd_2379.cidr_ipv4 == null
    )
    error_message = "etcd must be reachable from the cluster's own group only"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.core_ssh_0.cidr_ipv4 == "198.51.100.0/24" && aws_vpc_security_group_ingress_rule.core_ssh_0.from_port == 22
    error_message = "SSH must be open to sshAllowedCidrs only"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.core_from_front_8080.referenced_security_group_id == aws_security_group.core_front.id
    error_message = "the nodes' target port must be reachable from the load balancer's group only"
  }
}
