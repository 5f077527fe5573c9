# Spend and limits of a key, without its secret.
data "webide_litellm_key" "contractor1" {
  key_alias = "contractor1-workspace"
}

output "contractor1_spend" {
  value = data.webide_litellm_key.contractor1.spend
}
