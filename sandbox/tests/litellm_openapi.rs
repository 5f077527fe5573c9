//! Responses of the LiteLLM simulator against the upstream OpenAPI document
//! (`litellm-openapi-1.106.2.json` in `$WEBIDE_SPECS_DIR`, default
//! `../shared/specs` next to the workspace). Skipped when it is absent; a failure under `CI`.

mod common;

use std::path::PathBuf;

use serde_json::{json, Value};

fn spec() -> Option<Value> {
    let dir = std::env::var_os("WEBIDE_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/specs"))
        });
    let path = dir.join("litellm-openapi-1.106.2.json");
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).expect("the OpenAPI document parses")),
        Err(e) => {
            // Under CI the documents are part of the checkout's surroundings: their absence
            // is a failure, never a silent skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "{} not readable under CI ({e}); set WEBIDE_SPECS_DIR",
                path.display()
            );
            eprintln!(
                "SKIPPED: {} not readable ({e}); set WEBIDE_SPECS_DIR",
                path.display()
            );
            None
        }
    }
}

/// The component schema of `path`'s `method` answer for `status`, if it has one.
fn response_schema<'a>(
    spec: &'a Value,
    path: &str,
    method: &str,
    status: &str,
) -> Option<&'a Value> {
    let schema =
        &spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    Some(&spec["components"]["schemas"][name])
}

/// Checks `body` has every required property of `schema`, and (when `all`) every declared one.
fn check(what: &str, schema: &Value, body: &Value, all: bool) {
    let names = |key: &str| -> Vec<String> {
        match key {
            "required" => schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect(),
        }
    };
    for name in names("required") {
        assert!(
            body.get(&name).is_some(),
            "{what}: required property {name:?} missing from {body}"
        );
    }
    if all {
        let missing: Vec<String> = names("properties")
            .into_iter()
            .filter(|n| body.get(n).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "{what}: declared properties missing: {missing:?}"
        );
    }
}

#[tokio::test]
async fn responses_match_the_openapi_document() {
    let Some(spec) = spec() else { return };
    let s = common::start().await;

    let (status, generated) = s
        .post("/key/generate", json!({"key_alias": "openapi"}))
        .await;
    assert_eq!(status, 200);
    let schema = response_schema(&spec, "/key/generate", "post", "200")
        .expect("/key/generate has a response schema");
    assert!(schema["required"].as_array().is_some_and(|r| !r.is_empty()));
    check("/key/generate", schema, &generated, true);

    let token = generated["token"].as_str().unwrap();
    let (status, info) = s.get(&format!("/key/info?key={token}")).await;
    assert_eq!(status, 200);
    match response_schema(&spec, "/key/info", "get", "200") {
        Some(schema) => check("/key/info", schema, &info, false),
        None => eprintln!("NOTE: the OpenAPI document gives /key/info no response schema; checked the documented shape only"),
    }
    assert!(info["key"].is_string() && info["info"].is_object());

    let (status, team) = s.post("/team/new", json!({"team_alias": "openapi"})).await;
    assert_eq!(status, 200);
    let schema = response_schema(&spec, "/team/new", "post", "200")
        .expect("/team/new has a response schema");
    check("/team/new", schema, &team, true);

    // 422 bodies follow HTTPValidationError / ValidationError.
    let (status, invalid) = s.post("/key/generate", json!({"max_budget": "x"})).await;
    assert_eq!(status, 422);
    let item_schema = &spec["components"]["schemas"]["ValidationError"];
    for item in invalid["detail"].as_array().unwrap() {
        check("422 detail item", item_schema, item, false);
    }
    s.sb.shutdown().await;
}
