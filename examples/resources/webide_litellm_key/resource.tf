resource "webide_litellm_team" "contractors" {
  team_alias = "contractors"
  models     = ["claude-sonnet", "gpt-4o-mini"]
  max_budget = 500
}

# A per-user key. Changing metadata (e.g. the enforcement level) updates the
# key in place: the secret the workspace uses stays the same.
resource "webide_litellm_key" "contractor1" {
  key_alias       = "contractor1-workspace"
  team_id         = webide_litellm_team.contractors.id
  user_id         = "contractor1"
  models          = ["claude-sonnet"]
  max_budget      = 25
  budget_duration = "30d"
  rpm_limit       = 60
  metadata = {
    enforcement_level = "strict"
    owner             = "contractor1"
  }
}

output "contractor1_key" {
  value     = webide_litellm_key.contractor1.key
  sensitive = true
}
