//! Reading Terraform configuration directories with hcl-rs: the Coder template's variables
//! (tests/template_check.rs and the main job both check `tf_vars` against them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use hcl::Body;

/// Every `.tf` file directly in `dir`, parsed.
pub fn parse_dir(dir: &Path) -> Result<Vec<(PathBuf, Body)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("tf") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let body: Body =
            hcl::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        out.push((path, body));
    }
    ensure!(!out.is_empty(), "no .tf file in {}", dir.display());
    Ok(out)
}

/// The `variable` blocks of a configuration directory.
#[derive(Debug, Default)]
pub struct Variables {
    /// Declared without a default: a run must give them.
    pub required: BTreeSet<String>,
    /// Every declared variable.
    pub declared: BTreeSet<String>,
}

/// The variables `dir` declares.
pub fn variables(dir: &Path) -> Result<Variables> {
    let mut vars = Variables::default();
    for (_, body) in parse_dir(dir)? {
        for block in body
            .blocks()
            .filter(|b| b.identifier.as_str() == "variable")
        {
            let name = block
                .labels
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            if !block.body.attributes().any(|a| a.key.as_str() == "default") {
                vars.required.insert(name.clone());
            }
            vars.declared.insert(name);
        }
    }
    Ok(vars)
}
