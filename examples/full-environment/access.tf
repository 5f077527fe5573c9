# What a person may do after signing in through Authentik, from the RBAC groups of identity.tf
# (the `groups` claim): Coder site roles and MinIO policies. Also for people never declared
# here, who arrive through SSO.

locals {
  # The seeds' role model: Authentik group → Coder site roles (coder-members: none).
  coder_group_roles = {
    coder-admins          = ["owner"]
    coder-template-admins = ["template-admin"]
    coder-auditors        = ["auditor"]
  }
  # With a Premium licence Coder maps the `groups` claim itself at every sign-in (role sync
  # needs the `user_role_management` entitlement; an unlicensed Coder v2.15 logs "roles left
  # unchanged" and, worse, then refuses every role change of OIDC users through the API, so
  # these are set only with a licence). On the coder container (docker.tf).
  coder_role_sync_env = var.coder_premium ? {
    CODER_OIDC_USER_ROLE_FIELD   = "groups"
    CODER_OIDC_USER_ROLE_MAPPING = jsonencode(local.coder_group_roles)
  } : {}
}

# Who is in each RBAC group now, read from Authentik at every plan (after this apply's own
# memberships, made by the users of the platform-user module).
data "webide_authentik_group_members" "rbac" {
  provider   = webide.authentik
  for_each   = webide_authentik_group.rbac
  name       = each.key
  depends_on = [webide_authentik_group.rbac, module.user]
}

# Without a licence: the provider applies the same mapping to every OIDC user of Coder at each
# apply (a person who signs in for the first time is a plain member until then; `terraform
# plan` shows who would get which role). Users declared in HCL keep their roles from the
# platform-user module.
resource "webide_coder_oidc_role_sync" "sso" {
  count         = var.coder_premium ? 0 : 1
  provider      = webide.coder
  group_roles   = local.coder_group_roles
  group_members = { for g, d in data.webide_authentik_group_members.rbac : g => d.emails }
  exclude       = keys(local.users)
}

# MinIO takes the policy names from the `groups` claim (MINIO_IDENTITY_OPENID_CLAIM_NAME) and
# refuses a sign-in none of whose names is a policy: one policy per RBAC group, created with
# the image's own `mc` in the container (MinIO replaces a policy of the same name). The root
# credentials reach mc by environment (MC_HOST_local), the policy by stdin.
locals {
  s3_read = ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListAllMyBuckets"]
  minio_policies = {
    # consoleAdmin's statements.
    coder-admins          = jsonencode([{ Effect = "Allow", Action = ["admin:*"] }, { Effect = "Allow", Action = ["kms:*"] }, { Effect = "Allow", Action = ["s3:*"], Resource = ["arn:aws:s3:::*"] }])
    coder-template-admins = jsonencode([{ Effect = "Allow", Action = ["s3:*"], Resource = ["arn:aws:s3:::*"] }])
    coder-auditors        = jsonencode([{ Effect = "Allow", Action = local.s3_read, Resource = ["arn:aws:s3:::*"] }])
    coder-members         = jsonencode([{ Effect = "Allow", Action = local.s3_read, Resource = ["arn:aws:s3:::*"] }])
  }
}

resource "webide_compose_exec" "minio_policy" {
  provider  = webide.engine
  for_each  = local.minio_policies
  container = webide_compose_service.minio.name
  command   = ["mc", "admin", "policy", "create", "local", each.key, "/dev/stdin"]
  env       = { MC_HOST_local = "http://minioadmin:${urlencode(var.secrets["minio_root_password"])}@127.0.0.1:${local.port.minio_api}" }
  stdin     = "{\"Version\":\"2012-10-17\",\"Statement\":${each.value}}"
  triggers = {
    container = webide_compose_service.minio.id
  }
}
