//! The ephemeral resources against the sandbox, without Terraform: the LiteLLM key is made
//! with the marker and a duration, renewed (its expiry moves), deleted on close; the Gitea
//! token authenticates as its user until closed, a second close is no error, and a provider
//! signed in to Gitea with a token gets the diagnostic naming the fix.

use webide_provider::framework::ephemeral::OpenError;
use webide_provider::framework::{EphemeralResource, Provider, StopSource};
use webide_provider::gitea::token::EphemeralToken;
use webide_provider::litellm::ephemeral_key::EphemeralKey;
use webide_provider::litellm::token_of;
use webide_provider::protocol::value::Value;
use webide_provider::provider::{Clients, WebideProvider};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

/// The provider block `name` (every attribute null, as Terraform sends it) with `pairs` set.
fn block(name: &str, pairs: &[(&str, &str)]) -> Value {
    let schema = WebideProvider.schema();
    let nested = schema.block.blocks.iter().find(|b| b.name == name);
    let mut b = nested.expect("provider block").block.null_object();
    for (k, v) in pairs {
        b.set(k, Value::string(*v));
    }
    b
}

async fn clients(sb: &RunningSandbox, gitea: Value) -> Clients {
    let p = WebideProvider;
    let mut config = p.schema().block.null_object();
    config.set(
        "litellm",
        block(
            "litellm",
            &[
                ("url", &sb.litellm_url),
                ("master_key", &sb.config.litellm_master_key),
            ],
        ),
    );
    config.set("gitea", gitea);
    match p.configure(&config, StopSource::new().token()).await {
        Ok(c) => c,
        Err(d) => panic!("configure: {d:?}"),
    }
}

fn config_of(r: &dyn EphemeralResource<Clients>, pairs: &[(&str, Value)]) -> Value {
    let mut c = r.schema().block.null_object();
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_key_is_made_renewed_and_deleted() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default())
        .await
        .unwrap();
    let c = clients(&sb, Value::Null).await;
    let config = config_of(
        &EphemeralKey,
        &[
            ("duration", Value::string("1h")),
            ("metadata", Value::string_map([("purpose", "test")])),
        ],
    );
    let opened = EphemeralKey.open(&c, &config).await.expect("open");
    let key = opened.result.get("key").as_str().unwrap().to_string();
    let token = token_of(&key);
    assert_eq!(opened.result.get("id").as_str(), Some(token.as_str()));
    assert!(!opened.private.is_empty());
    assert!(
        !String::from_utf8_lossy(&opened.private).contains(&key),
        "the secret is not in private data"
    );
    let renew_at = opened.renew_at.expect("renew_at");
    let in_secs = renew_at
        .duration_since(std::time::SystemTime::now())
        .unwrap()
        .as_secs();
    assert!(
        (2800..=2880).contains(&in_secs),
        "renew at 4/5 of 1h: {in_secs}s"
    );
    let store = sb.litellm_store();
    let row = store.key(&token).expect("the key exists");
    assert_eq!(
        row["metadata"]["webide_ephemeral"],
        "terraform-provider-webide"
    );
    assert_eq!(row["metadata"]["purpose"], "test");
    let expires = row["expires"].as_str().expect("an expiry").to_string();

    std::thread::sleep(std::time::Duration::from_millis(1100));
    let renewed = EphemeralKey
        .renew(&c, &opened.private)
        .await
        .expect("renew");
    assert!(renewed.renew_at.is_some());
    let later = store.key(&token).unwrap()["expires"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        later > expires,
        "renew moved the expiry: {expires} -> {later}"
    );

    EphemeralKey
        .close(&c, &opened.private)
        .await
        .expect("close");
    assert!(sb.litellm_store().snapshot().keys.get(&token).is_none());
    assert!(sb
        .litellm_store()
        .snapshot()
        .deleted_keys
        .get(&token)
        .is_some());
    // Closing again (already gone) is no error.
    EphemeralKey
        .close(&c, &opened.private)
        .await
        .expect("second close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_token_authenticates_until_closed() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default())
        .await
        .unwrap();
    let cfg = &sb.config;
    let basic = block(
        "gitea",
        &[
            ("url", &sb.gitea_url),
            ("username", &cfg.gitea_admin_username),
            ("password", &cfg.gitea_admin_password),
        ],
    );
    let c = clients(&sb, basic).await;
    let config = config_of(
        &EphemeralToken,
        &[
            ("username", Value::string(&cfg.gitea_admin_username)),
            ("scopes", Value::string_list(["read:user"])),
        ],
    );
    let opened = EphemeralToken.open(&c, &config).await.expect("open");
    let token = opened.result.get("token").as_str().unwrap().to_string();
    assert_eq!(token.len(), 40);
    assert!(opened
        .result
        .get("name")
        .as_str()
        .unwrap()
        .starts_with("webide-ephemeral-"));
    assert_eq!(
        opened.result.get("token_last_eight").as_str(),
        Some(&token[32..])
    );
    let http = reqwest::Client::new();
    let whoami = |t: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/user", sb.gitea_url);
        async move {
            http.get(url)
                .header("Authorization", format!("token {t}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(whoami(token.clone()).await, 200);
    EphemeralToken
        .close(&c, &opened.private)
        .await
        .expect("close");
    assert_eq!(whoami(token.clone()).await, 401);
    assert!(sb.gitea_store().snapshot().tokens.is_empty());
    EphemeralToken
        .close(&c, &opened.private)
        .await
        .expect("second close");

    // Signed in with a token: Gitea would refuse; the provider says why before asking.
    let with_token = clients(
        &sb,
        block(
            "gitea",
            &[("url", &sb.gitea_url), ("token", &cfg.gitea_admin_token)],
        ),
    )
    .await;
    match EphemeralToken.open(&with_token, &config).await {
        Err(OpenError::Failed(d)) => assert_eq!(
            d.0[0].summary,
            "Gitea access tokens need basic authentication"
        ),
        Err(e) => panic!("expected the basic-auth diagnostic, got {e:?}"),
        Ok(_) => panic!("opened a token although signed in with a token"),
    }
}
