terraform import 'webide_authentik_group.rbac["coder-admins"]' coder-admins
