data "webide_authentik_flow" "authorization" {
  slug = "default-provider-authorization-implicit-consent"
}

data "webide_authentik_flow" "invalidation" {
  slug = "default-provider-invalidation-flow"
}

resource "webide_authentik_oauth2_provider" "coder" {
  name               = "coder"
  authorization_flow = data.webide_authentik_flow.authorization.id
  invalidation_flow  = data.webide_authentik_flow.invalidation.id
  # The seeds need both: HTTPS on :7443 and plain HTTP on :7080.
  redirect_uris = [
    "https://host.docker.internal:7443/api/v2/users/oidc/callback",
    "http://host.docker.internal:7080/api/v2/users/oidc/callback",
  ]
  property_mappings = [webide_authentik_scope_mapping.groups.id]
}

output "coder_oidc_client_id" {
  value = webide_authentik_oauth2_provider.coder.client_id
}

output "coder_oidc_client_secret" {
  value     = webide_authentik_oauth2_provider.coder.client_secret
  sensitive = true
}
