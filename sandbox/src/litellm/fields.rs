//! Request field tables and pydantic-like (lax mode) validation and coercion,
//! plus LiteLLM's duration strings.

use serde_json::{json, Map, Value};

use crate::http::{verr, verr_ctx};
use crate::time::{self, Micros};

/// Field types, as in the OpenAPI schema of LiteLLM 1.106.2.
#[derive(Clone, Copy)]
pub enum Ty {
    Str,
    Num,
    Int,
    /// integer > 0
    PosInt,
    Bool,
    DateTime,
    List,
    StrList,
    Obj,
    /// object of integers
    IntMap,
    /// object of integers > 0
    PosIntMap,
    /// `Literal[...]`
    Lit(&'static [&'static str]),
    /// a Python `Enum`
    Enum(&'static [&'static str]),
    /// `members_with_roles`: list of `{role, user_id?, user_email?}`
    Members,
    /// not nullable
    NonNull(&'static Ty),
}

use Ty::*;

const LIMIT3: &[&str] = &["guaranteed_throughput", "best_effort_throughput", "dynamic"];
const LIMIT2: &[&str] = &["guaranteed_throughput", "best_effort_throughput"];
/// `key_type` values.
pub const KEY_TYPES: &[&str] = &["llm_api", "management", "read_only", "default"];

/// Fields shared by `/key/generate` and `/key/update` (`KeyRequestBase`).
pub const KEY_SHARED: &[(&str, Ty)] = &[
    ("key", Str),
    ("key_alias", Str),
    ("duration", Str),
    ("models", List),
    ("spend", Num),
    ("max_budget", Num),
    ("budget_duration", Str),
    ("budget_limits", List),
    ("user_id", Str),
    ("team_id", Str),
    ("agent_id", Str),
    ("budget_id", Str),
    ("end_user_budget_id", Str),
    ("max_parallel_requests", Int),
    ("tpm_limit", Int),
    ("rpm_limit", Int),
    ("tpd_limit", Int),
    ("tpm_limit_type", Lit(LIMIT3)),
    ("rpm_limit_type", Lit(LIMIT3)),
    ("model_rpm_limit", Obj),
    ("model_tpm_limit", Obj),
    ("mcp_rpm_limit", IntMap),
    ("tag_rpm_limit", IntMap),
    ("default_estimated_output_tokens", PosInt),
    ("default_estimated_output_tokens_per_model", PosIntMap),
    ("metadata", Obj),
    ("tags", StrList),
    ("aliases", Obj),
    ("config", Obj),
    ("permissions", Obj),
    ("model_max_budget", Obj),
    ("budget_fallbacks", Obj),
    ("allowed_cache_controls", List),
    ("allowed_routes", List),
    ("allowed_passthrough_routes", List),
    ("denied_passthrough_routes", StrList),
    ("allowed_vector_store_indexes", List),
    ("guardrails", StrList),
    ("policies", StrList),
    ("prompts", StrList),
    ("disable_global_guardrails", Bool),
    ("enable_prompt_caching", Bool),
    ("throttle_on_budget_exceeded", Bool),
    ("enforced_params", StrList),
    ("blocked", Bool),
    ("object_permission", Obj),
    ("router_settings", Obj),
    ("access_group_ids", StrList),
];

/// Extra fields of `/key/generate`.
pub const KEY_GENERATE: &[(&str, Ty)] = &[
    ("soft_budget", Num),
    ("send_invite_email", Bool),
    ("key_type", Enum(KEY_TYPES)),
    ("auto_rotate", Bool),
    ("rotation_interval", Str),
    ("organization_id", Str),
    ("project_id", Str),
];

/// Extra fields of `/key/update`.
pub const KEY_UPDATE: &[(&str, Ty)] = &[
    ("soft_budget", Num),
    ("temp_budget_increase", Num),
    ("temp_budget_expiry", DateTime),
    ("auto_rotate", Bool),
    ("rotation_interval", Str),
    ("organization_id", Str),
    ("project_id", Str),
];

