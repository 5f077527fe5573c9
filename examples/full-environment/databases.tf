# One database and one login role per service (coder, litellm, gitea, authentik), created in
# the PostgreSQL container by psql through the Engine's exec API. Idempotent: roles and
# databases are created only when missing, passwords are (re)set every run. Passwords come
# from var.secrets by environment (psql's \getenv), the SQL by stdin: no secret is on a
# command line. It runs again when the container is replaced or the list changes.

locals {
  databases = concat(["coder", "litellm", "gitea", "authentik"], var.langfuse_enabled ? ["langfuse"] : [])
  db_password = merge({ for db in ["coder", "litellm", "gitea", "authentik"] : db => var.secrets["${db}_db_password"] },
  var.langfuse_enabled ? { langfuse = webide_random_password.langfuse["db_password"].result } : {})
  db_sql = join("\n", concat(["\\set ON_ERROR_STOP on"], flatten([for db in local.databases : [
    "\\getenv pw DB_PASSWORD_${upper(db)}",
    "SELECT 'CREATE ROLE ${db} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${db}') \\gexec",
    "ALTER ROLE ${db} WITH LOGIN PASSWORD :'pw';",
    "SELECT 'CREATE DATABASE ${db} OWNER ${db}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}') \\gexec",
  ]])))
  # postgres://ROLE:PASSWORD@postgres:5432/ROLE per service.
  db_url = { for db in local.databases : db => "postgres://${db}:${urlencode(local.db_password[db])}@${webide_compose_service.postgres.name}:5432/${db}" }
}

resource "webide_compose_exec" "databases" {
  provider  = webide.engine
  container = webide_compose_service.postgres.name
  command   = ["psql", "-U", "webide", "-d", "webide", "-f", "-"]
  env       = { for db in local.databases : "DB_PASSWORD_${upper(db)}" => local.db_password[db] }
  stdin     = local.db_sql
  triggers = {
    container = webide_compose_service.postgres.id
    databases = join(",", local.databases)
  }
}
