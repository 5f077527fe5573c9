//! Write-only arguments (Terraform >= 1.11, plugin protocol 6.8): values that exist only in
//! the configuration. Terraform sends them in `config` to ValidateResourceConfig,
//! PlanResourceChange and ApplyResourceChange and refuses any plan or state that carries
//! one ("Provider produced invalid plan"), so the server nulls them in every planned, applied,
//! read and imported value, and hands them to a resource's `create`/`update` merged into the
//! planned value ([`with_config_values`]).
//!
//! Conventions: a write-only `X_wo` has a stored alternative `X` for Terraform < 1.11 (the two
//! exclude each other; for maps, only the same key in both), and a stored `X_wo_version` whose
//! change makes the resource send the value again. Write-only attributes sit at the top level of a resource schema, are optional
//! or required, and are never computed (checked by [`schema_errors`]).

use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Block, Nesting};
use crate::protocol::value::Value;

/// Why `block` cannot carry its write-only attributes (empty when it can).
pub fn schema_errors(block: &Block) -> Vec<String> {
    let mut errs = Vec::new();
    for a in &block.attributes {
        if !a.write_only {
            continue;
        }
        if a.computed || a.default.is_some() {
            errs.push(format!(
                "{}: a write-only attribute cannot be computed or have a default (its value is never in state)",
                a.name
            ));
        }
        if !a.optional && !a.required {
            errs.push(format!(
                "{}: a write-only attribute must be optional or required",
                a.name
            ));
        }
        if !a.modifiers.is_empty() {
            errs.push(format!(
                "{}: plan modifiers of a write-only attribute have no effect (both sides of a change are null); use `{}_version`",
                a.name, a.name
            ));
        }
    }
    for b in &block.blocks {
        if contains_write_only(&b.block) {
            errs.push(format!(
                "{}: write-only attributes are supported at the top level of a resource only",
                b.name
            ));
        }
    }
    errs
}

/// True when the block or a nested block has a write-only attribute.
pub fn contains_write_only(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.write_only)
        || block.blocks.iter().any(|b| contains_write_only(&b.block))
}

/// The stored attribute a write-only `X_wo` stands in for (`X`), if the schema has it.
pub fn alternative<'a>(block: &'a Block, write_only: &str) -> Option<&'a str> {
    let plain = write_only.strip_suffix("_wo")?;
    block
        .attribute(plain)
        .filter(|a| !a.write_only)
        .map(|a| a.name.as_str())
}

/// ValidateResourceConfig's checks: a write-only argument set while Terraform cannot take one
/// (`client_capabilities.write_only_attributes_allowed` false or absent, i.e. Terraform <
/// 1.11), and a write-only argument set together with its stored alternative.
pub fn validate(block: &Block, config: &Value, allowed: bool, diags: &mut Diagnostics) {
    for a in block.attributes.iter().filter(|a| a.write_only) {
        if config.get(&a.name).is_null() {
            continue;
        }
        let alt = alternative(block, &a.name);
        if !allowed {
            let instead = match alt {
                Some(p) => format!("use `{p}` instead (kept in state, marked sensitive), or "),
                None => String::new(),
            };
            diags.push_attr_error(
                AttrPath::root(&a.name),
                format!("`{}` needs Terraform 1.11 or later", a.name),
                format!(
                    "`{}` is a write-only argument: Terraform 1.11 and later send it without storing it in plan or state. \
                     This Terraform does not support write-only arguments; {instead}run Terraform >= 1.11.",
                    a.name
                ),
            );
        }
        let Some(p) = alt else { continue };
        let (wo, plain) = (config.get(&a.name), config.get(p));
        if plain.is_null() {
            continue;
        }
        // Maps (environment, variables) may split their keys between the two.
        let is_map = matches!(a.ty, crate::protocol::types::Type::Map(_));
        let clash: Vec<String> = match (wo, plain) {
            (Value::Map(w), Value::Map(m)) if is_map => {
                w.keys().filter(|k| m.contains_key(*k)).cloned().collect()
            }
            _ if is_map => continue,
            _ => vec![],
        };
        let (path, what) = match clash.first() {
            Some(k) => (
                AttrPath::root(&a.name).key(k),
                format!("key {k:?} is set in both"),
            ),
            None if is_map => continue,
            None => (AttrPath::root(&a.name), "set one of them".to_string()),
        };
        diags.push_attr_error(
            path,
            format!("Conflicting arguments `{}` and `{p}`", a.name),
            format!(
                "{what}: `{}` (write-only, Terraform >= 1.11, never stored) or `{p}` (kept in state)",
                a.name
            ),
        );
    }
}

