# Contractors get write access to exactly these repositories of the organization.
resource "webide_gitea_team" "contractors" {
  org          = webide_gitea_org.platform.name
  name         = "contractors"
  permission   = "write"
  members      = [webide_gitea_user.contractor1.username]
  repositories = [webide_gitea_repository.app.name]
}
