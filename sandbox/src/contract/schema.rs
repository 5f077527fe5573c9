//! A JSON value against a schema of a Swagger 2 or OpenAPI 3.0/3.1 document.
//!
//! Covers what the four upstream documents use: `$ref` (into the same document), `type` (a name
//! or, in 3.1, a list with `"null"`), `nullable` (3.0) and `x-nullable` (Swagger), `enum`,
//! `const`, `properties`, `required`, `additionalProperties`, `items`, `allOf`, `oneOf`,
//! `anyOf`, `format` (`date-time`, `date`, `uuid`, `int32`/`int64`), `minimum`/`maximum`
//! (and 3.1's numeric `exclusiveMinimum`/`exclusiveMaximum`), `minLength`/`maxLength` and
//! `pattern`, and `readOnly`/`writeOnly` by direction.
//!
//! Objects that declare `properties` but say nothing about `additionalProperties` are
//! *closed*: the upstream servers (Go structs, DRF serializers, pydantic models) send exactly
//! their declared fields, so an undeclared one in an answer is a simulator bug, and one in a
//! request is something the real server ignores or refuses. `oneOf` is checked like `anyOf`
//! (the documents' alternatives overlap: `string` vs `string` with a format).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use serde_json::Value;

/// Which way a body travels: a request to the server, or its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Request,
    Response,
    /// A row the simulator stored (checked against a database schema, not a document).
    Stored,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Request => "request",
            Direction::Response => "response",
            Direction::Stored => "stored row",
        })
    }
}

/// One place where a value breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// RFC 6901 pointer into the checked value (`""` is the whole value).
    pub pointer: String,
    pub message: String,
}

/// A validator bound to one document (its `$ref`s resolve inside `root`).
pub struct Validator<'a> {
    root: &'a Value,
    dir: Direction,
    patterns: &'a Mutex<HashMap<String, Option<regex::Regex>>>,
}

/// Nesting limit: recursive schemas (a group's parent group) with recursive data stop here.
const MAX_DEPTH: usize = 64;

impl<'a> Validator<'a> {
    pub fn new(
        root: &'a Value,
        dir: Direction,
        patterns: &'a Mutex<HashMap<String, Option<regex::Regex>>>,
    ) -> Self {
        Self {
            root,
            dir,
            patterns,
        }
    }