/// Nulls every write-only attribute of an object of `block` (nested blocks included).
pub fn strip(block: &Block, v: &mut Value) {
    let Value::Object(m) = v else { return };
    for a in block.attributes.iter().filter(|a| a.write_only) {
        if let Some(x) = m.get_mut(&a.name) {
            *x = Value::Null;
        }
    }
    for b in &block.blocks {
        let Some(x) = m.get_mut(&b.name) else {
            continue;
        };
        match (b.nesting, x) {
            (Nesting::Single, x) => strip(&b.block, x),
            (_, Value::List(items) | Value::Set(items)) => {
                items.iter_mut().for_each(|i| strip(&b.block, i))
            }
            _ => {}
        }
    }
}

/// `planned` (write-only attributes null, as Terraform sends it to apply) with the write-only
/// values of `config`: what a resource's `create`/`update` gets.
pub fn with_config_values(block: &Block, planned: &Value, config: &Value) -> Value {
    let mut v = planned.clone();
    if v.is_null() || config.is_null() {
        return v;
    }
    for a in block.attributes.iter().filter(|a| a.write_only) {
        v.set(&a.name, config.get(&a.name).clone());
    }
    v
}

/// The string secret a create sends: the write-only `{name}_wo` when set, else `{name}`.
pub fn secret<'a>(plan: &'a Value, name: &str) -> Option<&'a str> {
    plan.get(&format!("{name}_wo"))
        .as_str()
        .or_else(|| plan.get(name).as_str())
}

