data "webide_coder_organization" "default" {}

output "organization_id" {
  value = data.webide_coder_organization.default.id
}
