//! Error bodies the documents leave out: what each server writes for an error status the
//! document does not declare (or, in Gitea's swagger, declares without a body), taken from
//! the server code. The contract checks hold such answers to these shapes, so a simulator's
//! error cannot drift from the real one unseen.

use serde_json::{json, Value};

/// The schema (resolved inside the service's document) of an error answer of `service` with
/// `status` that its document does not describe; `None`: not checked.
pub fn shape(service: &str, status: u16) -> Option<Value> {
    match service {
        // services/context/api.go: APIContext.APIError writes APIError{Message, URL};
        // APIErrorNotFound adds `errors` (a list of strings). The swagger's `validationError`,
        // `forbidden`, `error` responses name these fields as "headers" (go-swagger's
        // body-less `swagger:response`); `notFound`, `conflict` declare nothing.
        "gitea" => Some(json!({
            "type": "object",
            "required": ["message", "url"],
            "properties": {
                "message": {"type": "string"},
                "url": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "string"}}
            }
        })),
        // coderd/httpapi: every error is httpapi.Write(ctx, rw, status, codersdk.Response{...}).
        "coder" => Some(json!({"$ref": "#/definitions/codersdk.Response"})),
        // authentik/api/v3/config.py (the document's own error components): DRF's
        // ValidationError for 400, GenericError ({"detail", "code"}) for every other status
        // (NotAuthenticated, PermissionDenied, NotFound, MethodNotAllowed, ...).
        "authentik" if status == 400 => {
            Some(json!({"$ref": "#/components/schemas/ValidationError"}))
        }
        "authentik" => Some(json!({"$ref": "#/components/schemas/GenericError"})),
        // litellm/proxy/_types.py ProxyException, written by proxy_server.py's exception
        // handler as {"error": {message, type, param, code}}; an HTTPException an endpoint
        // does not convert is FastAPI's {"detail": ...}; 422 is the document's own.
        "litellm" => Some(json!({"anyOf": [
            {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["message", "type"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": ["string", "null"]},
                        "param": {"type": ["string", "null"]},
                        "code": {"type": ["string", "integer", "null"]}
                    }
                }}
            },
            {"type": "object", "required": ["detail"], "properties": {"detail": {}}}
        ]})),
        _ => None,
    }
}
