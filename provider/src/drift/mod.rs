//! Drift review: turns the JSON of a Terraform plan (`terraform plan -refresh-only -out=p` then
//! `terraform show -json p`) into a readable report, grouped by service and by user, with
//! security-relevant drift first. Secrets never appear: attributes the provider's schemas mark
//! sensitive, and values Terraform marks sensitive, are masked.
//!
//! `terraform-provider-webide drift-report PLAN.json [--format markdown|html] [--output FILE]`

mod findings;
mod render;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context};
use serde_json::Value as Json;

pub use findings::Finding;
pub use render::{html, markdown};
pub use rules::Severity;

/// One attribute that differs between Terraform's record and the real object.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrChange {
    /// Dotted path (`metadata.enforcement_level`, `ports[0].external`).
    pub path: String,
    /// Values as short text (`"masked"` for secrets, `(absent)` when missing).
    pub before: String,
    pub after: String,
    pub severity: Severity,
    /// Why this matters, for security-relevant changes.
    pub reason: Option<String>,
}

/// How the real object differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DriftKind {
    /// Changed outside Terraform.
    Changed,
    /// Deleted outside Terraform.
    Deleted,
    /// Not drift: a change the plan would make (a normal plan's `resource_changes`).
    Planned,
}

/// One resource with drift.
#[derive(Clone, Debug)]
pub struct Entry {
    pub address: String,
    pub resource_type: String,
    pub service: &'static str,
    /// The person the object belongs to (username, user_id, key alias...), when known.
    pub user: Option<String>,
    pub kind: DriftKind,
    /// Terraform's planned actions for `Planned` entries (`update`, `delete`+`create`...).
    pub actions: Vec<String>,
    pub changes: Vec<AttrChange>,
    pub severity: Severity,
}

/// The whole report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub terraform_version: String,
    pub entries: Vec<Entry>,
    /// Findings about the configuration itself (not drift), e.g. the master key in tf_vars.
    pub findings: Vec<Finding>,
}

/// Sensitive attribute names per resource type (from the provider's schemas).
pub type SensitiveAttrs = BTreeMap<String, BTreeSet<String>>;

/// The sensitive top-level and nested attribute names of every webide resource type.
pub fn webide_sensitive_attrs() -> SensitiveAttrs {
    use crate::framework::Provider;
    use crate::protocol::schema::Block;
    fn collect(b: &Block, out: &mut BTreeSet<String>) {
        for a in &b.attributes {
            if a.sensitive {
                out.insert(a.name.clone());
            }
        }
        for nb in &b.blocks {
            collect(&nb.block, out);
        }
    }
    let p = crate::provider::WebideProvider;
    p.resources()
        .iter()
        .map(|r| {
            let mut set = BTreeSet::new();
            collect(&r.schema().block, &mut set);
            (r.type_name().to_string(), set)
        })
        .collect()
}

/// The service a resource type belongs to.
pub fn service_of(resource_type: &str) -> &'static str {
    let t = resource_type
        .strip_prefix("webide_")
        .unwrap_or(resource_type);
    match t.split('_').next().unwrap_or("") {
        "authentik" => "Authentik",
        "gitea" => "Gitea",
        "coder" => "Coder",
        "litellm" => "LiteLLM",
        "compose" => "Docker",
        _ => "Other",
    }
}

/// Attributes that name the person an object belongs to, in order of preference.
const USER_ATTRS: &[&str] = &["username", "user_id", "user", "owner", "key_alias"];

