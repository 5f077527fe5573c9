resource "webide_random_password" "coder_admin" {
  length = 24
}

# Coder's owner, made through POST /api/v2/users/first on a fresh Coder (or logged in to, when
# Coder already has its first user). The resource has its own url: no token exists yet.
resource "webide_coder_first_user" "admin" {
  url      = "https://coder.example.com:7443"
  ca_file  = "/etc/webide/coder-ca.pem"
  email    = "admin@example.com"
  username = "admin"
  name     = "Platform Admin"
  password = webide_random_password.coder_admin.result
}

# Another provider instance uses the first user's session in the same apply.
provider "webide" {
  alias = "coder"
  coder {
    url     = "https://coder.example.com:7443"
    ca_file = "/etc/webide/coder-ca.pem"
    token   = webide_coder_first_user.admin.session_token
  }
}

resource "webide_coder_user" "alice" {
  provider   = webide.coder
  username   = "alice"
  email      = "alice@example.com"
  login_type = "oidc"
}
