variable "name_prefix" {
  description = "Prefix of every container, network and volume name (lets several environments share one Docker Engine)."
  type        = string
  default     = "webide"
}

variable "litellm_url" {
  description = "LiteLLM proxy (AI gateway) base URL; empty: the litellm container."
  type        = string
  default     = ""
}

variable "litellm_master_key" {
  description = "LiteLLM master key."
  type        = string
  sensitive   = true
}

variable "authentik_url" {
  description = "Authentik base URL; empty: the authentik-server container."
  type        = string
  default     = ""
}

variable "authentik_token" {
  description = "Authentik API token (akadmin, intent API)."
  type        = string
  sensitive   = true
}

variable "gitea_url" {
  description = "Gitea base URL; empty: the gitea container."
  type        = string
  default     = ""
}

variable "gitea_token" {
  description = "Access token of the Gitea site administrator."
  type        = string
  sensitive   = true
}

variable "coder_url" {
  description = "Coder base URL (the seeds' CODER_ACCESS_URL); empty: the coder container."
  type        = string
  default     = ""
}

variable "coder_token" {
  description = "Coder session token of an owner."
  type        = string
  sensitive   = true
}

variable "images" {
  description = "Container images by service (postgres, redis, authentik, gitea, coder, minio, litellm, mailpit); unnamed ones are the upstream images. `standin_context`: build one stand-in image from that directory and run every service not named here from it (CI, no registry; CI names a Debian-built PostgreSQL/Redis image for `postgres` and `redis`)."
  type        = map(string)
  default     = {}
}

variable "user_password" {
  description = "Initial password of the platform users (the seeds use one for all)."
  type        = string
  sensitive   = true
  default     = "Password123!"
}

variable "host_port_offset" {
  description = "Added to every published host port (7080, 3000, 9000, ...), to run beside another copy."
  type        = number
  default     = 0
}

variable "secrets" {
  description = "Service secrets: PostgreSQL superuser password, one database password per service (`<service>_db_password` for coder, litellm, gitea, authentik), Authentik secret key, MinIO root password."
  type        = map(string)
  sensitive   = true
  default = {
    postgres_password     = "change-me-postgres"
    coder_db_password     = "change-me-coder-db"
    litellm_db_password   = "change-me-litellm-db"
    gitea_db_password     = "change-me-gitea-db"
    authentik_db_password = "change-me-authentik-db"
    authentik_secret_key  = "change-me-authentik-secret-key-0123456789"
    minio_root_password   = "change-me-minio"
  }
  validation {
    condition     = alltrue([for k in ["postgres_password", "coder_db_password", "litellm_db_password", "gitea_db_password", "authentik_db_password", "authentik_secret_key", "minio_root_password"] : length(lookup(var.secrets, k, "")) >= 8])
    error_message = "The secrets variable needs postgres_password, coder_db_password, litellm_db_password, gitea_db_password, authentik_db_password, authentik_secret_key and minio_root_password, each at least 8 characters."
  }
}

variable "template_dir" {
  description = "Directory of the contractor-workspace template; empty: templates/contractor-workspace of this repository."
  type        = string
  default     = ""
}
