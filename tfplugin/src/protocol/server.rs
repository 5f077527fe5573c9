//! The tfplugin6 `Provider` gRPC service, generic over a framework
//! [`Provider`]: decodes requests against schemas, calls the framework and
//! encodes answers. Knows no service.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::RwLock;
use tonic::{Request, Response, Status};

use super::diagnostics::{AttrPath, Diagnostics, Severity, Step};
use super::ephemeral::Ephemerals;
use super::pb;
use super::schema::{Attribute, Block, Nesting, Schema};
use super::types::Type;
use super::value::Value;
use super::{json, msgpack};
use crate::framework::{equality, plan, write_only, DataSource, Provider, Resource, StopSource};

/// Serves one framework provider.
pub struct ProviderService<P: Provider> {
    provider: P,
    provider_schema: Schema,
    resources: HashMap<&'static str, (Arc<dyn Resource<P::Data>>, Schema)>,
    data_sources: HashMap<&'static str, (Arc<dyn DataSource<P::Data>>, Schema)>,
    data: RwLock<Option<Arc<P::Data>>>,
    stop: StopSource,
    ephemerals: Ephemerals<P::Data>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: P) -> ProviderService<P> {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), (r.clone(), r.schema())))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), (d.clone(), d.schema())))
            .collect();
        let ephemerals = Ephemerals::new(provider.ephemeral_resources());
        ProviderService {
            provider_schema: provider.schema(),
            provider,
            resources,
            data_sources,
            data: RwLock::new(None),
            stop: StopSource::new(),
            ephemerals,
        }
    }

    fn resource(&self, name: &str) -> Result<&(Arc<dyn Resource<P::Data>>, Schema), Status> {
        self.resources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {name}")))
    }

    fn data_source(&self, name: &str) -> Result<&(Arc<dyn DataSource<P::Data>>, Schema), Status> {
        self.data_sources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown data source type {name}")))
    }

    async fn configured(&self) -> Result<Arc<P::Data>, Diagnostics> {
        self.data.read().await.clone().ok_or_else(|| {
            Diagnostics::error(
                "Provider not configured",
                "ConfigureProvider was not called before this operation",
            )
        })
    }

    /// All schemas, for docs generation and the GetProviderSchema RPC.
    pub fn schemas(
        &self,
    ) -> (
        &Schema,
        Vec<(&'static str, &Schema)>,
        Vec<(&'static str, &Schema)>,
    ) {
        let mut r: Vec<_> = self.resources.iter().map(|(k, v)| (*k, &v.1)).collect();
        let mut d: Vec<_> = self.data_sources.iter().map(|(k, v)| (*k, &v.1)).collect();
        r.sort_by_key(|x| x.0);
        d.sort_by_key(|x| x.0);
        (&self.provider_schema, r, d)
    }

    /// Ephemeral resource schemas, sorted by type name.
    pub fn ephemeral_schemas(&self) -> Vec<(&'static str, &Schema)> {
        self.ephemerals.schemas()
    }

    /// Closes ephemeral resources opened and never closed (at plugin shutdown).
    pub async fn close_leftover_ephemerals(&self) {
        let data = self.configured().await;
        self.ephemerals.close_leftovers(data).await;
    }
}

pub(super) fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Status> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    if !dv.msgpack.is_empty() {
        return msgpack::decode(&dv.msgpack, ty)
            .map_err(|e| Status::invalid_argument(e.to_string()));
    }
    if !dv.json.is_empty() {
        let j: serde_json::Value = serde_json::from_slice(&dv.json)
            .map_err(|e| Status::invalid_argument(format!("json: {e}")))?;
        return json::from_json(&j, ty).map_err(Status::invalid_argument);
    }
    Ok(Value::Null)
}

pub(super) fn encode(v: &Value, ty: &Type) -> Result<Option<pb::DynamicValue>, Status> {
    let msgpack =
        msgpack::encode(v, ty).map_err(|e| Status::internal(format!("encoding value: {e}")))?;
    Ok(Some(pb::DynamicValue {
        msgpack,
        json: vec![],
    }))
}

pub(super) fn diags_pb(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.path.as_ref().map(path_pb),
        })
        .collect()
}

fn path_pb(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attr(a) => Selector::AttributeName(a.clone()),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn attribute_pb(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json().to_string().into_bytes(),
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        nested_type: None,
        write_only: a.write_only,
    }
}

