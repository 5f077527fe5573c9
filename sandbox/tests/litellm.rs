//! The LiteLLM simulator over HTTP: auth, keys, teams, persistence, faults.

mod common;

use std::time::{Duration, Instant};

use common::{start, start_faulty, start_with, MASTER};
use reqwest::Method;
use serde_json::{json, Value};
use webide_sandbox::litellm::hash_token;
use webide_sandbox::{time, SandboxConfig};

fn err(status: u16, kind: &str, message: &str, param: Value) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": status.to_string()}})
}

#[tokio::test]
async fn health_needs_no_key() {
    let s = start().await;
    for path in ["/health/liveliness", "/health/liveness"] {
        assert_eq!(
            s.call(Method::GET, path, None, None).await,
            (200, json!("I'm alive!"))
        );
    }
    assert_eq!(s.get("/nope").await, (404, json!({"detail": "Not Found"})));
    s.sb.shutdown().await;
}

#[tokio::test]
async fn auth_failures() {
    let s = start().await;
    let (status, body) = s
        .call(Method::POST, "/key/generate", None, Some(json!({})))
        .await;
    assert_eq!(
        (status, body),
        (
            401,
            err(
                401,
                "auth_error",
                "Authentication Error, No api key passed in.",
                "None".into()
            )
        )
    );
    let (status, body) = s
        .call(Method::GET, "/key/list", Some("sk-wrong-key-123456"), None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "auth_error");
    assert_eq!(body["error"]["code"], "401");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Authentication Error, Invalid proxy server token passed."),
        "{msg}"
    );
    assert!(
        !msg.contains("sk-wrong-key-123456"),
        "the key is not echoed: {msg}"
    );
    let (status, body) = s
        .call(Method::GET, "/key/list", Some("not-a-virtual-key"), None)
        .await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expected to start with 'sk-'"));
    // Authorization without "Bearer " is ignored; other headers are accepted.
    let url = format!("{}/key/list", s.sb.litellm_url);
    let res = s
        .http
        .get(&url)
        .header("authorization", MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    for header in ["x-litellm-api-key", "x-api-key", "api-key"] {
        let res = s
            .http
            .get(&url)
            .header(header, MASTER)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{header}");
    }
    s.sb.shutdown().await;
}

