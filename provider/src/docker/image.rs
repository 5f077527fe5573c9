//! `webide_compose_image`: an image built from a context directory (Dockerfile + build args,
//! rebuilt when a file of the context changes) or pulled by name.

use std::collections::HashMap;
use std::path::Path;

use crate::archive::{context_hash, tar_context};

use async_trait::async_trait;
use bollard::auth::DockerCredentials;
use bollard::image::{BuildImageOptions, CreateImageOptions, RemoveImageOptions};
use futures_util::StreamExt;

use super::{engine_error, is_not_found, replace_on_change};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use webide_tfplugin::service::ClientOf;

use super::Client;

pub struct ImageResource;

/// The diagnostic for a failed build: the engine's message and the last lines of output.
fn build_failed(name: &str, error: &str, log: &[String]) -> Diagnostics {
    let tail: String = log.iter().rev().take(20).rev().cloned().collect();
    Diagnostics::attr_error(
        AttrPath::root("context"),
        format!("Docker: building {name} failed"),
        format!("{}\n--- build output (tail) ---\n{tail}", error.trim()),
    )
}

const CONFIG: &[&str] = &[
    "name",
    "context",
    "dockerfile",
    "build_args",
    "context_hash",
    "registry_username",
];

#[async_trait]
impl<D: ClientOf<Client>> Resource<D> for ImageResource {
    fn type_name(&self) -> &'static str {
        "webide_compose_image"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("A Docker image: built from `context` (a directory with a Dockerfile; a changed file shows as a rebuild in plan), or pulled by `name` when `context` is null.")
                .attr(Attribute::string("name").required().validate(NonEmpty).describe("Image reference, e.g. `contractor-workspace:latest` (the tag of a build)."))
                .attr(Attribute::string("context").optional().describe("Build context directory."))
                .attr(Attribute::string("dockerfile").default("Dockerfile").describe("Dockerfile path inside the context. **Not detectable**: an image does not record which Dockerfile built it; an image rebuilt elsewhere shows only as a new `image_id`."))
                .attr(Attribute::string_map("build_args").default(Value::Map(Default::default())).describe("Build arguments. **Not detectable**: an image does not record its build arguments; an image rebuilt elsewhere with others shows only as a new `image_id`."))
                .attr(Attribute::string("registry_username").optional().describe("Registry user for a pull. Used for the pull only; not read back."))
                .attr(Attribute::string("registry_password").optional().sensitive().describe("Registry password or token for a pull. Used for the pull only; never read back."))
                .attr(Attribute::bool("keep_locally").default(false).describe("Keep the image on destroy."))
                .attr(Attribute::string("context_hash").computed().describe("SHA-256 of the context's files (computed at plan)."))
                .attr(Attribute::string("image_id").computed().use_state_for_unknown().describe("Image id (`sha256:...`).")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let Some(ctx) = config.get("context").as_str() else {
            return;
        };
        let p = Path::new(ctx);
        if !p.is_dir() {
            diags.push_attr_error(
                AttrPath::root("context"),
                "Invalid value for context",
                format!("{ctx} is not a directory"),
            );
            return;
        }
        crate::archive::warn_symlinks(p, &AttrPath::root("context"), diags);
        let df = config.get("dockerfile").as_str().unwrap_or("Dockerfile");
        if !p.join(df).is_file() {
            diags.push_attr_error(
                AttrPath::root("dockerfile"),
                "Invalid value for dockerfile",
                format!("{df} not found in {ctx}"),
            );
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&D>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        let hash = match ctx.config.get("context").as_str() {
            Some(dir) => match context_hash(Path::new(dir)) {
                Ok(h) => Value::string(h),
                Err(e) => {
                    return Err(Diagnostics::attr_error(
                        AttrPath::root("context"),
                        "Cannot read the build context",
                        format!("{dir}: {e}"),
                    ));
                }
            },
            None if ctx.config.get("context").is_unknown() => Value::Unknown,
            None => Value::Null,
        };
        ctx.planned.set("context_hash", hash);
        replace_on_change(ctx, CONFIG);
        if !ctx.requires_replace.is_empty() || ctx.is_create() {
            ctx.set_unknown("image_id");
        }
        Ok(())
    }

    async fn create(&self, data: &D, plan: &Value) -> ApplyResult {
        let d = data.client()?.engine().await?;
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        if let Some(dir) = plan.get("context").as_str() {
            let tar = tar_context(Path::new(dir)).map_err(|e| {
                Diagnostics::attr_error(
                    AttrPath::root("context"),
                    "Cannot pack the build context",
                    e.to_string(),
                )
            })?;
            let args: HashMap<String, String> = plan
                .get("build_args")
                .string_entries()
                .into_iter()
                .collect();
            let mut stream = d.build_image(
                BuildImageOptions {
                    dockerfile: plan
                        .get("dockerfile")
                        .as_str()
                        .unwrap_or("Dockerfile")
                        .to_string(),
                    t: name.clone(),
                    buildargs: args,
                    rm: true,
                    forcerm: true,
                    labels: [(super::MANAGED_LABEL.to_string(), "true".to_string())].into(),
                    ..Default::default()
                },
                None,
                Some(tar.into()),
            );
            let mut log = Vec::new();
            while let Some(item) = stream.next().await {
                // The build's own error arrives either as an `error` entry or (bollard 0.18)
                // as a stream error carrying the engine's message; both name the failing step.
                let failed = match item {
                    Ok(info) => {
                        if let Some(s) = info.stream {
                            log.push(s);
                        }
                        info.error
                    }
                    Err(bollard::errors::Error::DockerStreamError { error }) => Some(error),
                    Err(e) => return Err(engine_error(&format!("build {name}"), e).into()),
                };
                if let Some(e) = failed {
                    return Err(build_failed(&name, &e, &log).into());
                }
            }
        } else {
            let creds = plan
                .get("registry_username")
                .as_str()
                .map(|u| DockerCredentials {
                    username: Some(u.to_string()),
                    password: plan.get("registry_password").as_str().map(str::to_string),
                    ..Default::default()
                });
            let mut stream = d.create_image(
                Some(CreateImageOptions {
                    from_image: name.clone(),
                    ..Default::default()
                }),
                None,
                creds,
            );
            while let Some(item) = stream.next().await {
                item.map_err(|e| engine_error(&format!("pull {name}"), e))?;
            }
        }
        let img = d
            .inspect_image(&name)
            .await
            .map_err(|e| engine_error("inspect the image", e))?;
        let mut s = plan.clone();
        s.set("image_id", Value::opt_string(img.id));
        Ok(s)
    }

    async fn read(&self, data: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let d = data.client()?.engine().await?;
        match d
            .inspect_image(state.get("name").as_str().unwrap_or_default())
            .await
        {
            Ok(img) => {
                let mut s = state.clone();
                s.set("image_id", Value::opt_string(img.id));
                Ok(Some(s))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(engine_error("inspect image", e)),
        }
    }

    async fn update(&self, _data: &D, _prior: &Value, plan: &Value) -> ApplyResult {
        // Only keep_locally and the registry password change in place.
        Ok(plan.clone())
    }

    async fn delete(&self, data: &D, state: &Value) -> Result<(), Diagnostics> {
        if state.get("keep_locally").as_bool() == Some(true) {
            return Ok(());
        }
        let d = data.client()?.engine().await?;
        // By name: only our tag goes; an image whose content another tag or a container also
        // uses (the same build made elsewhere) stays for them.
        let key = state
            .get("name")
            .as_str()
            .or(state.get("image_id").as_str())
            .unwrap_or_default();
        match d
            .remove_image(
                key,
                Some(RemoveImageOptions {
                    force: false,
                    noprune: false,
                }),
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(engine_error("remove image", e)),
        }
    }
}