fn user_of(values: &Json) -> Option<String> {
    USER_ATTRS
        .iter()
        .find_map(|a| values.get(*a).and_then(Json::as_str))
        .map(str::to_string)
        .or_else(|| {
            values
                .pointer("/metadata/owner")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
}

/// Builds the report from `show -json` output of a plan. Uses `resource_drift` (what changed
/// outside Terraform); with `include_planned`, also the plan's own `resource_changes`.
pub fn report(
    plan: &Json,
    sensitive: &SensitiveAttrs,
    include_planned: bool,
) -> anyhow::Result<Report> {
    if plan.get("format_version").is_none() {
        bail!("not the JSON of a Terraform plan (no format_version): run `terraform show -json PLANFILE`");
    }
    let mut entries = Vec::new();
    let empty = Vec::new();
    let drift = plan
        .get("resource_drift")
        .and_then(Json::as_array)
        .unwrap_or(&empty);
    for rc in drift {
        if let Some(e) = entry(rc, sensitive, false)? {
            entries.push(e);
        }
    }
    if include_planned {
        let changes = plan
            .get("resource_changes")
            .and_then(Json::as_array)
            .unwrap_or(&empty);
        for rc in changes {
            if let Some(e) = entry(rc, sensitive, true)? {
                entries.push(e);
            }
        }
    }
    entries.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.service.cmp(b.service))
            .then_with(|| a.address.cmp(&b.address))
    });
    Ok(Report {
        terraform_version: plan
            .get("terraform_version")
            .and_then(Json::as_str)
            .unwrap_or("?")
            .to_string(),
        entries,
        findings: findings::findings(plan),
    })
}

fn entry(rc: &Json, sensitive: &SensitiveAttrs, planned: bool) -> anyhow::Result<Option<Entry>> {
    if rc.get("mode").and_then(Json::as_str) == Some("data") {
        return Ok(None);
    }
    let address = rc
        .get("address")
        .and_then(Json::as_str)
        .context("a resource change without address")?
        .to_string();
    let rtype = rc
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let change = rc
        .get("change")
        .context("a resource change without change")?;
    let actions: Vec<String> = change
        .get("actions")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if actions.iter().all(|a| a == "no-op" || a == "read") {
        return Ok(None);
    }
    let before = change.get("before").cloned().unwrap_or(Json::Null);
    let after = change.get("after").cloned().unwrap_or(Json::Null);
    let kind = if planned {
        DriftKind::Planned
    } else if after.is_null() {
        DriftKind::Deleted
    } else {
        DriftKind::Changed
    };
    let secret_names = sensitive.get(&rtype).cloned().unwrap_or_default();
    let marks = [
        change.get("before_sensitive"),
        change.get("after_sensitive"),
        change.get("after_unknown"),
    ];
    let mut diffs = Vec::new();
    if !after.is_null() && !before.is_null() {
        diff(&before, &after, String::new(), &mut diffs);
    }
    let changes: Vec<AttrChange> = diffs
        .into_iter()
        .map(|(path, b, a)| {
            let masked = is_secret(&path, &secret_names, &marks[..2]);
            let unknown = marks[2].is_some_and(|m| mark_at(m, &path));
            let (severity, reason) = rules::classify(&rtype, &path, &b, &a);
            AttrChange {
                before: if masked {
                    "(sensitive)".into()
                } else {
                    short(&b)
                },
                after: if unknown {
                    "(known after apply)".into()
                } else if masked {
                    "(sensitive, changed)".into()
                } else {
                    short(&a)
                },
                path,
                severity,
                reason,
            }
        })
        .collect();
    let user = user_of(if after.is_null() { &before } else { &after });
    let severity = match kind {
        DriftKind::Deleted => rules::deleted_severity(&rtype),
        _ => changes
            .iter()
            .map(|c| c.severity)
            .max()
            .unwrap_or(Severity::Info),
    };
    Ok(Some(Entry {
        address,
        service: service_of(&rtype),
        resource_type: rtype,
        user,
        kind,
        actions,
        changes,
        severity,
    }))
}

/// Whether `path` is a secret: its top-level attribute is sensitive in the schema, or Terraform
/// marked it (or a parent) sensitive.
fn is_secret(path: &str, names: &BTreeSet<String>, marks: &[Option<&Json>]) -> bool {
    let top = path.split(['.', '[']).next().unwrap_or(path);
    names.contains(top) || marks.iter().flatten().any(|m| mark_at(m, path))
}

