# Coder's first user (the seeds' admin@example.com, an owner), the contractors' workspace
# template, pushed from templates/contractor-workspace, and — where Coder has a Premium
# licence — a Coder group with every contractor and a workspace quota.

# POST /api/v2/users/first on a fresh Coder (or a login when it already has its first user);
# its session token configures the coder provider instance (main.tf) in the same apply.
resource "webide_coder_first_user" "admin" {
  provider = webide.engine
  url      = local.coder_url
  ca_pem   = webide_tls_certificate.coder.cert_pem
  email    = var.coder_admin_email
  username = "admin"
  name     = "Platform Admin"
  password = local.coder_admin_password
}

resource "webide_coder_template" "contractor" {
  provider     = webide.coder
  name         = "contractor-workspace"
  directory    = coalesce(var.template_dir, "${path.module}/../../templates/contractor-workspace")
  display_name = "Contractor workspace"
  icon         = "/icon/code.svg"
  tf_vars = {
    litellm_url              = "http://ai-gateway:4000"
    litellm_admin_url        = "http://litellm:4000"
    litellm_provisioning_key = webide_litellm_key.provisioner.key
    litellm_team_id          = webide_litellm_team.contractors.id
    gitea_url                = "http://gitea:3000"
    git_repository           = "${webide_gitea_org.platform.name}/${webide_gitea_repository.app.name}"
    workspace_image          = webide_compose_image.workspace.name
  }
  default_ttl_ms = 8 * 3600 * 1000
}

variable "coder_premium" {
  description = "Coder has a Premium licence: groups are a Premium feature (an unlicensed Coder answers 403), so the contractors' group is declared only then."
  type        = bool
  default     = false
}

resource "webide_coder_group" "contractors" {
  count           = var.coder_premium ? 1 : 0
  provider        = webide.coder
  name            = "contractors"
  members         = [for u, m in module.user : m.coder_user_id if local.users[u].role == "contractor"]
  quota_allowance = 10
}