fn block_pb(b: &Block, version: i64) -> pb::schema::Block {
    use pb::schema::nested_block::NestingMode;
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute_pb).collect(),
        block_types: b
            .blocks
            .iter()
            .map(|nb| pb::schema::NestedBlock {
                type_name: nb.name.clone(),
                block: Some(block_pb(&nb.block, 0)),
                nesting: match nb.nesting {
                    Nesting::Single => NestingMode::Single,
                    Nesting::List => NestingMode::List,
                    Nesting::Set => NestingMode::Set,
                } as i32,
                min_items: nb.min_items,
                max_items: if nb.nesting == Nesting::Single {
                    0
                } else {
                    nb.max_items
                },
            })
            .collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

/// The protobuf form of a schema.
pub fn schema_pb(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_pb(&s.block, s.version)),
    }
}

type R<T> = Result<Response<T>, Status>;

/// The gRPC answer for an RPC of protocol 6.8 this provider does not serve.
fn unimplemented(rpc: &str) -> Status {
    Status::unimplemented(format!("terraform-provider-webide does not serve {rpc}"))
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> R<pb::get_metadata::Response> {
        let (_, res, ds) = self.schemas();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(pb::ServerCapabilities {
                plan_destroy: false,
                get_provider_schema_optional: false,
                move_resource_state: false,
            }),
            diagnostics: vec![],
            data_sources: ds
                .iter()
                .map(|(n, _)| pb::get_metadata::DataSourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            resources: res
                .iter()
                .map(|(n, _)| pb::get_metadata::ResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            functions: vec![],
            ephemeral_resources: self
                .ephemeral_schemas()
                .iter()
                .map(|(n, _)| pb::get_metadata::EphemeralMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> R<pb::get_provider_schema::Response> {
        tracing::debug!("GetProviderSchema");
        let (p, res, ds) = self.schemas();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_pb(p)),
            resource_schemas: res
                .iter()
                .map(|(n, s)| (n.to_string(), schema_pb(s)))
                .collect(),
            data_source_schemas: ds
                .iter()
                .map(|(n, s)| (n.to_string(), schema_pb(s)))
                .collect(),
            functions: Default::default(),
            ephemeral_resource_schemas: self
                .ephemeral_schemas()
                .iter()
                .map(|(n, s)| (n.to_string(), schema_pb(s)))
                .collect(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(pb::ServerCapabilities {
                plan_destroy: false,
                get_provider_schema_optional: false,
                move_resource_state: false,
            }),
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> R<pb::validate_provider_config::Response> {
        let req = req.into_inner();
        let config = decode(req.config.as_ref(), &self.provider_schema.implied_type())?;
        let mut diags = Diagnostics::new();
        self.provider_schema
            .block
            .validate(&config, &AttrPath::default(), &mut diags);
        self.provider.validate(&config, &mut diags);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_pb(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> R<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        tracing::debug!(resource = %req.type_name, "ValidateResourceConfig");
        let (res, schema) = self.resource(&req.type_name)?;
        let config = decode(req.config.as_ref(), &schema.implied_type())?;
        let mut diags = Diagnostics::new();
        schema
            .block
            .validate(&config, &AttrPath::default(), &mut diags);
        res.validate(&config, &mut diags);
        let wo_allowed = req
            .client_capabilities
            .as_ref()
            .is_some_and(|c| c.write_only_attributes_allowed);
        write_only::validate(&schema.block, &config, wo_allowed, &mut diags);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_pb(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> R<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let (ds, schema) = self.data_source(&req.type_name)?;
        let config = decode(req.config.as_ref(), &schema.implied_type())?;
        let mut diags = Diagnostics::new();
        schema
            .block
            .validate(&config, &AttrPath::default(), &mut diags);
        ds.validate(&config, &mut diags);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_pb(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> R<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        tracing::debug!(resource = %req.type_name, version = req.version, "UpgradeResourceState");
        let (res, schema) = self.resource(&req.type_name)?;
        let ty = schema.implied_type();
        let raw = req.raw_state.unwrap_or_default();
        let fail = |d: Diagnostics| {
            Ok(Response::new(pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: diags_pb(&d),
            }))
        };
        if raw.json.is_empty() {
            if raw.flatmap.is_empty() {
                return Ok(Response::new(pb::upgrade_resource_state::Response {
                    upgraded_state: encode(&Value::Null, &ty)?,
                    diagnostics: vec![],
                }));
            }
            return fail(Diagnostics::error(
                "Unsupported state format",
                "flatmap state (Terraform 0.11 and older) cannot be upgraded; re-import the resource",
            ));
        }
        let mut j: serde_json::Value = match serde_json::from_slice(&raw.json) {
            Ok(j) => j,
            Err(e) => {
                return fail(Diagnostics::error(
                    "Stored state is not valid JSON",
                    e.to_string(),
                ))
            }
        };
        if req.version > schema.version {
            return fail(Diagnostics::error(
                "State written by a newer provider",
                format!(
                    "state schema version {} is newer than this provider's {}; upgrade terraform-provider-webide",
                    req.version, schema.version
                ),
            ));
        }
        if req.version < schema.version {
            j = match res.upgrade(req.version, j) {
                Ok(j) => j,
                Err(d) => return fail(d),
            };
        }
        match json::from_json(&j, &ty) {
            Ok(v) => Ok(Response::new(pb::upgrade_resource_state::Response {
                upgraded_state: encode(&v, &ty)?,
                diagnostics: vec![],
            })),
            Err(e) => fail(Diagnostics::error(
                "Stored state does not match the schema",
                e,
            )),
        }
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> R<pb::configure_provider::Response> {
        let req = req.into_inner();
        tracing::info!(terraform_version = %req.terraform_version, "ConfigureProvider");
        let config = decode(req.config.as_ref(), &self.provider_schema.implied_type())?;
        let diags = match self.provider.configure(&config, self.stop.token()).await {
            Ok(data) => {
                *self.data.write().await = Some(Arc::new(data));
                Diagnostics::new()
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_pb(&diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> R<pb::read_resource::Response> {
        let req = req.into_inner();
        tracing::debug!(resource = %req.type_name, "ReadResource");
        let (res, schema) = self.resource(&req.type_name)?;
        let ty = schema.implied_type();
        let current = decode(req.current_state.as_ref(), &ty)?;
        let result = match self.configured().await {
            Ok(data) if !current.is_null() => res.read(&data, &current).await,
            Ok(_) => Ok(None),
            Err(d) => Err(d),
        };
        let (mut new_state, diags) = match result {
            Ok(Some(v)) => (v, Diagnostics::new()),
            Ok(None) => {
                tracing::info!(resource = %req.type_name, "remote object is gone");
                (Value::Null, Diagnostics::new())
            }
            Err(d) => (current, d),
        };
        write_only::strip(&schema.block, &mut new_state);
        Ok(Response::new(pb::read_resource::Response {
            new_state: encode(&new_state, &ty)?,
            diagnostics: diags_pb(&diags),
            private: req.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> R<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        tracing::debug!(resource = %req.type_name, "PlanResourceChange");
        let (res, schema) = self.resource(&req.type_name)?;
        let ty = schema.implied_type();
        let prior = decode(req.prior_state.as_ref(), &ty)?;
        let proposed = decode(req.proposed_new_state.as_ref(), &ty)?;
        let config = decode(req.config.as_ref(), &ty)?;
        if proposed.is_null() {
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: encode(&Value::Null, &ty)?,
                requires_replace: vec![],
                planned_private: req.prior_private,
                diagnostics: vec![],
                legacy_type_system: false,
                deferred: None,
            }));
        }
        let mut ctx = plan::plan(&schema.block, &prior, &proposed, &config);
        ctx.prior_private = req.prior_private;
        let data = self.data.read().await.clone();
        if let Err(d) = res.modify_plan(data.as_deref(), &mut ctx).await {
            ctx.diags.extend(d);
        }
        write_only::strip(&schema.block, &mut ctx.planned);
        let planned_private = ctx.planned_private.take().unwrap_or(ctx.prior_private);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&ctx.planned, &ty)?,
            requires_replace: ctx.requires_replace.iter().map(path_pb).collect(),
            planned_private,
            diagnostics: diags_pb(&ctx.diags),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> R<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let (res, schema) = self.resource(&req.type_name)?;
        let ty = schema.implied_type();
        let prior = decode(req.prior_state.as_ref(), &ty)?;
        let planned = decode(req.planned_state.as_ref(), &ty)?;
        // Write-only values arrive only in the configuration.
        let input = write_only::with_config_values(
            &schema.block,
            &planned,
            &decode(req.config.as_ref(), &ty)?,
        );
        let data = match self.configured().await {
            Ok(d) => d,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: encode(&prior, &ty)?,
                    private: vec![],
                    diagnostics: diags_pb(&d),
                    legacy_type_system: false,
                }))
            }
        };
        let mut private = req.planned_private;
        let (mut new_state, diags) = if planned.is_null() {
            tracing::info!(resource = %req.type_name, "delete");
            match res.delete(&data, &prior).await {
                Ok(()) => {
                    private.clear();
                    (Value::Null, Diagnostics::new())
                }
                Err(d) => (prior, d),
            }
        } else {
            let create = prior.is_null();
            tracing::info!(resource = %req.type_name, action = if create { "create" } else { "update" }, "apply");
            let result = if create {
                res.create_private(&data, &input, &private).await
            } else {
                res.update_private(&data, &prior, &input, &private).await
            };
            match result {
                Ok(mut v) => {
                    // Values the API normalised (declared per attribute) are returned as
                    // planned; any other difference reaches Terraform, which reports it.
                    equality::keep_planned(&schema.block, &mut v, &planned);
                    (v, Diagnostics::new())
                }
                Err(e) => (e.partial.unwrap_or(prior), e.diags),
            }
        };
        write_only::strip(&schema.block, &mut new_state);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: encode(&new_state, &ty)?,
            private,
            diagnostics: diags_pb(&diags),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> R<pb::import_resource_state::Response> {
        let req = req.into_inner();
        tracing::info!(resource = %req.type_name, "ImportResourceState");
        let (res, schema) = self.resource(&req.type_name)?;
        let ty = schema.implied_type();
        let result = match self.configured().await {
            Ok(data) => res.import(&data, &req.id).await,
            Err(d) => Err(d),
        };
        let (imported, diags) = match result {
            Ok(mut state) => {
                write_only::strip(&schema.block, &mut state);
                (
                    vec![pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: encode(&state, &ty)?,
                        private: vec![],
                    }],
                    Diagnostics::new(),
                )
            }
            Err(d) => (vec![], d),
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diags_pb(&diags),
            deferred: None,
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> R<pb::read_data_source::Response> {
        let req = req.into_inner();
        tracing::debug!(data_source = %req.type_name, "ReadDataSource");
        let (ds, schema) = self.data_source(&req.type_name)?;
        let ty = schema.implied_type();
        let config = decode(req.config.as_ref(), &ty)?;
        let result = match self.configured().await {
            Ok(data) => ds.read(&data, &config).await,
            Err(d) => Err(d),
        };
        let (state, diags) = match result {
            Ok(v) => (v, Diagnostics::new()),
            Err(d) => (Value::Null, d),
        };
        Ok(Response::new(pb::read_data_source::Response {
            state: encode(&state, &ty)?,
            diagnostics: diags_pb(&diags),
            deferred: None,
        }))
    }

    // RPCs of protocol 6.8 the provider does not serve: no state moves
    // (ServerCapabilities.move_resource_state is false), no functions.
    // Terraform only calls them for what the provider advertised.

    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> R<pb::move_resource_state::Response> {
        Err(unimplemented("MoveResourceState"))
    }

    // Ephemeral resources: served by super::ephemeral.

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> R<pb::validate_ephemeral_resource_config::Response> {
        Ok(Response::new(self.ephemerals.validate(req.into_inner())?))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> R<pb::open_ephemeral_resource::Response> {
        let data = self.configured().await;
        Ok(Response::new(
            self.ephemerals.open(data, req.into_inner()).await?,
        ))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> R<pb::renew_ephemeral_resource::Response> {
        let data = self.configured().await;
        Ok(Response::new(
            self.ephemerals.renew(data, req.into_inner()).await?,
        ))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> R<pb::close_ephemeral_resource::Response> {
        let data = self.configured().await;
        Ok(Response::new(
            self.ephemerals.close(data, req.into_inner()).await?,
        ))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> R<pb::get_functions::Response> {
        Err(unimplemented("GetFunctions"))
    }

    async fn call_function(
        &self,
        _: Request<pb::call_function::Request>,
    ) -> R<pb::call_function::Response> {
        Err(unimplemented("CallFunction"))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> R<pb::stop_provider::Response> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        self.stop.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
