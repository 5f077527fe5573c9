# Pushed like `coder templates push`: editing a file of the directory shows as an in-place
# update and makes a new active version.
resource "webide_coder_template" "contractor" {
  name         = "contractor-workspace"
  directory    = "${path.module}/templates/contractor-workspace"
  display_name = "Contractor workspace"
  icon         = "/icon/code.svg"
  tf_vars = {
    litellm_master_key = var.litellm_master_key
  }
  default_ttl_ms = 8 * 3600 * 1000
}

variable "litellm_master_key" {
  type      = string
  sensitive = true
}