/// Request fields the proxy keeps inside `metadata`, not in columns
/// (`LiteLLM_ManagementEndpoint_MetadataFields`, litellm/proxy/_types.py of 1.106.2): moved there
/// by `/key/generate` and `/team/new`, merged into the stored metadata by `/key/update`.
pub const METADATA_FIELDS: &[&str] = &[
    "model_rpm_limit",
    "model_tpm_limit",
    "model_itpm_limit",
    "model_otpm_limit",
    "default_estimated_output_tokens",
    "default_estimated_output_tokens_per_model",
    "mcp_rpm_limit",
    "tag_rpm_limit",
    "rpm_limit_type",
    "tpm_limit_type",
    "enforced_params",
    "temp_budget_increase",
    "temp_budget_expiry",
    "allowed_vector_store_indexes",
    "enforced_batch_output_expires_after",
    "enforced_file_expires_after",
    "throttle_on_budget_exceeded",
    "enable_prompt_caching",
    "end_user_budget_id",
];

/// Metadata-backed fields that need an enterprise licence when set to a truthy value
/// (`LiteLLM_ManagementEndpoint_MetadataFields_Premium`, same file; the check is
/// `premium_user_check` in `set_object_metadata_field`, management_endpoints/common_utils.py).
pub const PREMIUM_METADATA_FIELDS: &[&str] = &[
    "disable_global_guardrails",
    "guardrails",
    "policies",
    "tags",
    "team_member_key_duration",
    "prompts",
    "logging",
    "secret_manager_settings",
    "allowed_passthrough_routes",
    "denied_passthrough_routes",
];

/// Whether `name` lives in `metadata` rather than in a column.
pub fn is_metadata_field(name: &str) -> bool {
    METADATA_FIELDS.contains(&name) || PREMIUM_METADATA_FIELDS.contains(&name)
}

/// Python truthiness of a JSON value (`if v:`).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `/key/delete` body.
pub const KEY_DELETE: &[(&str, Ty)] = &[("keys", StrList), ("key_aliases", StrList)];

/// `/team/new` body (`NewTeamRequest`).
pub const TEAM_NEW: &[(&str, Ty)] = &[
    ("team_alias", Str),
    ("team_id", Str),
    ("organization_id", Str),
    ("admins", NonNull(&StrList)),
    ("members", NonNull(&StrList)),
    ("members_with_roles", NonNull(&Members)),
    ("team_member_permissions", StrList),
    ("metadata", Obj),
    ("tpm_limit", Int),
    ("rpm_limit", Int),
    ("tpd_limit", Int),
    ("rpm_limit_type", Lit(LIMIT2)),
    ("tpm_limit_type", Lit(LIMIT2)),
    ("max_budget", Num),
    ("soft_budget", Num),
    ("budget_duration", Str),
    ("budget_limits", List),
    ("models", NonNull(&StrList)),
    ("blocked", NonNull(&Bool)),
    ("tags", List),
    ("model_aliases", Obj),
    ("model_max_budget", Obj),
    ("model_rpm_limit", IntMap),
    ("model_tpm_limit", IntMap),
    ("mcp_rpm_limit", IntMap),
    ("default_estimated_output_tokens", PosInt),
    ("default_estimated_output_tokens_per_model", PosIntMap),
    ("guardrails", StrList),
    ("policies", StrList),
    ("prompts", StrList),
    ("disable_global_guardrails", Bool),
    ("object_permission", Obj),
    ("allowed_passthrough_routes", List),
    ("denied_passthrough_routes", StrList),
    ("allowed_vector_store_indexes", List),
    ("secret_manager_settings", Obj),
    ("router_settings", Obj),
    ("access_group_ids", StrList),
    ("default_team_member_models", StrList),
    ("team_member_budget", Num),
    ("team_member_budget_duration", Str),
    ("team_member_rpm_limit", Int),
    ("team_member_tpm_limit", Int),
    ("team_member_key_duration", Str),
    ("enforced_batch_output_expires_after", Obj),
    ("enforced_file_expires_after", Obj),
];

/// `/team/new` fields that `/team/update` does not accept.
pub const TEAM_NOT_UPDATABLE: &[&str] = &[
    "team_id",
    "admins",
    "members",
    "members_with_roles",
    "team_member_permissions",
    "rpm_limit_type",
    "tpm_limit_type",
];

