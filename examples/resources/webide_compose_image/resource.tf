# The workspace image of the seeds, rebuilt when a file of its context changes.
resource "webide_compose_image" "workspace" {
  name       = "contractor-workspace:latest"
  context    = "${path.module}/templates/contractor-workspace/build"
  build_args = { CODE_SERVER_VERSION = "4.96.4" }
}
