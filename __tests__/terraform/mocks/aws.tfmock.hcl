# Values the mocked hashicorp/aws returns for computed attributes during
# `terraform test`. They satisfy the provider's own formats (ARNs, ids) so
# every reference between resources checks out as it would against AWS.

mock_data "aws_ami" {
  defaults = {
    id           = "ami-0123456789abcdef0"
    architecture = "x86_64"
  }
}

mock_data "aws_availability_zones" {
  defaults = {
    names = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
  }
}

mock_resource "aws_vpc" {
  defaults = {
    id  = "vpc-0a1b2c3d4e5f60718"
    arn = "arn:aws:ec2:eu-central-1:123456789012:vpc/vpc-0a1b2c3d4e5f60718"
  }
}

mock_resource "aws_subnet" {
  defaults = {
    id  = "subnet-0123456789abcdef0"
    arn = "arn:aws:ec2:eu-central-1:123456789012:subnet/subnet-0123456789abcdef0"
  }
}

mock_resource "aws_internet_gateway" {
  defaults = {
    id  = "igw-0123456789abcdef0"
    arn = "arn:aws:ec2:eu-central-1:123456789012:internet-gateway/igw-0123456789abcdef0"
  }
}

mock_resource "aws_route_table" {
  defaults = {
    id  = "rtb-0123456789abcdef0"
    arn = "arn:aws:ec2:eu-central-1:123456789012:route-table/rtb-0123456789abcdef0"
  }
}

mock_resource "aws_route_table_association" {
  defaults = {
    id = "rtbassoc-0123456789abcdef0"
  }
}

mock_resource "aws_security_group" {
  defaults = {
    id  = "sg-0123456789abcdef0"
    arn = "arn:aws:ec2:eu-central-1:123456789012:security-group/sg-0123456789abcdef0"
  }
}

mock_resource "aws_vpc_security_group_ingress_rule" {
  defaults = {
    id                     = "sgr-0123456789abcdef0"
    security_group_rule_id = "sgr-0123456789abcdef0"
    arn                    = "arn:aws:ec2:eu-central-1:123456789012:security-group-rule/sgr-0123456789abcdef0"
  }
}

mock_resource "aws_vpc_security_group_egress_rule" {
  defaults = {
    id                     = "sgr-0fedcba9876543210"
    security_group_rule_id = "sgr-0fedcba9876543210"
    arn                    = "arn:aws:ec2:eu-central-1:123456789012:security-group-rule/sgr-0fedcba9876543210"
  }
}

mock_resource "aws_instance" {
  defaults = {
    id                = "i-0123456789abcdef0"
    arn               = "arn:aws:ec2:eu-central-1:123456789012:instance/i-0123456789abcdef0"
    public_ip         = "203.0.113.10"
    availability_zone = "eu-central-1a"
  }
}

mock_resource "aws_lb" {
  defaults = {
    id       = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/net/core-front/50dc6c495c0c9188"
    arn      = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/net/core-front/50dc6c495c0c9188"
    dns_name = "core-front-50dc6c495c0c9188.elb.eu-central-1.amazonaws.com"
    zone_id  = "Z3F0SRJ5LGBH90"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    id  = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/core-web/73e2d6bc24d8a067"
    arn = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/core-web/73e2d6bc24d8a067"
  }
}

mock_resource "aws_lb_listener" {
  defaults = {
    id  = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/net/core-front/50dc6c495c0c9188/f2f7dc8efc522ab2"
    arn = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/net/core-front/50dc6c495c0c9188/f2f7dc8efc522ab2"
  }
}

mock_resource "aws_lb_target_group_attachment" {
  defaults = {
    id = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/core-web/73e2d6bc24d8a067-20251124000000000000000001"
  }
}

mock_resource "aws_ec2_subnet_cidr_reservation" {
  defaults = {
    id       = "scr-0123456789abcdef0"
    owner_id = "123456789012"
  }
}

# Route tables the cluster reads back (AwsNetwork.existing). No routes by
# default: each test says what AWS would report for the subnets it uses.
mock_data "aws_route_tables" {
  defaults = {
    ids = []
  }
}

mock_data "aws_route_table" {
  defaults = {
    id             = "rtb-0f0f0f0f0f0f0f0f0"
    route_table_id = "rtb-0f0f0f0f0f0f0f0f0"
    routes         = []
    associations   = []
  }
}
