//! Semantic equality after apply (terraform-plugin-framework's
//! `internal/fwserver/schema_semantic_equality.go`): an attribute may declare
//! when the value an API answers means the same as the planned one (other
//! letter case, reformatted JSON, a normalised URL, a list in another order).
//! Apply then returns the planned value. Any other difference is returned as
//! the API answered it, and Terraform reports the inconsistent result instead
//! of the provider hiding it.

use crate::protocol::schema::{Block, Nesting, SemanticEquality};
use crate::protocol::value::Value;

/// Strings that differ only in ASCII letter case (e.g. an email an API lower-cases).
pub struct CaseInsensitive;

impl SemanticEquality for CaseInsensitive {
    fn equal(&self, planned: &Value, applied: &Value) -> bool {
        matches!((planned.as_str(), applied.as_str()), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
    }
    fn description(&self) -> String {
        "compared ignoring letter case".into()
    }
}

/// Strings holding the same JSON document (whitespace and key order aside).
pub struct JsonEqual;

impl SemanticEquality for JsonEqual {
    fn equal(&self, planned: &Value, applied: &Value) -> bool {
        let parse = |v: &Value| {
            v.as_str()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        };
        matches!((parse(planned), parse(applied)), (Some(a), Some(b)) if a == b)
    }
    fn description(&self) -> String {
        "compared as JSON".into()
    }
}

/// URLs equal after normalising: scheme and host case, and a trailing `/` of the path.
pub struct UrlNormalized;

/// `url` with its scheme and host lower-cased and one trailing `/` dropped.
fn normalize_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let path = path.strip_suffix('/').unwrap_or(path);
    format!(
        "{}://{}{path}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

impl SemanticEquality for UrlNormalized {
    fn equal(&self, planned: &Value, applied: &Value) -> bool {
        matches!((planned.as_str(), applied.as_str()), (Some(a), Some(b)) if normalize_url(a) == normalize_url(b))
    }
    fn description(&self) -> String {
        "compared as URLs (scheme and host case, trailing `/`)".into()
    }
}

/// Lists of strings holding the same strings, in any order and with repeats ignored.
pub struct StringSet;

impl SemanticEquality for StringSet {
    fn equal(&self, planned: &Value, applied: &Value) -> bool {
        let set = |v: &Value| {
            v.elements()
                .iter()
                .map(|e| e.as_str().map(str::to_string))
                .collect::<Option<std::collections::BTreeSet<_>>>()
        };
        let known = |v: &Value| matches!(v, Value::List(_) | Value::Set(_));
        known(planned)
            && known(applied)
            && matches!((set(planned), set(applied)), (Some(a), Some(b)) if a == b)
    }
    fn description(&self) -> String {
        "compared as a set (order and repeats ignored)".into()
    }
}

/// Gives every attribute of `applied` (the result of create or update) that declares a
/// [`SemanticEquality`] and is semantically equal to its known planned value that planned
/// value; nested single and list blocks are followed element by element. Everything else
/// stays as the API answered.
pub fn keep_planned(block: &Block, applied: &mut Value, planned: &Value) {
    let Value::Object(fields) = applied else {
        return;
    };
    for a in &block.attributes {
        let (Some(eq), Some(nv)) = (&a.equality, fields.get_mut(&a.name)) else {
            continue;
        };
        let pv = planned.get(&a.name);
        if pv.is_wholly_known() && !pv.is_null() && !nv.equals(pv) && eq.equal(pv, nv) {
            *nv = pv.clone();
        }
    }
    for nb in &block.blocks {
        let Some(nv) = fields.get_mut(&nb.name) else {
            continue;
        };
        let pv = planned.get(&nb.name);
        match (nb.nesting, nv, pv) {
            (Nesting::Single, nv, pv) => keep_planned(&nb.block, nv, pv),
            (Nesting::List, Value::List(n), Value::List(p)) if n.len() == p.len() => {
                for (n, p) in n.iter_mut().zip(p) {
                    keep_planned(&nb.block, n, p);
                }
            }
            // Set elements are matched by value; a differing one is another element.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::Attribute;

    fn block() -> Block {
        Block::new("t")
            .attr(
                Attribute::string("email")
                    .required()
                    .semantic_equality(CaseInsensitive),
            )
            .attr(Attribute::string("name").required())
            .attr(
                Attribute::string("doc")
                    .optional()
                    .semantic_equality(JsonEqual),
            )
            .attr(
                Attribute::string("url")
                    .optional()
                    .semantic_equality(UrlNormalized),
            )
            .attr(
                Attribute::string_list("scopes")
                    .optional()
                    .semantic_equality(StringSet),
            )
            .block(
                "item",
                Nesting::List,
                Block::new("i").attr(
                    Attribute::string("email")
                        .optional()
                        .semantic_equality(CaseInsensitive),
                ),
                0,
            )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut v = block().null_object();
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    #[test]
    fn semantically_equal_answers_keep_the_plan() {
        let item = |e: &str| {
            let mut o = Block::new("i")
                .attr(Attribute::string("email").optional())
                .null_object();
            o.set("email", e.into());
            o
        };
        let planned = obj(&[
            ("email", "Ann@Example.org".into()),
            ("name", "Ann".into()),
            ("doc", r#"{"a": 1, "b": [1, 2]}"#.into()),
            ("url", "HTTPS://Example.org/app/".into()),
            ("scopes", Value::string_list(["openid", "email"])),
            ("item", Value::List(vec![item("X@Y.org")])),
        ]);
        let mut applied = obj(&[
            ("email", "ann@example.org".into()),
            ("name", "Ann".into()),
            ("doc", r#"{"b":[1,2],"a":1}"#.into()),
            ("url", "https://example.org/app".into()),
            ("scopes", Value::string_list(["email", "openid"])),
            ("item", Value::List(vec![item("x@y.org")])),
        ]);
        keep_planned(&block(), &mut applied, &planned);
        assert!(applied.equals(&planned), "{applied:?}");
    }

    #[test]
    fn other_differences_are_returned_as_answered() {
        let planned = obj(&[
            ("email", "ann@example.org".into()),
            ("name", "Ann".into()),
            ("doc", r#"{"a": 1}"#.into()),
            ("url", "https://example.org/app".into()),
            ("scopes", Value::string_list(["openid", "email"])),
        ]);
        let answered = obj(&[
            ("email", "bob@example.org".into()),
            ("name", "ann".into()),
            ("doc", r#"{"a": 2}"#.into()),
            ("url", "https://example.org/App".into()),
            ("scopes", Value::string_list(["openid"])),
        ]);
        let mut applied = answered.clone();
        keep_planned(&block(), &mut applied, &planned);
        assert!(applied.equals(&answered), "{applied:?}");
    }

    #[test]
    fn unknown_planned_values_take_the_answer() {
        let planned = obj(&[("email", Value::Unknown), ("name", "a".into())]);
        let mut applied = obj(&[("email", "a@b.c".into()), ("name", "a".into())]);
        keep_planned(&block(), &mut applied, &planned);
        assert_eq!(applied.get("email"), &Value::from("a@b.c"));
    }
}
