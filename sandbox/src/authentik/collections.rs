//! The REST collections, served the DRF way by one set of generic handlers; each [`Kind`]
//! says how its rows are keyed, validated, defaulted and rendered.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, Request, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::{detail, field_errors, Authentik, State};
use crate::table::TableExt;

/// A collection of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Users,
    Groups,
    ScopeMappings,
    OAuth2Providers,
    Applications,
    Flows,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Users,
        Kind::Groups,
        Kind::ScopeMappings,
        Kind::OAuth2Providers,
        Kind::Applications,
        Kind::Flows,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::ScopeMappings => "scope_mappings",
            Kind::OAuth2Providers => "oauth2_providers",
            Kind::Applications => "applications",
            Kind::Flows => "flows",
        }
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Kind::Users => "/core/users/",
            Kind::Groups => "/core/groups/",
            Kind::ScopeMappings => "/propertymappings/provider/scope/",
            Kind::OAuth2Providers => "/providers/oauth2/",
            Kind::Applications => "/core/applications/",
            Kind::Flows => "/flows/instances/",
        }
    }

    fn model(self) -> &'static str {
        match self {
            Kind::Users => "User",
            Kind::Groups => "Group",
            Kind::ScopeMappings => "Scope Mapping",
            Kind::OAuth2Providers => "OAuth2 Provider",
            Kind::Applications => "Application",
            Kind::Flows => "Flow",
        }
    }

    /// The URL key: `pk` (int or uuid) or `slug`.
    fn key_field(self) -> &'static str {
        match self {
            Kind::Applications | Kind::Flows => "slug",
            _ => "pk",
        }
    }

    fn int_pk(self) -> bool {
        matches!(self, Kind::Users | Kind::OAuth2Providers)
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Users => &["username", "name"],
            Kind::Groups => &["name"],
            Kind::ScopeMappings => &["name", "scope_name", "expression"],
            Kind::OAuth2Providers => &[
                "name",
                "authorization_flow",
                "invalidation_flow",
                "redirect_uris",
            ],
            Kind::Applications => &["name", "slug"],
            Kind::Flows => &["name", "slug", "title", "designation"],
        }
    }

    fn unique(self) -> &'static [&'static str] {
        match self {
            Kind::Users => &["username"],
            Kind::Groups => &["name"],
            Kind::ScopeMappings => &["name"],
            Kind::OAuth2Providers => &["name", "client_id"],
            Kind::Applications => &["slug", "name"],
            Kind::Flows => &["slug"],
        }
    }

    /// Writable fields and their JSON types.
    fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Users => &[
                ("username", "s"),
                ("name", "s"),
                ("is_active", "b"),
                ("email", "s"),
                ("attributes", "o"),
                ("path", "s"),
                ("type", "s"),
                ("groups", "a"),
            ],
            Kind::Groups => &[
                ("name", "s"),
                ("is_superuser", "b"),
                ("parents", "a"),
                ("users", "a"),
                ("attributes", "o"),
            ],
            Kind::ScopeMappings => &[
                ("name", "s"),
                ("scope_name", "s"),
                ("expression", "s"),
                ("description", "s"),
            ],
            Kind::OAuth2Providers => &[
                ("name", "s"),
                ("authentication_flow", "s?"),
                ("authorization_flow", "s"),
                ("invalidation_flow", "s"),
                ("property_mappings", "a"),
                ("client_type", "s"),
                ("client_id", "s"),
                ("client_secret", "s"),
                ("access_code_validity", "s"),
                ("access_token_validity", "s"),
                ("refresh_token_validity", "s"),
                ("include_claims_in_id_token", "b"),
                ("signing_key", "s?"),
                ("redirect_uris", "a"),
                ("sub_mode", "s"),
                ("issuer_mode", "s"),
            ],
            Kind::Applications => &[
                ("name", "s"),
                ("slug", "s"),
                ("provider", "i?"),
                ("open_in_new_tab", "b"),
                ("meta_launch_url", "s"),
                ("meta_description", "s"),
                ("meta_publisher", "s"),
                ("policy_engine_mode", "s"),
                ("group", "s"),
            ],
            Kind::Flows => &[
                ("name", "s"),
                ("slug", "s"),
                ("title", "s"),
                ("designation", "s"),
            ],
        }
    }

    fn defaults(self) -> Value {
        match self {
            Kind::Users => {
                json!({"is_active": true, "email": "", "attributes": {}, "path": "users", "type": "internal", "groups": []})
            }
            Kind::Groups => json!({"is_superuser": false, "parents": [], "attributes": {}}),
            Kind::ScopeMappings => json!({"description": "", "managed": null}),
            Kind::OAuth2Providers => json!({
                "authentication_flow": null, "property_mappings": [], "client_type": "confidential",
                "access_code_validity": "minutes=1", "access_token_validity": "minutes=5",
                "refresh_token_validity": "days=30", "include_claims_in_id_token": true, "signing_key": null,
                "sub_mode": "hashed_user_id", "issuer_mode": "per_provider"}),
            Kind::Applications => {
                json!({"provider": null, "open_in_new_tab": false, "meta_launch_url": "",
                "meta_description": "", "meta_publisher": "", "policy_engine_mode": "any", "group": ""})
            }
            Kind::Flows => json!({}),
        }
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn random_token(n: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut r = rand::thread_rng();
    (0..n)
        .map(|_| CHARS[r.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// A fresh install's objects.
pub(crate) fn seed(st: &mut State) {
    if st.seeded {
        return;
    }
    st.seeded = true;
    for (slug, designation) in [
        ("default-authentication-flow", "authentication"),
        ("default-invalidation-flow", "invalidation"),
        (
            "default-provider-authorization-explicit-consent",
            "authorization",
        ),
        (
            "default-provider-authorization-implicit-consent",
            "authorization",
        ),
        ("default-provider-invalidation-flow", "invalidation"),
    ] {
        let row = json!({"pk": uuid(), "slug": slug, "name": slug, "title": slug.replace('-', " "), "designation": designation});
        st.table(Kind::Flows).insert(slug.to_string(), row);
    }
    for scope in ["openid", "email", "profile", "offline_access"] {
        let pk = uuid();
        let row = json!({"pk": pk, "managed": format!("goauthentik.io/providers/oauth2/scope-{scope}"),
            "name": format!("authentik default OAuth Mapping: OpenID '{scope}'"), "scope_name": scope,
            "expression": "return {}", "description": ""});
        st.table(Kind::ScopeMappings).insert(pk, row);
    }
    let admins = uuid();
    let pk = st.next_pk();
    st.table(Kind::Users).insert(
        pk.to_string(),
        json!({"pk": pk, "username": "akadmin", "name": "authentik Default Admin", "is_active": true,
               "email": "admin@example.com", "attributes": {}, "path": "users", "type": "internal", "groups": [admins]}),
    );
    st.table(Kind::Groups).insert(
        admins.clone(),
        json!({"pk": admins, "name": "authentik Admins", "is_superuser": true, "parents": [], "attributes": {}}),
    );
}

fn err_field(errs: &mut Map<String, Value>, field: &str, msg: String) {
    errs.entry(field.to_string())
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .unwrap()
        .push(json!(msg));
}

fn valid_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((l, d)) => {
            !l.is_empty()
                && d.contains('.')
                && !d.ends_with('.')
                && !e.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Validates `body` for a create (`partial` = PATCH) of `kind`, against the state.
fn validate(
    kind: Kind,
    st: &State,
    body: &Map<String, Value>,
    partial: bool,
    self_key: Option<&str>,
) -> Result<(), Response> {
    let mut errs = Map::new();
    if !partial {
        for f in kind.required() {
            if body.get(*f).is_none_or(|v| v.is_null()) {
                err_field(&mut errs, f, "This field is required.".into());
            }
        }
    }
    for (f, ty) in kind.fields() {
        let Some(v) = body.get(*f) else { continue };
        let ok = match *ty {
            "s" => v.is_string(),
            "s?" => v.is_string() || v.is_null(),
            "b" => v.is_boolean(),
            "a" => v.is_array(),
            "o" => v.is_object(),
            "i?" => v.is_i64() || v.is_null(),
            _ => true,
        };
        if !ok {
            let msg = match *ty {
                "b" => "Must be a valid boolean.",
                "a" => "Expected a list of items.",
                "o" => "Value must be valid JSON.",
                "i?" => "A valid integer is required.",
                _ => "Not a valid string.",
            };
            err_field(&mut errs, f, msg.into());
        } else if v.as_str() == Some("") && kind.required().contains(f) {
            err_field(&mut errs, f, "This field may not be blank.".into());
        }
    }
    for f in kind.unique() {
        if let Some(v) = body.get(*f).filter(|v| !v.is_null()) {
            let clash = st.rows(kind).any(|r| {
                r.get(*f) == Some(v)
                    && Some(
                        r[kind.key_field()]
                            .to_string()
                            .trim_matches('"')
                            .to_string(),
                    )
                    .as_deref()
                        != self_key
            });
            if clash {
                let model = kind.model().to_lowercase();
                err_field(
                    &mut errs,
                    f,
                    format!("{model} with this {f} already exists."),
                );
            }
        }
    }
    let exists = |k: Kind, v: &Value| match v {
        Value::String(s) => st.rows(k).any(|r| r["pk"].as_str() == Some(s)),
        Value::Number(n) => st.rows(k).any(|r| r["pk"].as_i64() == n.as_i64()),
        _ => false,
    };
    let refs: &[(&str, Kind, bool)] = match kind {
        Kind::Users => &[("groups", Kind::Groups, true)],
        Kind::Groups => &[
            ("parents", Kind::Groups, true),
            ("users", Kind::Users, true),
        ],
        Kind::OAuth2Providers => &[
            ("authorization_flow", Kind::Flows, false),
            ("invalidation_flow", Kind::Flows, false),
            ("authentication_flow", Kind::Flows, false),
            ("property_mappings", Kind::ScopeMappings, true),
        ],
        Kind::Applications => &[("provider", Kind::OAuth2Providers, false)],
        _ => &[],
    };
    for (f, target, many) in refs {
        let Some(v) = body.get(*f).filter(|v| !v.is_null()) else {
            continue;
        };
        let items: Vec<&Value> = if *many {
            v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
        } else {
            vec![v]
        };
        for item in items {
            if !exists(*target, item) {
                let shown = item
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| item.to_string());
                err_field(
                    &mut errs,
                    f,
                    format!("Invalid pk \"{shown}\" - object does not exist."),
                );
            }
        }
    }
    match kind {
        Kind::Users => {
            if let Some(e) = body
                .get("email")
                .and_then(Value::as_str)
                .filter(|e| !e.is_empty())
            {
                if !valid_email(e) {
                    err_field(&mut errs, "email", "Enter a valid email address.".into());
                }
            }
            if let Some(t) = body.get("type").and_then(Value::as_str) {
                if ![
                    "internal",
                    "external",
                    "service_account",
                    "internal_service_account",
                ]
                .contains(&t)
                {
                    err_field(&mut errs, "type", format!("\"{t}\" is not a valid choice."));
                }
            }
            if let Some(u) = body.get("username").and_then(Value::as_str) {
                if u.len() > 150 {
                    err_field(
                        &mut errs,
                        "username",
                        "Ensure this field has no more than 150 characters.".into(),
                    );
                }
            }
        }
        Kind::OAuth2Providers => {
            for (f, choices) in [
                ("client_type", &["confidential", "public"][..]),
                (
                    "sub_mode",
                    &[
                        "hashed_user_id",
                        "user_id",
                        "user_uuid",
                        "user_username",
                        "user_email",
                        "user_upn",
                    ][..],
                ),
            ] {
                if let Some(c) = body.get(f).and_then(Value::as_str) {
                    if !choices.contains(&c) {
                        err_field(&mut errs, f, format!("\"{c}\" is not a valid choice."));
                    }
                }
            }
            if let Some(uris) = body.get("redirect_uris").and_then(Value::as_array) {
                for u in uris {
                    let mode_ok = matches!(
                        u.get("matching_mode").and_then(Value::as_str),
                        Some("strict" | "regex")
                    );
                    let url_ok = u
                        .get("url")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty());
                    if !mode_ok || !url_ok {
                        err_field(
                            &mut errs,
                            "redirect_uris",
                            "Each entry needs matching_mode (strict|regex) and url.".into(),
                        );
                    }
                }
            }
        }
        Kind::Applications => {
            if let Some(s) = body.get("slug").and_then(Value::as_str) {
                if !s
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
                    || s.is_empty()
                {
                    err_field(&mut errs, "slug", "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.".into());
                }
            }
            if let Some(m) = body.get("policy_engine_mode").and_then(Value::as_str) {
                if !["all", "any"].contains(&m) {
                    err_field(
                        &mut errs,
                        "policy_engine_mode",
                        format!("\"{m}\" is not a valid choice."),
                    );
                }
            }
        }
        _ => {}
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(field_errors(errs))
    }
}

/// The simulated install's id (`get_install_id()`), which user `uid`s are derived from.
const INSTALL_ID: &str = "7e6c6f1a-5b1d-4c55-9d0e-5a4e0b5e2f10";

/// `Group.num_pk` (authentik/core/models.py): the first five digits of the uuid as an integer.
pub(crate) fn num_pk(pk: &Value) -> i64 {
    pk.as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .and_then(|u| {
            u.as_u128()
                .to_string()
                .get(..5)
                .and_then(|d| d.parse().ok())
        })
        .unwrap_or(0)
}

/// `User.uid` (authentik/core/models.py): sha256 hex of `"{pk}-{install id}"`.
pub(crate) fn user_uid(pk: &Value) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{pk}-{INSTALL_ID}").as_bytes()))
}

/// `PartialGroup` (authentik/core/api/groups.py), as users embed their groups.
fn partial_group(g: &Value) -> Value {
    json!({"pk": g["pk"], "num_pk": num_pk(&g["pk"]), "name": g["name"],
           "is_superuser": g["is_superuser"], "attributes": g["attributes"]})
}

/// `PartialUser` (authentik/core/api/users.py), as groups embed their members.
fn partial_user(u: &Value) -> Value {
    json!({"pk": u["pk"], "username": u["username"], "name": u["name"], "is_active": u["is_active"],
           "last_login": null, "email": u["email"], "attributes": u["attributes"],
           "uid": user_uid(&u["pk"])})
}

/// `RelatedGroup`: parents and children of a group when asked for.
fn related_group(g: &Value) -> Value {
    json!({"pk": g["pk"], "name": g["name"], "is_superuser": g["is_superuser"],
           "attributes": g["attributes"], "group_uuid": g["pk"]})
}

/// Fields of the generic `Provider` serializer (authentik/core/api/providers.py), which is what
/// an application embeds as `provider_obj`: no protocol fields (no client id or secret).
const PROVIDER_FIELDS: &[&str] = &[
    "pk",
    "name",
    "authentication_flow",
    "authorization_flow",
    "invalidation_flow",
    "property_mappings",
    "component",
    "assigned_application_slug",
    "assigned_application_name",
    "assigned_backchannel_application_slug",
    "assigned_backchannel_application_name",
    "verbose_name",
    "verbose_name_plural",
    "meta_model_name",
];

/// The `include_*` query switches of the user and group endpoints (`include_users`,
/// `include_groups`, `include_roles` default true; `include_children`, `include_parents`
/// false), as the serializers read them: an excluded relation is answered as null.
pub(crate) fn apply_includes(kind: Kind, st: &State, v: &mut Value, params: &[(String, String)]) {
    let flag = |name: &str, default: bool| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
            .unwrap_or(default)
    };
    match kind {
        Kind::Users => {
            if !flag("include_groups", true) {
                v["groups_obj"] = Value::Null;
            }
            if !flag("include_roles", true) {
                v["roles_obj"] = Value::Null;
            }
        }
        Kind::Groups => {
            if !flag("include_users", true) {
                v["users_obj"] = Value::Null;
            }
            let pk = v["pk"].clone();
            v["children_obj"] = if flag("include_children", false) {
                json!(st
                    .rows(Kind::Groups)
                    .filter(|g| g["parents"].as_array().is_some_and(|p| p.contains(&pk)))
                    .map(related_group)
                    .collect::<Vec<_>>())
            } else {
                Value::Null
            };
            v["parents_obj"] = if flag("include_parents", false) {
                json!(v["parents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| st.get(Kind::Groups, p.as_str().unwrap_or_default()))
                    .map(related_group)
                    .collect::<Vec<_>>())
            } else {
                Value::Null
            };
        }
        _ => {}
    }
}

/// The response object: stored row plus derived fields.
fn render(kind: Kind, st: &State, row: &Value) -> Value {
    let mut r = row.clone();
    match kind {
        Kind::Users => {
            let pk = row["pk"].as_i64().unwrap_or_default();
            let groups: Vec<&Value> = row["groups"]
                .as_array()
                .map(|g| g.iter().collect())
                .unwrap_or_default();
            let groups_obj: Vec<Value> = groups
                .iter()
                .filter_map(|g| st.get(Kind::Groups, g.as_str().unwrap_or_default()))
                .map(partial_group)
                .collect();
            let superuser = groups_obj.iter().any(|g| g["is_superuser"] == true);
            r["groups_obj"] = json!(groups_obj);
            r["is_superuser"] = json!(superuser);
            r["uid"] = json!(user_uid(&json!(pk)));
            r["uuid"] = r
                .get("uuid")
                .cloned()
                .unwrap_or(json!(uuid::Uuid::nil().to_string()));
            r["avatar"] = json!("data:image/svg+xml;base64,");
            r["date_joined"] = json!("2026-01-01T00:00:00Z");
            r["last_updated"] = json!("2026-01-01T00:00:00Z");
            r["password_change_date"] = json!("2026-01-01T00:00:00Z");
            r["last_login"] = Value::Null;
            r["roles"] = json!([]);
            r["roles_obj"] = json!([]);
        }
        Kind::Groups => {
            let pk = row["pk"].clone();
            let users: Vec<&Value> = st
                .rows(Kind::Users)
                .filter(|u| u["groups"].as_array().is_some_and(|g| g.contains(&pk)))
                .collect();
            r["users"] = json!(users.iter().map(|u| u["pk"].clone()).collect::<Vec<_>>());
            r["users_obj"] = json!(users.iter().map(|u| partial_user(u)).collect::<Vec<_>>());
            r["num_pk"] = json!(num_pk(&pk));
            r["parents_obj"] = Value::Null;
            r["children"] = json!(st
                .rows(Kind::Groups)
                .filter(|g| g["parents"].as_array().is_some_and(|p| p.contains(&pk)))
                .map(|g| g["pk"].clone())
                .collect::<Vec<_>>());
            r["children_obj"] = Value::Null;
            r["roles"] = json!([]);
            r["roles_obj"] = json!([]);
            r["inherited_roles_obj"] = json!([]);
        }
        Kind::ScopeMappings => {
            r["component"] = json!("ak-property-mapping-provider-scope-form");
            r["verbose_name"] = json!("Scope Mapping");
            r["verbose_name_plural"] = json!("Scope Mappings");
            r["meta_model_name"] = json!("authentik_providers_oauth2.scopemapping");
        }
        Kind::OAuth2Providers => {
            let app = st
                .rows(Kind::Applications)
                .find(|a| a["provider"] == row["pk"]);
            r["assigned_application_slug"] = app.map(|a| a["slug"].clone()).unwrap_or(json!(""));
            r["assigned_application_name"] = app.map(|a| a["name"].clone()).unwrap_or(json!(""));
            r["assigned_backchannel_application_slug"] = json!("");
            r["assigned_backchannel_application_name"] = json!("");
            r["component"] = json!("ak-provider-oauth2-form");
            r["verbose_name"] = json!("OAuth2/OpenID Provider");
            r["verbose_name_plural"] = json!("OAuth2/OpenID Providers");
            r["meta_model_name"] = json!("authentik_providers_oauth2.oauth2provider");
        }
        Kind::Applications => {
            let provider = row["provider"]
                .as_i64()
                .and_then(|p| st.get(Kind::OAuth2Providers, &p.to_string()));
            r["provider_obj"] = provider
                .map(|p| {
                    let full = render(Kind::OAuth2Providers, st, p);
                    Value::Object(
                        PROVIDER_FIELDS
                            .iter()
                            .map(|f| ((*f).to_string(), full[*f].clone()))
                            .collect(),
                    )
                })
                .unwrap_or(Value::Null);
            r["backchannel_providers"] = json!([]);
            r["backchannel_providers_obj"] = json!([]);
            r["launch_url"] = row["meta_launch_url"].clone();
            // `meta_icon` is a string, not nullable in the schema: "" when no icon is set.
            r["meta_icon"] = json!("");
            r["meta_icon_url"] = Value::Null;
            r["meta_icon_themed_urls"] = Value::Null;
        }
        Kind::Flows => {
            r["policybindingmodel_ptr_id"] = row["pk"].clone();
            r["background_url"] = json!("/static/dist/assets/images/flow_background.jpg");
            r["background_themed_urls"] = Value::Null;
            r["stages"] = json!([]);
            r["policies"] = json!([]);
            r["cache_count"] = json!(0);
            r["export_url"] = json!(format!(
                "/api/v3/flows/instances/{}/export/",
                row["slug"].as_str().unwrap_or_default()
            ));
        }
    }
    r
}

fn not_found(kind: Kind) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        &format!(
            "No {} matches the given query.",
            kind.model().replace(' ', "")
        ),
    )
}

