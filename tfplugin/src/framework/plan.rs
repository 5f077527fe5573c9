//! The generic part of PlanResourceChange, following the rules Terraform
//! enforces: config values are kept, defaults fill unset optional+computed
//! attributes, computed attributes stay known unless a change may alter them,
//! and `RequiresReplace` attributes that change are reported.

use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Block, NestedBlock, Nesting, PlanModifier};
use crate::protocol::value::Value;

/// What a resource's `modify_plan` sees and may change.
pub struct PlanContext<'a> {
    /// Null when the resource is being created.
    pub prior: &'a Value,
    pub config: &'a Value,
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub diags: Diagnostics,
    /// The resource's private state (opaque to Terraform, never shown): what the prior apply
    /// stored, and what this plan hands to the apply (the prior's unless a resource sets it).
    pub prior_private: Vec<u8>,
    pub planned_private: Option<Vec<u8>>,
}

impl PlanContext<'_> {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
    /// True when the attribute's planned value differs from the prior state.
    pub fn changed(&self, name: &str) -> bool {
        !self.planned.get(name).equals(self.prior.get(name))
    }
    /// Marks a computed attribute "(known after apply)".
    pub fn set_unknown(&mut self, name: &str) {
        self.planned.set(name, Value::Unknown);
    }
    pub fn require_replace(&mut self, name: &str) {
        let p = AttrPath::root(name);
        if !self.requires_replace.contains(&p) {
            self.requires_replace.push(p);
        }
    }
}

/// Applies the generic rules; `proposed` is Terraform's proposed new state
/// (config merged with prior computed values).
pub fn plan<'a>(
    block: &Block,
    prior: &'a Value,
    proposed: &Value,
    config: &'a Value,
) -> PlanContext<'a> {
    let mut planned = proposed.clone();
    // Write-only values stay in `config`: never planned, and no change of theirs is a change.
    super::write_only::strip(block, &mut planned);
    for a in &block.attributes {
        if let (Some(d), true) = (&a.default, config.get(&a.name).is_null()) {
            planned.set(&a.name, d.clone());
        }
    }
    let mut ctx = PlanContext {
        prior,
        config,
        planned,
        requires_replace: Vec::new(),
        diags: Diagnostics::new(),
        prior_private: Vec::new(),
        planned_private: None,
    };
    let is_create = prior.is_null();
    let changed = is_create
        || block.attributes.iter().any(|a| ctx.changed(&a.name))
        || block.blocks.iter().any(|b| ctx.changed(&b.name));
    if changed {
        for a in &block.attributes {
            let keep = !is_create && a.has(PlanModifier::UseStateForUnknown);
            if a.computed && a.default.is_none() && config.get(&a.name).is_null() && !keep {
                ctx.set_unknown(&a.name);
            }
        }
    }
    if !is_create {
        for a in &block.attributes {
            if a.has(PlanModifier::RequiresReplace) && ctx.changed(&a.name) {
                ctx.require_replace(&a.name);
            }
        }
        for nb in &block.blocks {
            let path = AttrPath::root(&nb.name);
            let (p, n) = (prior.get(&nb.name), ctx.planned.get(&nb.name));
            nested_replace(nb, p, n, path, &mut ctx.requires_replace);
        }
    }
    ctx
}

/// True when an attribute of the block, or of a block nested in it, requires replacement.
fn replaces(block: &Block) -> bool {
    block
        .attributes
        .iter()
        .any(|a| a.has(PlanModifier::RequiresReplace))
        || block.blocks.iter().any(|b| replaces(&b.block))
}

