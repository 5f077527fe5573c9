//! cty's JSON encoding, used by Terraform for stored state (`RawState.json`).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::msgpack::type_of;
use super::types::Type;
use super::value::{Number, Value};

const MAX_DEPTH: usize = 64;

/// Converts stored-state JSON into a value of `ty`. Attributes the type does
/// not know are dropped (a schema upgrade may have removed them); missing
/// ones are null.
pub fn from_json(j: &Json, ty: &Type) -> Result<Value, String> {
    convert(j, ty, 0)
}

fn convert(j: &Json, ty: &Type, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("value nested too deeply".into());
    }
    if j.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = || format!("expected {ty}, found {j}");
    Ok(match ty {
        Type::Dynamic => {
            let o = j.as_object().ok_or_else(mismatch)?;
            let inner = Type::from_json(o.get("type").ok_or_else(mismatch)?)?;
            convert(o.get("value").unwrap_or(&Json::Null), &inner, depth + 1)?
        }
        Type::Bool => match j {
            Json::Bool(b) => Value::Bool(*b),
            Json::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
            _ => return Err(mismatch()),
        },
        Type::Number => match j {
            Json::Number(n) => Value::Number(Number::parse(&n.to_string()).ok_or_else(mismatch)?),
            Json::String(s) => Value::Number(Number::parse(s).ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        },
        Type::String => match j {
            Json::String(s) => Value::String(s.clone()),
            Json::Number(n) => Value::String(n.to_string()),
            Json::Bool(b) => Value::String(b.to_string()),
            _ => return Err(mismatch()),
        },
        Type::List(et) | Type::Set(et) => {
            let items = j
                .as_array()
                .ok_or_else(mismatch)?
                .iter()
                .map(|i| convert(i, et, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            }
        }
        Type::Tuple(ets) => {
            let a = j.as_array().ok_or_else(mismatch)?;
            if a.len() != ets.len() {
                return Err(mismatch());
            }
            Value::Tuple(
                a.iter()
                    .zip(ets)
                    .map(|(i, t)| convert(i, t, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(et) => Value::Map(
            j.as_object()
                .ok_or_else(mismatch)?
                .iter()
                .map(|(k, v)| Ok((k.clone(), convert(v, et, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
        Type::Object(attrs) => {
            let o = j.as_object().ok_or_else(mismatch)?;
            let mut m = BTreeMap::new();
            for (name, at) in attrs {
                let v = match o.get(name) {
                    Some(v) => convert(v, at, depth + 1).map_err(|e| format!("{name}: {e}"))?,
                    None => Value::Null,
                };
                m.insert(name.clone(), v);
            }
            Value::Object(m)
        }
    })
}

/// Converts a known value to JSON (unknowns become null). Used for
/// debugging output and for drift reports, never for secrets in logs.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Unknown => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => serde_json::from_str(n.as_str()).unwrap_or(Json::String(n.to_string())),
        Value::String(s) => Json::String(s.clone()),
        Value::List(a) | Value::Set(a) | Value::Tuple(a) => {
            Json::Array(a.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// `{"type": ..., "value": ...}` form for a dynamic value.
pub fn to_dynamic_json(v: &Value) -> Json {
    serde_json::json!({"type": type_of(v).to_json(), "value": to_json(v)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_json_to_value() {
        let ty = Type::object([
            ("id", Type::String),
            ("max_budget", Type::Number),
            ("models", Type::list(Type::String)),
            ("metadata", Type::map(Type::String)),
            ("blocked", Type::Bool),
        ]);
        let j = json!({"id": "abc", "max_budget": 10.5, "models": ["gpt"], "metadata": {"a": "b"}, "removed_attr": 1});
        let v = from_json(&j, &ty).unwrap();
        assert_eq!(v.get("id").as_str(), Some("abc"));
        assert_eq!(v.get("max_budget").as_f64(), Some(10.5));
        assert_eq!(v.get("blocked"), &Value::Null);
        assert_eq!(v.get("metadata").string_entries()["a"], "b");
        assert_eq!(to_json(&v)["models"], json!(["gpt"]));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert!(from_json(&json!([1]), &Type::String).is_err());
        assert!(from_json(&json!({"a": 1}), &Type::list(Type::String)).is_err());
        assert!(from_json(&json!("x"), &Type::Number).is_err());
    }
}
