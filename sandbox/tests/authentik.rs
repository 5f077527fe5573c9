//! Answer shapes of the Authentik simulator that the published client (authentik-client
//! 2026.2.2) relies on: embedded partial groups and users with their required fields, sha256
//! user uids, group membership actions, the generic provider serializer inside applications,
//! `include_*` switches and a complete `/admin/version/`.

mod common;

use common::start;
use reqwest::Method;
use serde_json::{json, Value};

struct Ak<'a> {
    s: &'a common::Sandbox,
}

impl Ak<'_> {
    async fn call(&self, m: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .s
            .http
            .request(m, format!("{}/api/v3{path}", self.s.sb.authentik_url))
            .bearer_auth(&self.s.sb.config.authentik_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, m: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(m, path, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {v}");
        v
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[tokio::test]
async fn users_and_groups_embed_partial_objects() {
    let s = start().await;
    let ak = Ak { s: &s };
    let g = ak
        .ok(Method::POST, "/core/groups/", Some(json!({"name": "devs"})))
        .await;
    let gpk = g["pk"].as_str().unwrap().to_string();
    let u = ak
        .ok(
            Method::POST,
            "/core/users/",
            Some(json!({"username": "ann", "name": "Ann", "groups": [gpk]})),
        )
        .await;
    let uid = u["uid"].as_str().unwrap();
    assert!(is_sha256_hex(uid), "uid is a sha256 hex string: {uid}");
    let admin = ak
        .ok(Method::GET, "/core/users/?username=akadmin", None)
        .await;
    assert_ne!(admin["results"][0]["uid"], u["uid"], "uids differ per user");
    // PartialGroup: pk, num_pk (first five digits of the uuid as an integer), name.
    let pg = &u["groups_obj"][0];
    let expected = uuid::Uuid::parse_str(&gpk).unwrap().as_u128().to_string()[..5]
        .parse::<i64>()
        .unwrap();
    assert_eq!(pg["num_pk"], json!(expected), "{pg}");
    assert_eq!(pg["name"], "devs");
    assert_eq!(g["num_pk"], json!(expected));
    // PartialUser: pk, username, name, uid.
    let g = ak
        .ok(Method::GET, &format!("/core/groups/{gpk}/"), None)
        .await;
    let pu = &g["users_obj"][0];
    assert_eq!(pu["uid"], u["uid"], "{pu}");
    assert_eq!(pu["username"], "ann");
    assert!(pu.get("last_login").is_some());
    // Children and parents only when asked for; users unless include_users=false.
    assert_eq!(g["children_obj"], Value::Null);
    assert_eq!(g["parents_obj"], Value::Null);
    let g2 = ak
        .ok(
            Method::GET,
            &format!("/core/groups/{gpk}/?include_users=false&include_children=true"),
            None,
        )
        .await;
    assert_eq!(g2["users_obj"], Value::Null);
    assert_eq!(g2["users"], json!([u["pk"]]), "the pk list stays");
    assert_eq!(g2["children_obj"], json!([]));
    let list = ak
        .ok(Method::GET, "/core/groups/?include_users=false", None)
        .await;
    assert!(list["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["users_obj"].is_null()));
    let users = ak
        .ok(Method::GET, "/core/users/?include_groups=false", None)
        .await;
    assert!(users["results"][0]["groups_obj"].is_null());
    s.sb.shutdown().await;
}

#[tokio::test]
async fn group_membership_actions_answer_204() {
    let s = start().await;
    let ak = Ak { s: &s };
    let g = ak
        .ok(Method::POST, "/core/groups/", Some(json!({"name": "ops"})))
        .await;
    let gpk = g["pk"].as_str().unwrap();
    let u = ak
        .ok(
            Method::POST,
            "/core/users/",
            Some(json!({"username": "bob", "name": "Bob"})),
        )
        .await;
    let add = format!("/core/groups/{gpk}/add_user/");
    assert_eq!(
        ak.call(Method::POST, &add, Some(json!({"pk": u["pk"]})))
            .await,
        (204, Value::Null)
    );
    let g = ak
        .ok(Method::GET, &format!("/core/groups/{gpk}/"), None)
        .await;
    assert_eq!(g["users"], json!([u["pk"]]));
    // Adding twice is harmless (a set).
    assert_eq!(
        ak.call(Method::POST, &add, Some(json!({"pk": u["pk"]})))
            .await
            .0,
        204
    );
    let (status, body) = ak.call(Method::POST, &add, Some(json!({"pk": 9999}))).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
    let (status, body) = ak.call(Method::POST, &add, Some(json!({}))).await;
    assert_eq!(status, 400);
    assert_eq!(body["pk"], json!(["This field is required."]));
    let (status, _) = ak
        .call(
            Method::POST,
            "/core/groups/00000000-0000-0000-0000-000000000000/add_user/",
            Some(json!({"pk": u["pk"]})),
        )
        .await;
    assert_eq!(status, 404);
    let remove = format!("/core/groups/{gpk}/remove_user/");
    assert_eq!(
        ak.call(Method::POST, &remove, Some(json!({"pk": u["pk"]})))
            .await,
        (204, Value::Null)
    );
    let g = ak
        .ok(Method::GET, &format!("/core/groups/{gpk}/"), None)
        .await;
    assert_eq!(g["users"], json!([]));
    s.sb.shutdown().await;
}

#[tokio::test]
async fn applications_embed_the_generic_provider() {
    let s = start().await;
    let ak = Ak { s: &s };
    let flow = ak
        .ok(
            Method::GET,
            "/flows/instances/default-provider-invalidation-flow/",
            None,
        )
        .await;
    let p = ak
        .ok(
            Method::POST,
            "/providers/oauth2/",
            Some(json!({"name": "coder", "authorization_flow": flow["pk"], "invalidation_flow": flow["pk"],
                        "redirect_uris": [{"matching_mode": "strict", "url": "https://c/cb"}]})),
        )
        .await;
    let secret = p["client_secret"].as_str().unwrap().to_string();
    let app = ak
        .ok(
            Method::POST,
            "/core/applications/",
            Some(json!({"name": "Coder", "slug": "coder", "provider": p["pk"]})),
        )
        .await;
    let po = app["provider_obj"].as_object().unwrap();
    for f in [
        "client_id",
        "client_secret",
        "redirect_uris",
        "signing_key",
        "sub_mode",
    ] {
        assert!(!po.contains_key(f), "provider_obj has OAuth2 field {f}");
    }
    assert!(
        !app.to_string().contains(&secret),
        "the client secret is not embedded"
    );
    assert_eq!(po["name"], "coder");
    assert_eq!(po["assigned_application_slug"], "coder");
    assert_eq!(po["component"], "ak-provider-oauth2-form");
    assert_eq!(app["meta_icon"], "", "meta_icon is a non-null string");
    let v = ak.ok(Method::GET, "/admin/version/", None).await;
    for f in [
        "version_current",
        "version_latest",
        "version_latest_valid",
        "build_hash",
        "outdated",
        "outpost_outdated",
    ] {
        assert!(v.get(f).is_some(), "/admin/version/ lacks {f}: {v}");
    }
    s.sb.shutdown().await;
}
