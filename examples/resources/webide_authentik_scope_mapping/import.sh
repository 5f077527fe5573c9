terraform import webide_authentik_scope_mapping.groups "webide: groups claim"