/// `RequiresReplace` inside nested blocks: a changed attribute of a single block or of a list
/// element is reported at its path (`port[0].external`); a list whose length changes, a
/// changed set, or a block value not known yet is reported at the block's path when the
/// block has such an attribute (adding or removing an element changes its values).
fn nested_replace(
    nb: &NestedBlock,
    prior: &Value,
    planned: &Value,
    path: AttrPath,
    out: &mut Vec<AttrPath>,
) {
    if planned.equals(prior) || !replaces(&nb.block) {
        return;
    }
    let element = |prior: &Value, planned: &Value, path: AttrPath, out: &mut Vec<AttrPath>| {
        for a in &nb.block.attributes {
            if a.has(PlanModifier::RequiresReplace)
                && !planned.get(&a.name).equals(prior.get(&a.name))
            {
                let p = path.clone().attr(&a.name);
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        for inner in &nb.block.blocks {
            let (p, n) = (prior.get(&inner.name), planned.get(&inner.name));
            nested_replace(inner, p, n, path.clone().attr(&inner.name), out);
        }
    };
    match (nb.nesting, prior, planned) {
        (Nesting::Single, Value::Object(_), Value::Object(_)) => element(prior, planned, path, out),
        (Nesting::List, Value::List(p), Value::List(n)) if p.len() == n.len() => {
            for (i, (p, n)) in p.iter().zip(n).enumerate() {
                element(p, n, path.clone().index(i), out);
            }
        }
        _ => {
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::Attribute;

    fn block() -> Block {
        Block::new("t")
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("name").required().requires_replace())
            .attr(Attribute::string("note").optional())
            .attr(Attribute::string("updated_at").computed())
            .attr(Attribute::bool("blocked").default(false))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut v = block().null_object();
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let config = obj(&[("name", "a".into())]);
        let ctx = plan(&block(), &Value::Null, &config, &config);
        assert_eq!(ctx.planned.get("id"), &Value::Unknown);
        assert_eq!(ctx.planned.get("updated_at"), &Value::Unknown);
        assert_eq!(ctx.planned.get("blocked"), &Value::Bool(false));
        assert_eq!(ctx.planned.get("name"), &Value::from("a"));
        assert!(ctx.requires_replace.is_empty());
    }

    #[test]
    fn no_change_keeps_prior_values() {
        let prior = obj(&[
            ("id", "1".into()),
            ("name", "a".into()),
            ("updated_at", "t1".into()),
            ("blocked", false.into()),
        ]);
        let config = obj(&[("name", "a".into())]);
        // proposed = config + prior computed values
        let proposed = obj(&[
            ("id", "1".into()),
            ("name", "a".into()),
            ("updated_at", "t1".into()),
            ("blocked", false.into()),
        ]);
        let ctx = plan(&block(), &prior, &proposed, &config);
        assert!(ctx.planned.equals(&prior));
    }

    #[test]
    fn change_recomputes_but_keeps_use_state_for_unknown() {
        let prior = obj(&[
            ("id", "1".into()),
            ("name", "a".into()),
            ("updated_at", "t1".into()),
            ("blocked", false.into()),
        ]);
        let config = obj(&[("name", "a".into()), ("note", "n".into())]);
        let proposed = obj(&[
            ("id", "1".into()),
            ("name", "a".into()),
            ("note", "n".into()),
            ("updated_at", "t1".into()),
            ("blocked", false.into()),
        ]);
        let ctx = plan(&block(), &prior, &proposed, &config);
        assert_eq!(ctx.planned.get("id"), &Value::from("1"));
        assert_eq!(ctx.planned.get("updated_at"), &Value::Unknown);
        assert!(ctx.requires_replace.is_empty());
    }

    #[test]
    fn write_only_values_are_not_planned_and_change_nothing() {
        let b = block().attr(
            Attribute::string("secret_wo")
                .optional()
                .sensitive()
                .write_only(),
        );
        let mut prior = b.null_object();
        for (k, v) in [("id", "1"), ("name", "a"), ("updated_at", "t1")] {
            prior.set(k, v.into());
        }
        prior.set("blocked", false.into());
        let mut config = b.null_object();
        config.set("name", "a".into());
        config.set("secret_wo", "s3cret".into());
        // Terraform's proposed new state carries the config value.
        let mut proposed = prior.clone();
        proposed.set("secret_wo", "s3cret".into());
        let ctx = plan(&b, &prior, &proposed, &config);
        assert_eq!(ctx.planned.get("secret_wo"), &Value::Null);
        assert!(ctx.planned.equals(&prior), "no change, nothing recomputed");
        assert_eq!(ctx.config.get("secret_wo"), &Value::from("s3cret"));
        let created = plan(&b, &Value::Null, &proposed, &config);
        assert_eq!(created.planned.get("secret_wo"), &Value::Null);
    }

    #[test]
    fn requires_replace_reaches_nested_blocks() {
        let b = Block::new("t")
            .attr(Attribute::string("name").required())
            .block(
                "port",
                Nesting::List,
                Block::new("p")
                    .attr(Attribute::number("internal").required().requires_replace())
                    .attr(Attribute::string("note").optional()),
                0,
            )
            .block(
                "log",
                Nesting::List,
                Block::new("l").attr(Attribute::string("note").optional()),
                0,
            );
        let port = |internal: i64, note: &str| {
            let mut o = b.blocks[0].block.null_object();
            o.set("internal", internal.into());
            o.set("note", note.into());
            o
        };
        let state = |ports: Vec<Value>, logs: Vec<Value>| {
            let mut v = b.null_object();
            v.set("name", "a".into());
            v.set("port", Value::List(ports));
            v.set("log", Value::List(logs));
            v
        };
        let replace = |prior: &Value, planned: &Value| {
            let paths = plan(&b, prior, planned, planned).requires_replace;
            paths.iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        let prior = state(vec![port(80, "a"), port(81, "b")], vec![]);
        assert!(replace(&prior, &prior).is_empty());
        // Only the attribute that requires it, at its path.
        let notes = state(vec![port(80, "x"), port(81, "b")], vec![]);
        assert!(replace(&prior, &notes).is_empty());
        let moved = state(vec![port(80, "a"), port(82, "b")], vec![]);
        assert_eq!(replace(&prior, &moved), ["port[1].internal"]);
        // An element added or removed, or a block not known yet: the block.
        let fewer = state(vec![port(80, "a")], vec![]);
        assert_eq!(replace(&prior, &fewer), ["port"]);
        let mut unknown = prior.clone();
        unknown.set("port", Value::Unknown);
        assert_eq!(replace(&prior, &unknown), ["port"]);
        // A block without such attributes never replaces.
        let mut log = b.blocks[1].block.null_object();
        log.set("note", "n".into());
        let logged = state(vec![port(80, "a"), port(81, "b")], vec![log]);
        assert!(replace(&prior, &logged).is_empty());
    }

    #[test]
    fn requires_replace_reported() {
        let prior = obj(&[
            ("id", "1".into()),
            ("name", "a".into()),
            ("blocked", false.into()),
        ]);
        let config = obj(&[("name", "b".into())]);
        let proposed = obj(&[
            ("id", "1".into()),
            ("name", "b".into()),
            ("blocked", false.into()),
        ]);
        let ctx = plan(&block(), &prior, &proposed, &config);
        assert_eq!(ctx.requires_replace, vec![AttrPath::root("name")]);
    }
}
