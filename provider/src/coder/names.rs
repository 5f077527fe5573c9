//! Coder's name rule, checked at validate time: coder/coder v2.15 `codersdk/name.go`
//! (`UsernameValidRegex` `^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$`, at most 32 characters) behind the
//! `username`, `template_name` and `group_name` validation tags (`coderd/httpapi/name.go`); a
//! group may not be called `Everyone`, the group every organization has. Display names
//! (`DisplayNameValid`, at most 64) and a user's real name (`UserRealNameValid`, at most 128)
//! may not start or end with white space. Hand-written: one-line character rules.

use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::Validator;
use crate::protocol::value::Value;

/// Why `s` is not a valid Coder name, if it is not.
pub fn name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 32 {
        return Some("at most 32 characters".into());
    }
    if let Some(c) = s.chars().find(|c| !c.is_ascii_alphanumeric() && *c != '-') {
        return Some(format!(
            "{c:?} is not allowed: letters, digits and single hyphens only"
        ));
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Some("hyphens only between letters or digits, one at a time".into());
    }
    None
}

/// A Coder user, template or group name.
pub struct CoderName {
    /// Also refuse `Everyone` (groups).
    pub group: bool,
}

impl Validator for CoderName {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let why = if self.group && s == "Everyone" {
            Some("`Everyone` is the group every organization already has".into())
        } else {
            name_problem(s)
        };
        if let Some(why) = why {
            diags.push_attr_error(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{s:?} is not a valid Coder name: {why}"),
            );
        }
    }
    fn description(&self) -> String {
        "a Coder name: letters, digits and single hyphens (not at the ends), at most 32".into()
    }
}

/// Why `s` is not a valid display name of at most `max` characters, if it is not.
pub fn display_name_problem(s: &str, max: usize) -> Option<String> {
    if s.chars().count() > max {
        return Some(format!("at most {max} characters"));
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Some("must not start or end with white space".into());
    }
    None
}

/// A Coder display name (templates, groups: 64) or real name (users: 128).
pub struct CoderDisplayName(pub usize);

impl Validator for CoderDisplayName {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if let Some(why) = display_name_problem(s, self.0) {
            diags.push_attr_error(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{s:?} is not a valid Coder display name: {why}"),
            );
        }
    }
    fn description(&self) -> String {
        format!(
            "at most {} characters, no white space at either end",
            self.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{display_name_problem, name_problem};

    #[test]
    fn display_names() {
        assert_eq!(display_name_problem("Contractor workspace", 64), None);
        assert_eq!(display_name_problem("", 64), None);
        assert!(display_name_problem(" x", 64).is_some());
        assert!(display_name_problem("x ", 64).is_some());
        assert!(display_name_problem(&"x".repeat(65), 64).is_some());
    }

    #[test]
    fn coder_names() {
        for ok in ["alice", "first-last", "a1-b2-c3", &"a".repeat(32)] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "first.last",
            "first_last",
            "-a",
            "a-",
            "a--b",
            "a b",
            &"a".repeat(33),
        ] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
    }
}
