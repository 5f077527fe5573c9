# Groups are a Coder Premium feature: declare them only where a licence is installed.
variable "coder_premium" {
  type    = bool
  default = false
}

resource "webide_coder_group" "contractors" {
  count           = var.coder_premium ? 1 : 0
  name            = "contractors"
  members         = [webide_coder_user.contractor1.id]
  quota_allowance = 10
}