    /// Every issue of `value` against `schema`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Issue> {
        let mut out = Vec::new();
        self.check(schema, value, &mut String::new(), &mut out, 0, false);
        out
    }

    /// Follows `$ref` chains (`#/definitions/X`, `#/components/schemas/X`, ...).
    pub fn resolve<'s>(&self, mut schema: &'s Value) -> &'s Value
    where
        'a: 's,
    {
        for _ in 0..16 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                    Some(target) => schema = target,
                    None => return &Value::Null,
                },
                None => break,
            }
        }
        schema
    }

    /// `open`: an `allOf` member, whose closedness the whole judges.
    fn check(
        &self,
        schema: &Value,
        value: &Value,
        ptr: &mut String,
        out: &mut Vec<Issue>,
        depth: usize,
        open: bool,
    ) {
        let schema = self.resolve(schema);
        let Some(s) = schema.as_object() else {
            return; // `true`, `{}` or an unresolvable reference: anything goes
        };
        if depth > MAX_DEPTH {
            return;
        }
        let mut issue = |msg: String| {
            out.push(Issue {
                pointer: ptr.clone(),
                message: msg,
            })
        };
        if value.is_null() {
            if self.nullable(schema) {
                return;
            }
            issue(format!(
                "null where the schema allows none ({})",
                describe(schema)
            ));
            return;
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array) {
            if !options.iter().any(|o| o == value) {
                issue(format!(
                    "{} is not one of {}",
                    short(value),
                    short(&Value::Array(options.clone()))
                ));
            }
        }
        if let Some(c) = s.get("const") {
            if c != value {
                issue(format!("{} is not the constant {}", short(value), short(c)));
            }
        }
        if let Some(types) = types_of(schema) {
            if !types.iter().any(|t| type_matches(t, value)) {
                issue(format!(
                    "{} is a {}, the schema wants {}",
                    short(value),
                    json_type(value),
                    types.join(" or ")
                ));
                return;
            }
        }
        match value {
            Value::String(text) => self.check_string(s, text, &mut issue),
            Value::Number(n) => check_number(s, n, &mut issue),
            _ => {}
        }
        for sub in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(sub, value, ptr, out, depth + 1, true);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = s.get(key).and_then(Value::as_array) {
                self.check_alternatives(alts, value, ptr, out, depth);
            }
        }
        match value {
            Value::Object(map) => self.check_object(schema, map, ptr, out, depth, open),
            Value::Array(items) => {
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = ptr.len();
                        ptr.push_str(&format!("/{i}"));
                        self.check(item_schema, item, ptr, out, depth + 1, false);
                        ptr.truncate(len);
                    }
                }
            }
            _ => {}
        }
    }

    fn check_alternatives(
        &self,
        alts: &[Value],
        value: &Value,
        ptr: &mut String,
        out: &mut Vec<Issue>,
        depth: usize,
    ) {
        let mut best: Option<Vec<Issue>> = None;
        for alt in alts {
            let mut found = Vec::new();
            self.check(alt, value, ptr, &mut found, depth + 1, false);
            if found.is_empty() {
                return;
            }
            // A branch whose type the value does not even have is the least helpful one.
            let rank = |f: &Vec<Issue>| {
                let wrong_type = f
                    .iter()
                    .any(|i| i.pointer == *ptr && i.message.contains("the schema wants"));
                (wrong_type, f.len())
            };
            if best.as_ref().is_none_or(|b| rank(&found) < rank(b)) {
                best = Some(found);
            }
        }
        if let Some(best) = best {
            if alts.len() == 1 {
                out.extend(best);
            } else {
                let first = &best[0];
                out.push(Issue {
                    pointer: ptr.clone(),
                    message: format!(
                        "matches none of {} alternatives (closest: {} at {:?})",
                        alts.len(),
                        first.message,
                        first.pointer
                    ),
                });
            }
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        ptr: &mut String,
        out: &mut Vec<Issue>,
        depth: usize,
        open: bool,
    ) {
        let props = self.properties(schema, 0);
        let s = schema.as_object().expect("checked by the caller");
        for name in self.required(schema, 0) {
            let hidden = props
                .get(name.as_str())
                .is_some_and(|p| self.hidden_in_direction(p));
            if !map.contains_key(&name) && !hidden {
                out.push(Issue {
                    pointer: format!("{ptr}/{}", escape(&name)),
                    message: "required field missing".into(),
                });
            }
        }
        let extra = s.get("additionalProperties");
        let closed = match extra {
            Some(Value::Bool(b)) => !b,
            Some(_) => false,
            None => !open && !props.is_empty(),
        };
        for (k, v) in map {
            let len = ptr.len();
            ptr.push('/');
            ptr.push_str(&escape(k));
            match props.get(k.as_str()) {
                Some(p) => {
                    if self.hidden_in_direction(p) {
                        let what = match self.dir {
                            Direction::Request => "readOnly",
                            Direction::Response | Direction::Stored => "writeOnly",
                        };
                        out.push(Issue {
                            pointer: ptr.clone(),
                            message: format!("{what} field sent in a {}", self.dir),
                        });
                    } else {
                        self.check(p, v, ptr, out, depth + 1, false);
                    }
                }
                None => match extra {
                    Some(e @ Value::Object(_)) => self.check(e, v, ptr, out, depth + 1, false),
                    _ if closed => out.push(Issue {
                        pointer: ptr.clone(),
                        message: "field not declared by the schema".into(),
                    }),
                    _ => {}
                },
            }
            ptr.truncate(len);
        }
    }

    /// Declared properties of `schema` and of its `allOf` members.
    fn properties<'s>(&self, schema: &'s Value, depth: usize) -> HashMap<&'s str, &'s Value>
    where
        'a: 's,
    {
        let schema = self.resolve(schema);
        let mut out = HashMap::new();
        if depth > 8 {
            return out;
        }
        if let Some(p) = schema.get("properties").and_then(Value::as_object) {
            out.extend(p.iter().map(|(k, v)| (k.as_str(), v)));
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.extend(self.properties(sub, depth + 1));
        }
        out
    }

    fn required(&self, schema: &Value, depth: usize) -> BTreeSet<String> {
        let schema = self.resolve(schema);
        let mut out = BTreeSet::new();
        if depth > 8 {
            return out;
        }
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_str() {
                out.insert(r.to_string());
            }
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.extend(self.required(sub, depth + 1));
        }
        out
    }

    /// `readOnly` in a request, `writeOnly` in an answer: the field must not travel this way
    /// (and is not required in it).
    fn hidden_in_direction(&self, prop: &Value) -> bool {
        let prop = self.resolve(prop);
        let key = match self.dir {
            Direction::Request => "readOnly",
            Direction::Response | Direction::Stored => "writeOnly",
        };
        prop.get(key) == Some(&Value::Bool(true))
    }

    fn nullable(&self, schema: &Value) -> bool {
        let s = schema;
        // Only annotations (`{"title": "Input"}`): any value, null too.
        const CONSTRAINTS: [&str; 9] = [
            "type",
            "$ref",
            "enum",
            "const",
            "anyOf",
            "oneOf",
            "allOf",
            "properties",
            "items",
        ];
        if !CONSTRAINTS.iter().any(|k| s.get(k).is_some())
            || s.get("nullable") == Some(&Value::Bool(true))
            || s.get("x-nullable") == Some(&Value::Bool(true))
            || s.get("type") == Some(&Value::String("null".into()))
            || s.get("const") == Some(&Value::Null)
            || s.get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|t| t == "null"))
            || s.get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.contains(&Value::Null))
        {
            return true;
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = s.get(key).and_then(Value::as_array) {
                if alts.iter().any(|a| self.nullable(self.resolve(a))) {
                    return true;
                }
            }
        }
        // `allOf: [{$ref}]` with `nullable: true` beside it is caught above; a lone member
        // that is nullable makes the whole nullable.
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            if !all.is_empty() && all.iter().all(|a| self.nullable(self.resolve(a))) {
                return true;
            }
        }
        false
    }

    fn check_string(
        &self,
        s: &serde_json::Map<String, Value>,
        text: &str,
        issue: &mut impl FnMut(String),
    ) {
        let chars = || text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if chars() < min {
                issue(format!("{:?} is shorter than {min}", clip(text)));
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if chars() > max {
                issue(format!("{:?} is longer than {max}", clip(text)));
            }
        }
        if let Some(f) = s.get("format").and_then(Value::as_str) {
            if !format_ok(f, text) {
                issue(format!("{:?} is not a valid {f}", clip(text)));
            }
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            let mut cache = self.patterns.lock().unwrap_or_else(|e| e.into_inner());
            let re = cache
                .entry(p.to_string())
                .or_insert_with(|| regex::Regex::new(p).ok());
            if let Some(re) = re {
                if !re.is_match(text) {
                    issue(format!("{:?} does not match the pattern {p}", clip(text)));
                }
            }
        }
    }
}

