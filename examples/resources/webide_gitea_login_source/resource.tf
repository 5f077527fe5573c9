# "Sign in with Authentik" on Gitea, made with `gitea admin auth add-oauth` inside the Gitea
# container (Gitea has no REST API for this). The name is part of the callback URL registered
# in Authentik: <gitea>/user/oauth2/authentik/callback.
resource "webide_gitea_login_source" "authentik" {
  container         = webide_compose_service.gitea.name
  name              = "authentik"
  client_id         = webide_authentik_oauth2_provider.gitea.client_id
  client_secret     = webide_authentik_oauth2_provider.gitea.client_secret
  auto_discover_url = "http://host.docker.internal:9000/application/o/gitea/.well-known/openid-configuration"
  scopes            = ["email", "profile", "groups"]
  group_claim_name  = "groups"
  admin_group       = "coder-admins"
  restricted_group  = "coder-members"
}
