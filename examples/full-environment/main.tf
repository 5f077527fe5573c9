# The Coder WebIDE platform of the seeds, declared end to end: containers, SSO, users,
# repositories and AI keys.
#
#   terraform init && terraform apply
#
# Service URLs are variables: point them at the running platform (or at the sandbox:
# `terraform-provider-webide sandbox`; `scripts/main-job` does all of this for you). Coder's and
# Authentik's admins are bootstrapped here (bootstrap.tf, coder.tf): their secrets are variables
# or generated, never a pre-existing token. Container images are variables too, so the same configuration runs with the upstream
# images on your machine and with a stand-in image in CI (`images = { standin_context = ... }`).

terraform {
  required_version = ">= 1.0"
  required_providers {
    webide = { source = "webide/webide" }
  }
}

# One provider instance per service: each URL defaults to the container this configuration
# runs, and the reference makes Terraform configure that instance only once the container is
# healthy. (One instance per service, because Gitea's and Coder's containers take their OIDC
# client secrets from Authentik objects: a single instance would be a dependency cycle.)
provider "webide" {
  alias = "litellm"
  litellm {
    url        = coalesce(var.litellm_url, "http://localhost:${webide_compose_service.litellm.port[0].external}")
    master_key = var.litellm_master_key
  }
}

# Authentik's API token is its bootstrap token (bootstrap.tf): the worker creates it for
# akadmin on first start from AUTHENTIK_BOOTSTRAP_TOKEN.
provider "webide" {
  alias = "authentik"
  authentik {
    url   = coalesce(var.authentik_url, "http://localhost:${webide_compose_service.authentik_server.port[0].external}")
    token = local.authentik_bootstrap_token
  }
}

provider "webide" {
  alias = "gitea"
  gitea {
    url = coalesce(var.gitea_url, "http://localhost:${webide_compose_service.gitea.port[0].external}")
    # Basic auth as the admin the apply makes in the container (gitea.tf): no token exists
    # before the first apply.
    username = webide_gitea_admin_user.bootstrap.username
    password = local.gitea_admin_password
  }
}

# Coder's token is a session of its first user, made by webide_coder_first_user.admin
# (coder.tf) in the same apply: this instance is configured once that exists. It talks HTTPS
# to :7443 and trusts exactly the certificate Coder serves (workspace.tf), by its PEM.
provider "webide" {
  alias = "coder"
  coder {
    url    = local.coder_url
    token  = webide_coder_first_user.admin.session_token
    ca_pem = webide_tls_certificate.coder.cert_pem
  }
}

# The Docker Engine (DOCKER_HOST or the local socket).
provider "webide" {
  alias = "engine"
}

locals {
  coder_url = coalesce(var.coder_url, "https://localhost:${webide_compose_service.coder.port[1].external}")
  # What people, workspaces and Authentik's callbacks use: HTTPS on :7443 (the seeds' access
  # URL), and the plain :7080 the seeds keep as a second callback.
  coder_access_url = "https://host.docker.internal:${local.port.coder_tls + var.host_port_offset}"
  coder_http_url   = "http://host.docker.internal:${local.port.coder + var.host_port_offset}"
  # The seeds' people and their platform role (see examples/modules/platform-user).
  users = {
    appmanager  = { name = "App Manager", role = "app_manager" }
    contractor1 = { name = "Contractor One", role = "contractor" }
    contractor2 = { name = "Contractor Two", role = "contractor" }
    contractor3 = { name = "Contractor Three", role = "contractor" }
    readonly    = { name = "Read Only", role = "compliance" }
  }
}

module "user" {
  source   = "../modules/platform-user"
  for_each = local.users
  providers = {
    webide.authentik = webide.authentik
    webide.gitea     = webide.gitea
    webide.litellm   = webide.litellm
    webide.coder     = webide.coder
  }

  username                   = each.key
  name                       = each.value.name
  email                      = "${each.key}@example.com"
  role                       = each.value.role
  password                   = var.user_password
  authentik_group_ids        = { for name, g in webide_authentik_group.rbac : name => g.id }
  litellm_contractor_team_id = webide_litellm_team.contractors.id
}

# The AI gateway's contractor team: a shared budget for every contractor key.
resource "webide_litellm_team" "contractors" {
  provider        = webide.litellm
  team_alias      = "contractors"
  models          = ["claude-sonnet", "gpt-4o-mini"]
  max_budget      = 500
  budget_duration = "30d"
  # What the workspace provisioning key (workspace.tf), a plain member, may do for the team.
  team_member_permissions = ["/key/generate", "/key/update", "/key/delete"]
}
