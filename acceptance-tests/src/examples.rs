//! The documentation examples (`examples/resources/<type>/`, `examples/data-sources/<type>/`) as
//! runnable root modules: an example names objects other examples declare (the application
//! example uses the OAuth2 provider example's provider), so a root module is the example plus
//! the examples it refers to, transitively, with each top-level block once.
//!
//! The examples are `terraform fmt`-formatted, so a top-level block starts at column 0 with a
//! line ending in `{` and ends at the next line that is exactly `}`; the comment lines right
//! above a block belong to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// One top-level block of an example file.
#[derive(Debug, Clone)]
pub struct Block {
    /// What it declares as an expression would name it: `webide_gitea_org.platform`,
    /// `data.webide_authentik_flow.authorization`, `var.initial_password`,
    /// `output.clone_url` (the latter only to keep outputs unique).
    pub key: String,
    /// Its text, with the comments above it.
    pub text: String,
}

/// One example directory.
#[derive(Debug, Clone)]
pub struct Example {
    /// `resources/webide_gitea_org`, `data-sources/webide_litellm_key`.
    pub id: String,
    /// The resource or data source type the example documents.
    pub rtype: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Its blocks, in file order.
    pub blocks: Vec<Block>,
}

impl Example {
    /// The whole text of its blocks.
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether it declares `key`.
    pub fn declares(&self, key: &str) -> bool {
        self.blocks.iter().any(|b| b.key == key)
    }
}

/// The key a block header declares (`resource "t" "n" {` -> `t.n`).
fn header_key(line: &str) -> Option<String> {
    let mut parts = line.split_whitespace();
    let kind = parts.next()?;
    let names: Vec<String> = parts
        .take_while(|p| *p != "{")
        .map(|p| p.trim_matches('"').to_string())
        .collect();
    Some(match (kind, names.as_slice()) {
        ("resource", [t, n]) => format!("{t}.{n}"),
        ("data", [t, n]) => format!("data.{t}.{n}"),
        ("variable", [n]) => format!("var.{n}"),
        ("output", [n]) => format!("output.{n}"),
        ("locals", []) => "locals".into(),
        ("module", [n]) => format!("module.{n}"),
        ("terraform", []) => "terraform".into(),
        ("provider", [n]) => format!("provider.{n}"),
        _ => return None,
    })
}

/// Splits a formatted configuration into its top-level blocks.
pub fn parse_blocks(text: &str) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for (n, line) in text.lines().enumerate() {
        if let Some((key, lines)) = current.as_mut() {
            lines.push(line);
            if line == "}" {
                blocks.push(Block {
                    key: std::mem::take(key),
                    text: lines.join("\n") + "\n",
                });
                current = None;
            }
            continue;
        }
        if line.trim().is_empty() {
            pending.clear();
        } else if line.starts_with('#') || line.starts_with("//") {
            pending.push(line);
        } else if let Some(head) = line.strip_suffix("{}") {
            let key = header_key(&format!("{head}{{"))
                .with_context(|| format!("line {}: unknown block {line:?}", n + 1))?;
            let mut lines = std::mem::take(&mut pending);
            lines.push(line);
            blocks.push(Block {
                key,
                text: lines.join("\n") + "\n",
            });
        } else if line.ends_with('{') {
            let key = header_key(line)
                .with_context(|| format!("line {}: unknown block {line:?}", n + 1))?;
            let mut lines = std::mem::take(&mut pending);
            lines.push(line);
            current = Some((key, lines));
        } else {
            bail!("line {}: not in a block: {line:?}", n + 1);
        }
    }
    if let Some((key, _)) = current {
        bail!("block {key} is not closed");
    }
    Ok(blocks)
}

/// Every example under `<root>/examples/resources` and `<root>/examples/data-sources`.
pub fn load(root: &Path) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    for kind in ["resources", "data-sources"] {
        let base = root.join("examples").join(kind);
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
            .with_context(|| format!("reading {}", base.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let rtype = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let mut blocks = Vec::new();
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "tf"))
                .collect();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?;
                blocks.extend(parse_blocks(&text).with_context(|| f.display().to_string())?);
            }
            out.push(Example {
                id: format!("{kind}/{rtype}"),
                rtype,
                dir,
                blocks,
            });
        }
    }
    Ok(out)
}

