//! Proof that the checks catch a wrong request and a wrong answer (against the real upstream
//! documents; skipped with a message when they are absent, a failure under `CI`), and unit
//! tests of the validator.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::schema::{format_ok, Direction, Validator};
use super::*;

fn contract() -> Option<Arc<Contract>> {
    match Contract::shared().expect("the documents parse") {
        Some(c) => Some(c),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} absent under CI",
                Contract::specs_dir().display()
            );
            eprintln!(
                "SKIPPED: {} absent; set WEBIDE_SPECS_DIR",
                Contract::specs_dir().display()
            );
            None
        }
    }
}

fn checker(service: &'static str) -> Option<Checker> {
    contract().map(|c| c.checker(service, Log::default()).expect("service known"))
}

fn pointers(vs: &[Violation]) -> Vec<(Direction, &str)> {
    vs.iter()
        .map(|v| (v.direction, v.pointer.as_str()))
        .collect()
}

#[test]
fn a_wrong_request_is_caught() {
    let Some(gitea) = checker("gitea") else {
        return;
    };
    let ok = json!({"username": "ann", "email": "ann@example.com", "password": "pw-123456"});
    let user = json!({"id": 1, "login": "ann", "login_name": "ann", "source_id": 0,
        "full_name": "", "email": "ann@example.com", "avatar_url": "", "html_url": "",
        "language": "", "is_admin": false, "last_login": "2026-01-01T00:00:00Z",
        "created": "2026-01-01T00:00:00Z", "restricted": false, "active": true,
        "prohibit_login": false, "location": "", "website": "", "description": "",
        "visibility": "public", "followers_count": 0, "following_count": 0,
        "starred_repos_count": 0});
    let clean = gitea.check_exchange("POST", "/api/v1/admin/users", Some(&ok), 201, Some(&user));
    assert!(clean.is_empty(), "a conforming exchange: {clean:#?}");

    // No username, a number where a string belongs, a field the spec does not know.
    let wrong = json!({"email": 5, "password": "pw-123456", "is_admin": true});
    let found = gitea.check_exchange(
        "POST",
        "/api/v1/admin/users",
        Some(&wrong),
        201,
        Some(&user),
    );
    let at = pointers(&found);
    for want in ["/username", "/email", "/is_admin"] {
        assert!(
            at.contains(&(Direction::Request, want)),
            "{want} not reported: {found:#?}"
        );
    }
    // A query parameter the operation does not declare, and a path no operation has.
    let found = gitea.check_exchange(
        "GET",
        "/api/v1/admin/users?colour=red",
        None,
        200,
        Some(&json!([])),
    );
    assert_eq!(
        pointers(&found),
        [(Direction::Request, "?colour")],
        "{found:#?}"
    );
    let found = gitea.check_exchange("GET", "/api/v1/no/such/thing", None, 200, None);
    assert_eq!(found[0].message, "no operation of the spec has this path");
}

#[test]
fn a_wrong_answer_is_caught() {
    let Some(coder) = checker("coder") else {
        return;
    };
    let user = json!({"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "username": "ann",
        "email": "ann@example.com", "created_at": "2026-01-01T00:00:00Z",
        "last_seen_at": "2026-01-01T00:00:00Z", "status": "active", "login_type": "oidc",
        "organization_ids": [], "roles": [], "avatar_url": "", "name": "", "theme_preference": "",
        "updated_at": "2026-01-01T00:00:00Z"});
    let clean = coder.check_exchange("GET", "/api/v2/users/ann", None, 200, Some(&user));
    assert!(clean.is_empty(), "a conforming answer: {clean:#?}");

    let mut wrong = user.clone();
    wrong["id"] = json!("not-a-uuid");
    wrong["status"] = json!("sleeping");
    wrong["roles"] = Value::Null;
    wrong.as_object_mut().unwrap().remove("email");
    wrong["secret"] = json!("x");
    let found = coder.check_exchange("GET", "/api/v2/users/ann", None, 200, Some(&wrong));
    let at = pointers(&found);
    for want in ["/id", "/status", "/roles", "/secret"] {
        assert!(
            at.contains(&(Direction::Response, want)),
            "{want} not reported: {found:#?}"
        );
    }
    // A success status the spec does not declare.
    let found = coder.check_exchange("GET", "/api/v2/users/ann", None, 202, Some(&user));
    assert!(
        found[0].message.contains("status 202 not declared"),
        "{found:#?}"
    );
}

