# The AI gateway: one team per role that uses AI, one virtual key per user.
resource "webide_litellm_team" "contractors" {
  team_alias      = "contractors"
  models          = ["claude-sonnet", "gpt-4o-mini"]
  max_budget      = 500
  budget_duration = "30d"
}

resource "webide_litellm_key" "user" {
  for_each        = local.users
  key_alias       = "${each.key}-workspace"
  user_id         = each.key
  team_id         = each.value.role == "contractor" ? webide_litellm_team.contractors.id : null
  models          = each.value.role == "compliance" ? [] : ["claude-sonnet"]
  max_budget      = each.value.role == "contractor" ? 25 : 100
  budget_duration = "30d"
  blocked         = each.value.role == "compliance"
  metadata = {
    enforcement_level = each.value.role == "contractor" ? "strict" : "audit"
    role              = each.value.role
  }
}