fn check_number(
    s: &serde_json::Map<String, Value>,
    n: &serde_json::Number,
    issue: &mut impl FnMut(String),
) {
    let Some(x) = n.as_f64() else { return };
    let bound = |k: &str| s.get(k).and_then(Value::as_f64);
    if let Some(min) = bound("minimum") {
        let exclusive = s.get("exclusiveMinimum") == Some(&Value::Bool(true));
        if x < min || (exclusive && x == min) {
            issue(format!("{n} is below the minimum {min}"));
        }
    }
    if let Some(max) = bound("maximum") {
        let exclusive = s.get("exclusiveMaximum") == Some(&Value::Bool(true));
        if x > max || (exclusive && x == max) {
            issue(format!("{n} is above the maximum {max}"));
        }
    }
    if let Some(min) = bound("exclusiveMinimum") {
        if x <= min {
            issue(format!("{n} is not above {min}"));
        }
    }
    if let Some(max) = bound("exclusiveMaximum") {
        if x >= max {
            issue(format!("{n} is not below {max}"));
        }
    }
    match s.get("format").and_then(Value::as_str) {
        Some("int32") if n.as_i64().is_none_or(|i| i32::try_from(i).is_err()) => {
            issue(format!("{n} is not an int32"))
        }
        Some("int64") if n.as_i64().is_none() && n.as_u64().is_none() => {
            issue(format!("{n} is not an int64"))
        }
        _ => {}
    }
}

/// The schema's `type` as a list (`None`: any type).
fn types_of(schema: &Value) -> Option<Vec<&str>> {
    match schema.get("type")? {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        // "file" (Swagger) and unknown names: not checked here
        _ => true,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Formats the documents use; unknown ones (email, uri, ...) are not checked.
pub fn format_ok(format: &str, s: &str) -> bool {
    match format {
        "date-time" => date_time_ok(s),
        "date" => date_ok(s),
        "uuid" => uuid::Uuid::try_parse(s).is_ok() && s.len() == 36,
        _ => true,
    }
}

fn date_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn date_time_ok(s: &str) -> bool {
    if s.len() < 20 || !date_ok(&s[..10]) {
        return false;
    }
    let rest = &s.as_bytes()[10..];
    if !matches!(rest[0], b'T' | b't' | b' ') {
        return false;
    }
    let t = &rest[1..];
    let digits =
        |r: std::ops::Range<usize>| t.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..2) && t[2] == b':' && digits(3..5) && t[5] == b':' && digits(6..8)) {
        return false;
    }
    let mut i = 8;
    if t.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while t.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &t[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Short rendering of a schema for messages.
fn describe(schema: &Value) -> String {
    match (schema.get("type"), schema.get("$ref")) {
        (Some(t), _) => format!("type {t}"),
        (None, Some(r)) => format!("{r}"),
        _ => "no null".into(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    clip(&s).to_string()
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
