output "ai_keys" {
  description = "Per-user LiteLLM keys (sensitive)."
  value       = { for u, k in webide_litellm_key.user : u => k.key }
  sensitive   = true
}

output "ai_key_ids" {
  description = "Per-user key ids (not secrets)."
  value       = { for u, k in webide_litellm_key.user : u => k.id }
}