#[test]
fn the_deviation_list_excuses_only_what_it_names() {
    let Some(coder) = checker("coder") else {
        return;
    };
    let body = json!({"name": "t", "template_version_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"});
    let found = coder.check_exchange(
        "POST",
        "/api/v2/organizations/3fa85f64-5717-4562-b3fc-2c963f66afa6/templates",
        Some(&body),
        201,
        Some(&json!({"id": 5})),
    );
    assert!(
        found.iter().all(|v| !v.message.contains("status 201")),
        "201 is a listed deviation: {found:#?}"
    );
    assert!(
        found.iter().any(|v| v.pointer == "/id"),
        "the body is still checked against the 200 schema: {found:#?}"
    );
    assert!(parse_deviations("a | b | sideways | - | * | r").is_err());
    assert!(parse_deviations("a | b | request | - | *").is_err());
}

/// Through a running sandbox: a wrong request to a simulator is recorded, and a wrong answer
/// of a (stand-in) simulator too.
#[tokio::test]
async fn the_layer_records_both_directions() {
    let Some(c) = contract() else { return };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sb = crate::start(
        crate::SandboxConfig::default(),
        "127.0.0.1",
        crate::Ports::default(),
    )
    .await
    .expect("sandbox starts");
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/admin/users", sb.gitea_url))
        .header("Authorization", format!("token {}", sb.config.gitea_admin_token))
        .json(&json!({"username": "ann", "email": "ann@example.com", "password": "pw-123456", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let found = sb.take_contract_violations();
    assert_eq!(
        pointers(&found),
        [(Direction::Request, "/colour")],
        "{found:#?}"
    );
    let report: Value = http
        .get(format!("{}{REPORT_PATH}", sb.coder_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(report["checked"].as_u64().unwrap() >= 1, "{report}");
    sb.shutdown().await;

    // A stand-in Gitea whose user answer has a wrong type and an undeclared field.
    let log = Log::default();
    let app = axum::Router::new().route(
        "/api/v1/users/:name",
        axum::routing::get(|| async {
            axum::Json(json!({"id": "one", "login": "ann", "token": "x"}))
        }),
    );
    let app = c.checker("gitea", log.clone()).unwrap().layer(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let res = http
        .get(format!("{url}/api/v1/users/ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the answer still reaches the client");
    let found = log.violations();
    assert!(
        found.iter().any(|v| v.direction == Direction::Response
            && v.pointer == "/id"
            && v.message.contains("wants integer")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|v| v.pointer == "/token" && v.message == "field not declared by the schema"),
        "{found:#?}"
    );
    assert!(found[0]
        .to_string()
        .starts_with("[gitea] GET /users/{username} response 200 at /"));
    server.abort();
}

fn validate(schema: Value, dir: Direction, value: Value) -> Vec<String> {
    let root =
        json!({"definitions": {"T": {"type": "object", "properties": {"a": {"type": "string"}}}}});
    let patterns = Mutex::new(HashMap::new());
    Validator::new(&root, dir, &patterns)
        .validate(&schema, &value)
        .into_iter()
        .map(|i| format!("{} {}", i.pointer, i.message))
        .collect()
}

#[test]
fn nullability_by_dialect() {
    let r = Direction::Response;
    assert_eq!(validate(json!({"type": "string"}), r, Value::Null).len(), 1);
    assert!(validate(json!({"type": "string", "nullable": true}), r, Value::Null).is_empty());
    assert!(validate(
        json!({"type": "string", "x-nullable": true}),
        r,
        Value::Null
    )
    .is_empty());
    assert!(validate(
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
        r,
        Value::Null
    )
    .is_empty());
    assert!(validate(json!({"type": ["string", "null"]}), r, Value::Null).is_empty());
}

#[test]
fn objects_refs_and_directions() {
    let (q, r) = (Direction::Request, Direction::Response);
    let s = json!({"$ref": "#/definitions/T"});
    assert_eq!(
        validate(s.clone(), r, json!({"a": "x", "b": 1})),
        ["/b field not declared by the schema"]
    );
    assert_eq!(
        validate(s, r, json!({"a": 1}))[0],
        "/a 1 is a number, the schema wants string"
    );
    let ro = json!({"type": "object", "required": ["pk"], "properties": {"pk": {"type": "integer", "readOnly": true}}});
    assert!(
        validate(ro.clone(), q, json!({})).is_empty(),
        "readOnly is not required in requests"
    );
    assert_eq!(
        validate(ro.clone(), q, json!({"pk": 1})),
        ["/pk readOnly field sent in a request"]
    );
    assert_eq!(validate(ro, r, json!({})), ["/pk required field missing"]);
    let all =
        json!({"allOf": [{"$ref": "#/definitions/T"}, {"properties": {"c": {"type": "integer"}}}]});
    assert!(validate(all.clone(), r, json!({"a": "x", "c": 2})).is_empty());
    assert_eq!(
        validate(all, r, json!({"d": 2})),
        ["/d field not declared by the schema"]
    );
    let free = json!({"type": "object", "additionalProperties": {"type": "integer"}});
    assert_eq!(
        validate(free, r, json!({"x": "y"}))[0],
        "/x \"y\" is a string, the schema wants integer"
    );
    assert!(validate(
        json!({"type": "string", "pattern": "^[a-z]+$"}),
        q,
        json!("abc")
    )
    .is_empty());
    assert_eq!(
        validate(json!({"type": "string", "enum": ["a"]}), q, json!("b")).len(),
        1
    );
}

#[test]
fn formats() {
    assert!(format_ok("date-time", "2026-01-02T03:04:05Z"));
    assert!(format_ok("date-time", "2026-01-02T03:04:05.123456+02:00"));
    assert!(!format_ok("date-time", "2026-01-02"));
    assert!(!format_ok("date-time", ""));
    assert!(format_ok("uuid", "3fa85f64-5717-4562-b3fc-2c963f66afa6"));
    assert!(!format_ok("uuid", "3fa85f6457174562b3fc2c963f66afa6"));
    assert!(format_ok("email", "anything"));
}

#[test]
fn unread_violations_are_those_no_reader_has_seen() {
    let log = Log::default();
    let v = |m: &str| Violation {
        service: "gitea".into(),
        operation: "GET /version".into(),
        direction: Direction::Request,
        status: None,
        pointer: String::new(),
        message: m.into(),
    };
    log.record(vec![v("a")], std::time::Duration::ZERO);
    assert_eq!(log.unread(), [v("a")], "recorded, nobody read it");
    assert_eq!(log.violations(), [v("a")]);
    assert!(log.unread().is_empty(), "read by violations()");
    log.record(vec![v("b")], std::time::Duration::ZERO);
    assert_eq!(log.unread(), [v("b")]);
    assert_eq!(log.take(), [v("a"), v("b")]);
    assert!(log.unread().is_empty() && log.violations().is_empty());
}

#[test]
fn stored_row_deviations_parse() {
    let list = parse_deviations("litellm | * | stored | - | * | reason").unwrap();
    assert_eq!(list[0].direction, Direction::Stored);
}

#[test]
fn error_answers_the_documents_leave_out_are_held_to_the_servers_shapes() {
    let (Some(gitea), Some(coder), Some(authentik), Some(litellm)) = (
        checker("gitea"),
        checker("coder"),
        checker("authentik"),
        checker("litellm"),
    ) else {
        return;
    };
    let at = |vs: Vec<Violation>| -> Vec<String> {
        let mut at: Vec<String> = vs.into_iter().map(|v| v.pointer).collect();
        at.sort();
        at
    };
    // Gitea: `notFound` declares no body, the server writes {message, url, errors}.
    let path = "/api/v1/users/ann";
    let good = json!({"message": "user does not exist", "url": "/api/swagger", "errors": []});
    assert_eq!(
        at(gitea.check_exchange("GET", path, None, 404, Some(&good))),
        [""; 0]
    );
    let bad = json!({"msg": "gone"});
    assert_eq!(
        at(gitea.check_exchange("GET", path, None, 404, Some(&bad))),
        ["/message", "/msg", "/url"],
        "message and url missing, msg undeclared"
    );
    // Coder: an undeclared 403 is a codersdk.Response.
    let path = "/api/v2/users/ann";
    let good = json!({"message": "Forbidden.", "detail": "", "validations": []});
    assert!(coder
        .check_exchange("GET", path, None, 403, Some(&good))
        .is_empty());
    let bad = json!({"message": "Forbidden.", "validations": [{"field": "name"}]});
    assert_eq!(
        at(coder.check_exchange("GET", path, None, 403, Some(&bad))),
        ["/validations/0/detail"]
    );
    // Authentik: an undeclared 404 is a GenericError.
    let path = "/api/v3/core/users/7/";
    assert!(authentik
        .check_exchange(
            "GET",
            path,
            None,
            404,
            Some(&json!({"detail": "Not found."}))
        )
        .is_empty());
    assert_eq!(
        at(authentik.check_exchange("GET", path, None, 404, Some(&json!({"error": "x"})))),
        ["/detail", "/error"]
    );
    // LiteLLM: ProxyException or FastAPI's {"detail"}.
    let proxy = json!({"error": {"message": "Key not found", "type": "not_found_error",
                                  "param": "key", "code": "404"}});
    assert!(litellm
        .check_exchange("GET", "/key/info?key=sk-1", None, 404, Some(&proxy))
        .is_empty());
    assert_eq!(
        at(litellm.check_exchange(
            "GET",
            "/key/info?key=sk-1",
            None,
            404,
            Some(&json!({"message": "gone"}))
        )),
        [""]
    );
}
