# Coder roles for everyone who signs in through Authentik, from their RBAC groups: what
# CODER_OIDC_USER_ROLE_MAPPING does on a licensed Coder. Users declared with roles in HCL are
# left to their webide_coder_user.
resource "webide_coder_oidc_role_sync" "sso" {
  group_roles = {
    coder-admins          = ["owner"]
    coder-template-admins = ["template-admin"]
    coder-auditors        = ["auditor"]
  }
  group_members = { for g, d in data.webide_authentik_group_members.rbac : g => d.emails }
  exclude       = [webide_coder_user.appmanager.username, webide_coder_user.contractor1.username]
}
