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

output "sign_in" {
  description = "The pages a person opens to sign in to each service (SSO through Authentik where the service has it; the accounts are the seeds' users, password `user_password`)."
  value = {
    coder         = "https://host.docker.internal:${local.port.coder_tls + var.host_port_offset}/login" # "Sign in with OIDC"; self-signed certificate (workspace.tf)
    coder_http    = "http://host.docker.internal:${local.port.coder + var.host_port_offset}/login"
    gitea         = "http://localhost:${local.port.gitea + var.host_port_offset}/user/oauth2/${webide_gitea_login_source.authentik.name}" # straight to Authentik; local accounts: /user/login
    authentik     = "http://localhost:${local.port.authentik + var.host_port_offset}/if/user/"                                            # every SSO application of the user; akadmin: /if/admin/
    minio_console = "http://localhost:${local.port.minio_console + var.host_port_offset}/login"                                           # "Login with SSO"; policies from the groups claim (access.tf)
    litellm_ui    = "http://localhost:${local.port.litellm + var.host_port_offset}/ui"                                                    # the master key (no SSO without a LiteLLM licence)
    mailpit       = "http://localhost:${local.port.mailpit + var.host_port_offset}/"
  }
}
