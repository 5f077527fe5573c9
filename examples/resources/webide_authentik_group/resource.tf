# The platform's RBAC groups; Coder maps them to roles through the `groups` claim.
resource "webide_authentik_group" "rbac" {
  for_each = toset(["coder-admins", "coder-template-admins", "coder-auditors", "coder-members"])
  name     = each.key
}
