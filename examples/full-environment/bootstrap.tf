# Bootstrap: the admin credentials the service provider instances use, made in this apply —
# no hand step, no pre-existing token. Each secret is a variable or, when left null, generated
# here by the provider (webide_random_password, kept only in state: protect the state).
#
#   Authentik: AUTHENTIK_BOOTSTRAP_PASSWORD / _TOKEN / _EMAIL on its containers; Authentik reads
#              them on first start (akadmin's password, an API token for akadmin) and the
#              authentik provider instance (main.tf) uses the token.
#   Coder:     webide_coder_first_user.admin (coder.tf) creates the first user through
#              POST /api/v2/users/first and logs in; the coder provider instance uses its session.

resource "webide_random_password" "bootstrap" {
  provider = webide.engine
  for_each = toset(["coder_admin", "authentik_admin", "authentik_token"])
  # The token travels in an HTTP header: letters and digits only.
  length      = each.key == "authentik_token" ? 48 : 24
  special     = each.key != "authentik_token"
  min_upper   = 2
  min_lower   = 2
  min_numeric = 2
  min_special = each.key == "authentik_token" ? 0 : 2
}

locals {
  coder_admin_password         = coalesce(var.coder_admin_password, webide_random_password.bootstrap["coder_admin"].result)
  authentik_bootstrap_password = coalesce(var.authentik_bootstrap_password, webide_random_password.bootstrap["authentik_admin"].result)
  authentik_bootstrap_token    = coalesce(var.authentik_bootstrap_token, webide_random_password.bootstrap["authentik_token"].result)
  # On the Authentik containers (docker.tf). Authentik documents them for the worker; the
  # server gets them too (harmless, and older releases read them there).
  authentik_bootstrap_env = {
    AUTHENTIK_BOOTSTRAP_PASSWORD = local.authentik_bootstrap_password
    AUTHENTIK_BOOTSTRAP_TOKEN    = local.authentik_bootstrap_token
  }
}

output "coder_admin_password" {
  description = "Password of Coder's first user (`coder_admin_email`): the variable, or the generated one."
  value       = local.coder_admin_password
  sensitive   = true
}

output "authentik_admin_password" {
  description = "akadmin's password (AUTHENTIK_BOOTSTRAP_PASSWORD): the variable, or the generated one."
  value       = local.authentik_bootstrap_password
  sensitive   = true
}
