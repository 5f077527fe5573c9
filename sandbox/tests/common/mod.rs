//! Helpers shared by the sandbox integration tests.
#![allow(dead_code)]

use reqwest::{Client, Method};
use serde_json::Value;
use webide_sandbox::{faults::FaultSpec, RunningSandbox, SandboxConfig};

pub const MASTER: &str = "sk-webide-master";

/// A started sandbox plus an HTTP client.
pub struct Sandbox {
    pub sb: RunningSandbox,
    pub http: Client,
}

/// `reqwest::Client::new()` panics ("No provider set") until a rustls crypto
/// provider is installed, even for plain http.
pub fn client() -> Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Client::new()
}

pub async fn start_with(config: SandboxConfig) -> Sandbox {
    let sb = webide_sandbox::start(config, "127.0.0.1", Default::default())
        .await
        .expect("sandbox starts");
    Sandbox { sb, http: client() }
}

pub async fn start() -> Sandbox {
    start_with(SandboxConfig::default()).await
}

pub async fn start_faulty(spec: &str) -> Sandbox {
    start_with(SandboxConfig {
        faults: FaultSpec::parse(spec).unwrap(),
        ..Default::default()
    })
    .await
}

impl Sandbox {
    /// Sends a request with `key` as bearer (if any); returns status and JSON body (Null if none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sb.litellm_url));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(MASTER), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(MASTER), Some(body))
            .await
    }

    /// `/key/generate` that must succeed.
    pub async fn generate(&self, body: Value) -> Value {
        let (status, res) = self.post("/key/generate", body).await;
        assert_eq!(status, 200, "{res}");
        res
    }
}
