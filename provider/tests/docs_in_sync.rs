//! The committed docs/ pages equal what the schemas generate.

use std::path::Path;

use webide_provider::docs;
use webide_provider::provider::WebideProvider;

#[test]
fn docs_match_the_schemas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pages = docs::render(WebideProvider, &root.join("examples"));
    assert!(pages.contains_key("resources/litellm_key.md"));
    let stale = docs::write_or_check(&pages, &root.join("docs"), true).unwrap();
    assert!(
        stale.is_empty(),
        "stale docs: {stale:?}; run `cargo run -p terraform-provider-webide -- docs` from the repository root"
    );
}

#[test]
fn every_attribute_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pages = docs::render(WebideProvider, &root.join("examples"));
    let page = &pages["resources/litellm_key.md"];
    for attr in [
        "key_alias",
        "metadata",
        "max_budget",
        "blocked",
        "key",
        "id",
        "expires",
    ] {
        assert!(
            page.contains(&format!("- `{attr}`")),
            "{attr} missing from the page"
        );
    }
    assert!(page.contains("`key` (String, Sensitive)"));
}
