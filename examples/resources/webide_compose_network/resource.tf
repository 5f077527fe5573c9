resource "webide_compose_network" "coder" {
  name = "coder-network"
}
