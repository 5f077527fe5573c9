# What a contractor's workspace needs beyond the template itself: the credential its builds
# make their AI key with. The template never receives the LiteLLM master key (the drift report
# flags a template whose tf_vars carry it). It gets a provisioning key that LiteLLM lets do
# only this:
#   - its routes are the five key routes below (LiteLLM refuses every other route, e.g.
#     /team/new or /model/new, with 403 before any handler runs);
#   - it belongs to the user `workspace-provisioner`, a plain member of the contractor team, and
#     the team lets plain members generate, update and delete its keys (team_member_permissions
#     in main.tf); keys for any other team are refused (the user is not a member there);
#   - every key it makes is its own user's and may not have a higher max_budget than its own
#     (LiteLLM's delegated budget ceiling); raising a budget later needs a team admin;
#   - only the master key could widen its routes, which this configuration does not do.

variable "workspace_key_budget" {
  description = "Highest max_budget (USD) a workspace key may get: the provisioning key's own budget, which LiteLLM enforces as the ceiling of every key it makes."
  type        = number
  default     = 25
  validation {
    condition     = var.workspace_key_budget > 0
    error_message = "The workspace key budget must be positive."
  }
}

resource "webide_litellm_key" "provisioner" {
  provider       = webide.litellm
  key_alias      = "${var.name_prefix}-workspace-provisioner"
  user_id        = "workspace-provisioner"
  team_id        = webide_litellm_team.contractors.id
  allowed_routes = ["/key/generate", "/key/info", "/key/update", "/key/delete", "/key/list"]
  max_budget     = var.workspace_key_budget
  metadata = {
    purpose = "makes the per-workspace keys of the contractor-workspace template"
  }
}

# Coder over HTTPS on :7443 (extension webviews and the OAuth cookie need a secure origin): a
# certificate made here, whose names must cover the access URL (CODER_ACCESS_URL) and the URL
# the provider uses: `terraform validate` fails naming covers_urls when one is not covered.
resource "webide_tls_certificate" "coder" {
  provider     = webide.engine
  common_name  = "coder"
  dns_names    = ["localhost", "host.docker.internal", "coder-server"]
  ip_addresses = ["127.0.0.1"]
  covers_urls  = [local.coder_access_url, "https://localhost:${local.port.coder_tls + var.host_port_offset}"]
}

variable "docker_socket" {
  description = "Docker Engine socket on the host, mounted into Coder so its provisioner starts workspaces."
  type        = string
  default     = "/var/run/docker.sock"
}

variable "docker_group_id" {
  description = "Group id owning the Docker socket on the host (`stat -c %g /var/run/docker.sock`): Coder's container gets it as a supplementary group (group_add) to use the socket."
  type        = number
  default     = 999
}

variable "webide_terraform_dir" {
  description = "Host directory with the provider filesystem mirror (`mirror/registry.terraform.io/webide/webide/...`) and `terraformrc` (laid out by scripts/main-job; see README). Mounted read-only into Coder at /opt/webide-terraform so `webide/webide` resolves in Coder's provisioner. Empty: not mounted."
  type        = string
  default     = ""
}

# The contractors' workspace image, built from the template's build/ directory (in CI, where
# no base image can be pulled, from the stand-in context: the build path is the same).
resource "webide_compose_image" "workspace" {
  provider = webide.engine
  name     = "${var.name_prefix}-contractor-workspace:latest"
  context  = local.standin ? var.images["standin_context"] : "${path.module}/../../templates/contractor-workspace/build"
}

# The AI gateway's models: the names the keys use, each with its upstream key (sensitive
# variables; a model without one fails at plan).
variable "anthropic_api_key" {
  description = "Upstream key for claude-sonnet."
  type        = string
  sensitive   = true
}

variable "openai_api_key" {
  description = "Upstream key for gpt-4o-mini."
  type        = string
  sensitive   = true
}

resource "webide_litellm_model" "claude_sonnet" {
  provider   = webide.litellm
  model_name = "claude-sonnet"
  model      = "anthropic/claude-3-5-sonnet-20241022"
  api_key    = var.anthropic_api_key
}

resource "webide_litellm_model" "gpt_4o_mini" {
  provider   = webide.litellm
  model_name = "gpt-4o-mini"
  model      = "openai/gpt-4o-mini"
  api_key    = var.openai_api_key
}
