# One person on the platform, consistently in Authentik, Gitea and LiteLLM (and, through the
# Authentik group and OIDC, in Coder), from one role of the seeds' matrix:
#
#   role            Authentik group         Gitea                          Coder site roles         AI key
#   platform_admin  coder-admins            admin, may create orgs         owner                    200 USD, audit
#   app_manager     coder-template-admins   unrestricted, may create orgs  template-admin           100 USD, audit
#   contractor      coder-members           restricted, no own repos       member                   25 USD, strict
#   compliance      coder-auditors          restricted, no own repos       auditor                  blocked

terraform {
  required_providers {
    webide = {
      source                = "webide/webide"
      configuration_aliases = [webide.authentik, webide.gitea, webide.litellm, webide.coder]
    }
  }
}

locals {
  roles = {
    platform_admin = { coder_roles = ["owner"], group = "coder-admins", gitea_admin = true, restricted = false, create_orgs = true, max_repos = -1, budget = 200, enforcement = "audit", blocked = false }
    app_manager    = { coder_roles = ["template-admin"], group = "coder-template-admins", gitea_admin = false, restricted = false, create_orgs = true, max_repos = -1, budget = 100, enforcement = "audit", blocked = false }
    contractor     = { coder_roles = [], group = "coder-members", gitea_admin = false, restricted = true, create_orgs = false, max_repos = 0, budget = 25, enforcement = "strict", blocked = false }
    compliance     = { coder_roles = ["auditor"], group = "coder-auditors", gitea_admin = false, restricted = true, create_orgs = false, max_repos = 0, budget = 0, enforcement = "strict", blocked = true }
  }
  r = local.roles[var.role]
}

resource "webide_authentik_user" "this" {
  provider = webide.authentik
  username = var.username
  name     = var.name
  email    = var.email
  password = var.password
  groups   = [var.authentik_group_ids[local.r.group]]
  attributes = jsonencode({
    platform_role = var.role
  })
}

resource "webide_gitea_user" "this" {
  provider                  = webide.gitea
  username                  = var.username
  email                     = var.email
  full_name                 = var.name
  password                  = var.password
  admin                     = local.r.gitea_admin
  restricted                = local.r.restricted
  allow_create_organization = local.r.create_orgs
  max_repo_creation         = local.r.max_repos
  # People sign in through Authentik; the password is the fallback login.
  must_change_password = false
}

resource "webide_litellm_key" "this" {
  provider        = webide.litellm
  key_alias       = "${var.username}-workspace"
  user_id         = var.username
  team_id         = var.role == "contractor" ? var.litellm_contractor_team_id : null
  models          = var.ai_models
  max_budget      = local.r.budget
  budget_duration = "30d"
  blocked         = local.r.blocked
  metadata = {
    enforcement_level = local.r.enforcement
    platform_role     = var.role
  }
}

# Coder: signs in through Authentik (login_type oidc from the start, so the seeds' "OIDC login
# fails for existing user" cannot happen), with the role's site roles.
resource "webide_coder_user" "this" {
  provider   = webide.coder
  username   = var.username
  email      = var.email
  name       = var.name
  login_type = "oidc"
  roles      = var.coder_roles_from_idp ? [] : local.r.coder_roles
  # With Coder's role sync (a licence) the groups claim sets the same roles at sign-in.
  roles_from_idp = var.coder_roles_from_idp
}
