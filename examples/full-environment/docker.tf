# The containers of the seeds' docker-compose, as webide_compose_* resources. Every service
# waits until healthy, so the startup order (postgres/redis -> authentik -> coder, gitea,
# minio, litellm) follows from the references between them.

locals {
  standin = lookup(var.images, "standin_context", "") != ""
  upstream = {
    postgres  = "postgres:16-alpine"
    redis     = "redis:7-alpine"
    authentik = "ghcr.io/goauthentik/server:2026.2.2"
    gitea     = "gitea/gitea:1.25.5"
    coder     = "ghcr.io/coder/coder:v2.15.0"
    minio     = "minio/minio:latest"
    litellm   = "ghcr.io/berriai/litellm:main-v1.106.2"
    mailpit   = "axllent/mailpit:latest"
  }
  # An image named in var.images wins; else the stand-in (if asked for), else upstream.
  image = { for k, v in local.upstream : k => contains(keys(var.images), k) ? var.images[k] : local.standin ? webide_compose_image.standin[0].image_id : v }
  # PostgreSQL and Redis run for real unless they too are stand-ins.
  real = { for k in ["postgres", "redis"] : k => !local.standin || contains(keys(var.images), k) }
  port = {
    coder         = 7080, coder_tls = 7443, gitea = 3000, authentik = 9000,
    minio_console = 9001, minio_api = 9002, litellm = 4000, mailpit = 8025,
  }
  # Stand-ins answer on the service's port; their health check asks them.
  standin_check = { for k, p in { postgres = 5432, redis = 6379, authentik = 9000, gitea = 3000, coder = 7080, minio = 9002, litellm = 4000, mailpit = 8025 } : k => ["/fixture-svc", "check", "127.0.0.1:${p}"] }
}

resource "webide_compose_image" "standin" {
  provider = webide.engine
  count    = local.standin ? 1 : 0
  name     = "${var.name_prefix}-standin:latest"
  context  = var.images["standin_context"]
}

resource "webide_compose_network" "platform" {
  provider = webide.engine
  name     = "${var.name_prefix}-coder-network"
}

resource "webide_compose_volume" "data" {
  provider = webide.engine
  for_each = toset(["postgres", "gitea", "minio"])
  name     = "${var.name_prefix}-${each.key}-data"
}

resource "webide_compose_service" "postgres" {
  provider      = webide.engine
  name          = "${var.name_prefix}-postgres"
  image         = local.image["postgres"]
  command       = local.real["postgres"] ? ["postgres"] : ["serve", "5432", "/var/lib/postgresql/data"]
  env           = { POSTGRES_USER = "webide", SERVICE_NAME = "postgres" }
  sensitive_env = { POSTGRES_PASSWORD = var.secrets["postgres_password"] }
  network {
    name    = webide_compose_network.platform.name
    aliases = ["postgres"]
  }
  mount {
    source = webide_compose_volume.data["postgres"].name
    target = "/var/lib/postgresql/data"
  }
  healthcheck {
    test     = local.real["postgres"] ? ["pg_isready", "-U", "webide"] : local.standin_check["postgres"]
    interval = "1s"
  }
}

resource "webide_compose_service" "redis" {
  provider = webide.engine
  name     = "${var.name_prefix}-redis"
  image    = local.image["redis"]
  command  = local.real["redis"] ? ["redis-server"] : ["serve", "6379"]
  env      = { SERVICE_NAME = "redis" }
  network {
    name    = webide_compose_network.platform.name
    aliases = ["redis"]
  }
  healthcheck {
    test     = local.real["redis"] ? ["redis-cli", "ping"] : local.standin_check["redis"]
    interval = "1s"
  }
}

resource "webide_compose_service" "authentik_server" {
  provider = webide.engine
  name     = "${var.name_prefix}-authentik-server"
  image    = local.image["authentik"]
  command  = local.standin ? ["serve", "9000"] : ["server"]
  env = {
    SERVICE_NAME               = "authentik-server"
    AUTHENTIK_POSTGRESQL__HOST = webide_compose_service.postgres.name
    AUTHENTIK_POSTGRESQL__USER = "authentik"
    AUTHENTIK_POSTGRESQL__NAME = "authentik"
    AUTHENTIK_REDIS__HOST      = webide_compose_service.redis.name
    AUTHENTIK_EMAIL__HOST      = "mailpit"
    AUTHENTIK_BOOTSTRAP_EMAIL  = var.authentik_bootstrap_email
  }
  sensitive_env = merge({
    AUTHENTIK_SECRET_KEY           = var.secrets["authentik_secret_key"]
    AUTHENTIK_POSTGRESQL__PASSWORD = var.secrets["authentik_db_password"]
  }, local.authentik_bootstrap_env)
  depends_on = [webide_compose_exec.databases]
  network {
    name = webide_compose_network.platform.name
  }
  port {
    internal = 9000
    external = local.port.authentik + var.host_port_offset
  }
  healthcheck {
    test     = local.standin ? local.standin_check["authentik"] : ["ak", "healthcheck"]
    interval = "1s"
  }
}

