//! The ephemeral-resource RPCs of protocol 6.7+ (ValidateEphemeralResourceConfig,
//! OpenEphemeralResource, RenewEphemeralResource, CloseEphemeralResource), generic over the
//! framework's [`EphemeralResource`]. Knows no service.
//!
//! Rules (tfplugin6.8.proto, Terraform's `ephemeralResourceOpen`):
//! - the result must agree with the configuration like a planned data source: attributes the
//!   configuration sets come back unchanged, only computed ones are filled in;
//! - a configuration with unknown values is never opened: the result is the configuration
//!   with every unset computed attribute unknown (Terraform 1.10/1.11 do this themselves;
//!   later clients may send it), deferred instead when the client allows deferral;
//! - `private` is what close and renew get; an empty one means nothing was opened, so there
//!   is nothing to close or renew;
//! - Terraform does not close what a failed run opened (seen with 1.11: a plan whose other
//!   ephemeral resource fails to open), so the provider keeps what it opened and has not closed,
//!   and closes it when the plugin is shut down ([`Ephemerals::close_leftovers`]).

// The RPC error type is tonic's `Status`, as in `server.rs`.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use tonic::Status;

use super::diagnostics::{AttrPath, Diagnostics};
use super::pb;
use super::schema::{Block, Schema};
use super::server::{decode, diags_pb, encode};
use super::value::Value;
use crate::framework::ephemeral::{OpenError, Opened, Renewed};
use crate::framework::EphemeralResource;

type Entry<D> = (Arc<dyn EphemeralResource<D>>, Schema);

/// The ephemeral resource types of a provider, with their schemas.
pub struct Ephemerals<D> {
    types: HashMap<&'static str, Entry<D>>,
    /// Opened and not closed yet: type name and private data.
    open: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
}

/// The provider's configured data, or why there is none.
pub type Configured<D> = Result<Arc<D>, Diagnostics>;

/// Terraform's plan-time value of an object it cannot read yet: the configuration with every
/// computed attribute the configuration leaves null unknown.
pub fn unknown_result(block: &Block, config: &Value) -> Value {
    let mut out = match config {
        Value::Object(_) => config.clone(),
        _ => block.null_object(),
    };
    for a in &block.attributes {
        if a.computed && out.get(&a.name).is_null() {
            out.set(&a.name, Value::Unknown);
        }
    }
    out
}

/// `result` with every attribute the configuration decides taken from `config` (required and
/// optional-only attributes always, optional+computed ones when set; a default fills one
/// that neither sets), and nested blocks as configured: Terraform refuses a result that
/// differs there.
pub fn conform_to_config(block: &Block, config: &Value, result: Value) -> Value {
    // Every attribute present (null when the resource left it out), so lookups below never
    // miss one.
    let mut out = block.null_object();
    if let Value::Object(m) = result {
        for (k, v) in m {
            out.set(&k, v);
        }
    }
    for a in &block.attributes {
        let c = config.get(&a.name);
        if !a.computed || !c.is_null() {
            out.set(&a.name, c.clone());
        } else if let Some(d) = a.default.as_ref().filter(|_| out.get(&a.name).is_null()) {
            out.set(&a.name, d.clone());
        }
    }
    for b in &block.blocks {
        out.set(&b.name, config.get(&b.name).clone());
    }
    out
}

fn timestamp(t: Option<std::time::SystemTime>) -> Option<prost_types::Timestamp> {
    t.map(prost_types::Timestamp::from)
}

