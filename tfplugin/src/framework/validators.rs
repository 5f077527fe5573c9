//! Reusable attribute validators. Each reports the attribute path, so
//! Terraform points at the offending line at validate/plan time.

use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::Validator;
use crate::protocol::value::Value;

fn invalid(path: &AttrPath, diags: &mut Diagnostics, detail: String) {
    diags.push_attr_error(path.clone(), format!("Invalid value for {path}"), detail);
}

/// Runs a service's rule on a string value (unknown and null pass): a problem becomes an
/// "Invalid value" error saying the value is not a valid `subject`, and why.
pub fn check_str(
    path: &AttrPath,
    value: &Value,
    diags: &mut Diagnostics,
    subject: &str,
    problem: fn(&str) -> Option<String>,
) {
    let Some(s) = value.as_str() else { return };
    if let Some(why) = problem(s) {
        invalid(
            path,
            diags,
            format!("{s:?} is not a valid {subject}: {why}"),
        );
    }
}

/// The string (or every string element of a list/set) is one of `options`.
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let check = |s: &str, p: &AttrPath, diags: &mut Diagnostics| {
            if !self.0.contains(&s) {
                invalid(
                    p,
                    diags,
                    format!(
                        "{s:?} is not allowed; expected one of: {}",
                        self.0.join(", ")
                    ),
                );
            }
        };
        match value {
            Value::String(s) => check(s, path, diags),
            _ => {
                for (i, e) in value.elements().iter().enumerate() {
                    if let Some(s) = e.as_str() {
                        check(s, &path.clone().index(i), diags);
                    }
                }
            }
        }
    }
    fn description(&self) -> String {
        format!(
            "one of {}",
            self.0
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// A non-empty string without surrounding whitespace.
pub struct NonEmpty;

impl Validator for NonEmpty {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            if s.trim().is_empty() {
                invalid(path, diags, "must not be empty".into());
            } else if s.trim() != s {
                invalid(
                    path,
                    diags,
                    format!("{s:?} has leading or trailing whitespace"),
                );
            }
        }
    }
    fn description(&self) -> String {
        "non-empty".into()
    }
}

/// A plausible e-mail address (`local@domain.tld`).
pub struct Email;

impl Validator for Email {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let ok = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if !ok {
            invalid(path, diags, format!("{s:?} is not a valid e-mail address"));
        }
    }
    fn description(&self) -> String {
        "an e-mail address".into()
    }
}

/// An absolute http(s) URL.
pub struct HttpUrl;

impl Validator for HttpUrl {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if let Err(e) = check_http_url(s) {
            invalid(path, diags, e);
        }
    }
    fn description(&self) -> String {
        "an `http://` or `https://` URL".into()
    }
}

/// Checks that `s` is an absolute http(s) URL with a host.
pub fn check_http_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("{s:?} must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || rest.chars().any(char::is_whitespace) {
        return Err(format!("{s:?} has no valid host"));
    }
    // The port, after the host (or after `]` of an IPv6 literal), is 1..=65535.
    let after_host = match host.rfind(']') {
        Some(i) => &host[i + 1..],
        None => host.rsplit_once('@').map_or(host, |(_, h)| h),
    };
    if let Some((_, port)) = after_host.rsplit_once(':') {
        let ok = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !ok {
            return Err(format!(
                "{s:?} has an invalid port {port:?}; a port is a number from 1 to 65535"
            ));
        }
    }
    Ok(())
}

/// A name without NUL bytes or other control characters (a shared check for names such as
/// `team_alias`, `full_name` and usernames, which every service stores and shows).
pub struct NoControlChars;

impl Validator for NoControlChars {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            if let Some((i, c)) = s.char_indices().find(|(_, c)| c.is_control()) {
                invalid(
                    path,
                    diags,
                    format!(
                        "contains the control character U+{:04X} at byte {i}; names may not \
                         hold NUL bytes, newlines, tabs or other control characters",
                        c as u32
                    ),
                );
            }
        }
    }
    fn description(&self) -> String {
        "free of control characters (NUL, newline, tab, ...)".into()
    }
}

/// A number `>= min` (and `<= max` when given).
pub struct Range {
    pub min: f64,
    pub max: Option<f64>,
}

impl Validator for Range {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(n) = value.as_f64() else { return };
        if n < self.min || self.max.map(|m| n > m).unwrap_or(false) {
            invalid(
                path,
                diags,
                format!("{n} is out of range; expected {}", self.description()),
            );
        }
    }
    fn description(&self) -> String {
        match self.max {
            Some(m) => format!("between {} and {m}", self.min),
            None => format!("at least {}", self.min),
        }
    }
}

/// A string of at most this many characters (Unicode scalar values, as Python and Go count).
pub struct MaxLength(pub usize);