fn kind_of(req: &Request) -> Option<Kind> {
    let p = req.uri().path();
    let p = p.strip_prefix("/api/v3").unwrap_or(p);
    Kind::ALL.into_iter().find(|k| p.starts_with(k.path()))
}

async fn json_body(req: Request) -> Result<Map<String, Value>, Response> {
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|_| detail(StatusCode::BAD_REQUEST, "Request too large."))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(field_errors(
            [(
                "non_field_errors".to_string(),
                json!(["Invalid data. Expected a dictionary."]),
            )]
            .into_iter()
            .collect(),
        )),
        Err(e) => Err(detail(
            StatusCode::BAD_REQUEST,
            &format!("JSON parse error - {e}"),
        )),
    }
}

/// Keeps only writable fields; membership given on a group goes to its users.
fn writable(kind: Kind, body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| {
            kind.fields().iter().any(|(f, _)| f == k) && !(kind == Kind::Groups && *k == "users")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Sets a group's members (a many-to-many stored on the users).
fn set_group_users(st: &mut State, group_pk: &Value, users: &[Value]) {
    st.table(Kind::Users).values_mut_each(|u| {
        let member = users.iter().any(|x| x.as_i64() == u["pk"].as_i64());
        let groups = u["groups"].as_array_mut();
        if let Some(g) = groups {
            g.retain(|x| x != group_pk);
            if member {
                g.push(group_pk.clone());
            }
        }
    });
}

fn query_params(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (crate::http::url_decode(k), crate::http::url_decode(v)))
        .collect()
}

pub(crate) async fn list(AxState(a): AxState<Arc<Authentik>>, req: Request) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let Some(kind) = kind_of(&req) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    let params = query_params(&req);
    let st = a.store.snapshot();
    let filterable: BTreeSet<&str> = [
        "username",
        "name",
        "slug",
        "email",
        "scope_name",
        "client_id",
        "designation",
        "path",
        "type",
    ]
    .into();
    let mut rows: Vec<Value> = st
        .rows(kind)
        .filter(|r| {
            params.iter().all(|(k, v)| match k.as_str() {
                "search" => r.to_string().to_lowercase().contains(&v.to_lowercase()),
                k if filterable.contains(k) => r.get(k).and_then(Value::as_str) == Some(v.as_str()),
                _ => true,
            })
        })
        .map(|r| {
            let mut v = render(kind, &st, r);
            apply_includes(kind, &st, &mut v, &params);
            v
        })
        .collect();
    rows.sort_by(|x, y| {
        x["pk"]
            .to_string()
            .len()
            .cmp(&y["pk"].to_string().len())
            .then(x["pk"].to_string().cmp(&y["pk"].to_string()))
    });
    let param = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let size = param("page_size")
        .filter(|s| *s > 0)
        .unwrap_or(20)
        .min(1000);
    let page = param("page").filter(|p| *p > 0).unwrap_or(1);
    let count = rows.len();
    let pages = count.div_ceil(size).max(1);
    if page > pages && count > 0 {
        return detail(StatusCode::NOT_FOUND, "Invalid page.");
    }
    let results: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    let start = if count == 0 { 0 } else { (page - 1) * size + 1 };
    Json(json!({
        "pagination": {
            "next": if page < pages { page + 1 } else { 0 },
            "previous": page.saturating_sub(1),
            "count": count, "current": page, "total_pages": pages,
            "start_index": start, "end_index": start + results.len().saturating_sub(1).min(count),
        },
        "results": results,
        "autocomplete": {},
    }))
    .into_response()
}

