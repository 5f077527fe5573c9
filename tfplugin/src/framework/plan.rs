//! The generic part of PlanResourceChange, following the rules Terraform
//! enforces: config values are kept, defaults fill unset optional+computed
//! attributes, computed attributes stay known unless a change may alter them,
//! and `RequiresReplace` attributes that change are reported.

use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Block, PlanModifier};
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
    }
    ctx
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
