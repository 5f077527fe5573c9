//! The LiteLLM simulator follows LiteLLM 1.106.2 where the provider depends on it: metadata-backed
//! fields live in `metadata`, columns come back with their Prisma defaults, enterprise features
//! answer as on an unlicensed proxy, a key moves only into a team its user belongs to,
//! `/team/member_add` and `/key/{key}/regenerate` exist.

mod common;

use common::start;
use serde_json::{json, Value};

/// Every key in `want` has that value in `got`.
fn has(got: &Value, want: &Value) {
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&got[k], v, "field {k} of {got}");
    }
}

#[tokio::test]
async fn metadata_backed_fields_move_into_metadata() {
    let s = start().await;
    let k = s
        .generate(json!({"key_alias": "meta", "metadata": {"owner": "ann"},
            "model_rpm_limit": {"gpt-4o": 5}, "model_tpm_limit": {"gpt-4o": 500},
            "rpm_limit_type": "guaranteed_throughput", "enforced_params": ["user"]}))
        .await;
    let token = k["token"].as_str().unwrap().to_string();
    let (st, info) = s.get(&format!("/key/info?key={token}")).await;
    assert_eq!(st, 200, "{info}");
    let i = &info["info"];
    assert_eq!(
        i["metadata"],
        json!({"owner": "ann", "model_rpm_limit": {"gpt-4o": 5}, "model_tpm_limit": {"gpt-4o": 500},
               "rpm_limit_type": "guaranteed_throughput", "enforced_params": ["user"]})
    );
    for col in [
        "model_rpm_limit",
        "model_tpm_limit",
        "rpm_limit_type",
        "enforced_params",
    ] {
        assert!(i.get(col).is_none(), "{col} is not a column: {i}");
    }
    // Update: a metadata-backed field is merged into the stored metadata...
    let (st, u) = s
        .post(
            "/key/update",
            json!({"key": token, "model_rpm_limit": {"gpt-4o": 9}}),
        )
        .await;
    assert_eq!(st, 200, "{u}");
    let (_, info) = s.get(&format!("/key/info?key={token}")).await;
    assert_eq!(info["info"]["metadata"]["owner"], "ann");
    assert_eq!(
        info["info"]["metadata"]["model_rpm_limit"],
        json!({"gpt-4o": 9})
    );
    // ...and on top of metadata sent in the same request, which replaces the rest.
    let (st, _) = s
        .post(
            "/key/update",
            json!({"key": token, "metadata": {"x": "1"}, "tpm_limit_type": "dynamic"}),
        )
        .await;
    assert_eq!(st, 200);
    let (_, info) = s.get(&format!("/key/info?key={token}")).await;
    assert_eq!(
        info["info"]["metadata"],
        json!({"x": "1", "tpm_limit_type": "dynamic"})
    );
    s.sb.shutdown().await;
}