/// Whether `text` refers to `key` (not followed by a name character, so `x.a` is not found in
/// `x.ab`; `depends_on = [x.a]` counts).
pub fn refers_to(text: &str, key: &str) -> bool {
    text.match_indices(key).any(|(i, _)| {
        let before_ok = i == 0
            || !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let after = text[i + key.len()..].chars().next();
        before_ok && !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
    })
}

/// The example that declares `key`: the one documenting that type first, else any.
fn declarer<'a>(all: &'a [Example], key: &str) -> Option<&'a Example> {
    let rtype = key.trim_start_matches("data.").split('.').next()?;
    all.iter()
        .filter(|e| e.declares(key))
        .min_by_key(|e| (e.rtype != rtype, e.id.starts_with("data-sources")))
}

/// The examples `start` (and `extra` text) refer to, transitively, `start` first.
pub fn closure<'a>(all: &'a [Example], start: &'a Example, extra: &str) -> Vec<&'a Example> {
    let mut chosen: Vec<&Example> = vec![start];
    let mut seen: BTreeSet<String> = BTreeSet::from([start.id.clone()]);
    let mut i = 0;
    let mut texts = vec![start.text(), extra.to_string()];
    while i < texts.len() {
        let text = texts[i].clone();
        i += 1;
        let keys: BTreeSet<&str> = all
            .iter()
            .flat_map(|e| e.blocks.iter())
            .map(|b| b.key.as_str())
            .filter(|k| k.starts_with("webide_") || k.starts_with("data.webide_"))
            .collect();
        for key in keys {
            if !refers_to(&text, key) || chosen.iter().any(|e| e.declares(key)) {
                continue;
            }
            if let Some(e) = declarer(all, key) {
                if seen.insert(e.id.clone()) {
                    chosen.push(e);
                    texts.push(e.text());
                }
            }
        }
    }
    chosen
}

/// The root module of `examples` plus `extra`, each top-level block once (two examples may
/// both declare `var.initial_password`).
pub fn compose(examples: &[&Example], extra: &str) -> Result<String> {
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    for e in examples {
        out.push_str(&format!("# --- {} ---\n", e.id));
        for b in &e.blocks {
            if seen.insert(b.key.clone()) {
                out.push_str(&b.text);
                out.push('\n');
            }
        }
    }
    if !extra.is_empty() {
        out.push_str("# --- added by the harness ---\n");
        for b in parse_blocks(extra)? {
            if !seen.insert(b.key.clone()) {
                bail!("the harness's extra block {} is already declared", b.key);
            }
            out.push_str(&b.text);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The variables of a root module that have no default (the harness must give them values).
pub fn required_variables(text: &str) -> Result<Vec<String>> {
    Ok(parse_blocks(text)?
        .into_iter()
        .filter(|b| b.key.starts_with("var.") && !b.text.contains("default"))
        .map(|b| b.key.trim_start_matches("var.").to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_references() {
        let text = "# c\nresource \"a_b\" \"x\" {\n  v = a_b.xy.id\n}\n\nvariable \"p\" {\n  type = string\n}\n";
        let b = parse_blocks(text).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].key, "a_b.x");
        assert!(b[0].text.starts_with("# c\n"));
        assert_eq!(b[1].key, "var.p");
        assert!(!refers_to(text, "a_b.x"));
        assert!(refers_to(text, "a_b.xy"));
        assert!(refers_to("g[\"k\"]", "g"));
        assert!(refers_to("depends_on = [a_b.x]", "a_b.x"));
        assert!(!refers_to("data.a_b.x.id", "a_b.x"));
        assert_eq!(required_variables(text).unwrap(), vec!["p".to_string()]);
        assert!(parse_blocks("resource \"a\" \"b\" {\n").is_err());
        let one = parse_blocks("data \"t\" \"d\" {}\n").unwrap();
        assert_eq!(one[0].key, "data.t.d");
    }
}
