# A key that exists only during this run: made when the run starts using it,
# deleted when it is done, never written to state or plan (Terraform >= 1.10).
ephemeral "webide_litellm_key" "smoke" {
  key_alias  = "ci-smoke-test"
  team_id    = webide_litellm_team.ci.id
  models     = ["gpt-4o-mini"]
  max_budget = 1
  duration   = "30m"
}

# Ephemeral values may be used in provider configuration, write-only arguments,
# other ephemeral resources and provisioners.
resource "terraform_data" "smoke_test" {
  provisioner "local-exec" {
    command = "curl -fsS -H \"Authorization: Bearer $KEY\" https://llm.example.com/v1/models"
    environment = {
      KEY = ephemeral.webide_litellm_key.smoke.key
    }
  }
}
