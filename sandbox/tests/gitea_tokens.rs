//! Gitea simulator: personal access tokens (`/users/{username}/tokens`) as Gitea 1.25 serves
//! them: basic auth with a password only, self or site admin, the answer's shape, unique
//! names, scopes, deletion by id or name, and tokens that authenticate later calls within
//! their scopes.

mod common;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct G {
    s: common::Sandbox,
    url: String,
}

enum Auth<'a> {
    Basic(&'a str, &'a str),
    Token(&'a str),
}

impl G {
    async fn start() -> G {
        let s = common::start().await;
        let url = format!("{}/api/v1", s.sb.gitea_url);
        G { s, url }
    }

    fn admin(&self) -> Auth<'_> {
        Auth::Basic(
            &self.s.sb.config.gitea_admin_username,
            &self.s.sb.config.gitea_admin_password,
        )
    }

    async fn call(
        &self,
        m: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let header = match auth {
            Auth::Basic(u, p) => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            ),
            Auth::Token(t) => format!("token {t}"),
        };
        let mut req = self
            .s
            .http
            .request(m, format!("{}{path}", self.url))
            .header("Authorization", header);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn make_user(&self, name: &str) {
        let token = self.s.sb.config.gitea_admin_token.clone();
        let (st, body) = self
            .call(
                Method::POST,
                "/admin/users",
                Auth::Token(&token),
                Some(json!({"username": name, "email": format!("{name}@example.com"), "password": "password123", "must_change_password": false})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
}

#[tokio::test]
async fn tokens_are_made_listed_used_and_deleted() {
    let g = G::start().await;
    g.make_user("dev1").await;
    let admin_token = g.s.sb.config.gitea_admin_token.clone();

    // Token auth (even the admin's) is refused: Gitea wants a password here.
    let (st, body) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            Auth::Token(&admin_token),
            Some(json!({"name": "t1", "scopes": ["read:repository"]})),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["message"], "auth required");

    // A site admin with a password makes a token for another user; the answer has the
    // secret once, in `sha1`.
    let (st, made) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            g.admin(),
            Some(json!({"name": "t1", "scopes": ["read:repository", "read:user"]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    let secret = made["sha1"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 40);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(made["token_last_eight"], secret[32..]);
    assert_eq!(made["name"], "t1");
    assert_eq!(made["scopes"], json!(["read:repository", "read:user"]));
    let id = made["id"].as_i64().unwrap();

    // Names are unique per user; scopes must be valid and not empty; name is required.
    for (body, status, msg) in [
        (
            json!({"name": "t1", "scopes": ["all"]}),
            StatusCode::BAD_REQUEST,
            "access token name has been used already",
        ),
        (
            json!({"name": "t2", "scopes": ["read:repo"]}),
            StatusCode::BAD_REQUEST,
            "invalid access token scope provided",
        ),
        (
            json!({"name": "t2", "scopes": []}),
            StatusCode::BAD_REQUEST,
            "access token must have a scope",
        ),
        (
            json!({"scopes": ["all"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "[Name]: Required",
        ),
    ] {
        let (st, answer) = g
            .call(
                Method::POST,
                "/users/dev1/tokens",
                g.admin(),
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, status, "{body} -> {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(msg),
            "{answer}"
        );
    }

    // Unknown user: 404. A user other than the caller, not an admin: 403.
    let (st, _) = g
        .call(
            Method::POST,
            "/users/nobody/tokens",
            g.admin(),
            Some(json!({"name": "x", "scopes": ["all"]})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    g.make_user("dev2").await;
    let (st, body) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            Auth::Basic("dev2", "password123"),
            Some(json!({"name": "x", "scopes": ["all"]})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    // A user makes their own with their password.
    let (st, own) = g
        .call(
            Method::POST,
            "/users/dev2/tokens",
            Auth::Basic("dev2", "password123"),
            Some(json!({"name": "mine", "scopes": ["write:repository", "read:repository"]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    assert_eq!(own["scopes"], json!(["write:repository"]));

    // The token authenticates as its user, within its scopes.
    let (st, me) = g
        .call(Method::GET, "/user", Auth::Token(&secret), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "dev1");
    let (st, body) = g
        .call(Method::GET, "/admin/users", Auth::Token(&secret), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("required=[read:admin]"),
        "{body}"
    );
    let (st, body) = g
        .call(
            Method::POST,
            "/user/repos",
            Auth::Token(&secret),
            Some(json!({"name": "r"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    // It cannot make more tokens: its scopes lack write:user (checked first, as Gitea's
    // outer tokenRequiresScopes), and even a token with every scope is not a password.
    let (st, _) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            Auth::Token(&secret),
            Some(json!({"name": "more", "scopes": ["all"]})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, all) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            g.admin(),
            Some(json!({"name": "every", "scopes": ["all"]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{all}");
    let every = all["sha1"].as_str().unwrap().to_string();
    let (st, body) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            Auth::Token(&every),
            Some(json!({"name": "more", "scopes": ["all"]})),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    let (st, _) = g
        .call(Method::DELETE, "/users/dev1/tokens/every", g.admin(), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    // Listed without the secret.
    let (st, list) = g
        .call(Method::GET, "/users/dev1/tokens", g.admin(), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["sha1"], "");

    // Deleted by id (then 404), by name, and gone for authentication.
    let (st, _) = g
        .call(
            Method::DELETE,
            &format!("/users/dev1/tokens/{id}"),
            g.admin(),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = g
        .call(
            Method::DELETE,
            &format!("/users/dev1/tokens/{id}"),
            g.admin(),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = g
        .call(Method::GET, "/user", Auth::Token(&secret), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = g
        .call(
            Method::DELETE,
            "/users/dev2/tokens/mine",
            Auth::Basic("dev2", "password123"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, list) = g
        .call(Method::GET, "/users/dev2/tokens", g.admin(), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn access_token_answer_matches_the_spec() {
    let Ok(text) = std::fs::read_to_string(
        std::env::var_os("WEBIDE_SPECS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/specs").into())
            .join("gitea-swagger.json"),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "gitea-swagger.json not readable under CI"
        );
        eprintln!("SKIPPED: gitea-swagger.json not readable; set WEBIDE_SPECS_DIR");
        return;
    };
    let spec: Value = serde_json::from_str(&text).unwrap();
    let props = spec["definitions"]["AccessToken"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    let g = G::start().await;
    g.make_user("dev1").await;
    let (st, made) = g
        .call(
            Method::POST,
            "/users/dev1/tokens",
            g.admin(),
            Some(json!({"name": "t", "scopes": ["all"]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, list) = g
        .call(Method::GET, "/users/dev1/tokens", g.admin(), None)
        .await;
    for body in [&made, &list[0]] {
        for k in body.as_object().unwrap().keys() {
            assert!(
                props.contains_key(k),
                "{k} is not in the spec's AccessToken"
            );
        }
        for k in ["id", "name", "sha1", "token_last_eight", "scopes"] {
            assert!(body.get(k).is_some(), "{k} missing in {body}");
        }
    }
    // The spec's operations exist with these methods.
    assert!(spec["paths"]["/users/{username}/tokens"]["post"].is_object());
    assert!(spec["paths"]["/users/{username}/tokens/{token}"]["delete"].is_object());
}
