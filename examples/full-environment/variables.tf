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

variable "authentik_bootstrap_token" {
  description = "AUTHENTIK_BOOTSTRAP_TOKEN: the API token Authentik creates for akadmin on first start, used by the authentik provider instance. Null: generated (webide_random_password). With `authentik_url` pointing at an Authentik set up before, give its akadmin API token."
  type        = string
  sensitive   = true
  default     = null
  validation {
    condition     = var.authentik_bootstrap_token == null ? true : can(regex("^[!-~]{16,256}$", var.authentik_bootstrap_token))
    error_message = "The authentik_bootstrap_token variable must be 16 to 256 printable ASCII characters without spaces (it travels in an HTTP header), or null to generate one."
  }
}

variable "authentik_bootstrap_password" {
  description = "AUTHENTIK_BOOTSTRAP_PASSWORD: akadmin's password, set by Authentik on first start. Null: generated (output `authentik_admin_password`)."
  type        = string
  sensitive   = true
  default     = null
  validation {
    condition     = var.authentik_bootstrap_password == null ? true : try(length(var.authentik_bootstrap_password) >= 12 && length(var.authentik_bootstrap_password) <= 256, false)
    error_message = "The authentik_bootstrap_password variable must be 12 to 256 characters, or null to generate one."
  }
}

variable "authentik_bootstrap_email" {
  description = "AUTHENTIK_BOOTSTRAP_EMAIL: akadmin's e-mail address."
  type        = string
  default     = "akadmin@example.com"
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.authentik_bootstrap_email))
    error_message = "The authentik_bootstrap_email variable must be an e-mail address."
  }
}

variable "gitea_url" {
  description = "Gitea base URL; empty: the gitea container."
  type        = string
  default     = ""
}

variable "coder_url" {
  description = "Coder base URL the provider uses; empty: the coder container's HTTPS port (https://localhost:7443), trusted through the certificate made in workspace.tf (`ca_pem`), which also serves an https URL given here."
  type        = string
  default     = ""
}

variable "coder_admin_email" {
  description = "E-mail (login) of Coder's first user, the owner the seeds call admin@example.com (webide_coder_first_user.admin)."
  type        = string
  default     = "admin@example.com"
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.coder_admin_email))
    error_message = "The coder_admin_email variable must be an e-mail address."
  }
}

variable "coder_admin_password" {
  description = "Password of Coder's first user. Null: generated (output `coder_admin_password`). With `coder_url` pointing at a Coder that already has its first user, give that user's password: the apply logs in instead of creating it."
  type        = string
  sensitive   = true
  default     = null
  validation {
    condition     = var.coder_admin_password == null ? true : try(length(var.coder_admin_password) >= 12 && length(var.coder_admin_password) <= 64, false)
    error_message = "The coder_admin_password variable must be 12 to 64 characters (Coder accepts at most 64), or null to generate one."
  }
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
