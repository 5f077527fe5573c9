# The Coder WebIDE platform of the seeds, declared end to end.
#
#   terraform init && terraform apply
#
# Service URLs and admin credentials are variables: point them at a running platform (or at
# the sandbox: `terraform-provider-webide sandbox`, or `scripts/main-job` which does all of
# this for you). Container images are variables too, so the same configuration runs with the
# upstream images on your machine and with stand-in images in CI.

terraform {
  required_version = ">= 1.0"
  required_providers {
    webide = { source = "webide/webide" }
  }
}

provider "webide" {
  litellm {
    url        = var.litellm_url
    master_key = var.litellm_master_key
  }
}

locals {
  # The seeds' people and their platform role (see examples/modules/platform-user for what
  # each role grants in every service).
  users = {
    appmanager  = { name = "App Manager", email = "appmanager@example.com", role = "app_manager" }
    contractor1 = { name = "Contractor One", email = "contractor1@example.com", role = "contractor" }
    contractor2 = { name = "Contractor Two", email = "contractor2@example.com", role = "contractor" }
    contractor3 = { name = "Contractor Three", email = "contractor3@example.com", role = "contractor" }
    readonly    = { name = "Read Only", email = "readonly@example.com", role = "compliance" }
  }
}
