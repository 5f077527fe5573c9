//! The LiteLLM simulator's stored rows held to the proxy's Prisma schema after every write
//! (`webide_sandbox::contract::rows`): a full key/team/model lifecycle stores only well-formed
//! rows, and a malformed row is reported at the next write, naming model and column.

mod common;

use common::Sandbox;
use serde_json::{json, Value};
use webide_sandbox::contract::{Contract, Direction, Violation};

/// Whether the documents are there (the sandbox checks nothing without them; under CI
/// their absence already fails `start`).
fn have_specs() -> bool {
    Contract::specs_dir().is_dir()
}

fn stored(vs: &[Violation]) -> Vec<&Violation> {
    vs.iter()
        .filter(|v| v.direction == Direction::Stored)
        .collect()
}

async fn lifecycle(s: &Sandbox) {
    let ok = |(status, body): (u16, Value)| {
        assert_eq!(status, 200, "{body}");
        body
    };
    ok(s.post(
        "/team/new",
        json!({"team_id": "devs", "team_alias": "devs", "max_budget": 10, "models": ["gpt"],
               "metadata": {"owner": "ops"}, "rpm_limit": 100}),
    )
    .await);
    ok(s.post(
        "/team/member_add",
        json!({"team_id": "devs", "member": {"role": "user", "user_id": "ann"}}),
    )
    .await);
    let key = s
        .generate(
            json!({"key_alias": "ann", "user_id": "ann", "team_id": "devs",
                         "max_budget": 5, "model_rpm_limit": {"gpt": 3},
                         "metadata": {"purpose": "ci"}, "duration": "30d"}),
        )
        .await;
    let token = key["token"].as_str().unwrap().to_owned();
    ok(s.post(
        "/key/update",
        json!({"key": token, "metadata": {"purpose": "cd"}, "max_budget": null}),
    )
    .await);
    ok(s.post(
        "/team/update",
        json!({"team_id": "devs", "team_alias": "developers"}),
    )
    .await);
    let model = ok(s
        .post(
            "/model/new",
            json!({"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o",
                   "api_key": "sk-upstream"}}),
        )
        .await);
    let id = model["model_id"]
        .as_str()
        .or(model["model_info"]["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty(), "{model}");
    ok(s.post("/model/delete", json!({"id": id})).await);
    ok(s.post("/key/delete", json!({"keys": [token]})).await);
    ok(s.post("/team/delete", json!({"team_ids": ["devs"]})).await);
}

#[tokio::test]
async fn a_key_team_and_model_lifecycle_stores_rows_the_prisma_schema_accepts() {
    if !have_specs() {
        eprintln!("SKIPPED: no specs");
        return;
    }
    let s = common::start().await;
    lifecycle(&s).await;
    let found = s.sb.contract_violations();
    assert!(stored(&found).is_empty(), "{:#?}", stored(&found));
    let (checked, _) = s.sb.contract_counts().unwrap();
    assert!(checked >= 9, "{checked} exchanges checked");
}

#[tokio::test]
async fn a_row_that_breaks_its_prisma_model_is_reported_at_the_next_write() {
    if !have_specs() {
        eprintln!("SKIPPED: no specs");
        return;
    }
    let s = common::start().await;
    let (status, _) = s.post("/team/new", json!({"team_id": "ops"})).await;
    assert_eq!(status, 200);
    assert!(stored(&s.sb.take_contract_violations()).is_empty());
    s.sb.litellm_store()
        .mutate(|db| {
            let mut row = db.teams["ops"].clone();
            row["colour"] = json!("red");
            row["spend"] = json!("a lot");
            row.as_object_mut().unwrap().remove("metadata");
            db.teams.insert("ops".into(), row);
        })
        .unwrap();
    // The next write (here: one that fails) checks what changed since the last check.
    let (status, _) = s.post("/team/new", json!({"team_id": "ops"})).await;
    assert_eq!(status, 400);
    let found = s.sb.take_contract_violations();
    let mut at: Vec<(&str, &str)> = stored(&found)
        .iter()
        .map(|v| (v.pointer.as_str(), v.operation.as_str()))
        .collect();
    at.sort();
    assert_eq!(
        at,
        [
            ("LiteLLM_TeamTable.colour", "POST /team/new"),
            ("LiteLLM_TeamTable.metadata", "POST /team/new"),
            ("LiteLLM_TeamTable.spend", "POST /team/new"),
        ],
        "{found:#?}"
    );
    let spend = found
        .iter()
        .find(|v| v.pointer.ends_with(".spend"))
        .unwrap();
    assert!(spend.message.contains("is not a Float"), "{spend}");
    // Reads do not re-check, and an unchanged row is not reported twice.
    let (status, _) = s.get("/team/info?team_id=ops").await;
    assert_eq!(status, 200);
    let (status, _) = s.post("/team/new", json!({"team_id": "other"})).await;
    assert_eq!(status, 200);
    assert!(stored(&s.sb.take_contract_violations()).is_empty());
}