/// `/team/delete` body.
pub const TEAM_DELETE: &[(&str, Ty)] = &[("team_ids", NonNull(&StrList))];

fn loc(base: &[Value], tail: impl Into<Value>) -> Vec<Value> {
    let mut l = base.to_vec();
    l.push(tail.into());
    l
}

fn describe(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("'{o}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

fn as_int(v: &Value) -> Result<i64, (&'static str, &'static str)> {
    const TYPE: (&str, &str) = ("int_type", "Input should be a valid integer");
    match v {
        Value::Bool(b) => Ok(*b as i64),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(f as i64),
            (None, Some(f)) if f.is_finite() && f.fract() != 0.0 => Err((
                "int_from_float",
                "Input should be a valid integer, got a number with a fractional part",
            )),
            _ => Err(TYPE),
        },
        Value::String(s) => s.trim().parse().map_err(|_| {
            (
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            )
        }),
        _ => Err(TYPE),
    }
}

/// Coerces `v` to `ty` as pydantic's lax mode would, or records errors at `at`.
pub fn coerce(v: &Value, ty: Ty, at: &[Value], errs: &mut Vec<Value>) -> Option<Value> {
    let mut fail = |kind: &str, msg: &str| {
        errs.push(verr(kind, at.to_vec(), msg, v.clone()));
        None
    };
    match ty {
        NonNull(inner) if v.is_null() => match inner {
            Bool => fail("bool_type", "Input should be a valid boolean"),
            Str => fail("string_type", "Input should be a valid string"),
            Int | PosInt => fail("int_type", "Input should be a valid integer"),
            _ => fail("list_type", "Input should be a valid list"),
        },
        NonNull(inner) => coerce(v, *inner, at, errs),
        _ if v.is_null() => Some(Value::Null),
        Str => match v {
            Value::String(_) => Some(v.clone()),
            _ => fail("string_type", "Input should be a valid string"),
        },
        Num => match v {
            Value::Number(n) => Some(json!(n.as_f64().unwrap_or_default())),
            Value::Bool(b) => Some(json!(*b as i64 as f64)),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Some(json!(f)),
                // Non-finite floats have no JSON form: kept as their string.
                Ok(_) => Some(v.clone()),
                Err(_) => fail(
                    "float_parsing",
                    "Input should be a valid number, unable to parse string as a number",
                ),
            },
            _ => fail("float_type", "Input should be a valid number"),
        },
        Int | PosInt => match as_int(v) {
            Ok(i) if matches!(ty, PosInt) && i <= 0 => {
                errs.push(verr_ctx(
                    "greater_than",
                    at.to_vec(),
                    "Input should be greater than 0",
                    v.clone(),
                    json!({"gt": 0}),
                ));
                None
            }
            Ok(i) => Some(json!(i)),
            Err((kind, msg)) => fail(kind, msg),
        },
        Bool => match v {
            Value::Bool(_) => Some(v.clone()),
            Value::Number(n) if n.as_f64() == Some(0.0) => Some(json!(false)),
            Value::Number(n) if n.as_f64() == Some(1.0) => Some(json!(true)),
            Value::Number(_) => fail(
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            ),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "0" | "off" | "f" | "false" | "n" | "no" => Some(json!(false)),
                "1" | "on" | "t" | "true" | "y" | "yes" => Some(json!(true)),
                _ => fail(
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                ),
            },
            _ => fail("bool_type", "Input should be a valid boolean"),
        },
        DateTime => match v.as_str().and_then(time::parse) {
            Some(_) => Some(v.clone()),
            None => fail("datetime_parsing", "Input should be a valid datetime"),
        },
        List => match v {
            Value::Array(_) => Some(v.clone()),
            _ => fail("list_type", "Input should be a valid list"),
        },
        StrList | Members => {
            let Value::Array(items) = v else {
                return fail("list_type", "Input should be a valid list");
            };
            let before = errs.len();
            let out: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let at = loc(at, i);
                    if matches!(ty, Members) {
                        member(item, &at, errs)
                    } else {
                        coerce(item, NonNull(&Str), &at, errs)
                    }
                })
                .collect();
            (errs.len() == before).then_some(Value::Array(out))
        }
        Obj | IntMap | PosIntMap => {
            let Value::Object(map) = v else {
                return fail("dict_type", "Input should be a valid dictionary");
            };
            let item_ty = match ty {
                IntMap => NonNull(&Int),
                PosIntMap => NonNull(&PosInt),
                _ => return Some(v.clone()),
            };
            let before = errs.len();
            let out: Map<String, Value> = map
                .iter()
                .filter_map(|(k, item)| {
                    Some((
                        k.clone(),
                        coerce(item, item_ty, &loc(at, k.as_str()), errs)?,
                    ))
                })
                .collect();
            (errs.len() == before).then_some(Value::Object(out))
        }
        Lit(options) | Enum(options) => match v.as_str() {
            Some(s) if options.contains(&s) => Some(v.clone()),
            _ => {
                let expected = describe(options);
                let kind = if matches!(ty, Lit(_)) {
                    "literal_error"
                } else {
                    "enum"
                };
                errs.push(verr_ctx(
                    kind,
                    at.to_vec(),
                    format!("Input should be {expected}"),
                    v.clone(),
                    json!({"expected": expected}),
                ));
                None
            }
        },
    }
}

