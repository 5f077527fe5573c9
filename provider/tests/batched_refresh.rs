//! Batched refresh of LiteLLM keys against the sandbox: 250 reads cost the pages of one
//! `/key/list`, a key deleted by hand is still reported gone, a change by hand after the list
//! is not hidden once this process writes, and a list entry without a read-back field falls
//! back to `/key/info`.

use serde_json::{json, Value as Json};
use webide_provider::framework::StopSource;
use webide_provider::http::TlsOptions;
use webide_provider::litellm::{token_of, Client};
use webide_provider::provider::ServiceConfig;
use webide_sandbox::{Ports, SandboxConfig};

const FIELDS: &[&str] = &["key_alias", "max_budget", "metadata", "models"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_served_from_one_paged_list() {
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default())
        .await
        .unwrap();
    let stop = StopSource::new();
    let config = ServiceConfig {
        url: sb.litellm_url.clone(),
        secret: sb.config.litellm_master_key.clone(),
        tls: TlsOptions::default(),
    };
    let client = Client::new(&config, stop.token()).unwrap();
    let n = 250;
    let mut tokens = Vec::new();
    for i in 0..n {
        let key = format!("sk-batch-refresh-{i:04}");
        client
            .generate(&json!({"key": key, "key_alias": format!("batch-{i}"), "max_budget": 5}))
            .await
            .unwrap();
        tokens.push(token_of(&key));
    }

    let before = sb.requests("litellm");
    for t in &tokens {
        let row = client.key_row_batched(t, FIELDS).await.unwrap().unwrap();
        assert_eq!(row["token"], Json::String(t.clone()));
    }
    let used = sb.requests("litellm") - before;
    assert_eq!(used, 3, "{n} reads: 3 pages of 100, no single GET");

    // Deleted by hand after the list: a read of an unlisted key asks /key/info (404 -> gone).
    sb.litellm_store()
        .mutate(|db| db.keys.remove(&tokens[0]))
        .unwrap();
    let gone = token_of("sk-never-made");
    assert!(client
        .key_row_batched(&gone, FIELDS)
        .await
        .unwrap()
        .is_none());

    // A write by this process invalidates: the next read lists again and sees the server.
    client
        .update_key(&json!({"key": tokens[1], "max_budget": 7}))
        .await
        .unwrap();
    let before = sb.requests("litellm");
    assert!(
        client
            .key_row_batched(&tokens[0], FIELDS)
            .await
            .unwrap()
            .is_none(),
        "deleted by hand: gone after the re-list and the /key/info fallback"
    );
    let row = client
        .key_row_batched(&tokens[1], FIELDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row["max_budget"], json!(7.0));
    assert_eq!(
        sb.requests("litellm") - before,
        3 + 1,
        "re-list + one /key/info"
    );

    // A field the list does not carry: every read falls back to /key/info.
    let before = sb.requests("litellm");
    let row = client
        .key_row_batched(&tokens[2], &["key_alias", "not_in_list"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row["key_alias"], "batch-2");
    assert_eq!(sb.requests("litellm") - before, 1);
}
