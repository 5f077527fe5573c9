terraform {
  required_providers {
    webide = {
      source  = "webide/webide"
      version = "~> 0.1"
    }
  }
}

# Every block is optional; values can also come from the environment
# (LITELLM_PROXY_URL / LITELLM_MASTER_KEY, ...).
provider "webide" {
  litellm {
    url        = "http://localhost:4000"
    master_key = var.litellm_master_key
  }
}

variable "litellm_master_key" {
  type      = string
  sensitive = true
}
