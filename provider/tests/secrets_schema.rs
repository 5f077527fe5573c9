//! Secrets in state live only in attributes marked sensitive: every attribute whose name says
//! it holds a secret (password, token, secret, private key, the key itself) is `sensitive` in
//! its schema, for every resource, data source and the provider configuration. Names that only
//! look like secrets are listed with the reason they are not.

use webide_provider::framework::Provider;
use webide_provider::protocol::schema::Block;
use webide_provider::provider::WebideProvider;

/// Attributes whose names match but hold no secret.
const NOT_SECRETS: &[(&str, &str)] = &[
    (
        "webide_litellm_key.id",
        "the SHA-256 token id LiteLLM shows everywhere; used for import",
    ),
    (
        "webide_litellm_key.key_name",
        "the abbreviated key (sk-...abcd)",
    ),
    ("webide_litellm_key.key_alias", "a human name"),
    (
        "webide_litellm_key.key_type",
        "what the key may call (llm_api, management, ...)",
    ),
    (
        "data.webide_litellm_key.key_type",
        "what the key may call (llm_api, management, ...)",
    ),
    ("data.webide_litellm_key.id", "token id"),
    ("data.webide_litellm_key.key_name", "abbreviated key"),
    ("data.webide_litellm_key.key_alias", "a human name"),
    (
        "data.webide_litellm_key.key",
        "the key or token id the lookup is made with",
    ),
    (
        "webide_authentik_oauth2_provider.access_token_validity",
        "a duration such as minutes=5",
    ),
    (
        "webide_tls_certificate.key_algorithm",
        "the name of an algorithm (ECDSA_P256)",
    ),
];

fn looks_secret(name: &str) -> bool {
    let n = name.to_lowercase();
    n.contains("password")
        || n.contains("secret")
        || n.contains("token")
        || n == "key"
        || n.contains("master_key")
        || n.contains("private")
        || n.starts_with("key_")
        || n.ends_with("_key") && !n.ends_with("signing_key")
}

fn check(prefix: &str, b: &Block, bad: &mut Vec<String>) {
    for a in &b.attributes {
        let full = format!("{prefix}.{}", a.name);
        let allowed = NOT_SECRETS.iter().any(|(n, _)| *n == full);
        // Booleans and numbers hold no secret (`private`, `must_change_password`).
        let textual = a.ty.to_string().contains("string");
        if textual && looks_secret(&a.name) && !a.sensitive && !allowed {
            bad.push(full);
        }
    }
    for nb in &b.blocks {
        check(&format!("{prefix}.{}", nb.name), &nb.block, bad);
    }
}

#[test]
fn secret_attributes_are_sensitive() {
    let p = WebideProvider;
    let mut bad = Vec::new();
    check("provider", &p.schema().block, &mut bad);
    for r in p.resources() {
        check(r.type_name(), &r.schema().block, &mut bad);
    }
    for d in p.data_sources() {
        check(
            &format!("data.{}", d.type_name()),
            &d.schema().block,
            &mut bad,
        );
    }
    assert!(
        bad.is_empty(),
        "secret-looking attributes not marked sensitive: {bad:?}"
    );
    // And the ones that must be: spot checks.
    let sensitive = |t: &str, a: &str| {
        p.resources()
            .iter()
            .find(|r| r.type_name() == t)
            .and_then(|r| r.schema().block.attribute(a).map(|x| x.sensitive))
            .unwrap_or(false)
    };
    for (t, a) in [
        ("webide_litellm_key", "key"),
        ("webide_gitea_user", "password"),
        ("webide_authentik_user", "password"),
        ("webide_authentik_oauth2_provider", "client_secret"),
        ("webide_coder_user", "password"),
        ("webide_compose_service", "sensitive_env"),
        ("webide_compose_image", "registry_password"),
    ] {
        assert!(sensitive(t, a), "{t}.{a} is sensitive");
    }
}