pub(crate) async fn create(AxState(a): AxState<Arc<Authentik>>, req: Request) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let Some(kind) = kind_of(&req) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let res = a.commit(|st| {
        validate(kind, st, &body, false, None)?;
        let mut row = kind.defaults();
        for (k, v) in writable(kind, &body) {
            row[&k] = v;
        }
        let key = if kind.int_pk() {
            let pk = st.next_pk();
            row["pk"] = json!(pk);
            pk.to_string()
        } else {
            row["pk"] = json!(uuid());
            row[kind.key_field()]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        if kind == Kind::Users {
            row["uuid"] = json!(uuid());
        }
        if kind == Kind::OAuth2Providers {
            if row.get("client_id").is_none_or(|v| v.is_null()) {
                row["client_id"] = json!(random_token(40));
            }
            if row.get("client_secret").is_none_or(|v| v.is_null()) {
                row["client_secret"] = json!(random_token(128));
            }
        }
        st.table(kind).insert(key, row.clone());
        if let Some(users) = body
            .get("users")
            .and_then(Value::as_array)
            .filter(|_| kind == Kind::Groups)
        {
            set_group_users(st, &row["pk"], users);
        }
        Ok(render(kind, st, &row))
    });
    match res {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(r) => r,
    }
}

pub(crate) async fn retrieve(
    AxState(a): AxState<Arc<Authentik>>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let Some(kind) = kind_of(&req) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    let params = query_params(&req);
    let st = a.store.snapshot();
    match st.get(kind, &key) {
        Some(row) => {
            let mut v = render(kind, &st, row);
            apply_includes(kind, &st, &mut v, &params);
            Json(v).into_response()
        }
        None => not_found(kind),
    }
}

