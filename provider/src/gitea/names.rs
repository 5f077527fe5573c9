//! Gitea's name rules, checked at validate time so a name Gitea refuses fails in `plan`, naming
//! the attribute. Taken from go-gitea/gitea v1.25: `modules/validation/helpers.go`
//! (`IsValidUsername`: starts with a letter or digit, then letters, digits, `-`, `_`, `.`; no two
//! symbols in a row; no symbol at the end), the `MaxSize(40)` binding on user and organization
//! names (`modules/structs/admin_user.go`, `org.go`), `AlphaDashDot` + `MaxSize(100)` on
//! repository names (`modules/structs/repo.go`), `AlphaDashDot` + `MaxSize(255)` on team names
//! (`modules/structs/org_team.go`), and the reserved names and patterns of
//! `models/user/user.go` and `models/repo/repo.go`. Hand-written: a few character checks, no
//! crate models them.

use crate::framework::validators::check_str;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::Validator;
use crate::protocol::value::Value;

/// Names no user or organization may take (`reservedUsernames`).
const RESERVED_USER: &[&str] = &[
    ".",
    "..",
    ".well-known",
    "api",
    "assets",
    "attachments",
    "avatar",
    "avatars",
    "captcha",
    "commits",
    "debug",
    "devtest",
    "error",
    "explore",
    "favicon.ico",
    "ghost",
    "issues",
    "login",
    "manifest.json",
    "metrics",
    "milestones",
    "new",
    "notifications",
    "org",
    "pulls",
    "raw",
    "repo",
    "repo-avatars",
    "robots.txt",
    "search",
    "serviceworker.js",
    "ssh_info",
    "swagger.v1.json",
    "user",
    "v2",
    "gitea-actions",
];
/// Suffixes no user or organization name may end with (`reservedUserPatterns`).
const RESERVED_USER_SUFFIX: &[&str] = &[".keys", ".gpg", ".rss", ".atom", ".png"];
/// Repository names and suffixes Gitea reserves (`reservedRepoNames`, `reservedRepoPatterns`).
const RESERVED_REPO: &[&str] = &[".", "..", "-"];
const RESERVED_REPO_SUFFIX: &[&str] = &[".git", ".wiki", ".rss", ".atom"];

fn symbol(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// Why `s` is not a valid user or organization name, if it is not.
pub fn user_name_problem(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.chars().count() > 40 {
        return Some("at most 40 characters".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !symbol(*c))
    {
        return Some(format!(
            "{c:?} is not allowed: letters, digits, '-', '_' and '.' only"
        ));
    }
    if s.starts_with(symbol) || s.ends_with(symbol) {
        return Some("must start and end with a letter or digit".into());
    }
    if s.chars()
        .zip(s.chars().skip(1))
        .any(|(a, b)| symbol(a) && symbol(b))
    {
        return Some("no two of '-', '_', '.' in a row".into());
    }
    if RESERVED_USER.contains(&lower.as_str()) {
        return Some(format!("{s:?} is reserved by Gitea"));
    }
    if let Some(p) = RESERVED_USER_SUFFIX.iter().find(|p| lower.ends_with(*p)) {
        return Some(format!("names ending in {p:?} are reserved by Gitea"));
    }
    None
}

/// Why `s` is not a valid repository name, if it is not.
pub fn repo_name_problem(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.chars().count() > 100 {
        return Some("at most 100 characters".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !symbol(*c))
    {
        return Some(format!(
            "{c:?} is not allowed: letters, digits, '-', '_' and '.' only"
        ));
    }
    if RESERVED_REPO.contains(&lower.as_str()) {
        return Some(format!("{s:?} is reserved by Gitea"));
    }
    if let Some(p) = RESERVED_REPO_SUFFIX.iter().find(|p| lower.ends_with(*p)) {
        return Some(format!("names ending in {p:?} are reserved by Gitea"));
    }
    None
}

/// Why `s` is not a valid team name, if it is not.
pub fn team_name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.chars().count() > 255 {
        return Some("at most 255 characters".into());
    }
    s.chars()
        .find(|c| !c.is_ascii_alphanumeric() && !symbol(*c))
        .map(|c| format!("{c:?} is not allowed: letters, digits, '-', '_' and '.' only"))
}

/// A user or organization name.
pub struct GiteaName;

/// A team name.
pub struct GiteaTeamName;

impl Validator for GiteaTeamName {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(path, value, diags, "Gitea team name", team_name_problem);
    }
    fn description(&self) -> String {
        "a Gitea team name: letters, digits, `-`, `_`, `.`, at most 255".into()
    }
}

/// A repository name.
pub struct GiteaRepoName;

impl Validator for GiteaName {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(
            path,
            value,
            diags,
            "Gitea user or organization name",
            user_name_problem,
        );
    }
    fn description(&self) -> String {
        "a Gitea user/organization name: letters, digits, `-`, `_`, `.` (starting and ending with a letter or digit, no two symbols in a row), at most 40, not reserved (`api`, `admin` pages, `*.keys`, ...)".into()
    }
}

impl Validator for GiteaRepoName {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        check_str(
            path,
            value,
            diags,
            "Gitea repository name",
            repo_name_problem,
        );
    }
    fn description(&self) -> String {
        "a Gitea repository name: letters, digits, `-`, `_`, `.`, at most 100, not `.`, `..`, `-` nor ending in `.git`, `.wiki`, `.rss`, `.atom`".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for ok in ["alice", "first.last", "a-b_c.d", "x1", &"a".repeat(40)] {
            assert_eq!(user_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "-alice",
            "alice.",
            "a..b",
            "a-.b",
            "a b",
            "first@last",
            "api",
            "Login",
            "me.keys",
            &"a".repeat(41),
        ] {
            assert!(user_name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn team_names() {
        assert_eq!(team_name_problem("contractors.v2"), None);
        for bad in ["", "team one", "a/b", &"t".repeat(256)] {
            assert!(team_name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn repo_names() {
        for ok in ["app", ".github", "_tools", "a--b", &"r".repeat(100)] {
            assert_eq!(repo_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "-",
            "x.git",
            "y.wiki",
            "a/b",
            "a b",
            &"r".repeat(101),
        ] {
            assert!(repo_name_problem(bad).is_some(), "{bad}");
        }
    }
}
