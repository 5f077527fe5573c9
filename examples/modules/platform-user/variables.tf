variable "username" {
  description = "Login name in every service."
  type        = string
}

variable "name" {
  description = "Display name."
  type        = string
}

variable "email" {
  description = "E-mail address."
  type        = string
}

variable "role" {
  description = "Platform role: platform_admin, app_manager, contractor or compliance."
  type        = string
  validation {
    condition     = contains(["platform_admin", "app_manager", "contractor", "compliance"], var.role)
    error_message = "The role must be one of platform_admin, app_manager, contractor, compliance."
  }
}

variable "password" {
  description = "Initial password (Authentik and Gitea fallback login)."
  type        = string
  sensitive   = true
}

variable "authentik_group_ids" {
  description = "Authentik group UUIDs by name (coder-admins, coder-template-admins, coder-auditors, coder-members)."
  type        = map(string)
}

variable "litellm_contractor_team_id" {
  description = "LiteLLM team of contractors (their keys share its budget)."
  type        = string
  default     = null
}

variable "ai_models" {
  description = "Models the user's key may use."
  type        = list(string)
  default     = ["claude-sonnet"]
}

variable "coder_roles_from_idp" {
  description = "Coder's OIDC role sync (Premium: CODER_OIDC_USER_ROLE_FIELD/_MAPPING) sets the user's Coder roles from the groups claim: the module then leaves them to Coder."
  type        = bool
  default     = false
}
