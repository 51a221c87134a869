# Day 2 on the stack of aws-front.tftest.hcl: what Terraform plans when a
# target group must be replaced (a new port, protocol or VPC) and when a node
# is replaced. aws-terraform.test.ts reads the plans (terraform test
# -verbose): a group is created before the old one goes (its listener moves
# over in place); a node is destroyed before its replacement is created (its
# fixed address), after its target registration is removed.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "deployed" {
  command = apply
}

run "target_group_replaced" {
  command = plan
  plan_options {
    replace = [aws_lb_target_group.core_front_web]
  }
}

run "node_replaced" {
  command = plan
  plan_options {
    replace = [aws_instance.core_core-01]
  }
}