impl Validator for MaxLength {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let n = s.chars().count();
        if n > self.0 {
            invalid(
                path,
                diags,
                format!("{n} characters long; at most {} allowed", self.0),
            );
        }
    }
    fn description(&self) -> String {
        format!("at most {} characters", self.0)
    }
}

/// A whole number (no fraction).
pub struct Integer;

impl Validator for Integer {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Value::Number(n) = value {
            if n.as_i64().is_none() {
                invalid(path, diags, format!("{n} is not a whole number"));
            }
        }
    }
    fn description(&self) -> String {
        "a whole number".into()
    }
}

/// A duration as LiteLLM and friends write it: `30s`, `15m`, `12h`, `7d`, `2w`, `1mo`.
pub struct Duration;

/// Seconds in a LiteLLM-style duration string.
pub fn parse_duration(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        "mo" => 2_592_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Validator for Duration {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if parse_duration(s).is_none() {
            invalid(
                path,
                diags,
                format!("{s:?} is not a duration; use a number followed by s, m, h, d, w or mo (e.g. \"30d\")"),
            );
        }
    }
    fn description(&self) -> String {
        "a duration such as `30s`, `15m`, `12h`, `7d`, `2w`, `1mo`".into()
    }
}

/// Identifier-like names: letters, digits and `-_.`, not starting with a symbol.
pub struct Slug;

impl Validator for Slug {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let ok = !s.is_empty()
            && s.chars()
                .next()
                .map(|c| c.is_ascii_alphanumeric())
                .unwrap_or(false)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            invalid(path, diags, format!("{s:?} may only contain letters, digits, '-', '_' and '.', starting with a letter or digit"));
        }
    }
    fn description(&self) -> String {
        "letters, digits, `-`, `_`, `.`".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(v: &dyn Validator, value: Value) -> usize {
        let mut d = Diagnostics::new();
        v.validate(&AttrPath::root("x"), &value, &mut d);
        d.0.len()
    }

    #[test]
    fn validators_accept_and_refuse() {
        assert_eq!(errs(&Email, "a@b.io".into()), 0);
        for bad in ["a", "a@b", "@b.io", "a b@c.io", "a@b.io.", "a@@b.io"] {
            assert_eq!(errs(&Email, bad.into()), 1, "{bad}");
        }
        assert_eq!(errs(&HttpUrl, "https://x:7443/p".into()), 0);
        assert_eq!(errs(&HttpUrl, "ftp://x".into()), 1);
        assert_eq!(errs(&HttpUrl, "http://".into()), 1);
        for good in [
            "http://127.0.0.1:65535",
            "http://[::1]:4000/x",
            "http://u@h:1",
            "http://h",
        ] {
            assert_eq!(errs(&HttpUrl, good.into()), 0, "{good}");
        }
        for bad in [
            "http://127.0.0.1:99999",
            "http://h:0",
            "http://h:",
            "http://h:80x",
            "http://[::1]:70000",
        ] {
            assert_eq!(errs(&HttpUrl, bad.into()), 1, "{bad}");
        }
        assert_eq!(errs(&NoControlChars, "Ada Lovelace-ü".into()), 0);
        for bad in ["a\0b", "line\nbreak", "tab\t", "\u{7f}", "\u{85}"] {
            assert_eq!(errs(&NoControlChars, bad.into()), 1, "{bad:?}");
        }
        assert_eq!(errs(&Duration, "30d".into()), 0);
        assert_eq!(errs(&Duration, "1mo".into()), 0);
        assert_eq!(errs(&Duration, "30 days".into()), 1);
        assert_eq!(errs(&Duration, "d".into()), 1);
        assert_eq!(
            errs(
                &Range {
                    min: 0.0,
                    max: None
                },
                Value::float(-1.0)
            ),
            1
        );
        assert_eq!(
            errs(
                &Range {
                    min: 0.0,
                    max: Some(10.0)
                },
                Value::int(11)
            ),
            1
        );
        assert_eq!(
            errs(
                &Range {
                    min: 0.0,
                    max: Some(10.0)
                },
                Value::int(10)
            ),
            0
        );
        assert_eq!(errs(&OneOf(&["a", "b"]), "c".into()), 1);
        assert_eq!(
            errs(&OneOf(&["a", "b"]), Value::string_list(["a", "z", "y"])),
            2
        );
        assert_eq!(errs(&Integer, Value::float(1.5)), 1);
        assert_eq!(errs(&Slug, "-x".into()), 1);
        assert_eq!(errs(&NonEmpty, " ".into()), 1);
        assert_eq!(errs(&MaxLength(3), "äöü".into()), 0);
        assert_eq!(errs(&MaxLength(3), "abcd".into()), 1);
        assert_eq!(parse_duration("2w"), Some(1_209_600));
    }
}
