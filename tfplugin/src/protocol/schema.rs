//! Schemas: attributes and nested blocks with their validators and plan
//! modifiers declared next to them.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::diagnostics::{AttrPath, Diagnostics};
use super::types::Type;
use super::value::Value;

/// Checks a known, non-null configuration value.
pub trait Validator: Send + Sync {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics);
    /// One line for the docs, e.g. "one of `a`, `b`".
    fn description(&self) -> String;
}

/// When a value an API answered means the same as the planned one (e.g. other letter case):
/// apply then keeps the planned value (implementations in `framework::equality`).
pub trait SemanticEquality: Send + Sync {
    /// `planned` is known and not null; `applied` differs from it.
    fn equal(&self, planned: &Value, applied: &Value) -> bool;
    /// One line for the docs, e.g. "compared ignoring letter case".
    fn description(&self) -> String;
}

/// How a change to an attribute is planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change to this attribute destroys and re-creates the resource.
    RequiresReplace,
    /// A computed attribute keeps its prior value when the plan does not
    /// set it, instead of becoming "(known after apply)".
    UseStateForUnknown,
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    /// Terraform >= 1.11 write-only argument: in the configuration only, never in plan or
    /// state (see `framework::write_only`).
    pub write_only: bool,
    /// Planned when the configuration leaves the attribute null (needs `computed`).
    pub default: Option<Value>,
    pub modifiers: Vec<PlanModifier>,
    pub validators: Vec<Arc<dyn Validator>>,
    /// How apply compares the API's value with the planned one (exact when `None`).
    pub equality: Option<Arc<dyn SemanticEquality>>,
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Attribute {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            write_only: false,
            default: None,
            modifiers: Vec::new(),
            validators: Vec::new(),
            equality: None,
        }
    }
    pub fn string(name: &str) -> Attribute {
        Attribute::new(name, Type::String)
    }
    pub fn number(name: &str) -> Attribute {
        Attribute::new(name, Type::Number)
    }
    pub fn bool(name: &str) -> Attribute {
        Attribute::new(name, Type::Bool)
    }
    pub fn string_list(name: &str) -> Attribute {
        Attribute::new(name, Type::list(Type::String))
    }
    pub fn string_set(name: &str) -> Attribute {
        Attribute::new(name, Type::set(Type::String))
    }
    pub fn string_map(name: &str) -> Attribute {
        Attribute::new(name, Type::map(Type::String))
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// A write-only argument (Terraform >= 1.11): given in the configuration, sent to the
    /// service, never stored in plan or state.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }
    /// Optional + computed with this value planned when unset.
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(v.into());
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    /// After apply, an API value semantically equal to the planned one is returned as planned;
    /// any other difference is returned as answered (Terraform reports it).
    pub fn semantic_equality(mut self, e: impl SemanticEquality + 'static) -> Self {
        self.equality = Some(Arc::new(e));
        self
    }
    pub fn has(&self, m: PlanModifier) -> bool {
        self.modifiers.contains(&m)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
}

#[derive(Clone)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new(description: &str) -> Block {
        Block {
            description: description.to_string(),
            ..Block::default()
        }
    }
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, name: &str, nesting: Nesting, block: Block, max_items: i64) -> Self {
        self.blocks.push(NestedBlock {
            name: name.to_string(),
            nesting,
            block,
            min_items: 0,
            max_items,
        });
        self
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The object type of a value of this block.
    pub fn implied_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for b in &self.blocks {
            let inner = b.block.implied_type();
            let t = match b.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
            };
            attrs.insert(b.name.clone(), t);
        }
        Type::Object(attrs)
    }

    /// An object of this block with every attribute null (nested list/set blocks empty).
    pub fn null_object(&self) -> Value {
        let mut m: BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for b in &self.blocks {
            let v = match b.nesting {
                Nesting::Single => Value::Null,
                Nesting::List => Value::List(vec![]),
                Nesting::Set => Value::Set(vec![]),
            };
            m.insert(b.name.clone(), v);
        }
        Value::Object(m)
    }

    /// Runs the validators of every attribute (and nested block) on `config`.
    pub fn validate(&self, config: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        for a in &self.attributes {
            let v = config.get(&a.name);
            if v.is_null() || !v.is_wholly_known() {
                continue;
            }
            let p = extend(path, &a.name);
            if out_of_range(&p, v, diags) {
                continue;
            }
            for val in &a.validators {
                val.validate(&p, v, diags);
            }
        }
        for b in &self.blocks {
            let v = config.get(&b.name);
            let p = extend(path, &b.name);
            match b.nesting {
                Nesting::Single if !v.is_null() && !v.is_unknown() => {
                    b.block.validate(v, &p, diags)
                }
                Nesting::List | Nesting::Set => {
                    for (i, item) in v.elements().iter().enumerate() {
                        b.block.validate(item, &p.clone().index(i), diags);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Reports numbers no f64 holds (`1e400`) on their attribute, without repeating their
/// digits; true when any was found (the attribute's own validators are then skipped).
fn out_of_range(path: &AttrPath, v: &Value, diags: &mut Diagnostics) -> bool {
    match v {
        Value::Number(n) if !n.in_range() => {
            diags.push_attr_error(
                path.clone(),
                format!("Number out of range for {path}"),
                format!(
                    "a number of {} characters does not fit a 64-bit float (largest about \
                     1.8e308); use a smaller value",
                    n.as_str().len()
                ),
            );
            true
        }
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter().enumerate().fold(false, |f, (i, x)| {
                out_of_range(&path.clone().index(i), x, diags) | f
            })
        }
        Value::Map(m) => m.iter().fold(false, |f, (k, x)| {
            out_of_range(&path.clone().key(k), x, diags) | f
        }),
        _ => false,
    }
}

fn extend(path: &AttrPath, name: &str) -> AttrPath {
    if path.0.is_empty() {
        AttrPath::root(name)
    } else {
        path.clone().attr(name)
    }
}

/// A versioned schema (the version drives state upgrades).
#[derive(Clone)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
    /// `block.implied_type()`, derived once: every request decodes against it.
    implied: OnceLock<Type>,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Schema {
        Schema {
            version,
            block,
            implied: OnceLock::new(),
        }
    }

    /// The object type of a value of this schema's block (computed on first use, then kept;
    /// the block is not changed once the schema is served).
    pub fn implied_type(&self) -> &Type {
        self.implied.get_or_init(|| self.block.implied_type())
    }
}
