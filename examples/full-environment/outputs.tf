output "ai_keys" {
  description = "Per-user LiteLLM keys (sensitive)."
  value       = { for u, m in module.user : u => m.ai_key }
  sensitive   = true
}

output "ai_key_ids" {
  description = "Per-user key ids (not secrets)."
  value       = { for u, m in module.user : u => m.ai_key_id }
}

output "oidc_client_ids" {
  description = "OAuth2 client id per service."
  value       = { for k, p in webide_authentik_oauth2_provider.sso : k => p.client_id }
}

output "git_clone_url" {
  description = "The contractors' repository."
  value       = webide_gitea_repository.app.clone_url
}

output "urls" {
  description = "Where each service answers on this host."
  value = {
    coder      = local.coder_access_url
    ai_gateway = "http://localhost:${local.port_ai_gateway + var.host_port_offset}"
    gitea      = "http://localhost:${local.port.gitea + var.host_port_offset}"
    authentik  = "http://localhost:${local.port.authentik + var.host_port_offset}"
    minio      = "http://localhost:${local.port.minio_console + var.host_port_offset}"
    litellm    = "http://localhost:${local.port.litellm + var.host_port_offset}"
    mailpit    = "http://localhost:${local.port.mailpit + var.host_port_offset}"
  }
}
