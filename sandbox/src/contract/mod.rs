//! Contract checks: every request a simulator receives and every answer it sends, against the
//! upstream API document of its service (`$WEBIDE_SPECS_DIR`, see `../shared/specs/SOURCES.md`):
//! Swagger 2 for Gitea and Coder, OpenAPI 3.0 for Authentik, OpenAPI 3.1 for LiteLLM.
//!
//! Checked, per exchange under the document's base path: the operation exists (method + path
//! template), path and query parameters (declared, required, type/format/enum), the JSON
//! request body against the operation's body schema, the status code is declared (2xx/3xx
//! only: the documents leave most error codes out), and the JSON answer against that status's
//! schema (or `default`). Known, upstream-justified differences are listed in
//! `deviations.txt` (one line each, with the reason); everything else is a [`Violation`],
//! recorded per sandbox and read with [`crate::RunningSandbox::contract_violations`] or
//! `GET /_sandbox/contract` on any simulator port.
//!
//! Schemas are checked by the small validator in [`schema`] rather than a JSON Schema crate:
//! the documents need Swagger's `x-nullable`, OpenAPI 3.0's `nullable`, `readOnly`/`writeOnly`
//! by direction and closed objects by default, so they would have to be rewritten before any
//! draft-2020 validator could read them, and `jsonschema` (0.61) brings a regex engine, an
//! HTTP client and a reference resolver for what is here a few hundred lines over
//! `serde_json::Value`.

pub mod errors;
pub mod prisma;
pub mod rows;
pub mod schema;
pub mod spec;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

pub use schema::Direction;
use schema::Validator;
use spec::{In, Operation, Spec};

/// The upstream document of each simulated service (file names in `$WEBIDE_SPECS_DIR`).
pub const DOCUMENTS: [(&str, &str); 4] = [
    ("litellm", "litellm-openapi-1.106.2.json"),
    ("authentik", "authentik-schema.yml"),
    ("gitea", "gitea-swagger.json"),
    ("coder", "coder-swagger.json"),
];

/// The LiteLLM proxy's database schema: its stored rows are held to it (see [`prisma`]).
pub const PRISMA_SCHEMA: &str = "litellm-schema-1.106.2.prisma";

/// Path on every simulator port that answers the violations recorded so far (JSON).
pub const REPORT_PATH: &str = "/_sandbox/contract";

/// One difference between an exchange and the upstream contract.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub service: String,
    /// `METHOD /template` of the matched operation (or `METHOD /path` when none matched).
    pub operation: String,
    pub direction: Direction,
    /// The answer's status code (responses only).
    pub status: Option<u16>,
    /// RFC 6901 pointer into the body, or `?name` for a query parameter, `{name}` for a path
    /// parameter; empty for the exchange as a whole.
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {} {}",
            self.service, self.operation, self.direction
        )?;
        if let Some(s) = self.status {
            write!(f, " {s}")?;
        }
        let at = if self.pointer.is_empty() {
            "(whole)"
        } else {
            &self.pointer
        };
        write!(f, " at {at}: {}", self.message)
    }
}

impl serde::Serialize for Direction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A known, justified difference: violations it matches are not recorded.
#[derive(Clone, Debug)]
pub struct Deviation {
    pub service: String,
    pub operation: String,
    pub direction: Direction,
    /// Exact pointer; `*` any.
    pub pointer: String,
    /// A substring of the message; `*` any.
    pub contains: String,
    pub reason: String,
}

impl Deviation {
    fn matches(&self, v: &Violation) -> bool {
        self.service == v.service
            && (self.operation == "*" || self.operation == v.operation)
            && self.direction == v.direction
            && (self.pointer == "*" || self.pointer == v.pointer)
            && (self.contains == "*" || v.message.contains(&self.contains))
    }
}

