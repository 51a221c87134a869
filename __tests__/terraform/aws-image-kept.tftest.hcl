# Drift guard (default): a newer AMI from the lookup does not replace running nodes.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "first_deploy" {
  command = apply
  override_data {
    target = data.aws_ami.core_image
    values = { id = "ami-0aaaaaaaaaaaaaaa1" }
  }
  assert {
    condition     = aws_instance.core_core-01.ami == "ami-0aaaaaaaaaaaaaaa1"
    error_message = "the first deploy boots the image found then"
  }
}

run "newer_image_published" {
  command = apply
  override_data {
    target = data.aws_ami.core_image
    values = { id = "ami-0bbbbbbbbbbbbbbb2" }
  }
  assert {
    condition     = aws_instance.core_core-01.ami == "ami-0aaaaaaaaaaaaaaa1" && aws_instance.core_core-02.ami == "ami-0aaaaaaaaaaaaaaa1"
    error_message = "a newer AMI must not replace running nodes unasked"
  }
}
