# Spend and limits of a key, without its secret.
data "webide_litellm_key" "contractor1" {
  key_alias = webide_litellm_key.contractor1.key_alias
}

output "contractor1_spend" {
  value = data.webide_litellm_key.contractor1.spend
}
