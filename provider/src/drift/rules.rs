//! Which drift matters for security: the seeds' permission matrix turned into rules
//! (restricted flag cleared, admin/owner granted, budget raised, container env changed...).

use serde_json::Value as Json;

/// How much a change matters. Ordered: `Critical` sorts first in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Any other difference.
    Info,
    /// Changes behaviour or availability, not privileges.
    Notice,
    /// Widens access or spending.
    High,
    /// Grants administrative power or removes a confinement.
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Notice => "notice",
            Severity::Info => "info",
        }
    }

    /// Security-relevant drift is listed first in its own section.
    pub fn is_security(self) -> bool {
        self >= Severity::High
    }
}

fn truthy(v: &Json) -> bool {
    v.as_bool().unwrap_or(false)
}

fn num(v: &Json) -> Option<f64> {
    v.as_f64()
}

fn strings(v: &Json) -> Vec<String> {
    match v {
        Json::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Json::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

/// Elements of `after` that `before` lacks.
fn added(before: &Json, after: &Json) -> Vec<String> {
    let b = strings(before);
    strings(after)
        .into_iter()
        .filter(|x| !b.contains(x))
        .collect()
}

/// A limit was raised: a larger number, or a limit removed (null = unlimited).
fn raised(before: &Json, after: &Json) -> bool {
    match (num(before), num(after)) {
        (Some(b), Some(a)) => a > b,
        (Some(_), None) => after.is_null(),
        _ => false,
    }
}

type Rule = (Severity, String);

/// Severity (and reason) of one changed attribute of a resource of type `rtype`.
pub fn classify(
    rtype: &str,
    path: &str,
    before: &Json,
    after: &Json,
) -> (Severity, Option<String>) {
    match rule(rtype, path, before, after) {
        Some((s, r)) => (s, Some(r)),
        None => (Severity::Info, None),
    }
}

fn rule(rtype: &str, path: &str, b: &Json, a: &Json) -> Option<Rule> {
    let t = rtype.strip_prefix("webide_").unwrap_or(rtype);
    let top = path.split(['.', '[']).next().unwrap_or(path);
    let crit = |r: &str| Some((Severity::Critical, r.to_string()));
    let high = |r: String| Some((Severity::High, r));
    let notice = |r: &str| Some((Severity::Notice, r.to_string()));
    match (t, top) {
        // Gitea: the restricted flag confines contractors to the repos they are granted.
        ("gitea_user", "restricted") if truthy(b) && !truthy(a) => {
            crit("restricted flag cleared: the user now sees every public and internal repository")
        }
        ("gitea_user", "admin") if truthy(a) && !truthy(b) => crit("site administrator granted"),
        ("gitea_user", "prohibit_login") if truthy(b) && !truthy(a) => {
            high("login re-enabled for a user that was barred".into())
        }
        ("gitea_user", "active") if truthy(a) && !truthy(b) => high("account re-activated".into()),
        ("gitea_user", "allow_create_organization") if truthy(a) && !truthy(b) => {
            high("may now create organizations".into())
        }
        ("gitea_user", "visibility" | "must_change_password") => notice("account setting changed"),
        // Gitea SSO: the source's name is part of the callback URL registered in the IdP.
        ("gitea_login_source", "name") => high(format!(
            "SSO login source renamed to {}: its callback URL no longer matches the identity provider's",
            a.as_str().unwrap_or("?")
        )),
        ("gitea_login_source", "enabled") if truthy(b) && !truthy(a) => {
            high("SSO login source disabled".into())
        }
        ("gitea_admin_user", "admin") if truthy(b) && !truthy(a) => {
            high("bootstrap administrator lost its admin flag".into())
        }
        ("gitea_repository_collaborator" | "gitea_team", "permission") => {
            let rank = |v: &Json| match v.as_str() {
                Some("read") => 1,
                Some("write") => 2,
                Some("admin") => 3,
                Some("owner") => 4,
                _ => 0,
            };
            if rank(a) > rank(b) {
                high(format!(
                    "repository permission raised to {}",
                    a.as_str().unwrap_or("?")
                ))
            } else {
                notice("repository permission changed")
            }
        }
        ("gitea_team", "members") | ("gitea_repository", "private") => {
            let more = added(b, a);
            if top == "private" && truthy(b) && !truthy(a) {
                crit("private repository made public")
            } else if !more.is_empty() {
                high(format!("members added: {}", more.join(", ")))
            } else {
                notice("membership changed")
            }
        }
        // Coder: site roles.
        ("coder_user", "roles") => {
            let more = added(b, a);
            if more.iter().any(|r| r == "owner" || r == "user-admin") {
                crit(&format!("administrative role granted: {}", more.join(", ")))
            } else if !more.is_empty() {
                high(format!("role granted: {}", more.join(", ")))
            } else {
                notice("role removed")
            }
        }
        // Coder: site roles of OIDC users, by username.
        ("coder_oidc_role_sync", "roles") => {
            // The whole map (`roles`) or one user's set (`roles.<username>`).
            let empty = serde_json::Map::new();
            let before = b.as_object().unwrap_or(&empty);
            let grants: Vec<String> = match a.as_object() {
                Some(after) => after
                    .iter()
                    .flat_map(|(u, r)| {
                        let was = before.get(u).cloned().unwrap_or(Json::Null);
                        added(&was, r).into_iter().map(move |x| format!("{u}: {x}"))
                    })
                    .collect(),
                None => {
                    let u = path.strip_prefix("roles.").unwrap_or("?");
                    added(b, a).into_iter().map(|x| format!("{u}: {x}")).collect()
                }
            };
            if grants
                .iter()
                .any(|g| g.ends_with(": owner") || g.ends_with(": user-admin"))
            {
                crit(&format!("administrative role granted: {}", grants.join(", ")))
            } else if !grants.is_empty() {
                high(format!("role granted: {}", grants.join(", ")))
            } else {
                notice("role removed or user arrived")
            }
        }
        ("coder_user", "suspended") if truthy(b) && !truthy(a) => {
            high("suspended user re-activated".into())
        }
        ("coder_user", "login_type") => high(format!(
            "login type changed to {}",
            a.as_str().unwrap_or("?")
        )),
        ("coder_group", "members") if !added(b, a).is_empty() => {
            high(format!("members added: {}", added(b, a).join(", ")))
        }
        ("coder_group", "quota_allowance") if raised(b, a) => high("workspace quota raised".into()),
        ("coder_template", _) => notice("template changed outside Terraform"),
        // Authentik: group membership and superuser groups decide platform roles.
        ("authentik_group", "is_superuser") if truthy(a) && !truthy(b) => {
            crit("group made superuser: every member is an Authentik administrator")
        }
        ("authentik_group", "users") if !added(b, a).is_empty() => high(format!(
            "users added to the group: {}",
            added(b, a).join(", ")
        )),
        ("authentik_user", "groups") if !added(b, a).is_empty() => {
            high(format!("user added to groups: {}", added(b, a).join(", ")))
        }
        ("authentik_user", "is_superuser") if truthy(a) && !truthy(b) => {
            crit("user became an Authentik administrator (through a superuser group)")
        }
        ("authentik_user", "is_active") if truthy(a) && !truthy(b) => {
            high("deactivated account re-activated".into())
        }
        ("authentik_oauth2_provider", "redirect_uris") => {
            crit("OAuth2 redirect URIs changed: tokens could be sent elsewhere")
        }
        ("authentik_oauth2_provider", "client_type") => high("OAuth2 client type changed".into()),
        // Whoever sets an OIDC client secret can sign tokens for (and impersonate) the client.
        ("authentik_oauth2_provider", "client_secret") => {
            crit("OAuth2 client secret changed by hand: whoever set it controls SSO for the client")
        }
        // LiteLLM: spending and model access.
        ("litellm_key" | "litellm_team", "max_budget") if raised(b, a) => high(format!(
            "budget raised from {} to {}",
            b,
            if a.is_null() {
                "unlimited".into()
            } else {
                a.to_string()
            }
        )),
        ("litellm_key" | "litellm_team", "tpm_limit" | "rpm_limit" | "max_parallel_requests")
            if raised(b, a) =>
        {
            high("rate limit raised".into())
        }
        ("litellm_key" | "litellm_team", "models") => {
            let more = added(b, a);
            if strings(a).is_empty() && !strings(b).is_empty() {
                high("model restriction removed: every model allowed".into())
            } else if !more.is_empty() {
                high(format!("models added: {}", more.join(", ")))
            } else {
                notice("models changed")
            }
        }
        ("litellm_key" | "litellm_team", "blocked") if truthy(b) && !truthy(a) => {
            high("blocked key unblocked".into())
        }
        ("litellm_key", "metadata") if path.ends_with("enforcement_level") => {
            high(format!("AI enforcement level changed from {} to {}", b, a))
        }
        // Docker: what runs and with which settings.
        ("compose_service", "env" | "sensitive_env") => {
            high("container environment changed by hand".into())
        }
        ("compose_service", "image" | "image_id") => high("container image changed".into()),
        ("compose_service", "port") => high("published ports changed".into()),
        ("compose_service", "network") => high("container joined or left a network by hand".into()),
        ("compose_service", "mount" | "command" | "entrypoint" | "extra_hosts") => {
            high("what the container runs or can reach changed".into())
        }
        ("compose_service", "running" | "health_status") => {
            notice("container state changed (stopped or unhealthy)")
        }
        ("compose_network", "internal") if truthy(b) && !truthy(a) => {
            high("internal network opened to the outside".into())
        }
        _ => None,
    }
}

/// Severity of an object deleted outside Terraform: a service or account is missing until
/// the next apply re-creates it, which is an availability matter, not a privilege grant.
pub fn deleted_severity(_rtype: &str) -> Severity {
    Severity::Notice
}

#[cfg(test)]
mod tests {
    use crate::framework::Provider;

    /// `(types, attributes)` of every match arm of `rule`, read from this file's source, so a
    /// rule added later is checked too. `_` (any attribute) yields no attribute.
    fn arms() -> Vec<(Vec<String>, Vec<String>)> {
        let src = include_str!("rules.rs");
        let body =
            &src[src.find("fn rule(").unwrap()..src.find("pub fn deleted_severity").unwrap()];
        let unquote = |s: &str| -> Vec<String> {
            s.split('|')
                .map(|x| x.trim().trim_matches('"').to_string())
                .filter(|x| x != "_")
                .collect()
        };
        body.lines()
            .map(str::trim)
            .filter(|l| l.starts_with("(\""))
            .map(|l| {
                let inner = &l[1..l.find(')').unwrap()];
                let (types, attrs) = inner.split_once(',').unwrap();
                (unquote(types), unquote(attrs))
            })
            .collect()
    }

    #[test]
    fn every_rule_names_an_attribute_of_its_resource() {
        let p = crate::provider::WebideProvider;
        let schemas: std::collections::HashMap<String, Vec<String>> = p
            .resources()
            .iter()
            .map(|r| {
                let b = r.schema().block;
                let names = b.attributes.iter().map(|a| a.name.clone());
                let blocks = b.blocks.iter().map(|n| n.name.clone());
                (r.type_name().to_string(), names.chain(blocks).collect())
            })
            .collect();
        let arms = arms();
        assert!(arms.len() > 20, "parsed the rules: {arms:?}");
        for (types, attrs) in arms {
            for t in &types {
                let full = format!("webide_{t}");
                let attrs_of = schemas
                    .get(&full)
                    .unwrap_or_else(|| panic!("drift rule for {full}: no such resource type"));
                for a in &attrs {
                    assert!(
                        attrs_of.contains(a),
                        "drift rule for {full}.{a}: the resource has no such attribute"
                    );
                }
            }
        }
    }
}
