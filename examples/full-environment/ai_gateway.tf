# The AI gateway: LiteLLM, configured by a file rendered here. The seeds name it twice —
# "AI Gateway :8090, /health" (platform-services) and "LiteLLM :4000" (runbook) — for the one
# proxy workspaces call: the LiteLLM container answers as `litellm` and `ai-gateway` on the
# network and on both host ports. Its health: /health/liveliness and /health/readiness without
# a key; /health itself checks every model upstream and needs a key (LiteLLM 1.106).
#
# Langfuse (tracing of every AI call) is optional: `langfuse_enabled = true` runs it and makes
# it LiteLLM's success/failure callback.

variable "langfuse_enabled" {
  description = "Run Langfuse and send LiteLLM's traces to it (success_callback/failure_callback `langfuse`). Off by default."
  type        = bool
  default     = false
}

locals {
  port_ai_gateway = 8090
  port_langfuse   = 3100
  # LiteLLM's config.yaml (JSON is YAML): secrets stay in the container's environment
  # (`os.environ/NAME`), so the rendered file and the plan hold none.
  litellm_config = {
    general_settings = {
      master_key        = "os.environ/LITELLM_MASTER_KEY"
      database_url      = "os.environ/DATABASE_URL"
      store_model_in_db = true # webide_litellm_model declares the models through /model/new
    }
    litellm_settings = merge({
      # Closes the personal-key loophole: only a proxy admin may make a key without a team
      # (key_generation_check -> _personal_key_generation_check in LiteLLM 1.106.2). Internal
      # users, and keys like the workspace provisioner's, make team keys only.
      key_generation_settings = {
        personal_key_generation = { allowed_user_roles = ["proxy_admin"] }
      }
      }, var.langfuse_enabled ? {
      success_callback = ["langfuse"]
      failure_callback = ["langfuse"]
    } : {})
  }
  langfuse_env = var.langfuse_enabled ? {
    LANGFUSE_HOST = "http://langfuse:3000"
  } : {}
  langfuse_secret_env = var.langfuse_enabled ? {
    LANGFUSE_PUBLIC_KEY = "pk-lf-${webide_random_password.langfuse["public_key"].result}"
    LANGFUSE_SECRET_KEY = "sk-lf-${webide_random_password.langfuse["secret_key"].result}"
  } : {}
}

# Langfuse's project keys (made here; Langfuse creates the project with them on first start),
# its NextAuth secret and salt, and its database password.
resource "webide_random_password" "langfuse" {
  provider = webide.engine
  for_each = var.langfuse_enabled ? toset(["public_key", "secret_key", "nextauth_secret", "salt", "db_password"]) : toset([])
  length   = 32
  special  = false
}

resource "webide_compose_service" "langfuse" {
  provider = webide.engine
  count    = var.langfuse_enabled ? 1 : 0
  name     = "${var.name_prefix}-langfuse"
  image    = lookup(var.images, "langfuse", local.standin ? webide_compose_image.standin[0].image_id : "langfuse/langfuse:2")
  command  = local.standin ? ["serve", "3000"] : null
  env = {
    SERVICE_NAME             = "langfuse"
    NEXTAUTH_URL             = "http://localhost:${local.port_langfuse + var.host_port_offset}"
    TELEMETRY_ENABLED        = "false"
    LANGFUSE_INIT_ORG_ID     = "webide"
    LANGFUSE_INIT_PROJECT_ID = "webide-ai-gateway"
  }
  sensitive_env = {
    DATABASE_URL                     = local.db_url["langfuse"]
    NEXTAUTH_SECRET                  = webide_random_password.langfuse["nextauth_secret"].result
    SALT                             = webide_random_password.langfuse["salt"].result
    LANGFUSE_INIT_PROJECT_PUBLIC_KEY = local.langfuse_secret_env["LANGFUSE_PUBLIC_KEY"]
    LANGFUSE_INIT_PROJECT_SECRET_KEY = local.langfuse_secret_env["LANGFUSE_SECRET_KEY"]
  }
  depends_on = [webide_compose_exec.databases]
  network {
    name    = webide_compose_network.platform.name
    aliases = ["langfuse"]
  }
  port {
    internal = 3000
    external = local.port_langfuse + var.host_port_offset
  }
  healthcheck {
    test     = local.standin ? ["/fixture-svc", "check", "127.0.0.1:3000"] : ["wget", "-q", "-O-", "http://localhost:3000/api/public/health"]
    interval = "1s"
  }
}
