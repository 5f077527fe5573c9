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

    // A field the list does not carry: the read falls back to /key/info.
    let before = sb.requests("litellm");
    let row = client
        .key_row_batched(&tokens[2], &["key_alias", "not_in_list"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row["key_alias"], "batch-2");
    assert_eq!(sb.requests("litellm") - before, 1);

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

    // A write by this process invalidates: later reads ask the server one by one.
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
        "deleted by hand: gone (/key/info answers 404)"
    );
    let row = client
        .key_row_batched(&tokens[1], FIELDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row["max_budget"], json!(7.0));
    assert_eq!(
        sb.requests("litellm") - before,
        2,
        "after a write: one /key/info per read, never a second list"
    );
}

/// Requests the sandbox's `service` answers while `f` runs.
async fn counted<F: std::future::Future<Output = ()>>(
    sb: &webide_sandbox::RunningSandbox,
    service: &str,
    f: F,
) -> u64 {
    let before = sb.requests(service);
    f.await;
    sb.requests(service) - before
}

fn service(url: &str, secret: &str) -> ServiceConfig {
    ServiceConfig {
        url: url.to_string(),
        secret: secret.to_string(),
        tls: TlsOptions::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_authentik_coder_users_are_read_from_one_list() {
    use webide_provider::protocol::diagnostics::Diagnostics;
    use webide_provider::protocol::value::Value;
    use webide_provider::provider::Slot;

    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default())
        .await
        .unwrap();
    let stop = StopSource::new();
    let n = 120;

    // Gitea: pages of 50 from /admin/users (the admin plus 120 users: 3 pages).
    let mut block = webide_provider::gitea::block().null_object();
    block.set("url", Value::string(&sb.gitea_url));
    block.set("token", Value::string(&sb.config.gitea_admin_token));
    let config = Value::Object([("gitea".to_string(), block)].into_iter().collect());
    let mut diags = Diagnostics::new();
    let Slot::Ready(gitea) = webide_provider::gitea::configure(&config, &stop.token(), &mut diags)
    else {
        panic!("gitea client: {diags:?}");
    };
    for i in 0..n {
        gitea
            .create_user(
                &json!({"username": format!("bu{i}"), "email": format!("bu{i}@example.com"),
                                 "password": "password123", "must_change_password": false}),
            )
            .await
            .unwrap();
    }
    let fields = ["id", "login", "email", "is_admin", "restricted"];
    let used = counted(&sb, "gitea", async {
        for i in 0..n {
            let u = gitea
                .user_batched(&format!("BU{i}"), &fields)
                .await
                .unwrap();
            assert_eq!(u.unwrap()["login"], format!("bu{i}"), "case-insensitive");
        }
        assert!(gitea
            .user_batched("nobody", &fields)
            .await
            .unwrap()
            .is_none());
    })
    .await;
    assert_eq!(used, 3 + 1, "3 pages + one GET for the unlisted user");

    // Authentik: pages of 100 from /core/users/.
    let ak = webide_provider::authentik::Client::new(
        &service(&sb.authentik_url, &sb.config.authentik_token),
        stop.token(),
    )
    .unwrap();
    let mut pks = Vec::new();
    for i in 0..n {
        let u = ak
            .create(
                webide_provider::authentik::USERS,
                &json!({"username": format!("au{i}"), "name": format!("A {i}")}),
            )
            .await
            .unwrap();
        pks.push(u["pk"].as_i64().unwrap());
    }
    let fields = ["pk", "username", "name", "is_active", "groups"];
    let used = counted(&sb, "authentik", async {
        for (i, pk) in pks.iter().enumerate() {
            let u = ak.user_batched(*pk, &fields).await.unwrap().unwrap();
            assert_eq!(u["username"], format!("au{i}"));
        }
    })
    .await;
    assert!(used <= 3, "{used} requests for {n} reads");
    // A write invalidates: a user changed through the client is read back changed.
    ak.patch(
        webide_provider::authentik::USERS,
        &pks[0].to_string(),
        &json!({"name": "renamed"}),
    )
    .await
    .unwrap();
    let u = ak.user_batched(pks[0], &fields).await.unwrap().unwrap();
    assert_eq!(u["name"], "renamed");

    // Coder: pages of 100 from /users.
    let coder = webide_provider::coder::Client::new(
        &service(&sb.coder_url, &sb.config.coder_session_token),
        stop.token(),
    )
    .unwrap();
    let org = sb
        .coder_store()
        .snapshot()
        .orgs
        .keys()
        .next()
        .cloned()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let u = coder
            .send(
                reqwest::Method::POST,
                "/users",
                &json!({"username": format!("cu{i}"), "email": format!("cu{i}@example.com"),
                        "password": "password123", "organization_ids": [org]}),
                false,
            )
            .await
            .unwrap();
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    // Deleted by hand: still answered by the single GET (404 -> gone) once the list is new.
    sb.coder_store()
        .mutate(|st| st.users.remove(&ids[1]))
        .unwrap();
    let fields = ["id", "username", "email", "roles", "status"];
    let used = counted(&sb, "coder", async {
        for (i, id) in ids.iter().enumerate() {
            let u = coder.user_batched(id, &fields).await.unwrap();
            if i == 1 {
                assert!(u.is_none(), "a user deleted outside Terraform is gone");
            } else {
                assert_eq!(u.unwrap()["username"], format!("cu{i}"));
            }
        }
    })
    .await;
    assert_eq!(used, 2 + 1, "2 pages of 100 + one GET for the deleted user");
}
