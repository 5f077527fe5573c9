use serde_json::json;

use super::*;

fn sensitive() -> SensitiveAttrs {
    let mut m = SensitiveAttrs::new();
    m.insert("webide_litellm_key".into(), ["key".to_string()].into());
    m.insert("webide_gitea_user".into(), ["password".to_string()].into());
    m
}

/// A plan recorded with Terraform 1.0.3 (`plan -refresh-only` + `show -json`) after the key's
/// budget and enforcement level were changed through the LiteLLM API.
#[test]
fn recorded_litellm_refresh_only_plan() {
    let plan: Json =
        serde_json::from_str(include_str!("testdata/litellm-refresh-only-tf1.0.3.json")).unwrap();
    let secret = plan
        .pointer("/resource_drift/0/change/before/key")
        .and_then(Json::as_str)
        .unwrap()
        .to_string();
    let r = report(&plan, &webide_sensitive_attrs(), false).unwrap();
    assert_eq!(r.terraform_version, "1.0.3");
    assert_eq!(r.entries.len(), 1);
    let e = &r.entries[0];
    assert_eq!((e.service, e.kind), ("LiteLLM", DriftKind::Changed));
    assert_eq!(e.user.as_deref(), Some("contractor1"));
    assert_eq!(e.severity, Severity::High);
    let paths: Vec<&str> = e.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["max_budget", "metadata.enforcement_level"]);
    assert_eq!(
        (e.changes[0].before.as_str(), e.changes[0].after.as_str()),
        ("25", "999")
    );
    let md = markdown(&r);
    assert!(md.contains("## Security-relevant drift"), "{md}");
    assert!(md.contains("budget raised from 25 to 999"), "{md}");
    assert!(md.contains("AI enforcement level changed"), "{md}");
    assert!(!md.contains(&secret), "the key never appears");
    let page = html(&r);
    assert!(page.contains("<h3>LiteLLM</h3>") && !page.contains(&secret));
}

fn change(addr: &str, before: Json, after: Json) -> Json {
    let (ty, name) = addr.split_once('.').unwrap();
    json!({"address": addr, "mode": "managed", "type": ty, "name": name,
           "change": {"actions": [if after.is_null() {"delete"} else {"update"}],
                      "before": before, "after": after,
                      "before_sensitive": {}, "after_sensitive": {}}})
}

#[test]
fn security_drift_first_and_secrets_masked() {
    let plan = json!({
        "format_version": "0.2", "terraform_version": "1.11.4",
        "resource_drift": [
            change("webide_litellm_key.a", json!({"key_alias": "a", "rpm_limit": 10, "key": "sk-old"}),
                   json!({"key_alias": "a", "rpm_limit": 10, "key": "sk-new-secret"})),
            change("webide_gitea_user.c1",
                   json!({"username": "contractor1", "restricted": true, "admin": false, "password": "p1"}),
                   json!({"username": "contractor1", "restricted": false, "admin": false, "password": "p2-secret"})),
            change("webide_coder_user.c2", json!({"username": "contractor2", "roles": ["member"]}),
                   json!({"username": "contractor2", "roles": ["member", "owner"]})),
            change("webide_compose_service.api", json!({"name": "api", "env": {"A": "1"}}),
                   json!({"name": "api", "env": {"A": "2"}})),
            change("webide_gitea_user.gone", json!({"username": "readonly"}), Json::Null),
            {"address": "data.webide_litellm_key.x", "mode": "data", "type": "webide_litellm_key",
             "change": {"actions": ["read"], "before": null, "after": {}}},
        ]
    });
    let r = report(&plan, &sensitive(), false).unwrap();
    let order: Vec<(&str, Severity)> = r
        .entries
        .iter()
        .map(|e| (e.address.as_str(), e.severity))
        .collect();
    assert_eq!(
        order,
        [
            ("webide_coder_user.c2", Severity::Critical),
            ("webide_gitea_user.c1", Severity::Critical),
            ("webide_compose_service.api", Severity::High),
            ("webide_gitea_user.gone", Severity::Notice),
            ("webide_litellm_key.a", Severity::Info),
        ]
    );
    let md = markdown(&r);
    for secret in ["sk-new-secret", "sk-old", "p2-secret"] {
        assert!(!md.contains(secret), "{secret} leaked:\n{md}");
    }
    assert!(md.contains("restricted flag cleared"), "{md}");
    assert!(md.contains("administrative role granted: owner"), "{md}");
    assert!(md.contains("deleted outside Terraform"), "{md}");
    assert!(md.contains("| contractor1 |"), "{md}");
    let sec = md.find("## Security-relevant drift").unwrap();
    let by = md.find("## By service").unwrap();
    assert!(md[sec..by].contains("contractor1") && !md[sec..by].contains("readonly"));
    let page = html(&r);
    assert!(!page.contains("p2-secret") && page.contains("class=\"critical\""));
}

#[test]
fn empty_plan_and_bad_input() {
    let r = report(
        &json!({"format_version": "1.0", "resource_drift": []}),
        &sensitive(),
        false,
    )
    .unwrap();
    assert!(r.entries.is_empty());
    assert!(markdown(&r).contains("No drift"));
    assert!(report(&json!({"resources": []}), &sensitive(), false).is_err());
}

#[test]
fn planned_changes_only_on_request() {
    let plan = json!({"format_version": "1.0", "resource_changes": [
        change("webide_litellm_key.a", json!({"max_budget": 5}), json!({"max_budget": null}))]});
    assert!(report(&plan, &sensitive(), false)
        .unwrap()
        .entries
        .is_empty());
    let r = report(&plan, &sensitive(), true).unwrap();
    assert_eq!(r.entries[0].kind, DriftKind::Planned);
    assert_eq!(
        r.entries[0].severity,
        Severity::High,
        "limit removed = unlimited budget"
    );
}

#[test]
fn mark_paths() {
    let m = json!({"env": {"PASSWORD": true}, "ports": [{}, {"x": true}]});
    assert!(mark_at(&m, "env.PASSWORD"));
    assert!(!mark_at(&m, "env.USER"));
    assert!(mark_at(&m, "ports[1].x"));
    assert!(!mark_at(&m, "ports[0].x"));
    assert!(mark_at(&json!(true), "anything.at.all"));
}

#[test]
fn client_secret_changed_by_hand_is_security_relevant() {
    let (sev, why) = super::rules::classify(
        "webide_authentik_oauth2_provider",
        "client_secret",
        &json!("old"),
        &json!("new"),
    );
    assert!(sev.is_security(), "{sev:?}");
    assert!(why.unwrap().contains("controls SSO"));
}
