# The `groups` claim Coder, Gitea and MinIO read the user's groups from.
resource "webide_authentik_scope_mapping" "groups" {
  name        = "webide: groups claim"
  scope_name  = "groups"
  description = "Group membership"
  expression  = "return {\"groups\": [group.name for group in request.user.ak_groups.all()]}"
}
