# Read access for the compliance user, on one repository.
resource "webide_gitea_repository_collaborator" "readonly" {
  owner      = webide_gitea_repository.app.owner
  repository = webide_gitea_repository.app.name
  username   = webide_gitea_user.compliance.username
  permission = "read"
}
