# The contractor workspace of the seeds, as a Coder template. Pushed with
# `webide_coder_template` (see README.md). Each workspace gets its own LiteLLM key from the
# webide provider; its `enforcement_level` follows the workspace parameter, so changing the
# parameter updates the existing key in place (same secret) instead of needing a new key.
#
# The template never sees the LiteLLM master key: it gets a provisioning key that LiteLLM
# lets do nothing but make, read, update and delete keys of the contractor team, each within
# the provisioning key's own budget (see examples/full-environment/workspace.tf).

terraform {
  required_providers {
    coder  = { source = "coder/coder" }
    docker = { source = "kreuzwerker/docker" }
    webide = { source = "webide/webide" }
  }
}

variable "litellm_url" {
  description = "AI gateway as workspaces reach it (container network)."
  type        = string
  default     = "http://litellm:4000"
}

variable "litellm_admin_url" {
  description = "AI gateway as the provisioner reaches it."
  type        = string
  default     = "http://litellm:4000"
}

variable "litellm_provisioning_key" {
  description = "LiteLLM key limited to making keys for the contractor team (not the master key)."
  type        = string
  sensitive   = true
}

variable "litellm_team_id" {
  description = "The contractor team the workspace keys belong to (the provisioning key's team)."
  type        = string
}

variable "gitea_url" {
  type    = string
  default = "http://gitea:3000"
}

variable "git_repository" {
  description = "owner/name of the repository the workspace clones."
  type        = string
  default     = "platform/contractor-app"
}

variable "workspace_image" {
  type    = string
  default = "contractor-workspace:latest"
}

variable "workspace_network" {
  description = "Docker network the workspace joins (the full environment's `${name_prefix}-coder-network`): it reaches gitea, litellm and the other services there by name."
  type        = string
  default     = "webide-coder-network"
}

provider "webide" {
  litellm {
    url     = var.litellm_admin_url
    api_key = var.litellm_provisioning_key
  }
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "ai_enforcement_level" {
  name         = "ai_enforcement_level"
  display_name = "AI enforcement level"
  description  = "How strictly the AI gateway enforces the design-first workflow."
  type         = "string"
  default      = "strict"
  mutable      = true
  option {
    name  = "Strict"
    value = "strict"
  }
  option {
    name  = "Audit"
    value = "audit"
  }
  option {
    name  = "Off"
    value = "off"
  }
}

data "coder_parameter" "ai_model" {
  name         = "ai_model"
  display_name = "AI model"
  type         = "string"
  default      = "claude-sonnet"
  mutable      = true
}

# One key per workspace; a parameter change updates its metadata in place. LiteLLM makes it
# the provisioning key's own (its user_id), in the contractor team; `llm_api` keeps it to model
# calls, so the key inside the workspace cannot make keys itself.
resource "webide_litellm_key" "workspace" {
  key_alias  = "ws-${data.coder_workspace.me.id}"
  team_id    = var.litellm_team_id
  key_type   = "llm_api"
  models     = [data.coder_parameter.ai_model.value]
  max_budget = 25
  metadata = {
    enforcement_level = data.coder_parameter.ai_enforcement_level.value
    workspace         = data.coder_workspace.me.name
    owner             = data.coder_workspace_owner.me.name
  }
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    # The seeds' fix for "Agent START_ERROR (docker ps)".
    CODER_AGENT_DEVCONTAINERS_ENABLE = "false"
    OPENAI_API_BASE                  = "${var.litellm_url}/v1"
    OPENAI_API_KEY                   = webide_litellm_key.workspace.key
    AI_GATEWAY_URL                   = var.litellm_url
    AI_ENFORCEMENT_LEVEL             = data.coder_parameter.ai_enforcement_level.value
    AI_MODEL                         = data.coder_parameter.ai_model.value
    GIT_URL                          = "${var.gitea_url}/${var.git_repository}.git"
  }
  startup_script = <<-EOT
    set -e
    # Roo Code talks to the AI gateway with this workspace's own key (the runbook's
    # "verify apiKey present"). Written from the agent's environment with umask 077;
    # nothing here prints the key.
    umask 077
    mkdir -p ~/.config/roo-code
    printf '{\n  "apiProvider": "openai",\n  "openAiBaseUrl": "%s",\n  "apiKey": "%s",\n  "openAiModelId": "%s",\n  "enforcementLevel": "%s"\n}\n' \
      "$OPENAI_API_BASE" "$OPENAI_API_KEY" "$AI_MODEL" "$AI_ENFORCEMENT_LEVEL" > ~/.config/roo-code/settings.json
    umask 022
    # Background output redirected: no "output pipes not closed" warning.
    code-server --auth none --bind-addr 0.0.0.0:8080 > /tmp/code-server.log 2>&1 &
    [ -d ~/project/.git ] || git clone "$GIT_URL" ~/project || true
  EOT
}

resource "coder_app" "code_server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "VS Code"
  url          = "http://localhost:8080/?folder=/home/coder/project"
  icon         = "/icon/code.svg"
  # Path-based apps: no wildcard DNS needed (CODER_DISABLE_PATH_APPS=false).
  subdomain = false
  share     = "owner"
  healthcheck {
    url       = "http://localhost:8080/healthz"
    interval  = 5
    threshold = 6
  }
}

resource "docker_container" "workspace" {
  count      = data.coder_workspace.me.start_count
  image      = var.workspace_image
  name       = "coder-${data.coder_workspace_owner.me.name}-${data.coder_workspace.me.name}"
  hostname   = data.coder_workspace.me.name
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
  networks_advanced {
    name = var.workspace_network
  }
}
