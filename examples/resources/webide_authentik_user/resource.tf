resource "webide_authentik_user" "contractor1" {
  username = "contractor1"
  name     = "Contractor One"
  email    = "contractor1@example.com"
  # Kept in state (marked sensitive): works on every Terraform. On Terraform >= 1.11 use the
  # write-only argument instead, which never reaches state or plan; a changed password is sent
  # when the version changes:
  #   password_wo         = var.initial_password
  #   password_wo_version = 1
  password = var.initial_password
  groups   = [webide_authentik_group.rbac["coder-members"].id]
  attributes = jsonencode({
    company = "Acme Contracting"
  })
}

variable "initial_password" {
  type      = string
  sensitive = true
}