resource "webide_compose_service" "authentik_worker" {
  provider = webide.engine
  name     = "${var.name_prefix}-authentik-worker"
  image    = local.image["authentik"]
  command  = local.standin ? ["serve", "9000"] : ["worker"]
  env      = webide_compose_service.authentik_server.env
  sensitive_env = merge({
    AUTHENTIK_SECRET_KEY           = var.secrets["authentik_secret_key"]
    AUTHENTIK_POSTGRESQL__PASSWORD = var.secrets["authentik_db_password"]
  }, local.authentik_bootstrap_env)
  network {
    name = webide_compose_network.platform.name
  }
}

resource "webide_compose_service" "gitea" {
  provider = webide.engine
  name     = "${var.name_prefix}-gitea"
  image    = local.image["gitea"]
  command  = local.standin ? ["serve", "3000", "/data"] : null
  env = {
    SERVICE_NAME                                   = "gitea"
    GITEA__database__DB_TYPE                       = "postgres"
    GITEA__database__HOST                          = "${webide_compose_service.postgres.name}:5432"
    GITEA__database__NAME                          = "gitea"
    GITEA__database__USER                          = "gitea"
    GITEA__server__ROOT_URL                        = "http://localhost:${local.port.gitea + var.host_port_offset}/"
    GITEA__oauth2_client__ENABLE_AUTO_REGISTRATION = "true"
    # No install wizard: the admin and the Authentik login source are made with Gitea's CLI
    # in this container (gitea.tf), which refuses to run before the install lock.
    GITEA__security__INSTALL_LOCK = "true"
  }
  sensitive_env = {
    GITEA__database__PASSWD = var.secrets["gitea_db_password"]
  }
  depends_on = [webide_compose_exec.databases]
  # Gitea's server fetches Authentik's OIDC discovery document through the host, as Coder does.
  extra_hosts = ["host.docker.internal:host-gateway"]
  network {
    name    = webide_compose_network.platform.name
    aliases = ["gitea"]
  }
  mount {
    source = webide_compose_volume.data["gitea"].name
    target = "/data"
  }
  port {
    internal = 3000
    external = local.port.gitea + var.host_port_offset
  }
  healthcheck {
    test     = local.standin ? local.standin_check["gitea"] : ["curl", "-fsS", "http://localhost:3000/api/healthz"]
    interval = "1s"
  }
}

resource "webide_compose_service" "coder" {
  provider = webide.engine
  name     = "${var.name_prefix}-coder"
  image    = local.image["coder"]
  command  = local.standin ? ["serve", "7080"] : null
  env = {
    SERVICE_NAME                                = "coder"
    CODER_HTTP_ADDRESS                          = "0.0.0.0:7080"
    CODER_ACCESS_URL                            = local.coder_access_url
    CODER_DISABLE_PATH_APPS                     = "false"
    CODER_OAUTH2_GITHUB_DEFAULT_PROVIDER_ENABLE = "false"
    CODER_OIDC_ISSUER_URL                       = "http://host.docker.internal:${local.port.authentik + var.host_port_offset}/application/o/${webide_authentik_application.sso["coder"].slug}/"
    CODER_OIDC_CLIENT_ID                        = webide_authentik_oauth2_provider.sso["coder"].client_id
    CODER_OIDC_SCOPES                           = "openid,profile,email,groups"
    CODER_OIDC_GROUP_FIELD                      = "groups"
    # HTTPS on :7443 with the certificate of workspace.tf (written to files by the entrypoint).
    CODER_TLS_ENABLE    = "true"
    CODER_TLS_ADDRESS   = "0.0.0.0:7443"
    CODER_TLS_CERT_FILE = "/tmp/coder-tls/tls.crt"
    CODER_TLS_KEY_FILE  = "/tmp/coder-tls/tls.key"
    CODER_TLS_CERT_PEM  = webide_tls_certificate.coder.cert_pem
    # The provisioner resolves webide/webide from the mounted filesystem mirror.
    TF_CLI_CONFIG_FILE = var.webide_terraform_dir == "" ? "" : "/opt/webide-terraform/terraformrc"
  }
  sensitive_env = {
    CODER_PG_CONNECTION_URL  = "${local.db_url["coder"]}?sslmode=disable"
    CODER_OIDC_CLIENT_SECRET = webide_authentik_oauth2_provider.sso["coder"].client_secret
    CODER_TLS_KEY_PEM        = webide_tls_certificate.coder.private_key_pem
  }
  # Coder's image has a shell: the PEMs become the files CODER_TLS_*_FILE name (key mode 600),
  # the key leaves the environment, then the server starts. The stand-in (CI) runs as before.
  entrypoint = local.standin ? null : ["/bin/sh", "-c", "umask 077 && mkdir -p /tmp/coder-tls && printf '%s' \"$CODER_TLS_CERT_PEM\" > /tmp/coder-tls/tls.crt && printf '%s' \"$CODER_TLS_KEY_PEM\" > /tmp/coder-tls/tls.key && unset CODER_TLS_KEY_PEM && exec /opt/coder server"]
  # Coder runs as its own user; the docker group of the host is a supplementary group, so the
  # provisioner may use the mounted socket.
  group_add  = [tostring(var.docker_group_id)]
  depends_on = [webide_compose_exec.databases]
  # The seeds' Linux fix: host.docker.internal resolves inside the container.
  extra_hosts = ["host.docker.internal:host-gateway"]
  network {
    name    = webide_compose_network.platform.name
    aliases = ["coder-server"]
  }
  port {
    internal = 7080
    external = local.port.coder + var.host_port_offset
  }
  port {
    internal = 7443
    external = local.port.coder_tls + var.host_port_offset
  }
  mount {
    type   = "bind"
    source = var.docker_socket
    target = "/var/run/docker.sock"
  }
  dynamic "mount" {
    for_each = var.webide_terraform_dir == "" ? [] : [var.webide_terraform_dir]
    content {
      type      = "bind"
      source    = mount.value
      target    = "/opt/webide-terraform"
      read_only = true
    }
  }
  healthcheck {
    test     = local.standin ? local.standin_check["coder"] : ["curl", "-fsS", "http://localhost:7080/api/v2/buildinfo"]
    interval = "1s"
  }
}

