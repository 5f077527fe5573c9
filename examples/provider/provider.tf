terraform {
  required_providers {
    webide = {
      source  = "webide/webide"
      version = "~> 0.1"
    }
  }
}

# Every block is optional; every value can also come from the environment
# (LITELLM_PROXY_URL / LITELLM_MASTER_KEY, GITEA_BASE_URL / GITEA_TOKEN, ...).
provider "webide" {
  litellm {
    url        = "http://localhost:4000"
    master_key = var.litellm_master_key
  }
  gitea {
    url   = "http://localhost:3000"
    token = var.gitea_admin_token
  }
  coder {
    url     = "https://host.docker.internal:7443"
    token   = var.coder_session_token
    ca_file = "${path.module}/certs/coder.crt" # the seeds' self-signed certificate
  }
}

variable "litellm_master_key" {
  type      = string
  sensitive = true
}

variable "gitea_admin_token" {
  type      = string
  sensitive = true
}

variable "coder_session_token" {
  type      = string
  sensitive = true
}
