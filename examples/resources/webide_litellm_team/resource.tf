resource "webide_litellm_team" "platform" {
  team_alias      = "platform"
  models          = ["claude-sonnet"]
  max_budget      = 1000
  budget_duration = "30d"
  tpm_limit       = 200000
  metadata = {
    cost_center = "engineering"
  }
}