# The minio/minio image has had no curl since late 2023 (minio/minio#18371); its own `mc ready
# local` is the health check MinIO documents for containers.
resource "webide_compose_service" "minio" {
  provider = webide.engine
  name     = "${var.name_prefix}-minio"
  image    = local.image["minio"]
  command  = local.standin ? ["serve", "9002", "/data"] : ["server", "/data", "--address", ":9002", "--console-address", ":9001"]
  env = {
    SERVICE_NAME                     = "minio"
    MINIO_ROOT_USER                  = "minioadmin"
    MINIO_IDENTITY_OPENID_CONFIG_URL = "http://host.docker.internal:${local.port.authentik + var.host_port_offset}/application/o/minio/.well-known/openid-configuration"
    MINIO_IDENTITY_OPENID_CLIENT_ID  = webide_authentik_oauth2_provider.sso["minio"].client_id
    MINIO_IDENTITY_OPENID_CLAIM_NAME = "groups"
  }
  sensitive_env = {
    MINIO_ROOT_PASSWORD                 = var.secrets["minio_root_password"]
    MINIO_IDENTITY_OPENID_CLIENT_SECRET = webide_authentik_oauth2_provider.sso["minio"].client_secret
  }
  extra_hosts = ["host.docker.internal:host-gateway"]
  network {
    name = webide_compose_network.platform.name
  }
  mount {
    source = webide_compose_volume.data["minio"].name
    target = "/data"
  }
  port {
    internal = 9002
    external = local.port.minio_api + var.host_port_offset
  }
  port {
    internal = 9001
    external = local.port.minio_console + var.host_port_offset
  }
  healthcheck {
    test     = local.standin ? local.standin_check["minio"] : ["mc", "ready", "local"]
    interval = "1s"
  }
}

resource "webide_compose_service" "litellm" {
  provider = webide.engine
  name     = "${var.name_prefix}-litellm"
  image    = local.image["litellm"]
  command  = local.standin ? ["serve", "4000"] : null
  # The config file of ai_gateway.tf, written by the entrypoint (the stand-in runs as before).
  entrypoint = local.standin ? null : ["/bin/sh", "-c", "printf '%s' \"$LITELLM_CONFIG_JSON\" > /tmp/litellm-config.yaml && exec litellm --config /tmp/litellm-config.yaml --port 4000"]
  env = merge({
    SERVICE_NAME        = "litellm"
    LITELLM_CONFIG_JSON = jsonencode(local.litellm_config)
  }, local.langfuse_env)
  sensitive_env = merge({
    LITELLM_MASTER_KEY = var.litellm_master_key
    DATABASE_URL       = local.db_url["litellm"]
  }, local.langfuse_secret_env)
  depends_on = [webide_compose_exec.databases]
  network {
    name    = webide_compose_network.platform.name
    aliases = ["litellm", "ai-gateway"]
  }
  port {
    internal = 4000
    external = local.port.litellm + var.host_port_offset
  }
  # The seeds' AI Gateway port (ai_gateway.tf).
  port {
    internal = 4000
    external = local.port_ai_gateway + var.host_port_offset
  }
  healthcheck {
    test     = local.standin ? local.standin_check["litellm"] : ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:4000/health/liveliness')"]
    interval = "1s"
  }
}

resource "webide_compose_service" "mailpit" {
  provider = webide.engine
  name     = "${var.name_prefix}-mailpit"
  image    = local.image["mailpit"]
  command  = local.standin ? ["serve", "8025"] : null
  env      = { SERVICE_NAME = "mailpit" }
  network {
    name    = webide_compose_network.platform.name
    aliases = ["mailpit"]
  }
  port {
    internal = 8025
    external = local.port.mailpit + var.host_port_offset
  }
  healthcheck {
    test     = local.standin ? local.standin_check["mailpit"] : ["wget", "-q", "-O-", "http://localhost:8025/livez"]
    interval = "1s"
  }
}
