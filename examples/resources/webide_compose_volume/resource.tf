resource "webide_compose_volume" "postgres" {
  name = "postgres-data"
  lifecycle {
    prevent_destroy = true
  }
}
