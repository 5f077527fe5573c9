data "webide_authentik_flow" "authorization" {
  slug = "default-provider-authorization-implicit-consent"
}
