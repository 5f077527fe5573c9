resource "webide_coder_group" "contractors" {
  name            = "contractors"
  members         = [webide_coder_user.contractor1.id]
  quota_allowance = 10
}
