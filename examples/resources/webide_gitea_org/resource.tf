resource "webide_gitea_org" "platform" {
  name        = "platform"
  full_name   = "Platform"
  description = "Shared repositories of the WebIDE platform"
  visibility  = "limited"
}
