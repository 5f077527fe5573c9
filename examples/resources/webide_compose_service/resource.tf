resource "webide_compose_service" "postgres" {
  name  = "postgres"
  image = "postgres:16"
  # Kept in state (marked sensitive). On Terraform >= 1.11 prefer `sensitive_env_wo` (same
  # map, never in state or plan) with `sensitive_env_wo_version`: bump it to re-create the
  # container with new values.
  sensitive_env = {
    POSTGRES_PASSWORD = var.postgres_password
  }
  network {
    name    = webide_compose_network.coder.name
    aliases = ["db"]
  }
  mount {
    source = webide_compose_volume.postgres.name
    target = "/var/lib/postgresql/data"
  }
  healthcheck {
    test     = ["pg_isready", "-U", "postgres"]
    interval = "5s"
  }
}

# Starts only once postgres is healthy: the order follows the reference.
resource "webide_compose_service" "coder" {
  name  = "coder-server"
  image = "ghcr.io/coder/coder:v2.15.0"
  env = {
    CODER_ACCESS_URL        = "http://host.docker.internal:7080"
    CODER_DISABLE_PATH_APPS = "false"
  }
  sensitive_env = {
    CODER_PG_CONNECTION_URL = "postgres://postgres:${var.postgres_password}@db:5432/coder?sslmode=disable"
  }
  extra_hosts = ["host.docker.internal:host-gateway"]
  network {
    name = webide_compose_service.postgres.network[0].name
  }
  port {
    internal = 7080
    external = 7080
  }
}

variable "postgres_password" {
  type      = string
  sensitive = true
}
