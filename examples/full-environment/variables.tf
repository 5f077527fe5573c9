variable "name_prefix" {
  description = "Prefix of every container, network and volume name (lets several environments share one Docker Engine)."
  type        = string
  default     = "webide"
}

variable "litellm_url" {
  description = "LiteLLM proxy (AI gateway) base URL."
  type        = string
  default     = "http://localhost:4000"
}

variable "litellm_master_key" {
  description = "LiteLLM master key."
  type        = string
  sensitive   = true
}

variable "authentik_url" {
  description = "Authentik base URL."
  type        = string
  default     = "http://localhost:9000"
}

variable "authentik_token" {
  description = "Authentik API token (akadmin, intent API)."
  type        = string
  sensitive   = true
}

variable "gitea_url" {
  description = "Gitea base URL."
  type        = string
  default     = "http://localhost:3000"
}

variable "gitea_token" {
  description = "Access token of the Gitea site administrator."
  type        = string
  sensitive   = true
}

variable "coder_url" {
  description = "Coder base URL (the seeds' CODER_ACCESS_URL)."
  type        = string
  default     = "http://host.docker.internal:7080"
}

variable "coder_token" {
  description = "Coder session token of an owner."
  type        = string
  sensitive   = true
}

variable "images" {
  description = "Container images. Empty: the upstream images. `standin_context`: build one stand-in image from that directory and run every service from it (CI, no registry)."
  type        = map(string)
  default     = {}
}

variable "user_password" {
  description = "Initial password of the platform users (the seeds use one for all)."
  type        = string
  sensitive   = true
  default     = "Password123!"
}
