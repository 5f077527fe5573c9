resource "webide_gitea_repository" "app" {
  owner       = webide_gitea_org.platform.name
  name        = "contractor-app"
  description = "The application contractors work on"
  private     = true
}

output "clone_url" {
  value = webide_gitea_repository.app.clone_url
}
