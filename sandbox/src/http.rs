//! Shared HTTP helpers: JSON responses, FastAPI-style validation errors,
//! Python `repr` of JSON values, request logging.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A JSON response.
pub fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// FastAPI's `{"detail": ...}` body.
pub fn detail(status: StatusCode, detail: Value) -> Response {
    json(status, json!({ "detail": detail }))
}

/// One pydantic v2 / FastAPI validation error item.
pub fn verr(kind: &str, loc: Vec<Value>, msg: impl Into<String>, input: Value) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg.into(), "input": input })
}

/// Like [`verr`] with a `ctx` object.
pub fn verr_ctx(
    kind: &str,
    loc: Vec<Value>,
    msg: impl Into<String>,
    input: Value,
    ctx: Value,
) -> Value {
    let mut v = verr(kind, loc, msg, input);
    v["ctx"] = ctx;
    v
}

/// FastAPI's 422 response for a list of validation errors.
pub fn validation(errors: Vec<Value>) -> Response {
    detail(StatusCode::UNPROCESSABLE_ENTITY, Value::Array(errors))
}

/// Parses a request body as Python's `json` module would (accepting bare
/// `NaN`, `Infinity`, `-Infinity`, turned into the strings `"NaN"`, ...),
/// returning FastAPI's validation errors for an empty or malformed body.
pub fn parse_body(bytes: &[u8]) -> Result<Value, Vec<Value>> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Err(vec![verr(
            "missing",
            vec!["body".into()],
            "Field required",
            Value::Null,
        )]);
    }
    serde_json::from_str(&python_tokens(&text)).map_err(|e| {
        let pos = e.column().saturating_sub(1);
        vec![verr_ctx(
            "json_invalid",
            vec!["body".into(), pos.into()],
            "JSON decode error",
            json!({}),
            json!({ "error": "Expecting value" }),
        )]
    })
}

/// Quotes the non-standard number tokens Python's JSON parser accepts.
fn python_tokens(text: &str) -> String {
    let (mut out, mut in_str, mut esc) = (String::with_capacity(text.len()), false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_str {
            (in_str, esc) = (esc || c != '"', !esc && c == '\\');
        } else if c == '"' {
            in_str = true;
        } else if let Some(tok) = ["NaN", "Infinity", "-Infinity"]
            .iter()
            .find(|t| rest.starts_with(**t))
        {
            out.push_str(&format!("\"{tok}\""));
            rest = &rest[tok.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Python's `repr` of a string.
pub fn py_str(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c)
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Python's `repr` of a float.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{f:?}")
    }
}

/// Python's `repr` of the value a JSON document decodes to (`str(dict)`).
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) if n.is_f64() => py_float(n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Middleware logging method, path (never the query or headers: they may carry
/// keys), status and duration at debug level.
pub async fn log_requests(
    State(service): State<&'static str>,
    req: Request,
    next: Next,
) -> Response {
    let (method, path, start) = (
        req.method().clone(),
        req.uri().path().to_owned(),
        std::time::Instant::now(),
    );
    let res = next.run(req).await;
    tracing::debug!(service, %method, path, status = res.status().as_u16(), ms = start.elapsed().as_millis() as u64, "request");
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        assert_eq!(
            py_repr(&json!({"error": "No keys found"})),
            "{'error': 'No keys found'}"
        );
        assert_eq!(py_str("must start with 'sk-'"), "\"must start with 'sk-'\"");
        assert_eq!(py_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            py_repr(&json!([1, -1.0, true, null])),
            "[1, -1.0, True, None]"
        );
    }

    #[test]
    fn python_number_tokens_are_quoted_outside_strings() {
        let v = parse_body(br#"{"a": NaN, "b": -Infinity, "c": "NaN \" Infinity"}"#).unwrap();
        assert_eq!(
            v,
            json!({"a": "NaN", "b": "-Infinity", "c": "NaN \" Infinity"})
        );
        assert!(parse_body(b"").is_err());
        assert_eq!(parse_body(b"{").unwrap_err()[0]["type"], "json_invalid");
    }
}

/// Decodes a query-string component (`+` is a space, `%XX` a byte).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn decodes_query_components() {
        assert_eq!(
            super::url_decode("webide%3A+groups%20claim"),
            "webide: groups claim"
        );
        assert_eq!(super::url_decode("a%2"), "a%2");
        assert_eq!(super::url_decode("%zz%41"), "%zzA");
    }
}
