# Repositories contractors work in: an organization, a repository, and a team giving exactly
# the contractors write access (they are restricted, so they see nothing else).

resource "webide_gitea_org" "platform" {
  provider    = webide.gitea
  name        = "platform"
  description = "Shared repositories of the WebIDE platform"
}

resource "webide_gitea_repository" "app" {
  provider    = webide.gitea
  owner       = webide_gitea_org.platform.name
  name        = "contractor-app"
  description = "The application contractors work on"
}

resource "webide_gitea_team" "contractors" {
  provider     = webide.gitea
  org          = webide_gitea_org.platform.name
  name         = "contractors"
  permission   = "write"
  members      = [for u, m in module.user : m.gitea_username if local.users[u].role == "contractor"]
  repositories = [webide_gitea_repository.app.name]
}

resource "webide_gitea_repository_collaborator" "compliance" {
  provider   = webide.gitea
  for_each   = { for u, v in local.users : u => v if v.role == "compliance" }
  owner      = webide_gitea_org.platform.name
  repository = webide_gitea_repository.app.name
  username   = module.user[each.key].gitea_username
  permission = "read"
}