/// Validates a `Member` object.
#[allow(clippy::unnecessary_map_or)] // `is_none_or` needs Rust 1.82 (MSRV 1.80)
fn member(v: &Value, at: &[Value], errs: &mut Vec<Value>) -> Option<Value> {
    let Value::Object(m) = v else {
        errs.push(verr(
            "model_type",
            at.to_vec(),
            "Input should be a valid dictionary or instance of Member",
            v.clone(),
        ));
        return None;
    };
    let before = errs.len();
    let role = match m.get("role") {
        None => {
            errs.push(verr(
                "missing",
                loc(at, "role"),
                "Field required",
                v.clone(),
            ));
            None
        }
        Some(r) => coerce(r, NonNull(&Lit(&["admin", "user"])), &loc(at, "role"), errs),
    };
    let user_id = coerce(
        m.get("user_id").unwrap_or(&Value::Null),
        Str,
        &loc(at, "user_id"),
        errs,
    );
    let user_email = coerce(
        m.get("user_email").unwrap_or(&Value::Null),
        Str,
        &loc(at, "user_email"),
        errs,
    );
    if errs.len() > before {
        return None;
    }
    if user_id.as_ref().map_or(true, Value::is_null)
        && user_email.as_ref().map_or(true, Value::is_null)
    {
        errs.push(verr_ctx(
            "value_error",
            at.to_vec(),
            "Value error, Either user_id or user_email must be provided",
            v.clone(),
            json!({"error": {}}),
        ));
        return None;
    }
    Some(json!({ "user_id": user_id, "user_email": user_email, "role": role }))
}

