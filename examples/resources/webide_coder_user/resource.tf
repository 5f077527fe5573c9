# SSO users: created with login_type "oidc", so OIDC sign-in works from the first login
# (the seeds' "OIDC login fails for existing user" fix, without SQL).
resource "webide_coder_user" "appmanager" {
  username   = "appmanager"
  email      = "appmanager@example.com"
  name       = "App Manager"
  login_type = "oidc"
  roles      = ["template-admin"]
}

resource "webide_coder_user" "contractor1" {
  username   = "contractor1"
  email      = "contractor1@example.com"
  login_type = "oidc"
}
