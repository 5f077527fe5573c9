//! Authentik's input rules, checked at validate time so a value Authentik refuses fails in
//! `plan`, naming the attribute. Taken from `/work/shared/specs/authentik-schema.yml` (2026.2:
//! `UserRequest.username` 1..150, `email` at most 254, `ApplicationRequest.slug` pattern
//! `^[-a-zA-Z0-9_]+$`, `RedirectURIRequest.url` non-empty, `MatchingModeEnum`) and the server
//! code the schema does not show: the username validator Authentik's `User` inherits from
//! Django (`UnicodeUsernameValidator`: letters, digits and `@ . + - _`), the user path rules of
//! `UserSerializer.validate_path` (no leading or trailing `/`, no empty segment), the regex
//! compile of `OAuth2ProviderSerializer.validate_redirect_uris` in `regex` mode, and
//! `timedelta_string_validator` (`lib/utils/time.py`: `key=value` pairs joined by `;`, keys
//! `weeks`, `days`, `hours`, `minutes`, `seconds`, `milliseconds`, `microseconds`, values
//! numbers) on the token validity fields.

use crate::framework::validators::check_str;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::Validator;
use crate::protocol::value::Value;

/// Why `s` is not a valid Authentik username, if it is not.
pub fn username_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.chars().count() > 150 {
        return Some("at most 150 characters".into());
    }
    s.chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_')))
        .map(|c| format!("{c:?} is not allowed: letters, digits and @ . + - _ only"))
}

/// Why `s` is not a valid application slug, if it is not.
pub fn slug_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    s.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        .map(|c| format!("{c:?} is not allowed: ASCII letters, digits, '-' and '_' only"))
}

/// Why `s` is not a valid user directory path, if it is not.
pub fn path_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.starts_with('/') || s.ends_with('/') {
        return Some("no leading or trailing '/' allowed".into());
    }
    if s.split('/').any(str::is_empty) {
        return Some("no empty path segment ('//') allowed".into());
    }
    None
}

const TIMEDELTA_KEYS: &[&str] = &[
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
];

/// Why `s` is not an Authentik duration (`hours=1;minutes=30`), if it is not.
pub fn timedelta_problem(s: &str) -> Option<String> {
    let mut known = 0;
    for pair in s.split(';') {
        let Some((k, v)) = pair.split_once('=') else {
            return Some(format!("{pair:?} is not a key=value pair"));
        };
        if v.contains('=') {
            return Some(format!("{pair:?} is not a key=value pair"));
        }
        // Unknown keys are skipped by Authentik, known ones must hold a number.
        if !TIMEDELTA_KEYS.contains(&k.to_lowercase().as_str()) {
            continue;
        }
        if v.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) {
            return Some(format!("{v:?} is not a number"));
        }
        known += 1;
    }
    (known == 0).then(|| format!("no known unit; use {}", TIMEDELTA_KEYS.join(", ")))
}

/// Why `url` cannot be a redirect URI in `mode` (`strict` or `regex`), if it cannot.
/// Authentik compiles regex-mode URIs with Python's `re`; lookaround and backreferences,
/// which Python has and the Rust parser has not, are let through.
pub fn redirect_uri_problem(url: &str, mode: &str) -> Option<String> {
    if url.is_empty() {
        return Some("must not be empty".into());
    }
    if mode != "regex" {
        return None;
    }
    match regex_syntax::ast::parse::Parser::new().parse(url) {
        Ok(_) => None,
        Err(e) => {
            use regex_syntax::ast::ErrorKind as K;
            match e.kind() {
                K::UnsupportedLookAround | K::UnsupportedBackreference => None,
                kind => Some(format!("not a valid regular expression ({kind})")),
            }
        }
    }
}

/// A username.
pub struct AuthentikUsername;

impl Validator for AuthentikUsername {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(path, value, diags, "Authentik username", username_problem);
    }
    fn description(&self) -> String {
        "an Authentik username: letters, digits and `@ . + - _`, at most 150".into()
    }
}

/// An application slug.
pub struct AuthentikSlug;

impl Validator for AuthentikSlug {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(path, value, diags, "Authentik slug", slug_problem);
    }
    fn description(&self) -> String {
        "an Authentik slug: ASCII letters, digits, `-`, `_`".into()
    }
}

/// A user directory path.
pub struct AuthentikPath;

impl Validator for AuthentikPath {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(path, value, diags, "Authentik user path", path_problem);
    }
    fn description(&self) -> String {
        "a path such as `users/contractors`: no leading, trailing or double `/`".into()
    }
}

/// A duration such as `minutes=5` or `hours=1;minutes=30`.
pub struct AuthentikTimedelta;

impl Validator for AuthentikTimedelta {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(path, value, diags, "Authentik duration", timedelta_problem);
    }
    fn description(&self) -> String {
        "an Authentik duration: `unit=number` pairs joined by `;` (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds), e.g. `hours=1;minutes=30`".into()
    }
}

/// Checks every URI of `redirect_uris` against `redirect_uri_matching` (unknown values are
/// left to the apply).
pub fn validate_redirect_uris(config: &Value, diags: &mut Diagnostics) {
    let mode = config.get("redirect_uri_matching");
    if mode.is_unknown() {
        return;
    }
    let mode = mode.as_str().unwrap_or("strict");
    for (i, uri) in config.get("redirect_uris").elements().iter().enumerate() {
        let Some(s) = uri.as_str() else { continue };
        if let Some(why) = redirect_uri_problem(s, mode) {
            let path = AttrPath::root("redirect_uris").index(i);
            diags.push_attr_error(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{s:?} is not a valid redirect URI in {mode:?} matching: {why}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in [
            "contractor1",
            "first.last",
            "a+b@c.io",
            "jürgen",
            &"u".repeat(150),
        ] {
            assert_eq!(username_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "first last",
            "a/b",
            "a:b",
            "semi;colon",
            &"u".repeat(151),
        ] {
            assert!(username_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        for ok in ["coder", "Coder_2", "a-b"] {
            assert_eq!(slug_problem(ok), None, "{ok}");
        }
        for bad in ["", "a.b", "a b", "ünï", "a/b"] {
            assert!(slug_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(path_problem("users"), None);
        assert_eq!(path_problem("users/contractors"), None);
        for bad in ["", "/users", "users/", "users//x"] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn timedeltas() {
        for ok in ["minutes=5", "hours=1;minutes=30", "Days=1.5", "seconds=0"] {
            assert_eq!(timedelta_problem(ok), None, "{ok}");
        }
        for bad in [
            "5m",
            "minutes",
            "minutes=five",
            "fortnights=1",
            "",
            "minutes=1=2",
        ] {
            assert!(timedelta_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris() {
        assert_eq!(redirect_uri_problem("https://x/cb", "strict"), None);
        assert_eq!(redirect_uri_problem("https://x/(cb", "strict"), None);
        assert_eq!(
            redirect_uri_problem(r"https://.*\.example\.com/cb", "regex"),
            None
        );
        assert_eq!(redirect_uri_problem(r"https://(?!evil).*", "regex"), None);
        assert!(redirect_uri_problem("https://x/(cb", "regex").is_some());
        assert!(redirect_uri_problem("[", "regex").is_some());
        assert!(redirect_uri_problem("", "strict").is_some());
    }
}
