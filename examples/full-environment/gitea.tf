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

# --- Gitea bootstrap and SSO, run inside the gitea container (Docker exec API) ---------------
# Gitea has no REST API for authentication sources, and its first admin must exist before any
# API credential does: both are made with Gitea's admin CLI in the container, as user `git`,
# with secrets passed through the exec's environment (never on a command line).

variable "gitea_admin_password" {
  description = "Password of Gitea's site administrator `gitea` (the seeds' admin account), created in the container by webide_gitea_admin_user.bootstrap; the gitea provider instance signs in with it (basic auth). Null: generated (output `gitea_admin_password`)."
  type        = string
  sensitive   = true
  default     = null
  validation {
    condition     = var.gitea_admin_password == null ? true : try(length(var.gitea_admin_password) >= 8, false)
    error_message = "The gitea_admin_password variable needs at least 8 characters (Gitea's minimum password length), or null to generate one."
  }
}

resource "webide_random_password" "gitea_admin" {
  provider    = webide.engine
  length      = 24
  min_upper   = 2
  min_lower   = 2
  min_numeric = 2
  min_special = 2
}

locals {
  gitea_admin_password = coalesce(var.gitea_admin_password, webide_random_password.gitea_admin.result)
}

output "gitea_admin_password" {
  description = "Password of Gitea's admin `gitea`: the variable, or the generated one."
  value       = local.gitea_admin_password
  sensitive   = true
}

# The seeds' Gitea admin account. A re-run finds it (`gitea admin user list`) and only sets
# the password, so the apply converges whatever state Gitea is in.
resource "webide_gitea_admin_user" "bootstrap" {
  provider  = webide.engine
  container = webide_compose_service.gitea.name
  username  = "gitea"
  email     = "gitea@example.com"
  password  = local.gitea_admin_password
}

# "Sign in with Authentik" on Gitea's login page. The name is part of the callback URL
# registered in Authentik (/user/oauth2/authentik/callback, see identity.tf); the discovery
# URL is the one Gitea's server reaches (host.docker.internal, as for Coder).
resource "webide_gitea_login_source" "authentik" {
  provider          = webide.engine
  container         = webide_compose_service.gitea.name
  name              = "authentik"
  client_id         = webide_authentik_oauth2_provider.sso["gitea"].client_id
  client_secret     = webide_authentik_oauth2_provider.sso["gitea"].client_secret
  auto_discover_url = "http://host.docker.internal:${local.port.authentik + var.host_port_offset}/application/o/${webide_authentik_application.sso["gitea"].slug}/.well-known/openid-configuration"
  scopes            = ["email", "profile", "groups"]
  # Users arriving through SSO get the role matrix of the seeds: platform admins become site
  # administrators, contractors restricted users (Gitea takes one restricted group; auditors
  # are declared restricted in HCL by the platform-user module).
  group_claim_name = "groups"
  admin_group      = "coder-admins"
  restricted_group = "coder-members"
  # The admin must exist first: on a fresh data volume the CLI's first user becomes admin.
  depends_on = [webide_gitea_admin_user.bootstrap]
}
