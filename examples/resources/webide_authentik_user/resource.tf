resource "webide_authentik_user" "contractor1" {
  username = "contractor1"
  name     = "Contractor One"
  email    = "contractor1@example.com"
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
