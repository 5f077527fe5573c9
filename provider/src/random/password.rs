//! `webide_random_password`: a random password or token, drawn from the operating system's
//! CSPRNG (`rand::rngs::OsRng`, i.e. getrandom) in the provider process. Like
//! hashicorp/random's `random_password`: it lives only in state, `result` is sensitive, and any
//! change of an argument (including a `keepers` entry) makes a new value. Nothing to import:
//! the value exists nowhere but in state.

use async_trait::async_trait;
use rand::seq::SliceRandom;
use rand::{CryptoRng, RngCore};

use crate::framework::validators::{Integer, Range};
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;

pub struct PasswordResource;

/// Special characters used unless `override_special` is set (no quotes, backslash or space, so
/// the value is safe in env files, URLs' userinfo aside, and shell words).
pub const DEFAULT_SPECIAL: &str = "!#%&*()-_=+[]{}<>:?";

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const NUMERIC: &[u8] = b"0123456789";

/// Every argument: a change to any of them makes a new value.
const ARGS: &[&str] = &[
    "length",
    "upper",
    "lower",
    "numeric",
    "special",
    "min_upper",
    "min_lower",
    "min_numeric",
    "min_special",
    "override_special",
    "keepers",
];

/// The character classes in use and the length: what a valid configuration asks for.
#[derive(Debug, PartialEq)]
pub struct Rules {
    pub length: usize,
    /// (characters, at least this many of them), one entry per enabled class.
    pub classes: Vec<(Vec<u8>, usize)>,
}

/// A rule broken by the configuration: the attribute and why.
type Problem = (&'static str, String);

/// Checks the arguments (all known) and returns the rules, or every problem found.
pub fn rules(config: &Value) -> Result<Rules, Vec<Problem>> {
    let num = |k: &str| config.get(k).as_i64().unwrap_or(0).max(0) as usize;
    let on = |k: &str| config.get(k).as_bool().unwrap_or(true);
    let mut problems = Vec::new();
    let special: Vec<u8> = match config.get("override_special").as_str() {
        None => DEFAULT_SPECIAL.as_bytes().to_vec(),
        Some(s) => {
            if let Some(c) = s
                .chars()
                .find(|c| !c.is_ascii_graphic() || c.is_ascii_alphanumeric())
            {
                problems.push((
                    "override_special",
                    format!(
                        "{c:?} is not allowed: special characters are printable ASCII punctuation (no letters, digits, spaces or non-ASCII)"
                    ),
                ));
            }
            let mut set: Vec<u8> = s.bytes().collect();
            set.sort_unstable();
            set.dedup();
            set
        }
    };
    let mut classes = Vec::new();
    for (name, chars) in [
        ("upper", UPPER.to_vec()),
        ("lower", LOWER.to_vec()),
        ("numeric", NUMERIC.to_vec()),
        ("special", special),
    ] {
        let min_attr: &'static str = match name {
            "upper" => "min_upper",
            "lower" => "min_lower",
            "numeric" => "min_numeric",
            _ => "min_special",
        };
        let min = num(min_attr);
        if !on(name) {
            if min > 0 {
                problems.push((min_attr, format!("{min_attr} = {min} needs {name} = true")));
            }
            continue;
        }
        if chars.is_empty() {
            problems.push((
                "override_special",
                "must name at least one character while special = true".into(),
            ));
            continue;
        }
        classes.push((chars, min));
    }
    if classes.is_empty() && problems.is_empty() {
        problems.push((
            "upper",
            "every character class is off: set at least one of upper, lower, numeric, special to true".into(),
        ));
    }
    let length = num("length");
    let mins: usize = classes.iter().map(|(_, m)| m).sum();
    if mins > length {
        problems.push((
            "length",
            format!("length {length} is less than the sum of the min_* counts ({mins})"),
        ));
    }
    if problems.is_empty() {
        Ok(Rules { length, classes })
    } else {
        Err(problems)
    }
}

