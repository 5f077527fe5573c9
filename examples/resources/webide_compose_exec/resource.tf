# Create a database and its role in a running PostgreSQL container, idempotently. The password
# goes in by environment (psql's \getenv), the SQL by stdin: neither is on the command line.
resource "webide_compose_exec" "coder_db" {
  container = webide_compose_service.postgres.name
  command   = ["psql", "-v", "ON_ERROR_STOP=1", "-U", "webide", "-d", "webide", "-f", "-"]
  env       = { DB_PASSWORD = var.coder_db_password }
  stdin     = <<-SQL
    \getenv pw DB_PASSWORD
    SELECT 'CREATE ROLE coder LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'coder') \gexec
    ALTER ROLE coder WITH LOGIN PASSWORD :'pw';
    SELECT 'CREATE DATABASE coder OWNER coder' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'coder') \gexec
  SQL
  # Run again in a replaced container.
  triggers = { container = webide_compose_service.postgres.id }
}
