//! Markdown and HTML renderings of a [`Report`].

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{DriftKind, Entry, Report, Severity};

const NO_USER: &str = "(no user)";

fn counts(r: &Report) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for e in &r.entries {
        *m.entry(e.severity).or_insert(0) += 1;
    }
    m
}

fn summary_line(r: &Report) -> String {
    if r.entries.is_empty() {
        return "No drift: every object matches what Terraform recorded.".into();
    }
    let c = counts(r);
    let parts: Vec<String> = c
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.label()))
        .collect();
    format!(
        "{} resource(s) drifted: {}.",
        r.entries.len(),
        parts.join(", ")
    )
}

fn what(e: &Entry) -> String {
    match e.kind {
        DriftKind::Deleted => "deleted outside Terraform".into(),
        DriftKind::Changed => "changed outside Terraform".into(),
        DriftKind::Planned => format!("planned: {}", e.actions.join(", ")),
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn md_entry(out: &mut String, e: &Entry) {
    let user = e.user.as_deref().unwrap_or(NO_USER);
    let _ = writeln!(
        out,
        "#### `{}` — {} ({}, user: {})\n",
        e.address,
        what(e),
        e.severity.label(),
        user
    );
    if e.changes.is_empty() {
        return;
    }
    out.push_str(
        "| attribute | in Terraform | now | severity | why it matters |\n|---|---|---|---|---|\n",
    );
    for c in &e.changes {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            c.path,
            md_escape(&c.before),
            md_escape(&c.after),
            c.severity.label(),
            md_escape(c.reason.as_deref().unwrap_or(""))
        );
    }
    out.push('\n');
}

/// The report as Markdown: summary, security-relevant drift, then by service, then by user.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Drift report\n\n{}\n", summary_line(r));
    let _ = writeln!(out, "_From a plan by Terraform {}._\n", r.terraform_version);
    if !r.findings.is_empty() {
        out.push_str("## Configuration findings\n\n");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "- **{}** `{}`: {}",
                f.severity.label().to_uppercase(),
                f.address,
                f.message
            );
        }
        out.push('\n');
    }
    if r.entries.is_empty() {
        return out;
    }
    let security: Vec<&Entry> = r
        .entries
        .iter()
        .filter(|e| e.severity.is_security())
        .collect();
    out.push_str("## Security-relevant drift\n\n");
    if security.is_empty() {
        out.push_str("None.\n\n");
    }
    for e in &security {
        for c in e.changes.iter().filter(|c| c.severity.is_security()) {
            let _ = writeln!(
                out,
                "- **{}** `{}` ({}, user: {}): `{}` {} → {} — {}",
                c.severity.label().to_uppercase(),
                e.address,
                e.service,
                e.user.as_deref().unwrap_or(NO_USER),
                c.path,
                c.before,
                c.after,
                c.reason.as_deref().unwrap_or("")
            );
        }
    }
    out.push_str("\n## By service\n\n");
    let mut by_service: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &r.entries {
        by_service.entry(e.service).or_default().push(e);
    }
    for (service, entries) in &by_service {
        let _ = writeln!(out, "### {service}\n");
        for e in entries {
            md_entry(&mut out, e);
        }
    }
    out.push_str("## By user\n\n| user | resources | highest severity |\n|---|---|---|\n");
    let mut by_user: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &r.entries {
        by_user
            .entry(e.user.as_deref().unwrap_or(NO_USER))
            .or_default()
            .push(e);
    }
    for (user, entries) in &by_user {
        let worst = entries
            .iter()
            .map(|e| e.severity)
            .max()
            .unwrap_or(Severity::Info);
        let addrs: Vec<String> = entries.iter().map(|e| format!("`{}`", e.address)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            md_escape(user),
            addrs.join(", "),
            worst.label()
        );
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one self-contained HTML page (same sections as the Markdown).
pub fn html(r: &Report) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Drift report</title>\n<style>\
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}code{background:#f4f4f4}\
.critical{background:#fdd}.high{background:#fed}.notice{background:#ffd}.info{}\
</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Drift report</h1>\n<p>{}</p>\n<p><em>From a plan by Terraform {}.</em></p>",
        esc(&summary_line(r)),
        esc(&r.terraform_version)
    );
    if !r.findings.is_empty() {
        out.push_str("<h2>Configuration findings</h2>\n<ul>\n");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "<li class=\"{}\"><strong>{}</strong> <code>{}</code>: {}</li>",
                f.severity.label(),
                f.severity.label().to_uppercase(),
                esc(&f.address),
                esc(&f.message)
            );
        }
        out.push_str("</ul>\n");
    }
    if !r.entries.is_empty() {
        out.push_str("<h2>Security-relevant drift</h2>\n<ul>\n");
        let mut any = false;
        for e in r.entries.iter().filter(|e| e.severity.is_security()) {
            for c in e.changes.iter().filter(|c| c.severity.is_security()) {
                any = true;
                let _ = writeln!(
                    out,
                    "<li class=\"{}\"><strong>{}</strong> <code>{}</code> ({}, user: {}): <code>{}</code> {} → {} — {}</li>",
                    c.severity.label(),
                    c.severity.label().to_uppercase(),
                    esc(&e.address),
                    e.service,
                    esc(e.user.as_deref().unwrap_or(NO_USER)),
                    esc(&c.path),
                    esc(&c.before),
                    esc(&c.after),
                    esc(c.reason.as_deref().unwrap_or(""))
                );
            }
        }
        if !any {
            out.push_str("<li>None.</li>\n");
        }
        out.push_str("</ul>\n<h2>By service</h2>\n");
        let mut by_service: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for e in &r.entries {
            by_service.entry(e.service).or_default().push(e);
        }
        for (service, entries) in &by_service {
            let _ = writeln!(out, "<h3>{service}</h3>");
            for e in entries {
                let _ = writeln!(
                    out,
                    "<h4><code>{}</code> — {} ({}, user: {})</h4>",
                    esc(&e.address),
                    esc(&what(e)),
                    e.severity.label(),
                    esc(e.user.as_deref().unwrap_or(NO_USER))
                );
                if e.changes.is_empty() {
                    continue;
                }
                out.push_str("<table><tr><th>attribute</th><th>in Terraform</th><th>now</th><th>severity</th><th>why it matters</th></tr>\n");
                for c in &e.changes {
                    let _ = writeln!(
                        out,
                        "<tr class=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        c.severity.label(),
                        esc(&c.path),
                        esc(&c.before),
                        esc(&c.after),
                        c.severity.label(),
                        esc(c.reason.as_deref().unwrap_or(""))
                    );
                }
                out.push_str("</table>\n");
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}
