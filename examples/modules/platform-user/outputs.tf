output "authentik_user_id" {
  description = "Authentik user pk."
  value       = webide_authentik_user.this.id
}

output "gitea_username" {
  description = "Gitea login (for team and collaborator grants)."
  value       = webide_gitea_user.this.username
}

output "ai_key" {
  description = "The user's LiteLLM key (for the workspace)."
  value       = webide_litellm_key.this.key
  sensitive   = true
}

output "ai_key_id" {
  description = "Token id of the key (not a secret)."
  value       = webide_litellm_key.this.id
}

output "role" {
  description = "The role the user was created with."
  value       = var.role
}

output "coder_user_id" {
  description = "Coder user id (for groups)."
  value       = webide_coder_user.this.id
}
