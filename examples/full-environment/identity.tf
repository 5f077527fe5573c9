# SSO: the RBAC groups, the `groups` claim, and one OAuth2 provider + application per service.

resource "webide_authentik_group" "rbac" {
  provider = webide.authentik
  for_each = toset(["coder-admins", "coder-template-admins", "coder-auditors", "coder-members"])
  name     = each.key
}

resource "webide_authentik_scope_mapping" "groups" {
  provider    = webide.authentik
  name        = "webide: groups claim"
  scope_name  = "groups"
  description = "Group membership (Coder maps it to roles)"
  expression  = "return {\"groups\": [group.name for group in request.user.ak_groups.all()]}"
}

data "webide_authentik_flow" "authorization" {
  provider = webide.authentik
  slug     = "default-provider-authorization-implicit-consent"
}

data "webide_authentik_flow" "invalidation" {
  provider = webide.authentik
  slug     = "default-provider-invalidation-flow"
}

locals {
  sso_apps = {
    coder = {
      name = "Coder"
      # The seeds' redirect URI error: both the https :7443 and the http :7080 callbacks.
      redirect_uris = [
        "${local.coder_access_url}/api/v2/users/oidc/callback",
        "${local.coder_http_url}/api/v2/users/oidc/callback",
      ]
      launch = local.coder_access_url
    }
    gitea = {
      name          = "Gitea"
      redirect_uris = ["http://localhost:3000/user/oauth2/authentik/callback"]
      launch        = "http://localhost:3000"
    }
    minio = {
      name          = "MinIO"
      redirect_uris = ["http://localhost:9001/oauth_callback"]
      launch        = "http://localhost:9001"
    }
  }
}

resource "webide_authentik_oauth2_provider" "sso" {
  provider           = webide.authentik
  for_each           = local.sso_apps
  name               = each.key
  authorization_flow = data.webide_authentik_flow.authorization.id
  invalidation_flow  = data.webide_authentik_flow.invalidation.id
  redirect_uris      = each.value.redirect_uris
  property_mappings  = [webide_authentik_scope_mapping.groups.id]
}

resource "webide_authentik_application" "sso" {
  provider        = webide.authentik
  for_each        = local.sso_apps
  name            = each.value.name
  slug            = each.key
  provider_id     = webide_authentik_oauth2_provider.sso[each.key].id
  meta_launch_url = each.value.launch
}