/// Whether a `*_sensitive` / `after_unknown` mark tree has `true` at `path` or above it.
fn mark_at(mark: &Json, path: &str) -> bool {
    let mut cur = mark;
    if cur == &Json::Bool(true) {
        return true;
    }
    for seg in segments(path) {
        cur = match (&seg, cur) {
            (Seg::Key(k), Json::Object(m)) => match m.get(k) {
                Some(v) => v,
                None => return false,
            },
            (Seg::Index(i), Json::Array(a)) => match a.get(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
        if cur == &Json::Bool(true) {
            return true;
        }
    }
    false
}

enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                let inner = &rest[1..end];
                match inner.parse() {
                    Ok(n) => out.push(Seg::Index(n)),
                    Err(_) => out.push(Seg::Key(inner.trim_matches('"').to_string())),
                }
                rest = &rest[end + 1..];
            }
        } else if !rest.is_empty() {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// Leaf-level differences between two JSON values: (path, before, after).
fn diff(before: &Json, after: &Json, path: String, out: &mut Vec<(String, Json, Json)>) {
    match (before, after) {
        (Json::Object(b), Json::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff(
                    b.get(k).unwrap_or(&Json::Null),
                    a.get(k).unwrap_or(&Json::Null),
                    p,
                    out,
                );
            }
        }
        // Lists of scalars are shown whole (roles, models, groups); lists of objects per item.
        (Json::Array(b), Json::Array(a))
            if b.iter().chain(a.iter()).any(|v| v.is_object()) && b.len() == a.len() =>
        {
            for (i, (x, y)) in b.iter().zip(a.iter()).enumerate() {
                diff(x, y, format!("{path}[{i}]"), out);
            }
        }
        _ => {
            if before != after {
                out.push((path, before.clone(), after.clone()));
            }
        }
    }
}

/// A value as short text for the report.
fn short(v: &Json) -> String {
    let s = match v {
        Json::Null => "null".to_string(),
        Json::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

const USAGE: &str = "usage: terraform-provider-webide drift-report PLAN.json [--format markdown|html] [--output FILE] [--include-planned]
  PLAN.json   `terraform show -json PLANFILE` of `terraform plan -refresh-only -out=PLANFILE` (`-` = stdin)
  --format    markdown (default) or html
  --output    write the report to FILE instead of stdout
  --include-planned  also list the plan's own changes (for a normal plan)
exit code: 0 no drift, 2 drift found, 1 error";

/// `drift-report` subcommand. Returns the process exit code.
pub fn run_cli(args: &[String]) -> anyhow::Result<i32> {
    use lexopt::prelude::*;
    let (mut input, mut format, mut output, mut planned) = (
        None::<String>,
        "markdown".to_string(),
        None::<String>,
        false,
    );
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => {
                println!("{USAGE}");
                return Ok(0);
            }
            Long("format") => format = parser.value()?.string()?,
            Short('o') | Long("output") => output = Some(parser.value()?.string()?),
            Long("include-planned") => planned = true,
            Value(v) if input.is_none() => input = Some(v.string()?),
            other => bail!("{}\n{USAGE}", other.unexpected()),
        }
    }
    let input = input.with_context(|| format!("missing PLAN.json\n{USAGE}"))?;
    let text = if input == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(&input).with_context(|| format!("reading {input}"))?
    };
    let plan: Json = serde_json::from_str(&text).with_context(|| format!("{input} is not JSON"))?;
    let r = report(&plan, &webide_sensitive_attrs(), planned)?;
    let doc = match format.as_str() {
        "markdown" | "md" => markdown(&r),
        "html" => html(&r),
        other => bail!("unknown format {other:?}: markdown or html"),
    };
    match output {
        Some(path) => std::fs::write(&path, doc).with_context(|| format!("writing {path}"))?,
        None => print!("{doc}"),
    }
    Ok(if r.entries.is_empty() { 0 } else { 2 })
}

#[cfg(test)]
mod tests;
