//! `ephemeral "webide_litellm_key"`: a short-lived LiteLLM key for one Terraform run (a CI
//! job, a provisioner). Open generates it with a `duration` (so it expires even if close never
//! runs), renew extends that duration while Terraform still needs the key, close deletes it.
//! The key is never in state or plan; `private` carries only its token (SHA-256) and duration.

use std::time::{Duration as StdDuration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::key::new_secret;
use super::token_of;
use crate::framework::ephemeral::{EphemeralResource, OpenError, Opened, Renewed};
use crate::framework::mapping::{self, field, Field, Kind};
use crate::framework::validators::{parse_duration, Duration, NoControlChars, NonEmpty, Range};
use crate::http::{CreateTarget, Ownership};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::{Clients, Slot};

/// Lifetime when the configuration sets none.
pub const DEFAULT_DURATION: &str = "1h";

/// Metadata entry marking a key as made by this ephemeral resource (and so safe to delete).
pub const EPHEMERAL_MARKER: (&str, &str) = ("webide_ephemeral", "terraform-provider-webide");

/// Fields sent as configured.
const FIELDS: &[Field] = &[
    field("key_alias", Kind::Str),
    field("models", Kind::StrList),
    field("max_budget", Kind::Num),
    field("user_id", Kind::Str),
    field("team_id", Kind::Str),
];

/// What close and renew need.
#[derive(Serialize, Deserialize)]
struct Private {
    token: String,
    duration: String,
}

impl Private {
    fn parse(bytes: &[u8]) -> Result<Private, Diagnostics> {
        serde_json::from_slice(bytes).map_err(|e| {
            Diagnostics::error(
                "Unreadable ephemeral LiteLLM key data",
                format!("the private data Terraform handed back is not this provider's: {e}"),
            )
        })
    }
}

/// When to renew a key that lives `secs` from now: at four fifths of its life.
fn renew_at(secs: u64) -> SystemTime {
    SystemTime::now() + StdDuration::from_secs(secs.saturating_mul(4) / 5)
}

fn client(data: &Clients) -> Result<&super::Client, OpenError> {
    match &data.litellm {
        Slot::Pending => Err(OpenError::NotYetKnown),
        other => other.get().map_err(OpenError::Failed),
    }
}

fn api_error(action: &str, e: crate::http::ApiError) -> Diagnostics {
    let summary = format!("Could not {action} the ephemeral LiteLLM key");
    match e
        .body()
        .and_then(|b| b.pointer("/error/param"))
        .and_then(Json::as_str)
    {
        Some(p) if FIELDS.iter().any(|f| f.api == p) => {
            Diagnostics::attr_error(AttrPath::root(p), summary, e.to_string())
        }
        _ => Diagnostics::error(summary, e.to_string()),
    }
}

pub struct EphemeralKey;

#[async_trait]
impl EphemeralResource<Clients> for EphemeralKey {
    fn type_name(&self) -> &'static str {
        "webide_litellm_key"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "A short-lived LiteLLM virtual key that exists only while a Terraform run needs it \
                 (Terraform >= 1.10): generated when the run opens it, deleted when the run closes it, \
                 and never written to state or plan. It carries a `duration`, so it also expires on \
                 its own if the run is killed before closing it. Use it where an ephemeral value is \
                 accepted: provider configuration, write-only arguments, other ephemeral resources, \
                 provisioner connections.",
            )
            .attr(Attribute::string("key_alias").optional().validate(NoControlChars).validate(NonEmpty).describe("Human name; unique across all keys, so two runs at once need different aliases. Null = none."))
            .attr(Attribute::string("duration").default(DEFAULT_DURATION).validate(Duration).describe("Lifetime from opening. While Terraform still uses the key at four fifths of it, the key is renewed for another `duration`."))
            .attr(Attribute::string_list("models").optional().describe("Models the key may use; null or empty = all the team's."))
            .attr(Attribute::number("max_budget").optional().validate(Range { min: 0.0, max: None }).describe("Hard budget in USD; null = unlimited."))
            .attr(Attribute::string("user_id").optional().describe("Owning LiteLLM user."))
            .attr(Attribute::string("team_id").optional().describe("Owning team (`webide_litellm_team.id`)."))
            .attr(Attribute::string_map("metadata").optional().describe("Free-form metadata. The provider adds `webide_ephemeral`, marking the key as one it deletes on close."))
            .attr(Attribute::string("key").computed().sensitive().describe("The secret key (`sk-...`)."))
            .attr(Attribute::string("id").computed().describe("Token id: the SHA-256 of the key, as LiteLLM stores it."))
            .attr(Attribute::string("key_name").computed().describe("Abbreviated key LiteLLM shows (`sk-...abcd`)."))
            .attr(Attribute::string("expires").computed().describe("Expiry time as LiteLLM reports it.")),
        )
    }

    async fn open(&self, data: &Clients, config: &Value) -> Result<Opened, OpenError> {
        let client = client(data)?;
        let duration = config
            .get("duration")
            .as_str()
            .unwrap_or(DEFAULT_DURATION)
            .to_string();
        let secs = parse_duration(&duration).unwrap_or(3600);
        let secret = new_secret();
        let token = token_of(&secret);
        let mut body: Map<String, Json> = mapping::body(FIELDS, config);
        body.retain(|_, v| !v.is_null());
        let mut metadata: Map<String, Json> = config
            .get("metadata")
            .string_entries()
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect();
        metadata.insert(EPHEMERAL_MARKER.0.into(), EPHEMERAL_MARKER.1.into());
        body.insert("metadata".into(), Json::Object(metadata));
        body.insert("duration".into(), Json::String(duration.clone()));
        body.insert("key".into(), Json::String(secret.clone()));
        let body = Json::Object(body);
        // The secret is made here, so a key found by its token after a lost answer is ours.
        crate::http::create_once(
            CreateTarget::new("litellm", "webide_litellm_key", "the same key"),
            || async { client.generate(&body).await.map(|_| ()) },
            || async { Ok(client.key_info(&token).await?.map(|_| ())) },
            |_, _| Ownership::Ours,
        )
        .await
        .map_err(|e| api_error("generate", e))?;
        let mut result = Value::Object(Default::default());
        result.set("key", Value::string(&secret));
        result.set("id", Value::string(&token));
        result.set("duration", Value::string(&duration));
        let private = serde_json::to_vec(&Private {
            token: token.clone(),
            duration,
        })
        .map_err(|e| Diagnostics::error("Encoding private data", e.to_string()))?;
        match client.key_info(&token).await {
            Ok(Some(row)) => {
                let s = |k: &str| Value::opt_string(row.get(k).and_then(Json::as_str));
                result.set("key_name", s("key_name"));
                result.set("expires", s("expires"));
            }
            Ok(None) => {}
            Err(e) => {
                // Made but not readable: delete it rather than leave it until it expires.
                let _ = client.delete_key(&token).await;
                return Err(api_error("read back", e).into());
            }
        }
        Ok(Opened {
            result,
            private,
            renew_at: Some(renew_at(secs)),
        })
    }

    async fn renew(&self, data: &Clients, private: &[u8]) -> Result<Renewed, Diagnostics> {
        let p = Private::parse(private)?;
        let client = data.litellm.get()?;
        client
            .update_key(&json!({"key": p.token, "duration": p.duration}))
            .await
            .map_err(|e| api_error("renew", e))?;
        Ok(Renewed {
            private: None,
            renew_at: Some(renew_at(parse_duration(&p.duration).unwrap_or(3600))),
        })
    }

    async fn close(&self, data: &Clients, private: &[u8]) -> Result<(), Diagnostics> {
        let p = Private::parse(private)?;
        data.litellm
            .get()?
            .delete_key(&p.token)
            .await
            .map_err(|e| api_error("delete", e))
    }
}
