//! LiteLLM's input rules, checked at validate time (the proxy refuses, or silently keeps, what
//! breaks them). From `/work/shared/specs/litellm-key-api.md` and the 1.106.2 proxy code:
//! `duration_in_seconds` (`litellm_core_utils/duration_parser.py`: a number then `s`, `m`,
//! `h`, `d`, `w` or `mo`; see [`crate::framework::validators::Duration`]), the 400 on a
//! negative `max_budget`, integer `tpm_limit` / `rpm_limit` / `max_parallel_requests`, and the
//! alias format of `_validate_key_alias_format` (2..255 characters, starting and ending with a
//! letter or digit, `a-zA-Z0-9_-/.@` in between), which the proxy applies only when
//! `litellm_settings.enable_key_alias_format_validation` is on: a warning here, not an error.
//! Model names of `models` are matched exactly by the proxy, so an empty name, one with
//! surrounding whitespace or a repeated one is a mistake no key could use.

use std::collections::BTreeSet;

use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::Validator;
use crate::protocol::value::Value;

/// Why `s` breaks the optional key alias format, if it does.
pub fn alias_format_problem(s: &str) -> Option<String> {
    let n = s.chars().count();
    if !(2..=255).contains(&n) {
        return Some("2 to 255 characters".into());
    }
    let inner_ok = |c: char| c.is_ascii_alphanumeric() || "_-/.@".contains(c);
    let first = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let last = s
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !first || !last {
        return Some("starts and ends with an ASCII letter or digit".into());
    }
    s.chars()
        .find(|c| !inner_ok(*c))
        .map(|c| format!("{c:?} is outside a-z A-Z 0-9 _ - / . @"))
}

/// Why the model name at some index is not usable, if it is not.
pub fn model_name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.trim() != s {
        return Some("has leading or trailing whitespace".into());
    }
    s.chars()
        .find(|c| c.is_control())
        .map(|c| format!("contains the control character U+{:04X}", c as u32))
}

/// A key alias: warns when it breaks the format proxies may enforce.
pub struct KeyAliasFormat;

impl Validator for KeyAliasFormat {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if let Some(why) = alias_format_problem(s) {
            diags.push_attr_warning(
                path.clone(),
                format!("Key alias {path} may be refused"),
                format!(
                    "{s:?} breaks the key alias format LiteLLM enforces when \
                     `enable_key_alias_format_validation` is on ({why})."
                ),
            );
        }
    }
    fn description(&self) -> String {
        "best kept to 2..255 of `a-zA-Z0-9_-/.@`, starting and ending with a letter or digit (a warning otherwise: proxies with `enable_key_alias_format_validation` refuse other aliases)".into()
    }
}

/// A list of model names: each non-empty, without surrounding whitespace, and no repeats.
pub struct ModelNames;

impl Validator for ModelNames {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let mut seen = BTreeSet::new();
        for (i, e) in value.elements().iter().enumerate() {
            let Some(s) = e.as_str() else { continue };
            let p = path.clone().index(i);
            let why = model_name_problem(s)
                .or_else(|| (!seen.insert(s.to_string())).then(|| "is listed twice".into()));
            if let Some(why) = why {
                diags.push_attr_error(
                    p.clone(),
                    format!("Invalid value for {p}"),
                    format!("model name {s:?} {why}"),
                );
            }
        }
    }
    fn description(&self) -> String {
        "model names as the proxy knows them: non-empty, no surrounding whitespace, each once"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_format() {
        for ok in ["contractor1-workspace", "team/a.b@c", "ab"] {
            assert_eq!(alias_format_problem(ok), None, "{ok}");
        }
        for bad in ["a", "-ab", "ab-", "my key", "ünï", &"a".repeat(256)] {
            assert!(alias_format_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn model_names() {
        let mut d = Diagnostics::new();
        ModelNames.validate(
            &AttrPath::root("models"),
            &Value::string_list(["claude-sonnet", "", " gpt", "claude-sonnet", "ok"]),
            &mut d,
        );
        assert_eq!(d.0.len(), 3, "{d:?}");
        assert!(d.has_errors());
        let mut w = Diagnostics::new();
        KeyAliasFormat.validate(&AttrPath::root("key_alias"), &"my key".into(), &mut w);
        assert_eq!(w.0.len(), 1);
        assert!(!w.has_errors());
    }
}