impl<D: Send + Sync + 'static> Ephemerals<D> {
    pub fn new(list: Vec<Arc<dyn EphemeralResource<D>>>) -> Ephemerals<D> {
        Ephemerals {
            types: list
                .into_iter()
                .map(|e| (e.type_name(), (e.clone(), e.schema())))
                .collect(),
            open: Default::default(),
        }
    }

    fn opened(&self) -> std::sync::MutexGuard<'_, Vec<(String, Vec<u8>)>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets (`new` = None) or replaces an instance's private data.
    fn track(&self, type_name: &str, old: &[u8], new: Option<Vec<u8>>) {
        let mut open = self.opened();
        let i = open
            .iter()
            .position(|(t, p)| t == type_name && p.as_slice() == old);
        match (i, new) {
            (Some(i), Some(n)) => open[i].1 = n,
            (Some(i), None) => {
                open.remove(i);
            }
            (None, Some(n)) => open.push((type_name.to_string(), n)),
            (None, None) => {}
        }
    }

    /// Closes what was opened and never closed (the plugin is shutting down); failures are
    /// logged, the objects then expire on their own where the service allows it.
    pub async fn close_leftovers(&self, data: Configured<D>) {
        let left = std::mem::take(&mut *self.opened());
        if left.is_empty() {
            return;
        }
        tracing::warn!(
            count = left.len(),
            "closing ephemeral resources Terraform did not close"
        );
        let Ok(data) = data else { return };
        for (type_name, private) in left {
            let Some((res, _)) = self.types.get(type_name.as_str()) else {
                continue;
            };
            if let Err(d) = res.close(&data, &private).await {
                tracing::warn!(ephemeral_resource = %type_name, error = ?d.0.first().map(|d| &d.summary), "could not close");
            }
        }
    }

    /// Type names and schemas, sorted by name.
    pub fn schemas(&self) -> Vec<(&'static str, &Schema)> {
        let mut v: Vec<_> = self.types.iter().map(|(k, v)| (*k, &v.1)).collect();
        v.sort_by_key(|x| x.0);
        v
    }

    fn get(&self, name: &str) -> Result<&Entry<D>, Status> {
        self.types
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown ephemeral resource type {name}")))
    }

    fn check(&self, entry: &Entry<D>, config: &Value) -> Diagnostics {
        let (res, schema) = entry;
        let mut diags = Diagnostics::new();
        schema
            .block
            .validate(config, &AttrPath::default(), &mut diags);
        res.validate(config, &mut diags);
        diags
    }

    pub fn validate(
        &self,
        req: pb::validate_ephemeral_resource_config::Request,
    ) -> Result<pb::validate_ephemeral_resource_config::Response, Status> {
        tracing::debug!(ephemeral_resource = %req.type_name, "ValidateEphemeralResourceConfig");
        let entry = self.get(&req.type_name)?;
        let config = decode(req.config.as_ref(), &entry.1.block.implied_type())?;
        let diags = self.check(entry, &config);
        Ok(pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags_pb(&diags),
        })
    }

    pub async fn open(
        &self,
        data: Configured<D>,
        req: pb::open_ephemeral_resource::Request,
    ) -> Result<pb::open_ephemeral_resource::Response, Status> {
        let entry = self.get(&req.type_name)?;
        let (res, schema) = entry;
        let ty = schema.block.implied_type();
        let config = decode(req.config.as_ref(), &ty)?;
        let deferral_allowed = req
            .client_capabilities
            .as_ref()
            .is_some_and(|c| c.deferral_allowed);
        let answer = |result: Option<&Value>,
                      opened: Option<Opened>,
                      diags: &Diagnostics,
                      deferred: Option<pb::deferred::Reason>|
         -> Result<pb::open_ephemeral_resource::Response, Status> {
            let (private, renew_at) = match opened {
                Some(o) => ((!o.private.is_empty()).then_some(o.private), o.renew_at),
                None => (None, None),
            };
            Ok(pb::open_ephemeral_resource::Response {
                diagnostics: diags_pb(diags),
                renew_at: timestamp(renew_at),
                result: match result {
                    Some(v) => encode(v, &ty)?,
                    None => None,
                },
                private,
                deferred: deferred.map(|r| pb::Deferred { reason: r as i32 }),
            })
        };
        let diags = self.check(entry, &config);
        if diags.has_errors() {
            return answer(None, None, &diags, None);
        }
        let not_yet = |reason: pb::deferred::Reason| {
            let unknown = unknown_result(&schema.block, &config);
            tracing::info!(ephemeral_resource = %req.type_name, deferred = deferral_allowed, "not opened: values known only after apply");
            answer(
                Some(&unknown),
                None,
                &diags,
                deferral_allowed.then_some(reason),
            )
        };
        if !config.is_wholly_known() {
            return not_yet(pb::deferred::Reason::ResourceConfigUnknown);
        }
        let data = match data {
            Ok(d) => d,
            Err(d) => return answer(None, None, &d, None),
        };
        tracing::info!(ephemeral_resource = %req.type_name, "OpenEphemeralResource");
        match res.open(&data, &config).await {
            Ok(mut opened) => {
                if !opened.private.is_empty() {
                    self.track(&req.type_name, &[], Some(opened.private.clone()));
                }
                let result = conform_to_config(
                    &schema.block,
                    &config,
                    std::mem::replace(&mut opened.result, Value::Null),
                );
                answer(Some(&result), Some(opened), &diags, None)
            }
            Err(OpenError::NotYetKnown) => not_yet(pb::deferred::Reason::ProviderConfigUnknown),
            Err(OpenError::Failed(d)) => answer(None, None, &d, None),
        }
    }

    pub async fn renew(
        &self,
        data: Configured<D>,
        req: pb::renew_ephemeral_resource::Request,
    ) -> Result<pb::renew_ephemeral_resource::Response, Status> {
        let (res, _) = self.get(&req.type_name)?;
        let private = req.private.unwrap_or_default();
        let empty = pb::renew_ephemeral_resource::Response {
            diagnostics: vec![],
            renew_at: None,
            private: None,
        };
        if private.is_empty() {
            return Ok(empty);
        }
        tracing::info!(ephemeral_resource = %req.type_name, "RenewEphemeralResource");
        let result = match data {
            Ok(d) => res.renew(&d, &private).await,
            Err(d) => Err(d),
        };
        if let Ok(Renewed {
            private: Some(p), ..
        }) = &result
        {
            self.track(&req.type_name, &private, Some(p.clone()));
        }
        Ok(match result {
            Ok(r) => pb::renew_ephemeral_resource::Response {
                diagnostics: vec![],
                renew_at: timestamp(r.renew_at),
                private: Some(r.private.unwrap_or(private)),
            },
            Err(d) => pb::renew_ephemeral_resource::Response {
                diagnostics: diags_pb(&d),
                ..empty
            },
        })
    }

    pub async fn close(
        &self,
        data: Configured<D>,
        req: pb::close_ephemeral_resource::Request,
    ) -> Result<pb::close_ephemeral_resource::Response, Status> {
        let (res, _) = self.get(&req.type_name)?;
        let private = req.private.unwrap_or_default();
        if private.is_empty() {
            return Ok(pb::close_ephemeral_resource::Response {
                diagnostics: vec![],
            });
        }
        tracing::info!(ephemeral_resource = %req.type_name, "CloseEphemeralResource");
        let result = match data {
            Ok(d) => res.close(&d, &private).await,
            Err(d) => Err(d),
        };
        if result.is_ok() {
            self.track(&req.type_name, &private, None);
        }
        Ok(pb::close_ephemeral_resource::Response {
            diagnostics: diags_pb(&result.err().unwrap_or_default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::protocol::schema::Attribute;

    /// Opens "secret-N", closes by the private id, records what happened.
    #[derive(Default)]
    struct Fake {
        closed: Mutex<Vec<String>>,
        opens: Mutex<u32>,
    }

    #[async_trait]
    impl EphemeralResource<()> for Arc<Fake> {
        fn type_name(&self) -> &'static str {
            "t_fake"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new("fake")
                    .attr(Attribute::string("name").required())
                    .attr(Attribute::string("mode").default("fast"))
                    .attr(Attribute::string("secret").computed().sensitive()),
            )
        }
        fn validate(&self, config: &Value, diags: &mut Diagnostics) {
            if config.get("name").as_str() == Some("bad") {
                diags.push_attr_error(AttrPath::root("name"), "bad name", "no");
            }
        }
        async fn open(&self, _: &(), config: &Value) -> Result<Opened, OpenError> {
            if config.get("name").as_str() == Some("later") {
                return Err(OpenError::NotYetKnown);
            }
            let mut n = self.opens.lock().unwrap();
            *n += 1;
            let mut result = Value::Object(Default::default());
            result.set("secret", Value::string(format!("secret-{n}")));
            // A provider bug the server must not pass on: a configured value changed.
            result.set("name", Value::string("changed"));
            Ok(Opened {
                result,
                private: format!("id-{n}").into_bytes(),
                renew_at: Some(std::time::SystemTime::now()),
            })
        }
        async fn renew(&self, _: &(), private: &[u8]) -> Result<Renewed, Diagnostics> {
            Ok(Renewed {
                private: Some([private, b"+"].concat()),
                renew_at: None,
            })
        }
        async fn close(&self, _: &(), private: &[u8]) -> Result<(), Diagnostics> {
            self.closed
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(private).into_owned());
            Ok(())
        }
    }

    fn setup() -> (Arc<Fake>, Ephemerals<()>, Schema) {
        let fake = Arc::new(Fake::default());
        let e = Ephemerals::new(vec![Arc::new(fake.clone())]);
        let schema = fake.schema();
        (fake, e, schema)
    }

    fn config(schema: &Schema, name: Value) -> Option<pb::DynamicValue> {
        let mut c = schema.block.null_object();
        c.set("name", name);
        encode(&c, &schema.block.implied_type()).unwrap()
    }

    fn open_req(
        cfg: Option<pb::DynamicValue>,
        deferral: bool,
    ) -> pb::open_ephemeral_resource::Request {
        pb::open_ephemeral_resource::Request {
            type_name: "t_fake".into(),
            config: cfg,
            client_capabilities: Some(pb::ClientCapabilities {
                deferral_allowed: deferral,
                write_only_attributes_allowed: false,
            }),
        }
    }

    #[tokio::test]
    async fn open_conforms_to_config_and_close_gets_private() {
        let (fake, e, schema) = setup();
        let ty = schema.block.implied_type();
        let r = e
            .open(
                Ok(Arc::new(())),
                open_req(config(&schema, Value::string("a")), false),
            )
            .await
            .unwrap();
        assert!(r.diagnostics.is_empty());
        let v = decode(r.result.as_ref(), &ty).unwrap();
        assert_eq!(v.get("name").as_str(), Some("a"), "configured value kept");
        assert_eq!(v.get("mode").as_str(), Some("fast"), "default filled");
        assert_eq!(v.get("secret").as_str(), Some("secret-1"));
        assert_eq!(r.private.as_deref(), Some(&b"id-1"[..]));
        assert!(r.renew_at.is_some());

        let renewed = e
            .renew(
                Ok(Arc::new(())),
                pb::renew_ephemeral_resource::Request {
                    type_name: "t_fake".into(),
                    private: r.private.clone(),
                },
            )
            .await
            .unwrap();
        assert_eq!(renewed.private.as_deref(), Some(&b"id-1+"[..]));

        let close = |private: Option<Vec<u8>>| pb::close_ephemeral_resource::Request {
            type_name: "t_fake".into(),
            private,
        };
        e.close(Ok(Arc::new(())), close(renewed.private))
            .await
            .unwrap();
        // Nothing opened, nothing to close.
        e.close(Ok(Arc::new(())), close(None)).await.unwrap();
        assert_eq!(*fake.closed.lock().unwrap(), vec!["id-1+".to_string()]);
        // Nothing left to close at shutdown; an instance never closed is closed then.
        e.close_leftovers(Ok(Arc::new(()))).await;
        assert_eq!(fake.closed.lock().unwrap().len(), 1);
        e.open(
            Ok(Arc::new(())),
            open_req(config(&schema, Value::string("b")), false),
        )
        .await
        .unwrap();
        e.close_leftovers(Ok(Arc::new(()))).await;
        assert_eq!(fake.closed.lock().unwrap()[1], "id-2");
        // Unknown type: a gRPC error, not a panic.
        assert!(e
            .close(
                Ok(Arc::new(())),
                pb::close_ephemeral_resource::Request {
                    type_name: "t_other".into(),
                    private: None,
                }
            )
            .await
            .is_err());
    }

    #[tokio::test]
    async fn unknown_config_is_not_opened() {
        let (fake, e, schema) = setup();
        let ty = schema.block.implied_type();
        for deferral in [false, true] {
            let r = e
                .open(
                    Ok(Arc::new(())),
                    open_req(config(&schema, Value::Unknown), deferral),
                )
                .await
                .unwrap();
            let v = decode(r.result.as_ref(), &ty).unwrap();
            assert!(v.get("secret").is_unknown());
            assert!(v.get("name").is_unknown());
            assert!(r.private.is_none());
            assert_eq!(r.deferred.is_some(), deferral);
            if deferral {
                assert_eq!(
                    r.deferred.unwrap().reason,
                    pb::deferred::Reason::ResourceConfigUnknown as i32
                );
            }
        }
        // Provider configuration known only after apply: unknown result too.
        let r = e
            .open(
                Ok(Arc::new(())),
                open_req(config(&schema, Value::string("later")), true),
            )
            .await
            .unwrap();
        assert!(decode(r.result.as_ref(), &ty)
            .unwrap()
            .get("secret")
            .is_unknown());
        assert_eq!(
            r.deferred.unwrap().reason,
            pb::deferred::Reason::ProviderConfigUnknown as i32
        );
        assert_eq!(*fake.opens.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn invalid_config_and_unconfigured_provider_are_diagnostics() {
        let (fake, e, schema) = setup();
        let r = e
            .open(
                Ok(Arc::new(())),
                open_req(config(&schema, Value::string("bad")), false),
            )
            .await
            .unwrap();
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].summary, "bad name");
        assert!(r.result.is_none() && r.private.is_none());
        let v = e
            .validate(pb::validate_ephemeral_resource_config::Request {
                type_name: "t_fake".into(),
                config: config(&schema, Value::string("bad")),
            })
            .unwrap();
        assert_eq!(v.diagnostics.len(), 1);
        let r = e
            .open(
                Err(Diagnostics::error("Provider not configured", "x")),
                open_req(config(&schema, Value::string("a")), false),
            )
            .await
            .unwrap();
        assert_eq!(r.diagnostics[0].summary, "Provider not configured");
        assert_eq!(*fake.opens.lock().unwrap(), 0);
    }
}