async fn change(a: Arc<Authentik>, key: String, req: Request, partial: bool) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let Some(kind) = kind_of(&req) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let res = a.commit(|st| {
        let Some(mut row) = st.get(kind, &key).cloned() else {
            return Err(not_found(kind));
        };
        validate(kind, st, &body, partial, Some(&key))?;
        for (k, v) in writable(kind, &body) {
            row[&k] = v;
        }
        let new_key = row[kind.key_field()]
            .to_string()
            .trim_matches('"')
            .to_string();
        st.table(kind).remove(&key);
        st.table(kind).insert(new_key, row.clone());
        if let Some(users) = body
            .get("users")
            .and_then(Value::as_array)
            .filter(|_| kind == Kind::Groups)
        {
            set_group_users(st, &row["pk"], users);
        }
        Ok(render(kind, st, &row))
    });
    match res {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

pub(crate) async fn update(
    AxState(a): AxState<Arc<Authentik>>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    change(a, key, req, false).await
}

pub(crate) async fn partial_update(
    AxState(a): AxState<Arc<Authentik>>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    change(a, key, req, true).await
}

pub(crate) async fn destroy(
    AxState(a): AxState<Arc<Authentik>>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let Some(kind) = kind_of(&req) else {
        return detail(StatusCode::NOT_FOUND, "Not found.");
    };
    let res = a.commit(|st| {
        let Some(row) = st.table(kind).remove(&key) else {
            return Err(not_found(kind));
        };
        match kind {
            Kind::Groups => {
                set_group_users(st, &row["pk"], &[]);
                st.table(Kind::Groups).values_mut_each(|g| {
                    if let Some(p) = g["parents"].as_array_mut() {
                        p.retain(|x| *x != row["pk"]);
                    }
                });
            }
            Kind::Users => {
                st.passwords.remove(&key);
            }
            Kind::OAuth2Providers => {
                st.table(Kind::Applications).values_mut_each(|app| {
                    if app["provider"] == row["pk"] {
                        app["provider"] = Value::Null;
                    }
                });
            }
            _ => {}
        }
        Ok(())
    });
    match res {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}
