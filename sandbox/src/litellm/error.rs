//! LiteLLM's error bodies (see the module docs of [`super`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::http;

/// How an endpoint converts an `HTTPException` into its `error.type`.
#[derive(Clone, Copy)]
pub enum Kind {
    /// generate, info, delete, list, team/new, team/update
    Internal,
    /// key/update, team/info
    Auth,
}

/// A failed request.
#[derive(Debug)]
pub enum ApiError {
    /// `{"error": {"message", "type", "param", "code"}}`
    Proxy {
        status: StatusCode,
        kind: &'static str,
        message: String,
        param: Option<String>,
    },
    /// FastAPI `{"detail": ...}` (only `/team/delete` raises these uncaught).
    Detail(StatusCode, Value),
    /// FastAPI 422 `{"detail": [...]}`.
    Validation(Vec<Value>),
    /// Unexpected failure (logged): the proxy's generic 500 body.
    Internal(String),
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ApiError {
    /// An explicit `ProxyException`.
    pub fn proxy(
        code: u16,
        kind: &'static str,
        message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        ApiError::Proxy {
            status: status(code),
            kind,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// An `HTTPException(code, detail)` converted by an endpoint of `kind`:
    /// the message is `str(detail)`, param the string `"None"`.
    pub fn http(kind: Kind, code: u16, detail: Value) -> Self {
        let message = match &detail {
            Value::String(s) => s.clone(),
            other => http::py_repr(other),
        };
        let kind = match kind {
            Kind::Internal => "internal_server_error",
            Kind::Auth => "auth_error",
        };
        Self::proxy(code, kind, message, Some("None"))
    }

    /// `HTTPException(code, {"error": message})`.
    pub fn http_error(kind: Kind, code: u16, message: impl Into<String>) -> Self {
        Self::http(kind, code, json!({ "error": message.into() }))
    }

    /// A plain exception (`ValueError`, ...) raised inside an endpoint of `kind`:
    /// 500 `internal_server_error`, or inside `/key/update` 400 `auth_error`.
    pub fn exception(kind: Kind, message: impl Into<String>) -> Self {
        match kind {
            Kind::Internal => Self::proxy(500, "internal_server_error", message, Some("None")),
            Kind::Auth => Self::proxy(
                400,
                "auth_error",
                format!("Authentication Error, {}", message.into()),
                Some("None"),
            ),
        }
    }

    /// 401 `auth_error`.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::proxy(401, "auth_error", message, Some("None"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Proxy {
                status,
                kind,
                message,
                param,
            } => http::json(
                status,
                json!({ "error": { "message": message, "type": kind, "param": param, "code": status.as_u16().to_string() } }),
            ),
            ApiError::Detail(status, detail) => http::detail(status, detail),
            ApiError::Validation(errors) => http::validation(errors),
            ApiError::Internal(why) => {
                tracing::error!("litellm: {why}");
                http::json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": { "message": "Internal server error", "type": "internal_server_error" } }),
                )
            }
        }
    }
}