/// Validates a JSON body against field tables: the coerced known fields that
/// were sent (unknown fields are ignored, as pydantic does), or 422 errors.
pub fn validate(body: &Value, tables: &[&[(&str, Ty)]]) -> Result<Map<String, Value>, Vec<Value>> {
    let Value::Object(obj) = body else {
        return Err(vec![verr(
            "model_attributes_type",
            vec!["body".into()],
            "Input should be a valid dictionary or object to extract fields from",
            body.clone(),
        )]);
    };
    let (mut out, mut errs) = (Map::new(), Vec::new());
    for (name, ty) in tables.iter().flat_map(|t| t.iter()) {
        if let Some(v) = obj.get(*name) {
            if let Some(c) = coerce(v, *ty, &["body".into(), (*name).into()], &mut errs) {
                out.insert((*name).to_owned(), c);
            }
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// A "field required" error for `name` of `body`.
pub fn missing(body: &Value, name: &str) -> Value {
    verr(
        "missing",
        vec!["body".into(), name.into()],
        "Field required",
        body.clone(),
    )
}

/// True for float fields (`max_budget`, `spend`, ...).
pub fn is_number_field(name: &str) -> bool {
    [KEY_SHARED, KEY_GENERATE, KEY_UPDATE, TEAM_NEW]
        .iter()
        .flat_map(|t| t.iter())
        .any(|(n, t)| *n == name && matches!(t, Num))
}

/// A number field's value as a float (`"inf"`, `"NaN"` included).
pub fn float(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A parsed duration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Duration {
    Secs(i64),
    Months(i64),
}

impl Duration {
    /// Parses LiteLLM's `<n>(s|m|h|d|w|mo)`, matching only a prefix as Python's
    /// `re.match(r"(\d+)(mo|[smhdw]?)", ...)` does. The error is the
    /// `ValueError` message LiteLLM raises.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("Invalid duration format".into());
        }
        let n: i64 = s[..digits]
            .parse()
            .map_err(|_| "Invalid duration format".to_string())?;
        let rest = &s[digits..];
        let mul = match rest.as_bytes().first() {
            _ if rest.starts_with("mo") => return Ok(Duration::Months(n)),
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 3600,
            Some(b'd') => 86_400,
            Some(b'w') => 604_800,
            _ => return Err(format!("Unsupported duration unit, passed duration: {s}")),
        };
        Ok(Duration::Secs(n.saturating_mul(mul)))
    }

    /// `t` plus this duration.
    pub fn after(self, t: Micros) -> Micros {
        match self {
            Duration::Secs(s) => t.saturating_add(s.saturating_mul(1_000_000)),
            Duration::Months(m) => time::add_months(t, m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("30s"), Ok(Duration::Secs(30)));
        assert_eq!(Duration::parse("2h"), Ok(Duration::Secs(7200)));
        assert_eq!(Duration::parse("1w"), Ok(Duration::Secs(604_800)));
        assert_eq!(Duration::parse("3mo"), Ok(Duration::Months(3)));
        assert_eq!(Duration::parse("5min"), Ok(Duration::Secs(300)));
        assert_eq!(
            Duration::parse("abc"),
            Err("Invalid duration format".into())
        );
        assert_eq!(
            Duration::parse("30x"),
            Err("Unsupported duration unit, passed duration: 30x".into())
        );
        assert_eq!(
            Duration::parse("30"),
            Err("Unsupported duration unit, passed duration: 30".into())
        );
    }

    #[test]
    fn lax_coercion_and_errors() {
        let body = json!({"tpm_limit": "12", "spend": 3, "blocked": "yes", "models": ["a", 1], "key_alias": 5, "x": 1});
        let errs = validate(&body, &[KEY_SHARED]).unwrap_err();
        let kinds: Vec<_> = errs
            .iter()
            .map(|e| (e["type"].as_str().unwrap(), e["loc"].clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![("string_type", json!(["body", "key_alias"]))],
            "models is a list of anything; only key_alias is wrong"
        );
        let ok = validate(
            &json!({"tpm_limit": "12", "spend": 3, "blocked": "yes", "x": 1}),
            &[KEY_SHARED],
        )
        .unwrap();
        assert_eq!(
            Value::Object(ok),
            json!({"tpm_limit": 12, "spend": 3.0, "blocked": true})
        );
        let errs = validate(
            &json!({"tags": ["a", 1], "tpm_limit": 1.5, "key_type": "x"}),
            &[KEY_SHARED, KEY_GENERATE],
        )
        .unwrap_err();
        assert_eq!(errs[0]["loc"], json!(["body", "tpm_limit"]));
        assert_eq!(errs[0]["type"], "int_from_float");
        assert_eq!(errs[1]["loc"], json!(["body", "tags", 1]));
        assert_eq!(
            errs[2]["msg"],
            "Input should be 'llm_api', 'management', 'read_only' or 'default'"
        );
        assert!(validate(&json!([1]), &[KEY_SHARED]).is_err());
    }

    #[test]
    fn members_need_an_id_or_email() {
        let errs = validate(
            &json!({"members_with_roles": [{"role": "admin"}]}),
            &[TEAM_NEW],
        )
        .unwrap_err();
        assert_eq!(errs[0]["type"], "value_error");
        let ok = validate(
            &json!({"members_with_roles": [{"role": "user", "user_id": "u"}]}),
            &[TEAM_NEW],
        )
        .unwrap();
        assert_eq!(
            ok["members_with_roles"],
            json!([{"user_id": "u", "user_email": null, "role": "user"}])
        );
        let errs = validate(&json!({"models": null}), &[TEAM_NEW]).unwrap_err();
        assert_eq!(errs[0]["type"], "list_type");
    }
}
