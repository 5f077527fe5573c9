//! One upstream API document (Swagger 2 or OpenAPI 3): its operations, matched by method and
//! path template under the document's base path, with their parameters, request body schema
//! and answer schemas per status code.

use std::collections::BTreeMap;

use serde_json::Value;

/// Where a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// A path or query parameter; `schema` is a schema (OpenAPI 3's `schema`, or the Swagger
/// parameter object itself, which carries `type`/`format`/`enum`/`items` inline).
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub place: In,
    pub required: bool,
    pub schema: Value,
}

/// One operation of the document.
#[derive(Debug)]
pub struct Operation {
    pub method: String,
    /// The path template as the document writes it (`/users/{user}`).
    pub template: String,
    segments: Vec<Segment>,
    pub params: Vec<Param>,
    /// Schema of a JSON request body, and whether a body is required.
    pub body: Option<(Value, bool)>,
    /// Whether the operation takes a non-JSON body (an upload).
    pub other_body: bool,
    /// Status (`"200"`, `"default"`, `"2XX"`) -> schema of the JSON answer (`None`: no body).
    pub responses: BTreeMap<String, Option<Value>>,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A loaded document.
pub struct Spec {
    pub root: Value,
    pub base_path: String,
    ops: Vec<Operation>,
}

impl Spec {
    /// Reads the operations of `root` (a parsed Swagger 2 or OpenAPI 3 document).
    pub fn new(root: Value) -> anyhow::Result<Spec> {
        let swagger = root.get("swagger").is_some();
        let base_path = if swagger {
            root["basePath"].as_str().unwrap_or("").to_string()
        } else {
            root["servers"][0]["url"].as_str().unwrap_or("").to_string()
        };
        let base_path = base_path.trim_end_matches('/').to_string();
        let paths = root["paths"]
            .as_object()
            .ok_or_else(|| anyhow::anyhow!("the document has no paths"))?;
        let mut ops = Vec::new();
        for (template, item) in paths {
            let shared = item.get("parameters").cloned().unwrap_or(Value::Null);
            for (method, op) in item.as_object().into_iter().flatten() {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    continue;
                }
                ops.push(operation(&root, swagger, template, method, &shared, op));
            }
        }
        Ok(Spec {
            root,
            base_path,
            ops,
        })
    }

    /// The operation for `method` and `path` (under the base path): the template with the
    /// most literal segments wins (`/team/info` before `/team/{team_id}`). Also returns the
    /// path parameters' values.
    pub fn find(&self, method: &str, path: &str) -> Option<(&Operation, Vec<(String, String)>)> {
        let rest = path.strip_prefix(&self.base_path)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let method = method.to_ascii_lowercase();
        let parts: Vec<&str> = rest.split('/').skip(1).collect();
        let mut best: Option<(usize, &Operation, Vec<(String, String)>)> = None;
        for op in self.ops.iter().filter(|o| o.method == method) {
            if let Some((literals, values)) = op.matches(&parts) {
                if best.as_ref().is_none_or(|(l, ..)| literals > *l) {
                    best = Some((literals, op, values));
                }
            }
        }
        best.map(|(_, op, values)| (op, values))
    }

    /// Whether any operation has this path (for "method not in the spec" messages).
    pub fn has_path(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix(&self.base_path) else {
            return false;
        };
        let parts: Vec<&str> = rest.split('/').skip(1).collect();
        self.ops.iter().any(|o| o.matches(&parts).is_some())
    }
}

impl Operation {
    fn matches(&self, parts: &[&str]) -> Option<(usize, Vec<(String, String)>)> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut literals = 0;
        let mut values = Vec::new();
        for (seg, part) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Literal(l) if l == part => literals += 1,
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => values.push((name.clone(), percent_decode(part))),
            }
        }
        Some((literals, values))
    }

    /// `METHOD /template` for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method.to_ascii_uppercase(), self.template)
    }

    /// The answer schema for `status`: the exact code, then `2XX`-style, then `default`.
    /// `None`: the status is not declared.
    pub fn response(&self, status: u16) -> Option<&Option<Value>> {
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        self.responses
            .get(&code)
            .or_else(|| self.responses.get(&range))
            .or_else(|| self.responses.get("default"))
    }
}

fn operation(
    root: &Value,
    swagger: bool,
    template: &str,
    method: &str,
    shared: &Value,
    op: &Value,
) -> Operation {
    let deref = |v: &Value| -> Value {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(p) => root.pointer(p).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let segments = template
        .split('/')
        .skip(1)
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Literal(s.to_string()),
            },
        )
        .collect();
    let mut params: Vec<Param> = Vec::new();
    let mut body = None;
    let mut other_body = false;
    let all = shared
        .as_array()
        .into_iter()
        .flatten()
        .chain(op["parameters"].as_array().into_iter().flatten());
    for p in all {
        let p = deref(p);
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let required = p["required"].as_bool().unwrap_or(false);
        let place = match p["in"].as_str() {
            Some("path") => In::Path,
            Some("query") => In::Query,
            Some("body") => {
                let consumes_json = op["consumes"]
                    .as_array()
                    .or(root["consumes"].as_array())
                    .is_none_or(|c| c.iter().any(|c| c.as_str().is_some_and(is_json)));
                if consumes_json {
                    body = Some((p["schema"].clone(), required));
                } else {
                    other_body = true;
                }
                continue;
            }
            Some("formData") => {
                other_body = true;
                continue;
            }
            _ => continue,
        };
        let schema = if swagger {
            p.clone()
        } else {
            p["schema"].clone()
        };
        // An operation-level parameter overrides the path-level one of the same name.
        params.retain(|q| !(q.name == name && q.place == place));
        params.push(Param {
            name,
            place,
            required,
            schema,
        });
    }
    if let Some(rb) = op.get("requestBody") {
        let rb = deref(rb);
        let required = rb["required"].as_bool().unwrap_or(false);
        let content = rb["content"].as_object();
        match content.and_then(|c| c.iter().find(|(k, _)| is_json(k))) {
            Some((_, c)) => body = Some((c["schema"].clone(), required)),
            None => other_body = true,
        }
    }
    let mut responses = BTreeMap::new();
    for (code, r) in op["responses"].as_object().into_iter().flatten() {
        let r = deref(r);
        let schema = if swagger {
            r.get("schema").cloned()
        } else {
            r["content"]
                .as_object()
                .and_then(|c| c.iter().find(|(k, _)| is_json(k)))
                .map(|(_, c)| c["schema"].clone())
                .or_else(|| r["content"].as_object().map(|_| Value::Bool(true)))
        };
        let code = if code.ends_with("xx") || code.ends_with("XX") {
            code.to_ascii_uppercase()
        } else {
            code.clone()
        };
        responses.insert(code, schema);
    }
    Operation {
        method: method.to_string(),
        template: template.to_string(),
        segments,
        params,
        body,
        other_body,
        responses,
    }
}

fn is_json(content_type: &str) -> bool {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    ct == "application/json" || ct.ends_with("+json") || ct == "*/*"
}

/// `%2F` and friends in one path segment.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
