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