#[tokio::test]
async fn columns_come_back_with_their_prisma_defaults() {
    let s = start().await;
    let k = s.generate(json!({})).await;
    let (_, info) = s
        .get(&format!("/key/info?key={}", k["token"].as_str().unwrap()))
        .await;
    has(
        &info["info"],
        &json!({"budget_fallbacks": {}, "policies": [], "access_group_ids": [], "models": [],
                "aliases": {}, "config": {}, "permissions": {}, "metadata": {}, "model_spend": {},
                "model_max_budget": {}, "router_settings": {}, "allowed_cache_controls": [],
                "allowed_routes": [], "spend": 0.0, "total_spend": 0.0, "rotation_count": 0,
                "auto_rotate": false, "soft_budget_cooldown": false}),
    );
    let (st, team) = s.post("/team/new", json!({"team_alias": "t"})).await;
    assert_eq!(st, 200, "{team}");
    let want = json!({"metadata": {}, "team_member_permissions": [], "default_team_member_models": [],
        "access_group_ids": [], "policies": [], "router_settings": {}, "model_spend": {},
        "model_max_budget": {}, "admins": [], "members": [], "members_with_roles": [],
        "models": [], "blocked": false, "spend": 0.0, "allow_team_guardrail_config": false});
    has(&team, &want);
    let (st, info) = s
        .get(&format!(
            "/team/info?team_id={}",
            team["team_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, 200);
    has(&info["team_info"], &want);
    // A proxy admin's edit access is a tagged object (`TeamEditUnrestricted`), not a boolean.
    assert_eq!(
        info["team_info"]["caller_edit_access"],
        json!({"kind": "unrestricted"})
    );
    s.sb.shutdown().await;
}

#[tokio::test]
async fn enterprise_features_need_a_licence() {
    let s = start().await;
    let (st, e) = s.post("/key/generate", json!({"tags": ["ci"]})).await;
    assert_eq!(st, 403, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("only available for LiteLLM Enterprise users: tags"),
        "{msg}"
    );
    assert_eq!(e["error"]["type"], "internal_server_error");
    // Falsy values pass (`if value:` in set_object_metadata_field).
    s.generate(json!({"tags": []})).await;
    let (st, e) = s
        .post(
            "/team/new",
            json!({"team_alias": "g", "guardrails": ["pii"]}),
        )
        .await;
    assert_eq!(st, 403, "{e}");
    let k = s.generate(json!({"key_alias": "rot"})).await;
    let key = k["key"].as_str().unwrap();
    let (st, e) = s.post(&format!("/key/{key}/regenerate"), json!({})).await;
    assert_eq!(st, 500, "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Regenerating Virtual Keys is an Enterprise feature"));
    // With a licence: tags are kept in metadata, regeneration replaces the token.
    s.sb.litellm_store().mutate(|st| st.premium = true).unwrap();
    let t = s.generate(json!({"tags": ["ci"]})).await;
    let (_, info) = s
        .get(&format!("/key/info?key={}", t["token"].as_str().unwrap()))
        .await;
    assert_eq!(info["info"]["metadata"]["tags"], json!(["ci"]));
    let (st, r) = s
        .post(
            &format!("/key/{key}/regenerate"),
            json!({"max_budget": 3.0}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let new_key = r["key"].as_str().unwrap();
    assert_ne!(new_key, key);
    assert_eq!(r["key_alias"], "rot");
    assert_eq!(r["max_budget"], json!(3.0));
    assert_eq!(r["rotation_count"], json!(1));
    let (st, _) = s.get(&format!("/key/info?key={key}")).await;
    assert_eq!(st, 404, "the old key is gone");
    let (st, info) = s.get(&format!("/key/info?key={new_key}")).await;
    assert_eq!(st, 200);
    assert_eq!(info["info"]["key_alias"], "rot");
    let (st, _) = s
        .post("/key/sk-unknown-key-0000/regenerate", json!({}))
        .await;
    assert_eq!(st, 404);
    s.sb.shutdown().await;
}

#[tokio::test]
async fn a_key_moves_only_into_a_team_its_user_belongs_to() {
    let s = start().await;
    let (_, a) = s.post("/team/new", json!({"team_alias": "a"})).await;
    let (_, b) = s.post("/team/new", json!({"team_alias": "b"})).await;
    let (a, b) = (
        a["team_id"].as_str().unwrap(),
        b["team_id"].as_str().unwrap(),
    );
    let k = s.generate(json!({"user_id": "ann", "team_id": a})).await;
    let token = k["token"].as_str().unwrap();
    let (st, e) = s
        .post("/key/update", json!({"key": token, "team_id": b}))
        .await;
    assert_eq!(st, 403, "{e}");
    assert_eq!(e["error"]["type"], "auth_error");
    assert_eq!(
        e["error"]["message"],
        format!("User=ann is not a member of the team={b}. Check team members via `/team/info`.")
    );
    let (_, info) = s.get(&format!("/key/info?key={token}")).await;
    assert_eq!(info["info"]["team_id"], a, "nothing changed");
    // Team admins need a licence; plain members do not.
    let (st, e) = s
        .post(
            "/team/member_add",
            json!({"team_id": b, "member": {"role": "admin", "user_id": "ann"}}),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, added) = s
        .post(
            "/team/member_add",
            json!({"team_id": b, "member": {"role": "user", "user_id": "ann"}}),
        )
        .await;
    assert_eq!(st, 200, "{added}");
    assert_eq!(
        added["members_with_roles"],
        json!([{"user_id": "ann", "user_email": null, "role": "user"}])
    );
    assert_eq!(added["updated_users"][0]["user_id"], "ann");
    assert_eq!(added["updated_team_memberships"][0]["team_id"], b);
    let (st, e) = s
        .post(
            "/team/member_add",
            json!({"team_id": b, "member": {"role": "user", "user_id": "ann"}}),
        )
        .await;
    assert_eq!(
        (st, e["error"]["type"].clone()),
        (400, json!("team_member_already_in_team"))
    );
    let (st, e) = s
        .post(
            "/team/member_add",
            json!({"team_id": "nope", "member": {"role": "user", "user_id": "x"}}),
        )
        .await;
    assert_eq!(st, 404, "{e}");
    let (st, u) = s
        .post("/key/update", json!({"key": token, "team_id": b}))
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["team_id"], b);
    // A key without a user moves freely.
    let free = s.generate(json!({"team_id": a})).await;
    let (st, _) = s
        .post("/key/update", json!({"key": free["token"], "team_id": b}))
        .await;
    assert_eq!(st, 200);
    s.sb.shutdown().await;
}
