//! What a key that is not the master key may do, held to LiteLLM 1.106.2
//! (`auth/route_checks.py`, `management_endpoints/key_management_endpoints.py`,
//! `management_helpers/team_member_permission_checks.py`, `team_endpoints.py`): the narrow
//! provisioning key of the full environment makes keys for its own team within its own budget
//! and nothing else.

mod common;

use common::{start, Sandbox};
use reqwest::Method;
use serde_json::{json, Value};

const PROVISIONER: &str = "workspace-provisioner";
const ROUTES: &[&str] = &[
    "/key/generate",
    "/key/info",
    "/key/update",
    "/key/delete",
    "/key/list",
];

fn err(status: u16, kind: &str, message: &str, param: Value) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": status.to_string()}})
}

/// A contractor team whose members may generate, update and delete keys, an other team, the
/// provisioner as a plain member of the contractor team, and its key (routes and budget narrowed).
async fn setup(s: &Sandbox) -> (String, String) {
    let (st, _) = s
        .post(
            "/team/new",
            json!({"team_id": "contractors", "team_alias": "contractors", "max_budget": 500,
                   "team_member_permissions": ["/key/generate", "/key/update", "/key/delete"]}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .post(
            "/team/new",
            json!({"team_id": "admins", "team_alias": "admins"}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, body) = s
        .post(
            "/team/member_add",
            json!({"team_id": "contractors", "member": {"role": "user", "user_id": PROVISIONER}}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let key = s
        .generate(
            json!({"key_alias": "provisioner", "user_id": PROVISIONER, "team_id": "contractors",
                         "allowed_routes": ROUTES, "max_budget": 50}),
        )
        .await;
    let other = s.generate(json!({"key_alias": "someone-else"})).await;
    (
        key["key"].as_str().unwrap().to_owned(),
        other["token"].as_str().unwrap().to_owned(),
    )
}

async fn as_key(
    s: &Sandbox,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    s.call(method, path, Some(key), body).await
}

#[tokio::test]
async fn provisioning_key_makes_contractor_keys_within_its_budget() {
    let s = start().await;
    let (prov, _) = setup(&s).await;
    let (st, made) = as_key(
        &s,
        &prov,
        Method::POST,
        "/key/generate",
        Some(json!({"team_id": "contractors", "max_budget": 25, "key_alias": "ws-1", "key_type": "llm_api",
                    "metadata": {"enforcement_level": "strict"}})),
    )
    .await;
    assert_eq!(st, 200, "{made}");
    // generate_key_fn: a non-admin's key belongs to the caller's user.
    assert_eq!(made["user_id"], PROVISIONER);
    assert_eq!(made["team_id"], "contractors");
    assert_eq!(made["created_by"], PROVISIONER);
    assert_eq!(made["allowed_routes"], json!(["llm_api_routes"]));
    let ws = made["key"].as_str().unwrap().to_owned();
    let token = made["token"].as_str().unwrap().to_owned();

    // Read, list, update metadata, delete: the provider's whole lifecycle of a workspace key.
    let (st, info) = as_key(
        &s,
        &prov,
        Method::GET,
        &format!("/key/info?key={token}"),
        None,
    )
    .await;
    assert_eq!(
        (st, info["info"]["key_alias"].clone()),
        (200, json!("ws-1"))
    );
    let (st, list) = as_key(
        &s,
        &prov,
        Method::GET,
        "/key/list?return_full_object=true",
        None,
    )
    .await;
    assert_eq!(st, 200, "{list}");
    let aliases: Vec<&Value> = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["key_alias"])
        .collect();
    assert_eq!(aliases.len(), 2, "own user's keys only: {aliases:?}");
    assert!(aliases.contains(&&json!("ws-1")) && aliases.contains(&&json!("provisioner")));
    let (st, up) = as_key(
        &s,
        &prov,
        Method::POST,
        "/key/update",
        Some(json!({"key": token, "metadata": {"enforcement_level": "audit"}})),
    )
    .await;
    assert_eq!(
        (st, up["metadata"]["enforcement_level"].clone()),
        (200, json!("audit"))
    );
    // A budget change needs a team admin (`_check_key_admin_access`).
    let (st, body) = as_key(
        &s,
        &prov,
        Method::POST,
        "/key/update",
        Some(json!({"key": token, "max_budget": 40})),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        "{'error': 'Only proxy admins, team admins, or org admins can call /key/update (max_budget/spend). user_role=internal_user, user_id=workspace-provisioner'}"
    );
    // The workspace key (key_type llm_api, a preset non-admins may pick) cannot make keys.
    let (st, body) = as_key(&s, &ws, Method::POST, "/key/generate", Some(json!({}))).await;
    assert_eq!(
        (st, body["error"]["message"].clone()),
        (403, json!("Virtual key is not allowed to call this route. Only allowed to call routes: ['llm_api_routes']. Tried to call route: /key/generate"))
    );
    // Without the preset it could (an internal user may make personal keys): the template
    // sets key_type.
    let (st, body) = as_key(
        &s,
        &prov,
        Method::POST,
        "/key/generate",
        Some(json!({"key_type": "management"})),
    )
    .await;
    assert_eq!(st, 403, "management preset needs a proxy admin: {body}");
    let (st, del) = as_key(
        &s,
        &prov,
        Method::POST,
        "/key/delete",
        Some(json!({"keys": [token]})),
    )
    .await;
    assert_eq!((st, del), (200, json!({"deleted_keys": [token]})));

    // Above the provisioning key's own budget: the delegated ceiling.
    let (st, body) = as_key(
        &s,
        &prov,
        Method::POST,
        "/key/generate",
        Some(json!({"team_id": "contractors", "max_budget": 80})),
    )
    .await;
    assert_eq!(
        (st, body),
        (
            400,
            err(
                400,
                "internal_server_error",
                "{'error': \"max_budget (80.0) cannot exceed the caller's own max_budget (50.0).\"}",
                "None".into()
            )
        )
    );
    s.sb.shutdown().await;
}

#[tokio::test]
async fn provisioning_key_is_refused_other_teams_users_and_admin_routes() {
    let s = start().await;
    let (prov, other) = setup(&s).await;
    let call = |path: &'static str, body: Value| {
        let (s, prov) = (&s, prov.clone());
        async move { as_key(s, &prov, Method::POST, path, Some(body)).await }
    };
    // Another team: the caller's user is not a member (`_team_key_operation_team_member_check`).
    assert_eq!(
        call("/key/generate", json!({"team_id": "admins"})).await,
        (
            400,
            err(
                400,
                "internal_server_error",
                "User=workspace-provisioner not assigned to team=admins",
                "None".into()
            )
        )
    );
    assert_eq!(
        call("/key/generate", json!({"team_id": "nope"})).await.1["error"]["message"],
        "Team not found for team_id=nope. Non-admin users cannot create keys for non-existent teams."
    );
    // A key for someone else (a member of the team, so the team check passes first).
    s.post(
        "/team/member_add",
        json!({"team_id": "contractors", "member": {"role": "user", "user_id": "alice"}}),
    )
    .await;
    assert_eq!(
        call("/key/generate", json!({"team_id": "contractors", "user_id": "alice"})).await,
        (
            403,
            err(
                403,
                "internal_server_error",
                "User can only create keys for themselves. Got user_id=alice, Your ID=workspace-provisioner",
                "None".into()
            )
        )
    );
    // Widening a key's routes is for proxy admins only.
    let (st, body) = call(
        "/key/generate",
        json!({"team_id": "contractors", "allowed_routes": ["/team/new"]}),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    // Admin routes: the key's allowed_routes refuse them before any handler runs.
    for path in [
        "/team/new",
        "/model/new",
        "/team/member_add",
        "/team/delete",
    ] {
        let (st, body) = call(path, json!({})).await;
        assert_eq!(
            (st, body["error"]["message"].clone()),
            (
                403,
                json!(format!(
                    "Virtual key is not allowed to call this route. Only allowed to call routes: ['/key/generate', '/key/info', '/key/update', '/key/delete', '/key/list']. Tried to call route: {path}"
                ))
            )
        );
    }
    // Keys outside its user and team: not readable, not deletable.
    let (st, _) = as_key(
        &s,
        &prov,
        Method::GET,
        &format!("/key/info?key={other}"),
        None,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(
        call("/key/delete", json!({"keys": [other]})).await,
        (
            403,
            err(
                403,
                "internal_server_error",
                "{'error': 'You are not authorized to delete this key'}",
                "None".into()
            )
        )
    );
    let (st, _) = as_key(&s, &prov, Method::GET, "/key/list?user_id=alice", None).await;
    assert_eq!(st, 403);
    s.sb.shutdown().await;
}

#[tokio::test]
async fn team_member_permissions_and_route_gates() {
    let s = start().await;
    setup(&s).await;
    // A team whose members have only the baseline permissions.
    s.post(
        "/team/new",
        json!({"team_id": "plain", "team_alias": "plain"}),
    )
    .await;
    s.post(
        "/team/member_add",
        json!({"team_id": "plain", "member": {"role": "user", "user_id": "bob"}}),
    )
    .await;
    let bob = s
        .generate(json!({"user_id": "bob", "team_id": "plain"}))
        .await;
    let bob = bob["key"].as_str().unwrap();
    let (st, body) = as_key(
        &s,
        bob,
        Method::POST,
        "/key/generate",
        Some(json!({"team_id": "plain"})),
    )
    .await;
    assert_eq!(st, 401, "{body}");
    assert_eq!(body["error"]["type"], "team_member_permission_error");
    assert_eq!(body["error"]["param"], "/key/generate");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Team member does not have permissions for endpoint: /key/generate. You only have access to the following endpoints: ['/key/info', '/key/health'] for team plain."));
    // An internal user may make a personal key (no team) for itself.
    let (st, body) = as_key(&s, bob, Method::POST, "/key/generate", Some(json!({}))).await;
    assert_eq!((st, body["user_id"].clone()), (200, json!("bob")));

    // No user row and no allowed routes: the role gate's "only proxy admin".
    let loose = s.generate(json!({"key_alias": "loose"})).await;
    let (st, body) = as_key(
        &s,
        loose["key"].as_str().unwrap(),
        Method::POST,
        "/key/delete",
        Some(json!({"keys": ["x"]})),
    )
    .await;
    assert_eq!(
        (st, body),
        (
            401,
            err(
                401,
                "auth_error",
                "Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/key/delete. Your role=unknown. Your user_id=*******",
                "None".into()
            )
        )
    );

    // A team service account: its own team only, and it cannot delete (it owns nothing).
    let sa = s
        .generate(json!({"team_id": "contractors", "metadata": {"service_account_id": "ci"}}))
        .await;
    let sa = sa["key"].as_str().unwrap();
    let (st, body) = as_key(
        &s,
        sa,
        Method::POST,
        "/key/generate",
        Some(json!({"team_id": "admins"})),
    )
    .await;
    assert_eq!(
        (st, body["error"]["message"].clone()),
        (
            403,
            json!(
                "Service account keys can only create keys for their own team. team_id=contractors"
            )
        )
    );
    let (st, made) = as_key(
        &s,
        sa,
        Method::POST,
        "/key/generate",
        Some(json!({"team_id": "contractors"})),
    )
    .await;
    assert_eq!((st, made["user_id"].clone()), (200, Value::Null), "{made}");
    let (st, _) = as_key(
        &s,
        sa,
        Method::POST,
        "/key/delete",
        Some(json!({"keys": [made["token"]]})),
    )
    .await;
    assert_eq!(
        st, 401,
        "delete is not a service-account route and the key has no allowed_routes"
    );
    // Team info: a key of the team may read it, a key of another team may not.
    let (st, _) = as_key(&s, sa, Method::GET, "/team/info?team_id=contractors", None).await;
    assert_eq!(st, 200);
    let (st, body) = as_key(&s, sa, Method::GET, "/team/info?team_id=admins", None).await;
    assert_eq!(
        (st, body["error"]["message"].clone()),
        (403, json!("{'error': 'Team key for team=contractors not authorized to access this team=admins'}"))
    );
    s.sb.shutdown().await;
}

/// `/team/permissions_update`: the team's members get (or lose) `/key/generate` at once.
#[tokio::test]
async fn permissions_update_changes_what_members_may_do() {
    let s = start().await;
    s.post("/team/new", json!({"team_id": "t", "team_alias": "t"}))
        .await;
    s.post(
        "/team/member_add",
        json!({"team_id": "t", "member": {"role": "user", "user_id": "carol"}}),
    )
    .await;
    let carol = s
        .generate(json!({"user_id": "carol", "team_id": "t"}))
        .await;
    let carol = carol["key"].as_str().unwrap();
    let try_generate = || {
        as_key(
            &s,
            carol,
            Method::POST,
            "/key/generate",
            Some(json!({"team_id": "t"})),
        )
    };
    assert_eq!(try_generate().await.0, 401);
    let (st, row) = s
        .post(
            "/team/permissions_update",
            json!({"team_id": "t", "team_member_permissions": ["/key/generate"]}),
        )
        .await;
    assert_eq!(
        (st, row["team_member_permissions"].clone()),
        (200, json!(["/key/generate"]))
    );
    assert_eq!(try_generate().await.0, 200);
    let (st, body) = s
        .post("/team/permissions_update", json!({"team_id": "t"}))
        .await;
    assert_eq!(st, 422, "{body}");
    let (st, body) = s
        .post(
            "/team/permissions_update",
            json!({"team_id": "nope", "team_member_permissions": []}),
        )
        .await;
    assert_eq!(st, 404, "{body}");
    // Not for members: a member's own key may not change the team's permissions.
    let (st, body) = as_key(
        &s,
        carol,
        Method::POST,
        "/team/permissions_update",
        Some(json!({"team_id": "t", "team_member_permissions": []})),
    )
    .await;
    assert_eq!(
        (st, body["error"]["message"].clone()),
        (403, json!("{'error': 'Call not allowed. User not proxy admin OR team admin. route=/team/permissions_update, team_id=t'}"))
    );
    s.sb.shutdown().await;
}
