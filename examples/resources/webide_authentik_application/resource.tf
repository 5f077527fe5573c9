resource "webide_authentik_application" "coder" {
  name            = "Coder"
  slug            = "coder"
  provider_id     = webide_authentik_oauth2_provider.coder.id
  meta_launch_url = "https://host.docker.internal:7443"
}

# CODER_OIDC_ISSUER_URL for the Coder container
output "coder_oidc_issuer" {
  value = "http://localhost:9000/application/o/${webide_authentik_application.coder.slug}/"
}