/// The built-in list (`deviations.txt`): `service | METHOD /template | direction | pointer |
/// message substring | reason`; `-` is the empty pointer, `*` matches anything (operation,
/// pointer, message).
pub fn deviations() -> &'static [Deviation] {
    static LIST: OnceLock<Vec<Deviation>> = OnceLock::new();
    LIST.get_or_init(|| {
        parse_deviations(include_str!("deviations.txt")).expect("deviations.txt is well formed")
    })
}

/// Parses a deviation list (see [`deviations`]).
pub fn parse_deviations(text: &str) -> anyhow::Result<Vec<Deviation>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(" | ").map(str::trim).collect();
        let [service, operation, direction, pointer, contains, reason] = cols[..] else {
            anyhow::bail!(
                "deviations line {}: want 6 columns separated by ' | '",
                n + 1
            );
        };
        let direction = match direction {
            "request" => Direction::Request,
            "response" => Direction::Response,
            "stored" => Direction::Stored,
            d => anyhow::bail!("deviations line {}: direction {d:?}", n + 1),
        };
        anyhow::ensure!(!reason.is_empty(), "deviations line {}: no reason", n + 1);
        out.push(Deviation {
            service: service.into(),
            operation: operation.into(),
            direction,
            pointer: if pointer == "-" {
                String::new()
            } else {
                pointer.into()
            },
            contains: contains.into(),
            reason: reason.into(),
        });
    }
    Ok(out)
}

/// The documents, parsed once per process.
pub struct Contract {
    specs: BTreeMap<&'static str, Arc<Spec>>,
    /// [`PRISMA_SCHEMA`], read.
    pub prisma: Arc<prisma::Schema>,
    /// How long reading and parsing the documents took (once per process).
    pub load_time: std::time::Duration,
}

impl Contract {
    /// `$WEBIDE_SPECS_DIR`, else `../shared/specs` next to the workspace.
    pub fn specs_dir() -> PathBuf {
        std::env::var_os("WEBIDE_SPECS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/specs"))
            })
    }

    /// The documents of [`Contract::specs_dir`], read and parsed on first use. `Ok(None)`
    /// when the directory is absent (the caller says so; under `CI` that is an error).
    pub fn shared() -> anyhow::Result<Option<Arc<Contract>>> {
        static LOADED: OnceLock<Result<Option<Arc<Contract>>, String>> = OnceLock::new();
        LOADED
            .get_or_init(|| {
                let dir = Self::specs_dir();
                if !dir.is_dir() {
                    return Ok(None);
                }
                Contract::load(&dir)
                    .map(|c| Some(Arc::new(c)))
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(anyhow::Error::msg)
    }

    /// Reads every document of [`DOCUMENTS`] from `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Contract> {
        let started = std::time::Instant::now();
        let mut specs = BTreeMap::new();
        for (service, file) in DOCUMENTS {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let root: Value = if file.ends_with(".yml") {
                serde_yaml::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            } else {
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            };
            let spec = Spec::new(root).with_context(|| format!("reading {}", path.display()))?;
            specs.insert(service, Arc::new(spec));
        }
        let path = dir.join(PRISMA_SCHEMA);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let prisma =
            prisma::Schema::parse(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Contract {
            specs,
            prisma: Arc::new(prisma),
            load_time: started.elapsed(),
        })
    }

    /// A checker for `service` that records into `log`.
    pub fn checker(&self, service: &'static str, log: Log) -> Option<Checker> {
        Some(Checker {
            service,
            spec: self.specs.get(service)?.clone(),
            log,
            patterns: Arc::new(Mutex::new(HashMap::new())),
            rows: None,
        })
    }
}

/// Checks the rows a simulator stored, after each write: `(pointer, message)` per issue
/// (see [`rows`]).
pub type RowCheck = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// Violations recorded by the checkers of one sandbox.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<LogInner>>);

#[derive(Default)]
struct LogInner {
    violations: Vec<Violation>,
    /// How many of `violations` a reader has seen ([`Log::violations`], [`Log::take`]).
    read: usize,
    checked: u64,
    excused: u64,
    /// Time spent checking (parsing bodies, matching, validating), handlers excluded.
    spent: std::time::Duration,
}

