# Gitea's first site administrator, made with `gitea admin user create --admin` inside the
# container before any API token exists; the gitea provider block then signs in with it.
resource "webide_gitea_admin_user" "bootstrap" {
  container = webide_compose_service.gitea.name
  username  = "gitea"
  email     = "gitea@example.com"
  password  = var.gitea_admin_password
}

provider "webide" {
  alias = "gitea"
  gitea {
    url      = "http://localhost:3000"
    username = webide_gitea_admin_user.bootstrap.username
    password = var.gitea_admin_password
  }
}
