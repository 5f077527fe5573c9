# The models the keys name. The upstream key stays in the LiteLLM container's environment
# (sensitive_env ANTHROPIC_API_KEY); LiteLLM reads it through os.environ/.
resource "webide_litellm_model" "claude_sonnet" {
  model_name = "claude-sonnet"
  model      = "anthropic/claude-sonnet-4-20250514"
  api_key    = "os.environ/ANTHROPIC_API_KEY"
  rpm        = 120
}

resource "webide_litellm_model" "gpt_4o_mini" {
  model_name = "gpt-4o-mini"
  model      = "openai/gpt-4o-mini"
  api_key    = var.openai_api_key
}

variable "openai_api_key" {
  type      = string
  sensitive = true
}