impl Log {
    /// Every violation recorded so far (they count as read).
    pub fn violations(&self) -> Vec<Violation> {
        let mut l = self.lock();
        l.read = l.violations.len();
        l.violations.clone()
    }

    /// Removes and returns the violations recorded so far (a test that sends a wrong request
    /// on purpose takes the one it caused).
    pub fn take(&self) -> Vec<Violation> {
        let mut l = self.lock();
        l.read = 0;
        std::mem::take(&mut l.violations)
    }

    /// The violations recorded since the last [`Log::violations`] or [`Log::take`].
    pub fn unread(&self) -> Vec<Violation> {
        let l = self.lock();
        l.violations[l.read.min(l.violations.len())..].to_vec()
    }

    /// Exchanges checked, and violations excused by the deviation list.
    pub fn counts(&self) -> (u64, u64) {
        let l = self.lock();
        (l.checked, l.excused)
    }

    /// Time spent checking so far (the cost of the checks; handlers excluded).
    pub fn spent(&self) -> std::time::Duration {
        self.lock().spent
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, found: Vec<Violation>, spent: std::time::Duration) {
        let mut l = self.lock();
        l.checked += 1;
        l.spent += spent;
        for v in found {
            if deviations().iter().any(|d| d.matches(&v)) {
                l.excused += 1;
            } else {
                tracing::warn!("contract violation: {v}");
                l.violations.push(v);
            }
        }
    }

    /// The JSON report of `GET /_sandbox/contract`.
    pub fn report(&self) -> Value {
        let l = self.lock();
        serde_json::json!({
            "checked": l.checked,
            "excused": l.excused,
            "spent_ms": l.spent.as_secs_f64() * 1e3,
            "violations": l.violations,
        })
    }
}

/// Checks one service's exchanges.
#[derive(Clone)]
pub struct Checker {
    service: &'static str,
    spec: Arc<Spec>,
    log: Log,
    patterns: Arc<Mutex<HashMap<String, Option<regex::Regex>>>>,
    rows: Option<RowCheck>,
}

impl Checker {
    /// Also checks the stored rows with `rows` after every exchange that is not a read.
    pub fn with_rows(mut self, rows: RowCheck) -> Self {
        self.rows = Some(rows);
        self
    }