#[tokio::test]
async fn generate_info_update() {
    let s = start().await;
    let before = time::now();
    let g = s
        .generate(json!({
            "key_alias": "alpha", "models": ["gpt-4o"], "max_budget": 10, "duration": "1h",
            "budget_duration": "1d", "metadata": {"a": 1, "b": 2}, "tpm_limit": "100",
            "router_settings": {"num_retries": 2}, "unknown_field": true
        }))
        .await;
    let key = g["key"].as_str().unwrap().to_owned();
    let token = hash_token(&key);
    assert!(key.starts_with("sk-") && key.len() >= 20, "{key}");
    assert_eq!(g["token"], token);
    assert_eq!(g["token_id"], token);
    assert_eq!(g["key_name"], format!("sk-...{}", &key[key.len() - 4..]));
    assert_eq!(g["max_budget"], 10.0);
    assert_eq!(g["tpm_limit"], 100, "lax integer parsing");
    assert_eq!(g["duration"], "1h");
    assert!(
        g.get("unknown_field").is_none(),
        "unknown fields are ignored"
    );
    let expires = time::parse(g["expires"].as_str().unwrap()).unwrap();
    assert!(
        (expires - before - 3_600_000_000).abs() < 10_000_000,
        "{}",
        g["expires"]
    );
    // `budget_reset_at` is a column, not a field of GenerateKeyResponse: read from the row.
    let row = s.sb.litellm_store().key(&key).unwrap();
    assert!(time::parse(row["budget_reset_at"].as_str().unwrap()).unwrap() > expires);
    assert!(
        g.get("budget_reset_at").is_none(),
        "not in GenerateKeyResponse"
    );
    assert_eq!(
        s.sb.litellm_store().key(&key).unwrap()["token"],
        token,
        "only the hash is stored"
    );
    assert!(!serde_json::to_string(&s.sb.litellm_store().snapshot())
        .unwrap()
        .contains(&key));

    for (query, echoed) in [
        (key.as_str(), key.as_str()),
        (token.as_str(), token.as_str()),
    ] {
        let (status, info) = s.get(&format!("/key/info?key={query}")).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["key"], echoed);
        let i = &info["info"];
        assert!(i.get("token").is_none());
        assert_eq!(i["status"], "active");
        assert_eq!(i["key_alias"], "alpha");
        assert_eq!(i["metadata"], json!({"a": 1, "b": 2}));
        assert_eq!(i["router_settings"], json!({"num_retries": 2}));
        assert_eq!(i["expires"], g["expires"]);
    }

    // Only sent fields change; metadata is replaced as a whole; null resets.
    let (status, u) = s
        .post("/key/update", json!({"key": key, "metadata": {"c": 3}, "max_budget": null, "models": null, "rpm_limit": 7}))
        .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["key"], key);
    assert_eq!(u["token"], token);
    let (_, info) = s.get(&format!("/key/info?key={token}")).await;
    let i = &info["info"];
    assert_eq!(i["metadata"], json!({"c": 3}));
    assert_eq!(i["max_budget"], Value::Null);
    assert_eq!(i["models"], json!([]));
    assert_eq!(i["rpm_limit"], 7);
    assert_eq!(i["tpm_limit"], 100);
    assert_eq!(i["key_alias"], "alpha");
    assert_eq!(i["expires"], g["expires"]);
    assert_ne!(i["updated_at"], g["updated_at"]);

    // By alias, and `duration: null` removes the expiry.
    let (status, u) = s
        .post(
            "/key/update",
            json!({"key_alias": "alpha", "duration": null, "tpm_limit": 1}),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(
        (
            u["key"].clone(),
            u["expires"].clone(),
            u["tpm_limit"].clone()
        ),
        (json!(token), Value::Null, json!(1))
    );

    let (status, body) = s
        .post(
            "/key/update",
            json!({"key": "sk-unknown-0000000000", "tpm_limit": 1}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            404,
            err(404, "not_found_error", "Key not found.", "key".into())
        )
    );
    let (status, body) = s.post("/key/update", json!({"key_alias": "nope"})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["message"],
        "Key not found. No key with key_alias='nope'."
    );
    let (status, body) = s.post("/key/update", json!({"tpm_limit": 1})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = s.get("/key/info?key=sk-missing-000000000000").await;
    assert_eq!(
        (status, body),
        (
            404,
            err(
                404,
                "not_found_error",
                "Key not found in database",
                "key".into()
            )
        )
    );

    // The virtual key itself may read its own info, nothing else.
    let (status, own) = s.call(Method::GET, "/key/info", Some(&key), None).await;
    assert_eq!(
        (status, own["info"]["key_alias"].clone()),
        (200, json!("alpha"))
    );
    let (status, _) = s
        .call(Method::POST, "/key/generate", Some(&key), Some(json!({})))
        .await;
    assert_eq!(status, 401);
    s.sb.shutdown().await;
}

#[tokio::test]
async fn generate_validation_and_errors() {
    let s = start().await;
    s.generate(json!({"key_alias": "dup"})).await;
    let (status, body) = s.post("/key/generate", json!({"key_alias": "dup"})).await;
    assert_eq!(
        (status, body),
        (
            400,
            err(
                400,
                "bad_request_error",
                "Key with alias 'dup' already exists. Unique key aliases across all keys are required.",
                "key_alias".into()
            )
        )
    );

    let (status, body) = s
        .post(
            "/key/generate",
            json!({"max_budget": "lots", "models": "gpt", "blocked": 3}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let errors = body["detail"].as_array().unwrap();
    let got: Vec<(Value, Value)> = errors
        .iter()
        .map(|e| (e["loc"].clone(), e["type"].clone()))
        .collect();
    assert!(
        got.contains(&(json!(["body", "max_budget"]), json!("float_parsing"))),
        "{body}"
    );
    assert!(
        got.contains(&(json!(["body", "models"]), json!("list_type"))),
        "{body}"
    );
    assert!(
        got.contains(&(json!(["body", "blocked"]), json!("bool_parsing"))),
        "{body}"
    );
    assert!(errors
        .iter()
        .all(|e| e["msg"].is_string() && e.get("input").is_some()));
    let (status, body) = s
        .call(Method::POST, "/key/generate", Some(MASTER), None)
        .await;
    assert_eq!(
        (status, body["detail"][0]["type"].clone()),
        (422, json!("missing"))
    );

    for budget in [json!(-1), json!("-inf"), json!("NaN")] {
        let (status, body) = s.post("/key/generate", json!({"max_budget": budget})).await;
        assert_eq!(status, 400, "{budget}: {body}");
        assert_eq!(body["error"]["type"], "internal_server_error");
    }
    let (_, body) = s.post("/key/generate", json!({"max_budget": -1})).await;
    assert_eq!(
        body["error"]["message"],
        "{'error': 'max_budget cannot be negative. Received: -1.0'}"
    );
    // Python's JSON parser accepts bare Infinity; so do we.
    let url = format!("{}/key/generate", s.sb.litellm_url);
    let res = s
        .http
        .post(&url)
        .bearer_auth(MASTER)
        .body(r#"{"max_budget": Infinity}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let (status, body) = s.post("/key/generate", json!({"duration": "soon"})).await;
    assert_eq!(
        (status, body),
        (
            500,
            err(
                500,
                "internal_server_error",
                "Invalid duration format",
                "None".into()
            )
        )
    );
    let (status, body) = s
        .post("/key/generate", json!({"budget_duration": "30x"}))
        .await;
    assert_eq!(status, 500);
    assert_eq!(
        body["error"]["message"],
        "Unsupported duration unit, passed duration: 30x"
    );
    let g = s.generate(json!({"duration": "2mo"})).await;
    let expires = time::parse(g["expires"].as_str().unwrap()).unwrap();
    assert!(
        expires > time::now() + 55 * 86_400_000_000,
        "{}",
        g["expires"]
    );

    let (status, body) = s
        .post("/key/generate", json!({"key": "pk-not-a-litellm-key"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "{'error': \"Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: pk-n****-key\"}"
    );
    let (status, _) = s.post("/key/generate", json!({"key": "sk-short"})).await;
    assert_eq!(status, 400);
    let g = s.generate(json!({"key": "sk-my-custom-key-0001"})).await;
    assert_eq!(g["key"], "sk-my-custom-key-0001");
    assert_eq!(g["token"], hash_token("sk-my-custom-key-0001"));

    let (status, body) = s
        .post("/key/generate", json!({"team_id": "no-such-team"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Unable to find team object in database. Team ID: no-such-team"
    );

    let g = s.generate(json!({"key_type": "read_only"})).await;
    assert_eq!(g["allowed_routes"], json!(["info_routes"]));
    s.sb.shutdown().await;
}

#[tokio::test]
async fn delete_keys() {
    let s = start().await;
    let a = s.generate(json!({"key_alias": "a"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = s.generate(json!({"key_alias": "b"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = s.post("/key/delete", json!({"keys": [a]})).await;
    assert_eq!((status, body), (200, json!({"deleted_keys": [a]})));

    // Deleted keys are archived: /key/info reports them as deleted, nothing else finds them.
    let (status, info) = s.get(&format!("/key/info?key={a}")).await;
    assert_eq!(
        (status, info["info"]["status"].clone()),
        (200, json!("deleted"))
    );
    assert!(info["info"]["deleted_at"].is_string());
    let (status, _) = s
        .post("/key/update", json!({"key": a, "tpm_limit": 1}))
        .await;
    assert_eq!(status, 404);
    let (status, body) = s.post("/key/delete", json!({"keys": [a]})).await;
    assert_eq!(
        (status, body),
        (
            404,
            err(
                404,
                "internal_server_error",
                "{'error': 'No keys found'}",
                "None".into()
            )
        )
    );
    let (status, _) = s.call(Method::GET, "/key/info", Some(&a), None).await;
    assert_eq!(status, 401, "a deleted key no longer authenticates");
    let (_, list) = s.get("/key/list").await;
    assert_eq!(list["keys"], json!([hash_token(&b)]));
    let (_, list) = s.get("/key/list?status=deleted").await;
    assert_eq!(list["keys"], json!([hash_token(&a)]));

    let (status, body) = s.post("/key/delete", json!({"key_aliases": ["b"]})).await;
    assert_eq!((status, body), (200, json!({"deleted_keys": ["b"]})));
    let (status, _) = s.post("/key/delete", json!({"keys": []})).await;
    assert_eq!(status, 422);
    assert!(s.sb.litellm_store().snapshot().keys.is_empty());
    s.sb.shutdown().await;
}

#[tokio::test]
async fn list_pagination_and_filters() {
    let s = start().await;
    let (_, team) = s.post("/team/new", json!({"team_alias": "t"})).await;
    let team_id = team["team_id"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for i in 0..25 {
        let team = if i % 5 == 0 {
            json!(team_id)
        } else {
            Value::Null
        };
        let g = s.generate(json!({"key_alias": format!("k{i:02}"), "team_id": team, "user_id": format!("u{}", i % 2)})).await;
        tokens.push(g["token"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    for (page, len) in [(1, 10), (2, 10), (3, 5), (4, 0)] {
        let (status, body) = s.get(&format!("/key/list?page={page}&size=10")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total_count"], 25);
        assert_eq!(body["total_pages"], 3);
        assert_eq!(body["current_page"], page);
        let keys = body["keys"].as_array().unwrap();
        assert_eq!(keys.len(), len, "page {page}");
        seen.extend(keys.iter().map(|k| k.as_str().unwrap().to_owned()));
    }
    assert_eq!(seen[0], tokens[24], "newest first");
    seen.sort();
    tokens.sort();
    assert_eq!(seen, tokens);

    let (_, body) = s.get("/key/list?key_alias=k07").await;
    assert_eq!(body["total_count"], 1);
    let (_, body) = s
        .get("/key/list?key_alias=K0&substring_matching=true&size=100")
        .await;
    assert_eq!(body["total_count"], 10);
    let (_, body) = s
        .get(&format!(
            "/key/list?team_id={team_id}&return_full_object=true"
        ))
        .await;
    assert_eq!(body["total_count"], 5);
    assert!(body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["team_id"] == team_id.as_str() && k["team_alias"] == "t"));
    let (_, body) = s.get("/key/list?user_id=u1&size=100").await;
    assert_eq!(body["total_count"], 12);
    let (_, body) = s
        .get("/key/list?sort_by=key_alias&sort_order=asc&size=1&return_full_object=true")
        .await;
    assert_eq!(body["keys"][0]["key_alias"], "k00");

    for bad in [
        "size=101",
        "size=0",
        "page=0",
        "page=x",
        "return_full_object=maybe",
    ] {
        let (status, body) = s.get(&format!("/key/list?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["detail"][0]["loc"][0], "query");
    }
    let (status, _) = s.get("/key/list?status=bogus").await;
    assert_eq!(status, 400);
    s.sb.shutdown().await;
}

#[tokio::test]
async fn team_crud() {
    let s = start().await;
    let (status, t) = s
        .post(
            "/team/new",
            json!({"team_alias": "core", "models": ["gpt-4o"], "max_budget": 50, "budget_duration": "30d",
                   "members_with_roles": [{"role": "admin", "user_id": "alice"}], "metadata": {"x": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let id = t["team_id"].as_str().unwrap().to_owned();
    uuid::Uuid::parse_str(&id).expect("generated ids are UUIDs");
    assert_eq!(t["max_budget"], 50.0);
    assert_eq!(t["blocked"], false);
    assert!(t["budget_reset_at"].is_string());
    assert_eq!(
        t["members_with_roles"],
        json!([{"role": "admin", "user_id": "alice", "user_email": null}])
    );

    let (status, body) = s.post("/team/new", json!({"team_id": id})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        format!("{{'error': 'Team id = {id} already exists. Please use a different team id.'}}")
    );
    let (status, t2) = s
        .post(
            "/team/new",
            json!({"team_id": "fixed-id", "members_with_roles": []}),
        )
        .await;
    assert_eq!((status, t2["team_id"].clone()), (200, json!("fixed-id")));
    let (status, _) = s
        .post(
            "/team/new",
            json!({"members_with_roles": [{"role": "owner", "user_id": "x"}]}),
        )
        .await;
    assert_eq!(status, 422);

    let key = s
        .generate(json!({"team_id": id, "key_alias": "team-key"}))
        .await;
    let (status, info) = s.get(&format!("/team/info?team_id={id}")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["team_id"], id);
    assert_eq!(info["team_info"]["team_alias"], "core");
    assert_eq!(info["keys"][0]["token"], key["token"]);
    assert_eq!(info["team_memberships"][0]["user_id"], "alice");

    let (status, u) = s
        .post(
            "/team/update",
            json!({"team_id": id, "team_alias": "core2", "max_budget": null, "blocked": null}),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["team_id"], id);
    assert_eq!(u["data"]["team_alias"], "core2");
    assert_eq!(u["data"]["max_budget"], Value::Null);
    assert_eq!(
        u["data"]["blocked"], false,
        "null resets to the column default"
    );
    assert_eq!(u["data"]["models"], json!(["gpt-4o"]));
    assert_eq!(u["data"]["metadata"], json!({"x": 1}));
    let (status, body) = s.post("/team/update", json!({"team_alias": "x"})).await;
    assert_eq!(
        (status, body["detail"][0]["type"].clone()),
        (422, json!("missing"))
    );
    let (status, body) = s.post("/team/update", json!({"team_id": "ghost"})).await;
    assert_eq!(
        (status, body),
        (
            404,
            err(
                404,
                "internal_server_error",
                "{'error': 'Team not found, passed team_id=ghost'}",
                "None".into()
            )
        )
    );

    let (status, body) = s.get("/team/info").await;
    assert_eq!(
        (status, body),
        (
            422,
            err(
                422,
                "auth_error",
                "{'message': 'Malformed request. No team id passed in.'}",
                "None".into()
            )
        )
    );
    let (status, body) = s.get("/team/info?team_id=ghost").await;
    assert_eq!(
        (status, body),
        (
            404,
            err(
                404,
                "auth_error",
                "{'message': 'Team not found, passed team id: ghost.'}",
                "None".into()
            )
        )
    );

    // /team/delete: all-or-nothing, FastAPI detail shape.
    let (status, body) = s
        .post("/team/delete", json!({"team_ids": [id, "ghost"]}))
        .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"detail": {"error": "Team not found, passed team_id=ghost"}})
        )
    );
    assert!(s.sb.litellm_store().team(&id).is_some(), "nothing deleted");
    let (status, body) = s.post("/team/delete", json!({})).await;
    assert_eq!(
        (status, body["detail"][0]["loc"].clone()),
        (422, json!(["body", "team_ids"]))
    );
    let (status, body) = s
        .post("/team/delete", json!({"team_ids": [id, "fixed-id"]}))
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"deleted_teams": [id, "fixed-id"]}))
    );
    let (status, _) = s.get(&format!("/team/info?team_id={id}")).await;
    assert_eq!(status, 404);
    let (_, info) = s
        .get(&format!("/key/info?key={}", key["token"].as_str().unwrap()))
        .await;
    assert_eq!(
        info["info"]["status"], "deleted",
        "team keys go with the team"
    );
    s.sb.shutdown().await;
}

#[tokio::test]
async fn store_handle_and_expiry() {
    let s = start().await;
    let g = s.generate(json!({"key_alias": "exp"})).await;
    let key = g["key"].as_str().unwrap();
    let past = time::format(time::now() - 1_000_000);
    s.sb.litellm_store()
        .mutate(|st| {
            st.keys.get_mut(g["token"].as_str().unwrap()).unwrap()["expires"] = past.clone().into()
        })
        .unwrap();
    let (_, info) = s.get(&format!("/key/info?key={key}")).await;
    assert_eq!(info["info"]["status"], "expired");
    let (status, body) = s.call(Method::GET, "/key/info", Some(key), None).await;
    assert_eq!(
        (status, body["error"]["type"].clone()),
        (401, json!("expired_key"))
    );
    let (_, body) = s.get("/key/list?expires=expired").await;
    assert_eq!(body["total_count"], 1);
    s.sb.shutdown().await;
}

#[tokio::test]
async fn state_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        state_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let s = start_with(config.clone()).await;
    let (_, team) = s
        .post("/team/new", json!({"team_alias": "persisted"}))
        .await;
    let g = s
        .generate(json!({"key_alias": "kept", "team_id": team["team_id"], "metadata": {"m": true}}))
        .await;
    let gone = s.generate(json!({"key_alias": "gone"})).await;
    s.post("/key/delete", json!({"key_aliases": ["gone"]}))
        .await;
    s.sb.shutdown().await;

    let file = std::fs::read_to_string(dir.path().join("litellm.json")).unwrap();
    assert!(
        !file.contains(g["key"].as_str().unwrap()),
        "plaintext keys are never stored"
    );
    // One state file per simulator (litellm, authentik, gitea, coder), no temporary file.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["authentik.json", "coder.json", "gitea.json", "litellm.json"],
        "no temporary files left"
    );

    let s = start_with(config).await;
    let key = g["key"].as_str().unwrap();
    let (status, info) = s.get(&format!("/key/info?key={key}")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["info"]["metadata"], json!({"m": true}));
    assert_eq!(info["info"]["team_id"], team["team_id"]);
    let (status, _) = s.call(Method::GET, "/key/info", Some(key), None).await;
    assert_eq!(status, 200, "the key still authenticates");
    let (_, t) = s
        .get(&format!(
            "/team/info?team_id={}",
            team["team_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(t["team_info"]["team_alias"], "persisted");
    let (_, info) = s
        .get(&format!(
            "/key/info?key={}",
            gone["token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(info["info"]["status"], "deleted");
    let (status, _) = s.post("/key/generate", json!({"key_alias": "kept"})).await;
    assert_eq!(status, 400, "aliases stay unique across restarts");
    s.sb.shutdown().await;
}

#[tokio::test]
async fn faults_error_rate() {
    let s = start_faulty("litellm:error_rate=1.0").await;
    let url = format!("{}/key/list", s.sb.litellm_url);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let res = s.http.get(&url).bearer_auth(MASTER).send().await.unwrap();
        let status = res.status().as_u16();
        assert!(status == 503 || status == 429, "{status}");
        if status == 429 {
            assert_eq!(res.headers()["retry-after"], "1");
        }
        seen.insert(status);
    }
    assert_eq!(seen.len(), 2, "both 503 and 429 occur");
    let (status, _) = s.call(Method::GET, "/health/liveliness", None, None).await;
    assert_eq!(status, 200, "health is exempt from error_rate");
    s.sb.shutdown().await;
}

#[tokio::test]
async fn faults_down_for_secs_then_up() {
    let s = start_faulty("litellm:down_for_secs=1").await;
    let (status, _) = s.call(Method::GET, "/health/liveliness", None, None).await;
    assert_eq!(status, 503);
    let (status, _) = s.get("/key/list").await;
    assert_eq!(status, 503);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        s.call(Method::GET, "/health/liveliness", None, None).await,
        (200, json!("I'm alive!"))
    );
    assert_eq!(s.get("/key/list").await.0, 200);
    s.sb.shutdown().await;
}

#[tokio::test]
async fn faults_drop_and_latency() {
    let s = start_faulty("litellm:drop_rate=1").await;
    let res = s
        .http
        .get(format!("{}/key/list", s.sb.litellm_url))
        .bearer_auth(MASTER)
        .send()
        .await;
    assert!(res.is_err(), "connection closed without an answer: {res:?}");
    s.sb.shutdown().await;

    let s = start_faulty("litellm:latency_ms=300").await;
    let t = Instant::now();
    assert_eq!(s.get("/key/list").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    s.sb.shutdown().await;
}

#[tokio::test]
async fn faults_commit_then_lose_the_answer() {
    // The handler runs (the team is stored), then the connection is closed.
    let s = start_faulty("litellm:commit_drop_rate=1").await;
    let res = s
        .http
        .post(format!("{}/team/new", s.sb.litellm_url))
        .bearer_auth(MASTER)
        .json(&json!({"team_id": "lost-1", "team_alias": "lost"}))
        .send()
        .await;
    assert!(res.is_err(), "answer lost: {res:?}");
    assert!(s.sb.litellm_store().snapshot().teams.contains_key("lost-1"));
    // Reads are not writes: answered normally.
    assert_eq!(s.get("/key/list").await.0, 200);
    s.sb.shutdown().await;

    // The handler runs, then a gateway answers 502 or 504.
    let s = start_faulty("litellm:commit_error_rate=1").await;
    let res = s
        .http
        .post(format!("{}/team/new", s.sb.litellm_url))
        .bearer_auth(MASTER)
        .json(&json!({"team_id": "lost-2", "team_alias": "lost"}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(res.status().as_u16(), 502 | 504),
        "{}",
        res.status()
    );
    assert!(s.sb.litellm_store().snapshot().teams.contains_key("lost-2"));
    s.sb.shutdown().await;
}

#[tokio::test]
async fn team_list_holds_every_team_with_its_alias() {
    let s = start().await;
    for (id, alias) in [("t-1", "ops"), ("t-2", "ops"), ("t-3", "dev")] {
        let (status, _) = s
            .post("/team/new", json!({"team_id": id, "team_alias": alias}))
            .await;
        assert_eq!(status, 200);
    }
    let (status, list) = s.get("/team/list").await;
    assert_eq!(status, 200);
    let rows = list.as_array().expect("a plain list of team rows");
    let ops: Vec<&str> = rows
        .iter()
        .filter(|t| t["team_alias"] == "ops")
        .map(|t| t["team_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops.len(),
        2,
        "LiteLLM keeps two teams with one alias: {rows:?}"
    );
    assert_eq!(rows.len(), 3);
    s.sb.shutdown().await;
}
