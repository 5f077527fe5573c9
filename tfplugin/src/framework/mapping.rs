//! Declarative mapping between resource attributes and JSON API fields, so a
//! resource lists its plain fields once and gets request bodies, state from
//! API answers, and change sets from the same table.

use serde_json::{Map, Value as Json};

use crate::protocol::value::Value;

/// How a field is shaped on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Num,
    Int,
    Bool,
    StrList,
    /// map(string) in Terraform; an object of any values in the API (non-string
    /// values are shown as their JSON text).
    StrMap,
    /// Bool that the API may leave null, meaning false.
    FlagFalse,
    /// List the API may leave null, meaning empty.
    ListEmpty,
    /// Map the API may leave null, meaning empty.
    MapEmpty,
}

/// One attribute <-> one API field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub attr: &'static str,
    pub api: &'static str,
    pub kind: Kind,
}

pub const fn field(attr: &'static str, kind: Kind) -> Field {
    Field {
        attr,
        api: attr,
        kind,
    }
}

/// Terraform value -> JSON for a request body.
pub fn to_api(v: &Value, kind: Kind) -> Json {
    match (kind, v) {
        (_, Value::Null | Value::Unknown) => Json::Null,
        (Kind::Num, Value::Number(n)) => serde_json::from_str(n.as_str()).unwrap_or(Json::Null),
        (Kind::Int, Value::Number(n)) => n.as_i64().map(Json::from).unwrap_or(Json::Null),
        (Kind::StrMap | Kind::MapEmpty, _) => Json::Object(
            v.string_entries()
                .into_iter()
                .map(|(k, s)| (k, Json::String(s)))
                .collect(),
        ),
        (Kind::StrList | Kind::ListEmpty, _) => {
            Json::Array(v.string_elements().into_iter().map(Json::String).collect())
        }
        _ => crate::protocol::json::to_json(v),
    }
}

/// JSON from an API answer -> Terraform value.
pub fn from_api(j: Option<&Json>, kind: Kind) -> Value {
    let j = j.unwrap_or(&Json::Null);
    match kind {
        Kind::Str => match j {
            Json::String(s) => Value::String(s.clone()),
            Json::Null => Value::Null,
            other => Value::String(other.to_string()),
        },
        Kind::Num | Kind::Int => j.as_f64().map(Value::float).unwrap_or(Value::Null),
        Kind::Bool => j.as_bool().map(Value::Bool).unwrap_or(Value::Null),
        Kind::FlagFalse => Value::Bool(j.as_bool().unwrap_or(false)),
        Kind::StrList | Kind::ListEmpty => match j.as_array() {
            Some(a) => Value::List(
                a.iter()
                    .map(|x| match x {
                        Json::String(s) => Value::String(s.clone()),
                        other => Value::String(other.to_string()),
                    })
                    .collect(),
            ),
            None if kind == Kind::ListEmpty => Value::List(vec![]),
            None => Value::Null,
        },
        Kind::StrMap | Kind::MapEmpty => match j.as_object() {
            Some(o) => Value::Map(
                o.iter()
                    .map(|(k, x)| {
                        let s = match x {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), Value::String(s))
                    })
                    .collect(),
            ),
            None if kind == Kind::MapEmpty => Value::Map(Default::default()),
            None => Value::Null,
        },
    }
}

/// A request body with every field of the table.
pub fn body(fields: &[Field], v: &Value) -> Map<String, Json> {
    fields
        .iter()
        .map(|f| (f.api.to_string(), to_api(v.get(f.attr), f.kind)))
        .collect()
}

/// A body with only the fields whose planned value differs from the prior state.
pub fn changes(fields: &[Field], prior: &Value, planned: &Value) -> Map<String, Json> {
    fields
        .iter()
        .filter(|f| !planned.get(f.attr).equals(prior.get(f.attr)))
        .map(|f| (f.api.to_string(), to_api(planned.get(f.attr), f.kind)))
        .collect()
}

/// Copies every field of `api` into `state`.
pub fn fill(fields: &[Field], api: &Json, state: &mut Value) {
    for f in fields {
        state.set(f.attr, from_api(api.get(f.api), f.kind));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[Field] = &[
        field("alias", Kind::Str),
        field("budget", Kind::Num),
        field("tpm", Kind::Int),
        field("models", Kind::ListEmpty),
        field("metadata", Kind::MapEmpty),
        field("blocked", Kind::FlagFalse),
    ];

    #[test]
    fn api_answer_to_state_and_back() {
        let api = json!({"alias": "a", "budget": 10.5, "tpm": 100, "models": null, "metadata": {"level": "strict", "n": 1}, "blocked": null});
        let mut state = Value::Object(Default::default());
        fill(FIELDS, &api, &mut state);
        assert_eq!(state.get("budget").as_f64(), Some(10.5));
        assert_eq!(state.get("tpm").as_i64(), Some(100));
        assert_eq!(state.get("models"), &Value::List(vec![]));
        assert_eq!(state.get("metadata").string_entries()["n"], "1");
        assert_eq!(state.get("blocked"), &Value::Bool(false));
        let b = body(FIELDS, &state);
        assert_eq!(b["budget"], json!(10.5));
        assert_eq!(b["tpm"], json!(100));
        assert_eq!(b["metadata"]["level"], json!("strict"));
    }

    #[test]
    fn changes_only_lists_changed_fields() {
        let mut prior = Value::Object(Default::default());
        fill(
            FIELDS,
            &json!({"alias": "a", "metadata": {"level": "strict"}}),
            &mut prior,
        );
        let mut planned = prior.clone();
        planned.set("metadata", Value::string_map([("level", "relaxed")]));
        let c = changes(FIELDS, &prior, &planned);
        assert_eq!(c.len(), 1);
        assert_eq!(c["metadata"], json!({"level": "relaxed"}));
    }
}
