# Who is in each RBAC group now, read at every plan (also people added in Authentik's UI).
data "webide_authentik_group_members" "rbac" {
  for_each   = webide_authentik_group.rbac
  name       = each.key
  depends_on = [webide_authentik_group.rbac]
}