/// The string secret an update sends again: `{name}_wo` when `{name}_wo_version` changed,
/// `{name}` when its value changed; None when neither is to be sent.
pub fn secret_to_resend<'a>(prior: &Value, plan: &'a Value, name: &str) -> Option<&'a str> {
    let version = format!("{name}_wo_version");
    let wo = plan.get(&format!("{name}_wo")).as_str();
    if wo.is_some() && !plan.get(&version).equals(prior.get(&version)) {
        return wo;
    }
    let plain = plan.get(name);
    (!plain.equals(prior.get(name)))
        .then(|| plain.as_str())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::Attribute;

    fn block() -> Block {
        Block::new("t")
            .attr(Attribute::string("id").computed())
            .attr(Attribute::string("password").optional().sensitive())
            .attr(
                Attribute::string("password_wo")
                    .optional()
                    .sensitive()
                    .write_only(),
            )
            .attr(Attribute::number("password_wo_version").optional())
            .attr(Attribute::string("token_wo").optional().write_only())
            .block(
                "inner",
                Nesting::List,
                Block::new("i").attr(Attribute::string("x").optional()),
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

    fn messages(d: &Diagnostics) -> Vec<(String, String)> {
        d.0.iter()
            .map(|x| {
                (
                    x.path.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                    format!("{} {}", x.summary, x.detail),
                )
            })
            .collect()
    }

    #[test]
    fn strip_nulls_write_only_values_and_nothing_else() {
        let mut v = obj(&[
            ("id", "1".into()),
            ("password", "plain".into()),
            ("password_wo", "secret".into()),
            ("password_wo_version", 2i64.into()),
            ("token_wo", Value::Unknown),
        ]);
        strip(&block(), &mut v);
        assert_eq!(v.get("password_wo"), &Value::Null);
        assert_eq!(v.get("token_wo"), &Value::Null);
        assert_eq!(v.get("password"), &Value::from("plain"));
        assert_eq!(v.get("password_wo_version"), &Value::from(2i64));
        assert_eq!(v.get("id"), &Value::from("1"));
        // Null (destroy) and non-objects are left alone.
        let mut null = Value::Null;
        strip(&block(), &mut null);
        assert!(null.is_null());
    }

    #[test]
    fn strip_reaches_nested_blocks() {
        let inner = Block::new("i").attr(Attribute::string("s").optional().write_only());
        let b = Block::new("t").block("inner", Nesting::List, inner, 0);
        let item = Value::Object([("s".to_string(), Value::from("secret"))].into());
        let mut v = Value::Object([("inner".to_string(), Value::List(vec![item]))].into());
        strip(&b, &mut v);
        assert_eq!(v.get("inner").elements()[0].get("s"), &Value::Null);
        assert_eq!(
            schema_errors(&b),
            vec!["inner: write-only attributes are supported at the top level of a resource only"]
        );
    }

    #[test]
    fn apply_gets_the_config_values_merged_into_the_plan() {
        let planned = obj(&[("id", Value::Unknown), ("password_wo_version", 1i64.into())]);
        let config = obj(&[
            ("password_wo", "secret".into()),
            ("password_wo_version", 1i64.into()),
        ]);
        let v = with_config_values(&block(), &planned, &config);
        assert_eq!(v.get("password_wo"), &Value::from("secret"));
        assert_eq!(v.get("id"), &Value::Unknown);
        assert_eq!(v.get("password_wo_version"), &Value::from(1i64));
        // Destroy: the planned value stays null.
        assert!(with_config_values(&block(), &Value::Null, &config).is_null());
    }

    #[test]
    fn old_terraform_is_told_which_argument_to_use_instead() {
        let config = obj(&[("password_wo", "secret".into())]);
        let mut d = Diagnostics::new();
        validate(&block(), &config, false, &mut d);
        let m = messages(&d);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "password_wo");
        assert!(m[0].1.contains("Terraform 1.11"), "{m:?}");
        assert!(m[0].1.contains("use `password` instead"), "{m:?}");
        assert!(!m[0].1.contains("secret"), "the value is never repeated");
        // An unknown value is set too (its value arrives later).
        let mut d = Diagnostics::new();
        validate(
            &block(),
            &obj(&[("token_wo", Value::Unknown)]),
            false,
            &mut d,
        );
        let m = messages(&d);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "token_wo");
        assert!(!m[0].1.contains("instead"), "no alternative: {m:?}");
    }

    #[test]
    fn terraform_1_11_accepts_write_only_values() {
        let config = obj(&[("password_wo", "secret".into()), ("token_wo", "t".into())]);
        let mut d = Diagnostics::new();
        validate(&block(), &config, true, &mut d);
        assert!(d.is_empty(), "{:?}", messages(&d));
        // Unset write-only arguments are fine on any Terraform.
        let mut d = Diagnostics::new();
        validate(&block(), &obj(&[("password", "p".into())]), false, &mut d);
        assert!(d.is_empty(), "{:?}", messages(&d));
    }

    #[test]
    fn write_only_and_its_stored_alternative_conflict() {
        let config = obj(&[("password_wo", "secret".into()), ("password", "p".into())]);
        let mut d = Diagnostics::new();
        validate(&block(), &config, true, &mut d);
        let m = messages(&d);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "password_wo");
        assert!(m[0].1.contains("Conflicting"), "{m:?}");
    }

    #[test]
    fn a_version_change_resends_the_write_only_secret() {
        let prior = obj(&[("password_wo_version", 1i64.into())]);
        let same = obj(&[
            ("password_wo", "new".into()),
            ("password_wo_version", 1i64.into()),
        ]);
        assert_eq!(secret(&same, "password"), Some("new"));
        assert_eq!(secret_to_resend(&prior, &same, "password"), None);
        let bumped = obj(&[
            ("password_wo", "new".into()),
            ("password_wo_version", 2i64.into()),
        ]);
        assert_eq!(secret_to_resend(&prior, &bumped, "password"), Some("new"));
        // The stored alternative is sent when its value changes.
        let plain_prior = obj(&[("password", "a".into())]);
        let plain = obj(&[("password", "b".into())]);
        assert_eq!(secret(&plain, "password"), Some("b"));
        assert_eq!(
            secret_to_resend(&plain_prior, &plain, "password"),
            Some("b")
        );
        assert_eq!(secret_to_resend(&plain, &plain, "password"), None);
        // Moving from `password` to `password_wo` with a version sends the write-only value.
        assert_eq!(
            secret_to_resend(&plain_prior, &bumped, "password"),
            Some("new")
        );
        // Removing `password` sends nothing.
        assert_eq!(secret_to_resend(&plain_prior, &obj(&[]), "password"), None);
    }

    #[test]
    fn maps_may_split_their_keys_but_not_share_one() {
        let b = Block::new("t")
            .attr(Attribute::string_map("env").optional())
            .attr(Attribute::string_map("env_wo").optional().write_only());
        let mut config = b.null_object();
        config.set("env", Value::string_map([("A", "1")]));
        config.set("env_wo", Value::string_map([("B", "2")]));
        let mut d = Diagnostics::new();
        validate(&b, &config, true, &mut d);
        assert!(d.is_empty(), "{:?}", messages(&d));
        config.set("env_wo", Value::string_map([("A", "2"), ("B", "2")]));
        let mut d = Diagnostics::new();
        validate(&b, &config, true, &mut d);
        let m = messages(&d);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "env_wo[\"A\"]");
        assert!(
            !m[0].1.contains("\"2\""),
            "values are never repeated: {m:?}"
        );
    }

    #[test]
    fn schema_rules() {
        assert!(schema_errors(&block()).is_empty());
        let bad = Block::new("t")
            .attr(Attribute::string("a_wo").computed().write_only())
            .attr(Attribute::string("b_wo").write_only())
            .attr(
                Attribute::string("c_wo")
                    .optional()
                    .requires_replace()
                    .write_only(),
            );
        let errs = schema_errors(&bad);
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].starts_with("a_wo: a write-only attribute cannot be computed"));
    }
}
