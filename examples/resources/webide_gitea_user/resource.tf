# A contractor: restricted, so it sees only the repositories granted to it, and may not create
# repositories of its own. `password` is kept in state (marked sensitive) and works on every
# Terraform; on Terraform >= 1.11 use `password_wo = var.initial_password` with
# `password_wo_version = 1` instead (never in state or plan; bump the version to send a new
# password).
resource "webide_gitea_user" "contractor1" {
  username                  = "contractor1"
  email                     = "contractor1@example.com"
  full_name                 = "Contractor One"
  password                  = var.initial_password
  restricted                = true
  allow_create_organization = false
  max_repo_creation         = 0
}

# The app manager: unrestricted and may create organizations.
resource "webide_gitea_user" "appmanager" {
  username                  = "appmanager"
  email                     = "appmanager@example.com"
  password                  = var.initial_password
  allow_create_organization = true
}

# Compliance: restricted, reads only what it is granted (see the collaborator example).
resource "webide_gitea_user" "compliance" {
  username          = "compliance"
  email             = "compliance@example.com"
  password          = var.initial_password
  restricted        = true
  max_repo_creation = 0
}

variable "initial_password" {
  type      = string
  sensitive = true
}