    /// Wraps `app` so every exchange is checked (and `GET /_sandbox/contract` answers).
    pub fn layer(self, app: Router) -> Router {
        let me = Arc::new(self);
        app.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let me = me.clone();
                async move { me.exchange(req, next).await }
            },
        ))
    }

    async fn exchange(&self, req: Request, next: Next) -> Response {
        if req.uri().path() == REPORT_PATH && req.method() == Method::GET {
            return axum::Json(self.log.report()).into_response();
        }
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
        let started = std::time::Instant::now();
        let path = parts.uri.path().to_string();
        let ctype = content_type(&parts.headers);
        let found = self.spec.find(parts.method.as_str(), &path);
        let write = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let mut violations = Vec::new();
        match &found {
            Some((op, path_values)) => violations.extend(self.check_request(
                op,
                path_values,
                parts.uri.query().unwrap_or(""),
                ctype.as_deref(),
                &bytes,
            )),
            None if path.starts_with(&self.spec.base_path) => {
                let what = if self.spec.has_path(&path) {
                    "method not allowed on this path by the spec"
                } else {
                    "no operation of the spec has this path"
                };
                violations.push(self.violation(
                    format!("{} {path}", parts.method),
                    Direction::Request,
                    None,
                    String::new(),
                    what.into(),
                ));
            }
            None => {}
        }
        let spent = started.elapsed();
        let res = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        let Some((op, _)) = found else {
            if !violations.is_empty() {
                self.log.record(violations, spent);
            }
            return res;
        };
        let (parts, body) = res.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(e) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
            }
        };
        let started = std::time::Instant::now();
        let ctype = content_type(&parts.headers);
        violations.extend(self.check_response(op, parts.status, ctype.as_deref(), &bytes));
        if let Some(rows) = self.rows.as_ref().filter(|_| write) {
            for (pointer, message) in rows() {
                violations.push(self.violation(
                    op.name(),
                    Direction::Stored,
                    Some(parts.status.as_u16()),
                    pointer,
                    message,
                ));
            }
        }
        self.log.record(violations, spent + started.elapsed());
        Response::from_parts(parts, Body::from(bytes))
    }

    fn violation(
        &self,
        operation: String,
        direction: Direction,
        status: Option<u16>,
        pointer: String,
        message: String,
    ) -> Violation {
        Violation {
            service: self.service.into(),
            operation,
            direction,
            status,
            pointer,
            message,
        }
    }

    /// Parameters and JSON body of a request to `op`.
    pub fn check_request(
        &self,
        op: &Operation,
        path_values: &[(String, String)],
        query: &str,
        ctype: Option<&str>,
        body: &Bytes,
    ) -> Vec<Violation> {
        let v = Validator::new(&self.spec.root, Direction::Request, &self.patterns);
        let mut out = Vec::new();
        let mut bad = |pointer: String, message: String| {
            out.push(self.violation(op.name(), Direction::Request, None, pointer, message))
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        for p in &op.params {
            let values: Vec<&str> = match p.place {
                In::Path => path_values
                    .iter()
                    .filter(|(n, _)| *n == p.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                In::Query => pairs
                    .iter()
                    .filter(|(n, _)| *n == p.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
            };
            let at = match p.place {
                In::Path => format!("{{{}}}", p.name),
                In::Query => format!("?{}", p.name),
            };
            if values.is_empty() {
                if p.required {
                    bad(at, "required parameter missing".into());
                }
                continue;
            }
            if let Some(msg) = param_issue(&v, &p.schema, &values) {
                bad(at, msg);
            }
        }
        for (name, _) in &pairs {
            if !op
                .params
                .iter()
                .any(|p| p.place == In::Query && p.name == *name)
            {
                bad(
                    format!("?{name}"),
                    "query parameter not declared by the spec".into(),
                );
            }
        }
        let json = ctype.is_none_or(|c| c.contains("json"));
        match &op.body {
            _ if body.is_empty() => {
                if op.body.as_ref().is_some_and(|(_, required)| *required) {
                    bad(String::new(), "required request body missing".into());
                }
            }
            Some((schema, _)) if json => match serde_json::from_slice::<Value>(body) {
                Ok(value) => {
                    for i in v.validate(schema, &value) {
                        bad(i.pointer, i.message);
                    }
                }
                Err(e) => bad(String::new(), format!("request body is not JSON: {e}")),
            },
            _ if op.other_body => {}
            Some(_) => bad(
                String::new(),
                format!("body of type {ctype:?} where the spec wants JSON"),
            ),
            None => bad(
                String::new(),
                "request body sent to an operation that takes none".into(),
            ),
        }
        out
    }

    /// Status and JSON body of an answer of `op`.
    pub fn check_response(
        &self,
        op: &Operation,
        status: StatusCode,
        ctype: Option<&str>,
        body: &Bytes,
    ) -> Vec<Violation> {
        let code = status.as_u16();
        let mut out = Vec::new();
        let mut bad = |pointer: String, message: String| {
            out.push(self.violation(op.name(), Direction::Response, Some(code), pointer, message))
        };
        let declared = op.response(code);
        let schema = match declared {
            // An error the document declares without a body (Gitea's header-only responses)
            // or leaves out: held to what the server writes (see [`errors`]).
            Some(None) | None if code >= 400 => match errors::shape(self.service, code) {
                Some(_) if !body.is_empty() && !ctype.is_some_and(|c| c.contains("json")) => {
                    bad(
                        String::new(),
                        format!("error answer of type {ctype:?}; the server writes JSON"),
                    );
                    return out;
                }
                Some(shape) if !body.is_empty() => Some(shape),
                _ => return out,
            },
            Some(s) => s.clone(),
            None => {
                let listed: Vec<&String> = op.responses.keys().collect();
                bad(
                    String::new(),
                    format!("status {code} not declared by the spec (declared: {listed:?})"),
                );
                // Checked against the one success the spec declares, if any.
                let successes: Vec<&Option<Value>> = op
                    .responses
                    .iter()
                    .filter(|(k, _)| k.starts_with('2'))
                    .map(|(_, v)| v)
                    .collect();
                match successes[..] {
                    [only] if code < 300 => only.clone(),
                    _ => return out,
                }
            }
        };
        let is_json = ctype.is_some_and(|c| c.contains("json"));
        match schema {
            None if body.is_empty() => {}
            None if is_json && code >= 400 => bad(
                String::new(),
                "JSON error body where the spec declares none".into(),
            ),
            None if is_json => bad(
                String::new(),
                "JSON body where the spec declares none".into(),
            ),
            None => {}
            Some(_) if !is_json => {
                if body.is_empty() {
                    bad(
                        String::new(),
                        "empty answer where the spec declares a body".into(),
                    );
                }
            }
            Some(schema) => match serde_json::from_slice::<Value>(body) {
                Ok(value) => {
                    let v = Validator::new(&self.spec.root, Direction::Response, &self.patterns);
                    for i in v.validate(&schema, &value) {
                        bad(i.pointer, i.message);
                    }
                }
                Err(e) => bad(String::new(), format!("answer is not JSON: {e}")),
            },
        }
        out
    }

    /// Checks one exchange without a server (tests): the request to `method path?query` with
    /// `body`, and the answer `status` with `answer`. Both bodies are JSON.
    pub fn check_exchange(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
        status: u16,
        answer: Option<&Value>,
    ) -> Vec<Violation> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let Some((op, values)) = self.spec.find(method, path) else {
            return vec![self.violation(
                format!("{method} {path}"),
                Direction::Request,
                None,
                String::new(),
                "no operation of the spec has this path".into(),
            )];
        };
        let bytes = |v: Option<&Value>| v.map_or(Bytes::new(), |v| Bytes::from(v.to_string()));
        let mut out =
            self.check_request(op, &values, query, Some("application/json"), &bytes(body));
        out.extend(self.check_response(
            op,
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            Some("application/json"),
            &bytes(answer),
        ));
        out.retain(|v| !deviations().iter().any(|d| d.matches(v)));
        out
    }
}

fn content_type(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
}

/// A parameter's text values against its schema: taken as a string, else as the number or
/// boolean it spells, else (for arrays) as the list of values.
fn param_issue(v: &Validator<'_>, schema: &Value, values: &[&str]) -> Option<String> {
    let resolved = v.resolve(schema);
    let is_array = resolved.get("type").and_then(Value::as_str) == Some("array");
    let candidates = |s: &str| -> Vec<Value> {
        let mut c = vec![Value::String(s.to_string())];
        if let Ok(n) = s.parse::<i64>() {
            c.push(n.into());
        } else if let Ok(f) = s.parse::<f64>() {
            c.push(f.into());
        }
        if let Ok(b) = s.parse::<bool>() {
            c.push(b.into());
        }
        c
    };
    let check_one = |schema: &Value, s: &str| -> Option<String> {
        let mut first = None;
        for c in candidates(s) {
            let issues = v.validate(schema, &c);
            if issues.is_empty() {
                return None;
            }
            first.get_or_insert(issues[0].message.clone());
        }
        first
    };
    if is_array {
        let items = resolved.get("items").cloned().unwrap_or(Value::Bool(true));
        for raw in values {
            for part in raw.split(',') {
                if let Some(m) = check_one(&items, part) {
                    return Some(m);
                }
            }
        }
        return None;
    }
    if values.len() > 1 {
        return Some(format!(
            "given {} times, the spec takes one value",
            values.len()
        ));
    }
    check_one(schema, values[0])
}

#[cfg(test)]
mod tests;