/// A value following `rules`: each class's minimum first, the rest from every enabled class,
/// then shuffled. `choose` and `shuffle` sample uniformly (no modulo bias).
pub fn generate(rules: &Rules, rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(rules.length);
    for (chars, min) in &rules.classes {
        for _ in 0..*min {
            out.push(*chars.choose(rng).expect("class not empty"));
        }
    }
    let all: Vec<u8> = rules
        .classes
        .iter()
        .flat_map(|(c, _)| c.iter().copied())
        .collect();
    while out.len() < rules.length {
        out.push(*all.choose(rng).expect("some class enabled"));
    }
    out.shuffle(rng);
    String::from_utf8(out).expect("ASCII")
}

#[async_trait]
impl<D: Send + Sync> Resource<D> for PasswordResource {
    fn type_name(&self) -> &'static str {
        "webide_random_password"
    }

    fn schema(&self) -> Schema {
        let count = |name: &str, what: &str| {
            Attribute::number(name)
                .default(0)
                .validate(Integer)
                .validate(Range {
                    min: 0.0,
                    max: Some(1024.0),
                })
                .describe(&format!("At least this many {what}."))
        };
        Schema::new(
            0,
            Block::new("A random password or token made by the provider from the operating system's cryptographic random source (no service is called), e.g. for bootstrap secrets such as Coder's first user or Authentik's `AUTHENTIK_BOOTSTRAP_TOKEN`. `result` is sensitive and kept only in state: protect the state. Any change of an argument, including a `keepers` entry, makes a new value. Not importable (the value exists nowhere else).")
                .attr(Attribute::number("length").default(32).validate(Integer).validate(Range { min: 1.0, max: Some(1024.0) }).describe("Number of characters."))
                .attr(Attribute::bool("upper").default(true).describe("Use upper-case letters `A-Z`."))
                .attr(Attribute::bool("lower").default(true).describe("Use lower-case letters `a-z`."))
                .attr(Attribute::bool("numeric").default(true).describe("Use digits `0-9`."))
                .attr(Attribute::bool("special").default(true).describe(&format!("Use special characters: `override_special`, else `{DEFAULT_SPECIAL}`.")))
                .attr(count("min_upper", "upper-case letters (needs `upper`)"))
                .attr(count("min_lower", "lower-case letters (needs `lower`)"))
                .attr(count("min_numeric", "digits (needs `numeric`)"))
                .attr(count("min_special", "special characters (needs `special`)"))
                .attr(Attribute::string("override_special").optional().describe("The special characters to draw from instead of the default set: printable ASCII punctuation."))
                .attr(Attribute::string_map("keepers").optional().describe("Arbitrary values; a change of any of them makes a new value (e.g. rotate with `{ rotation = \"2026-01\" }`)."))
                .attr(Attribute::string("result").computed().sensitive().use_state_for_unknown().describe("The generated value (sensitive).")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if ARGS
            .iter()
            .filter(|a| **a != "keepers")
            .any(|a| config.get(a).is_unknown())
        {
            return;
        }
        if let Err(problems) = rules(config) {
            for (attr, detail) in problems {
                diags.push_attr_error(
                    AttrPath::root(attr),
                    format!("Invalid value for {attr}"),
                    detail,
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&D>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if ctx.is_create() {
            return Ok(());
        }
        let changed: Vec<&str> = ARGS.iter().copied().filter(|a| ctx.changed(a)).collect();
        if !changed.is_empty() {
            ctx.set_unknown("result");
            for attr in changed {
                ctx.require_replace(attr);
            }
        }
        Ok(())
    }

    async fn create(&self, _d: &D, plan: &Value) -> ApplyResult {
        let rules = rules(plan).map_err(|p| {
            Diagnostics::error(
                "Cannot generate the password",
                p.into_iter()
                    .map(|(a, d)| format!("{a}: {d}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let mut state = plan.clone();
        state.set(
            "result",
            Value::string(generate(&rules, &mut rand::rngs::OsRng)),
        );
        Ok(state)
    }

    async fn read(&self, _d: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        Ok(Some(state.clone()))
    }

    async fn update(&self, _d: &D, _prior: &Value, plan: &Value) -> ApplyResult {
        // Every argument forces a new value; nothing changes in place.
        Ok(plan.clone())
    }

    async fn delete(&self, _d: &D, _state: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let schema = <PasswordResource as Resource<()>>::schema(&PasswordResource);
        let mut v = schema.block.null_object();
        for a in &schema.block.attributes {
            if let Some(d) = &a.default {
                v.set(&a.name, d.clone());
            }
        }
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    fn count(s: &str, set: &[u8]) -> usize {
        s.bytes().filter(|b| set.contains(b)).count()
    }

    #[test]
    fn defaults_draw_from_all_four_classes() {
        let r = rules(&config(&[])).unwrap();
        assert_eq!(r.length, 32);
        assert_eq!(r.classes.len(), 4);
        let a = generate(&r, &mut rand::rngs::OsRng);
        let b = generate(&r, &mut rand::rngs::OsRng);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b, "two draws of 32 characters are not equal");
        let allowed: Vec<u8> = [UPPER, LOWER, NUMERIC, DEFAULT_SPECIAL.as_bytes()].concat();
        assert!(a.bytes().all(|c| allowed.contains(&c)), "{a}");
    }

    #[test]
    fn minimums_are_met_and_disabled_classes_never_appear() {
        let c = config(&[
            ("length", Value::int(12)),
            ("special", Value::Bool(false)),
            ("lower", Value::Bool(false)),
            ("min_upper", Value::int(5)),
            ("min_numeric", Value::int(7)),
        ]);
        let r = rules(&c).unwrap();
        for _ in 0..200 {
            let s = generate(&r, &mut rand::rngs::OsRng);
            assert_eq!(s.len(), 12);
            assert_eq!(count(&s, UPPER), 5, "{s}");
            assert_eq!(count(&s, NUMERIC), 7, "{s}");
            assert_eq!(count(&s, LOWER), 0, "{s}");
        }
    }

    #[test]
    fn override_special_is_the_only_special_set() {
        let c = config(&[
            ("override_special", Value::string("-_")),
            ("min_special", Value::int(3)),
            ("length", Value::int(40)),
        ]);
        let r = rules(&c).unwrap();
        for _ in 0..50 {
            let s = generate(&r, &mut rand::rngs::OsRng);
            assert!(count(&s, b"-_") >= 3, "{s}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)),
                "{s}"
            );
        }
    }

    #[test]
    fn broken_rules_name_the_attribute() {
        let attrs = |c: Value| -> Vec<&'static str> {
            rules(&c).unwrap_err().into_iter().map(|(a, _)| a).collect()
        };
        assert_eq!(
            attrs(config(&[
                ("length", Value::int(3)),
                ("min_upper", Value::int(2)),
                ("min_lower", Value::int(2))
            ])),
            vec!["length"]
        );
        assert_eq!(
            attrs(config(&[
                ("numeric", Value::Bool(false)),
                ("min_numeric", Value::int(1))
            ])),
            vec!["min_numeric"]
        );
        assert_eq!(
            attrs(config(&[
                ("upper", Value::Bool(false)),
                ("lower", Value::Bool(false)),
                ("numeric", Value::Bool(false)),
                ("special", Value::Bool(false)),
            ])),
            vec!["upper"]
        );
        assert_eq!(
            attrs(config(&[("override_special", Value::string("a!"))])),
            vec!["override_special"]
        );
        assert_eq!(
            attrs(config(&[("override_special", Value::string("! "))])),
            vec!["override_special"]
        );
        assert_eq!(
            attrs(config(&[("override_special", Value::string(""))])),
            vec!["override_special"]
        );
        // The same problems reach Terraform as attribute diagnostics at validate time.
        let mut diags = Diagnostics::new();
        <PasswordResource as Resource<()>>::validate(
            &PasswordResource,
            &config(&[
                ("numeric", Value::Bool(false)),
                ("min_numeric", Value::int(1)),
            ]),
            &mut diags,
        );
        assert!(diags.has_errors());
        assert!(format!("{diags:?}").contains("min_numeric"), "{diags:?}");
    }

    #[test]
    fn only_numeric_is_all_digits() {
        let c = config(&[
            ("upper", Value::Bool(false)),
            ("lower", Value::Bool(false)),
            ("special", Value::Bool(false)),
            ("length", Value::int(64)),
        ]);
        let s = generate(&rules(&c).unwrap(), &mut rand::rngs::OsRng);
        assert!(s.bytes().all(|b| b.is_ascii_digit()), "{s}");
    }
}
