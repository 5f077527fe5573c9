//! `webide_coder_template`: a directory of Terraform files pushed as a template version, as
//! `coder templates push` does over REST (tar upload, template version, provisioner job polled
//! to completion, then create the template or make the version active).

use std::path::Path;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Method;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::Sha256;

use super::api::{CreateTemplateRequest, Template, TemplateSettings, UpdateTemplateMeta};
use crate::framework::model::{answer, body, from_value, to_value};

use super::names::CoderName;
use super::{api_error, canonical_organization, id_body, plan_same_organization, Client};
use crate::archive::{context_hash, tar_context};
use crate::framework::validators::{parse_duration, Duration as DurationV, Range};
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct TemplateResource;

const MESSAGE_PREFIX: &str = "webide:";
const ORGANIZATION: &str = "default";
const DISPLAY_NAME: &str = "";
const DESCRIPTION: &str = "";
const ICON: &str = "";
const DEFAULT_TTL_MS: i64 = 0;
const ACTIVITY_BUMP_MS: i64 = 3_600_000;
const ALLOW_USER_CANCEL_WORKSPACE_JOBS: bool = true;
const REQUIRE_ACTIVE_VERSION: bool = false;
const BUILD_TIMEOUT: &str = "10m";

/// Plan and state of `webide_coder_template`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TemplateModel {
    id: Option<String>,
    name: String,
    organization: String,
    organization_id: Option<String>,
    /// Null after an import until the configuration sets it.
    directory: Option<String>,
    tf_vars: BTreeMap<String, String>,
    tf_vars_wo: Option<BTreeMap<String, String>>,
    tf_vars_wo_version: Option<serde_json::Number>,
    directory_hash: Option<String>,
    active_version_id: Option<String>,
    display_name: String,
    description: String,
    icon: String,
    default_ttl_ms: Option<i64>,
    activity_bump_ms: Option<i64>,
    allow_user_cancel_workspace_jobs: bool,
    require_active_version: bool,
    build_timeout: String,
}

impl TemplateModel {
    /// What an import starts from, before the template is read.
    fn imported(organization: String) -> TemplateModel {
        TemplateModel {
            id: None,
            name: String::new(),
            organization,
            organization_id: None,
            directory: None,
            tf_vars: BTreeMap::new(),
            tf_vars_wo: None,
            tf_vars_wo_version: None,
            directory_hash: None,
            active_version_id: None,
            display_name: DISPLAY_NAME.into(),
            description: DESCRIPTION.into(),
            icon: ICON.into(),
            default_ttl_ms: Some(DEFAULT_TTL_MS),
            activity_bump_ms: Some(ACTIVITY_BUMP_MS),
            allow_user_cancel_workspace_jobs: ALLOW_USER_CANCEL_WORKSPACE_JOBS,
            require_active_version: REQUIRE_ACTIVE_VERSION,
            build_timeout: BUILD_TIMEOUT.into(),
        }
    }

    /// Whether a managed setting differs from `other`'s.
    fn settings_differ(&self, other: &TemplateModel) -> bool {
        (
            &self.display_name,
            &self.description,
            &self.icon,
            self.default_ttl_ms,
            self.activity_bump_ms,
            self.allow_user_cancel_workspace_jobs,
            self.require_active_version,
        ) != (
            &other.display_name,
            &other.description,
            &other.icon,
            other.default_ttl_ms,
            other.activity_bump_ms,
            other.allow_user_cancel_workspace_jobs,
            other.require_active_version,
        )
    }

    /// The template settings this resource manages.
    fn settings(&self) -> TemplateSettings {
        TemplateSettings {
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            icon: self.icon.clone(),
            default_ttl_ms: self.default_ttl_ms.unwrap_or(DEFAULT_TTL_MS),
            activity_bump_ms: self.activity_bump_ms.unwrap_or(ACTIVITY_BUMP_MS),
            allow_user_cancel_workspace_jobs: self.allow_user_cancel_workspace_jobs,
            require_active_version: self.require_active_version,
        }
    }
}

/// A template answer; none (a template gone meanwhile) reads as an empty one.
fn template(j: &Json) -> Result<Template, Diagnostics> {
    if j.is_null() {
        return Ok(Template::default());
    }
    answer("Coder template", j)
}

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("template", action, &["name", "display_name"], e)
}

/// Keyed hash (HMAC-SHA-256) of the directory's files and the variable values: what a push
/// depends on. The key is random per resource and kept in the resource's private state (never
/// an attribute, never in plan output), so the hash shown in plans, stored in state and sent
/// to Coder as the version message reveals nothing of `tf_vars`: without the key, a guessed
/// value cannot be checked against it.
fn push_hash(dir: &str, vars: &BTreeMap<String, String>, key: &str) -> Result<String, Diagnostics> {
    use hmac::Mac;
    let files = context_hash(Path::new(dir)).map_err(|e| {
        Diagnostics::attr_error(
            AttrPath::root("directory"),
            "Cannot read the template directory",
            format!("{dir}: {e}"),
        )
    })?;
    let mut h = hmac::Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .map_err(|e| Diagnostics::error("Cannot key the directory hash", e.to_string()))?;
    h.update(files.as_bytes());
    for (k, v) in vars {
        h.update(format!("\0{k}={v}").as_bytes());
    }
    Ok(hex::encode(h.finalize().into_bytes()))
}

/// A new random hash key (256 bits, hex).
fn new_hash_key() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The hash key held in private state (`{"hash_key": "<hex>"}`), if any.
fn private_key(private: &[u8]) -> Option<String> {
    let j: Json = serde_json::from_slice(private).ok()?;
    j.get("hash_key")?.as_str().map(str::to_string)
}

fn private_with_key(key: &str) -> Vec<u8> {
    json!({ "hash_key": key }).to_string().into_bytes()
}

/// The hash an apply pushes with: the planned one, or (at create, or for state without a
/// key, e.g. after an import) the hash under the key the plan put in private state.
fn apply_hash(plan: &TemplateModel, private: &[u8]) -> Result<String, Diagnostics> {
    if let Some(h) = &plan.directory_hash {
        return Ok(h.clone());
    }
    let key = private_key(private).ok_or_else(|| {
        Diagnostics::error(
            "webide_coder_template: no hash key in the planned private state",
            "plan again: the plan makes the key",
        )
    })?;
    push_hash(
        plan.directory.as_deref().unwrap_or_default(),
        &plan.tf_vars,
        &key,
    )
}

/// Settings of `UpdateTemplateMeta` this resource does not manage. coderd's
/// `PATCH /templates/{id}` replaces every setting with what the request carries (an absent field
/// is its zero value), so these are sent as the server has them, never dropped.
const UNMANAGED_SETTINGS: &[&str] = &[
    "allow_user_autostart",
    "allow_user_autostop",
    "autostop_requirement",
    "autostart_requirement",
    "failure_ttl_ms",
    "time_til_dormant_ms",
    "time_til_dormant_autodelete_ms",
    "deprecation_message",
];

/// The whole `UpdateTemplateMeta` for `plan`: the managed settings from the plan, the others
/// from `current` (the template as the server has it now).
fn update_body(plan: &TemplateModel, current: &Json) -> UpdateTemplateMeta {
    UpdateTemplateMeta {
        name: plan.name.clone(),
        settings: plan.settings(),
        unmanaged: UNMANAGED_SETTINGS
            .iter()
            .filter_map(|k| {
                let v = current.get(*k).filter(|v| !v.is_null())?;
                Some((k.to_string(), v.clone()))
            })
            .collect(),
    }
}

fn state_from(base: &TemplateModel, t: &Template, version_message: Option<&str>) -> TemplateModel {
    let mut s = base.clone();
    s.id.clone_from(&t.id);
    if let Some(n) = &t.name {
        s.name.clone_from(n);
    }
    s.organization_id.clone_from(&t.organization_id);
    s.active_version_id.clone_from(&t.active_version_id);
    s.display_name = t.display_name.clone().unwrap_or_default();
    s.description = t.description.clone().unwrap_or_default();
    s.icon = t.icon.clone().unwrap_or_default();
    s.default_ttl_ms = t.default_ttl_ms;
    s.activity_bump_ms = t.activity_bump_ms;
    s.allow_user_cancel_workspace_jobs = t.allow_user_cancel_workspace_jobs.unwrap_or(false);
    s.require_active_version = t.require_active_version.unwrap_or(false);
    if let Some(m) = version_message {
        // A version pushed by something else has no webide hash: the plan pushes again.
        s.directory_hash = m.strip_prefix(MESSAGE_PREFIX).map(str::to_string);
    }
    s
}

/// The `codersdk.CreateTemplateVersionRequest` body: `template_id` only when the template
/// exists (the field is a UUID; null is not one).
fn version_request(file: &str, template_id: Option<&str>, message: &str, vars: Vec<Json>) -> Json {
    let mut body = json!({"storage_method": "file", "file_id": file, "provisioner": "terraform",
        "message": message, "user_variable_values": vars});
    if let Some(id) = template_id {
        body["template_id"] = json!(id);
    }
    body
}

/// Uploads the directory and builds a version; returns its id once the job succeeded.
async fn push(
    c: &Client,
    org_id: &str,
    template_id: Option<&str>,
    plan: &TemplateModel,
    hash: &str,
) -> Result<String, Diagnostics> {
    let dir = plan.directory.as_deref().unwrap_or_default();
    let tar = tar_context(Path::new(dir)).map_err(|e| {
        Diagnostics::attr_error(
            AttrPath::root("directory"),
            "Cannot pack the template directory",
            e.to_string(),
        )
    })?;
    let file = c
        .upload(tar)
        .await
        .map_err(|e| err("upload the template directory of", e))?;
    // `tf_vars_wo` holds the write-only values (present at apply only, never in state).
    let vars: Vec<Json> = plan
        .tf_vars
        .iter()
        .chain(plan.tf_vars_wo.iter().flatten())
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let v = c
        .send(
            Method::POST,
            &format!("/organizations/{org_id}/templateversions"),
            &version_request(&file, template_id, &format!("{MESSAGE_PREFIX}{hash}"), vars),
            false,
        )
        .await
        .map_err(|e| err("create a version of", e))?;
    let id = v["id"].as_str().unwrap_or_default().to_string();
    let timeout = Duration::from_secs(parse_duration(&plan.build_timeout).unwrap_or(600));
    let started = Instant::now();
    loop {
        let v = c
            .get(&format!("/templateversions/{id}"))
            .await
            .map_err(|e| err("poll the build of", e))?
            .unwrap_or_default();
        match v["job"]["status"].as_str() {
            Some("succeeded") => return Ok(id),
            Some(s @ ("failed" | "canceled")) => {
                let logs = c
                    .get(&format!("/templateversions/{id}/logs"))
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let lines: Vec<String> = logs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        format!(
                            "[{}] {}",
                            l["log_level"].as_str().unwrap_or(""),
                            l["output"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                return Err(Diagnostics::attr_error(
                    AttrPath::root("directory"),
                    format!("Coder template build {s}"),
                    format!(
                        "{}\n--- provisioner log ---\n{}",
                        v["job"]["error"].as_str().unwrap_or(""),
                        lines.join("\n")
                    ),
                ));
            }
            _ => {}
        }
        if started.elapsed() > timeout {
            return Err(Diagnostics::attr_error(
                AttrPath::root("build_timeout"),
                "Coder template build timed out",
                format!(
                    "version {id} still {} after {timeout:?}",
                    v["job"]["status"]
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn read_full(
    c: &Client,
    base: &TemplateModel,
    t: &Template,
) -> Result<TemplateModel, Diagnostics> {
    let vid = t.active_version_id.as_deref().unwrap_or_default();
    let v = c
        .get(&format!("/templateversions/{vid}"))
        .await
        .map_err(|e| err("read the active version of", e))?;
    Ok(state_from(
        base,
        t,
        v.as_ref().and_then(|v| v["message"].as_str()),
    ))
}

#[async_trait]
impl Resource<Clients> for TemplateResource {
    fn type_name(&self) -> &'static str {
        "webide_coder_template"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("A Coder template pushed from a directory of Terraform files, like `coder templates push`. A changed file (or `tf_vars` value) shows as an in-place update in plan and pushes a new active version; an unchanged directory makes no API call beyond reads. A failed build is an error carrying the provisioner log; the active version stays as it was.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Template id. Import id: `organization/name`."))
            .attr(Attribute::string("name").required().requires_replace().validate(CoderName { group: false }).describe("Template name."))
            .attr(Attribute::string("organization").default(ORGANIZATION).requires_replace().describe("Organization name or id; `default` is the default organization. `default` and the default organization's real name are the same organization: switching between them (or importing by either) plans no change."))
            .attr(Attribute::string("organization_id").computed().use_state_for_unknown().describe("Organization id."))
            .attr(Attribute::string("directory").required().describe("Directory of the template's Terraform files. Import cannot know it (`-generate-config-out` writes `null`): set it before planning."))
            .attr(Attribute::string_map("tf_vars").default(Value::Map(Default::default())).sensitive().describe("Values of the template's Terraform variables (sensitive: they often carry keys, e.g. the AI gateway's master key); kept in state. On Terraform >= 1.11 put secret values in `tf_vars_wo` instead, which never reaches plan or state; on older Terraform use this."))
            .attr(Attribute::string_map("tf_vars_wo").optional().sensitive().write_only().describe("Write-only values of the template's Terraform variables (Terraform >= 1.11): sent with every version pushed, never stored in plan or state, and not part of `directory_hash`. Preferred over `tf_vars` for secrets on Terraform >= 1.11 (older Terraform refuses it at validate: use `tf_vars`); a variable may not be in both. Its values are not compared: bump `tf_vars_wo_version` to push a version with new values."))
            .attr(Attribute::number("tf_vars_wo_version").optional().describe("Any number, kept in state: changing it pushes a new active version with the current `tf_vars_wo` values."))
            .attr(Attribute::string("directory_hash").computed().describe("Keyed hash (HMAC-SHA-256) of the directory's files and `tf_vars` (computed at plan; kept in the version's message). Its key is random per resource and kept in the resource's private state, so the hash reveals nothing of the `tf_vars` values; a template imported (or created before the key existed) is pushed once to get one."))
            .attr(Attribute::string("active_version_id").computed().use_state_for_unknown().describe("The active template version."))
            .attr(Attribute::string("display_name").default(DISPLAY_NAME).validate(super::names::CoderDisplayName(64)).describe("Display name."))
            .attr(Attribute::string("description").default(DESCRIPTION).describe("Description."))
            .attr(Attribute::string("icon").default(ICON).describe("Icon URL or path, e.g. `/icon/code.svg`."))
            .attr(Attribute::number("default_ttl_ms").default(DEFAULT_TTL_MS).validate(Range { min: 0.0, max: None }).describe("Default workspace autostop (ms); 0 = none."))
            .attr(Attribute::number("activity_bump_ms").default(ACTIVITY_BUMP_MS).validate(Range { min: 0.0, max: None }).describe("How much activity extends the deadline (ms)."))
            .attr(Attribute::bool("allow_user_cancel_workspace_jobs").default(ALLOW_USER_CANCEL_WORKSPACE_JOBS).describe("Users may cancel workspace builds."))
            .attr(Attribute::bool("require_active_version").default(REQUIRE_ACTIVE_VERSION).describe("Workspaces must use the active version."))
            .attr(Attribute::string("build_timeout").default(BUILD_TIMEOUT).validate(DurationV).describe("How long to wait for a version's build."));
        Schema::new(0, block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get("directory").is_null() {
            diags.push_attr_error(
                AttrPath::root("directory"),
                "Missing template directory",
                "`directory` is null: set it to the directory holding the template's Terraform files. An imported template's directory cannot be read back from Coder (`-generate-config-out` writes null), so generated configuration needs it filled in.",
            );
        }
        if let Some(dir) = config.get("directory").as_str() {
            let p = Path::new(dir);
            let has_tf = std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .any(|e| e.path().extension().is_some_and(|x| x == "tf"))
                })
                .unwrap_or(false);
            if !p.is_dir() {
                diags.push_attr_error(
                    AttrPath::root("directory"),
                    "Invalid value for directory",
                    format!("{dir} is not a directory"),
                );
            } else if !has_tf {
                diags.push_attr_error(
                    AttrPath::root("directory"),
                    "Invalid value for directory",
                    format!("{dir} holds no .tf file"),
                );
            } else {
                crate::archive::warn_symlinks(p, &AttrPath::root("directory"), diags);
            }
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        plan_same_organization(_d, ctx).await?;
        let (dir, vars) = (ctx.config.get("directory"), ctx.config.get("tf_vars"));
        // The key lives in private state. A resource without one (create, import, state from
        // before keys) gets a new key now; its hash is known only at apply (a hash under a key
        // made at plan would differ in the plan Terraform makes again during apply).
        let key = private_key(&ctx.prior_private);
        if key.is_none() {
            ctx.planned_private = Some(private_with_key(&new_hash_key()));
        }
        let hash = match (key, dir.as_str()) {
            _ if dir.is_unknown() || !vars.is_wholly_known() => Value::Unknown,
            (None, _) => Value::Unknown,
            (Some(k), Some(d)) => Value::string(push_hash(d, &vars.string_entries(), &k)?),
            (Some(_), None) => Value::Null,
        };
        ctx.planned.set("directory_hash", hash);
        if ctx.is_create() || ctx.changed("directory_hash") || ctx.changed("tf_vars_wo_version") {
            ctx.set_unknown("active_version_id");
        }
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        self.create_private(data, plan, &[]).await
    }

    async fn create_private(&self, data: &Clients, plan: &Value, private: &[u8]) -> ApplyResult {
        let c = data.coder.get()?;
        let plan: TemplateModel = from_value(plan)?;
        let org_key = plan.organization.as_str();
        let org = c
            .organization(org_key)
            .await
            .map_err(|e| err("find the organization of", e))?
            .ok_or_else(|| {
                Diagnostics::attr_error(
                    AttrPath::root("organization"),
                    "Coder organization not found",
                    org_key.to_string(),
                )
            })?;
        let org_id = org["id"].as_str().unwrap_or_default().to_string();
        let hash = apply_hash(&plan, private)?;
        let vid = push(c, &org_id, None, &plan, &hash).await?;
        let request = CreateTemplateRequest {
            name: plan.name.clone(),
            template_version_id: vid,
            settings: plan.settings(),
        };
        let t = c
            .send(
                Method::POST,
                &format!("/organizations/{org_id}/templates"),
                &body(&request),
                false,
            )
            .await
            .map_err(|e| err("create", e))?;
        let mut s = state_from(&plan, &template(&t)?, None);
        s.directory_hash = Some(hash);
        Ok(to_value(&s, &self.schema()))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let state: TemplateModel = from_value(state)?;
        let Some(id) = state.id.clone() else {
            return Ok(None);
        };
        match c
            .get(&format!("/templates/{id}"))
            .await
            .map_err(|e| err("read", e))?
        {
            Some(t) => Ok(Some(to_value(
                &read_full(c, &state, &template(&t)?).await?,
                &self.schema(),
            ))),
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        self.update_private(data, prior, plan, &[]).await
    }

    async fn update_private(
        &self,
        data: &Clients,
        prior: &Value,
        plan: &Value,
        private: &[u8],
    ) -> ApplyResult {
        let c = data.coder.get()?;
        let schema = self.schema();
        let prior: TemplateModel = from_value(prior)?;
        let plan: TemplateModel = from_value(plan)?;
        let id = prior.id.clone().unwrap_or_default();
        let org_id = prior.organization_id.clone().unwrap_or_default();
        let mut state = prior.clone();
        if plan.directory_hash != prior.directory_hash
            || plan.tf_vars_wo_version != prior.tf_vars_wo_version
        {
            let hash = apply_hash(&plan, private)?;
            let vid = push(c, &org_id, Some(&id), &plan, &hash).await?;
            c.send(
                Method::PATCH,
                &format!("/templates/{id}/versions"),
                &id_body(&vid),
                true,
            )
            .await
            .map_err(|e| {
                ApplyError::with_state(
                    err("activate the new version of", e),
                    to_value(&state, &schema),
                )
            })?;
            state.active_version_id = Some(vid);
            state.directory_hash = Some(hash);
        }
        if plan.settings_differ(&prior) {
            let current = c
                .get(&format!("/templates/{id}"))
                .await
                .map_err(|e| ApplyError::with_state(err("read", e), to_value(&state, &schema)))?
                .unwrap_or_default();
            // 200 with the template, or 304 Not Modified (no body) when nothing changed.
            c.send(
                Method::PATCH,
                &format!("/templates/{id}"),
                &body(&update_body(&plan, &current)),
                true,
            )
            .await
            .map_err(|e| {
                ApplyError::with_state(err("update the settings of", e), to_value(&state, &schema))
            })?;
        }
        let t = c
            .get(&format!("/templates/{id}"))
            .await
            .map_err(|e| err("read back", e))?
            .unwrap_or_default();
        let mut s = state_from(&plan, &template(&t)?, None);
        s.directory_hash = state.directory_hash;
        Ok(to_value(&s, &schema))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.coder.get()?;
        if let Some(id) = from_value::<TemplateModel>(state)?.id {
            c.delete(&format!("/templates/{id}"))
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.coder.get()?;
        let (org, name) = id.trim().split_once('/').unwrap_or(("default", id.trim()));
        let o = c
            .organization(org)
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| Diagnostics::error("Coder organization not found", org.to_string()))?;
        let t = c
            .get(&format!(
                "/organizations/{}/templates/{name}",
                o["id"].as_str().unwrap_or_default()
            ))
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Coder template not found",
                    format!("no template {name:?} in {org:?}"),
                )
            })?;
        let org = canonical_organization(c, org)
            .await
            .map_err(|e| err("import", e))?;
        let s = read_full(c, &TemplateModel::imported(org.to_string()), &template(&t)?).await?;
        Ok(to_value(&s, &self.schema()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_hash_is_keyed_and_still_detects_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "variable \"k\" {}\n").unwrap();
        let d = dir.path().to_str().unwrap();
        let vars = |v: &str| BTreeMap::from([("k".to_string(), v.to_string())]);
        let (k1, k2) = (new_hash_key(), new_hash_key());
        assert_eq!(private_key(&private_with_key(&k1)), Some(k1.clone()));
        assert_eq!(private_key(b""), None);
        assert_ne!(k1, k2, "a random key per resource");
        let h = push_hash(d, &vars("secret-1"), &k1).unwrap();
        assert_eq!(h, push_hash(d, &vars("secret-1"), &k1).unwrap(), "stable");
        assert_ne!(
            h,
            push_hash(d, &vars("secret-2"), &k1).unwrap(),
            "a changed value shows"
        );
        assert_ne!(
            h,
            push_hash(d, &vars("secret-1"), &k2).unwrap(),
            "depends on the key"
        );
        // The unkeyed SHA-256 a dictionary attack would compute does not match.
        use sha2::Digest;
        let mut plain = Sha256::new();
        plain.update(context_hash(Path::new(d)).unwrap().as_bytes());
        plain.update(b"\0k=secret-1");
        assert_ne!(h, hex::encode(plain.finalize()));
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;
    use crate::framework::model::assert_model;

    /// A `codersdk.Template` shaped per coder-swagger.json (abridged).
    fn coder_template() -> Json {
        json!({
            "id": "7d0e0000-0000-4000-8000-000000000003", "name": "ws",
            "organization_id": "0b5c7e1a-0000-4000-8000-000000000001",
            "active_version_id": "8e1f0000-0000-4000-8000-000000000004",
            "display_name": "Workspace", "description": "", "icon": "/icon/code.svg",
            "default_ttl_ms": 0, "activity_bump_ms": 1800000,
            "allow_user_cancel_workspace_jobs": false, "require_active_version": true,
            "allow_user_autostart": true, "allow_user_autostop": true, "failure_ttl_ms": 0,
            "autostop_requirement": {"days_of_week": [], "weeks": 1},
            "deprecation_message": "", "provisioner": "terraform", "created_by_id": "x"
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<TemplateModel>(&TemplateResource.schema());
        let v = to_value(
            &TemplateModel::imported("default".into()),
            &TemplateResource.schema(),
        );
        for a in TemplateResource.schema().block.attributes {
            if let Some(d) = &a.default {
                assert!(v.get(&a.name).equals(d), "{}", a.name);
            }
        }
    }

    #[test]
    fn state_and_bodies() {
        let t = template(&coder_template()).unwrap();
        let s = state_from(
            &TemplateModel::imported("default".into()),
            &t,
            Some("webide:abc"),
        );
        assert_eq!(s.activity_bump_ms, Some(1_800_000));
        assert!(!s.allow_user_cancel_workspace_jobs && s.require_active_version);
        assert_eq!(s.directory_hash.as_deref(), Some("abc"));
        assert_eq!(
            state_from(&s, &t, Some("pushed by hand")).directory_hash,
            None
        );
        let b = body(&update_body(&s, &coder_template()));
        assert_eq!(b["name"], json!("ws"));
        assert_eq!(b["activity_bump_ms"], json!(1_800_000));
        assert_eq!(
            b["autostop_requirement"],
            json!({"days_of_week": [], "weeks": 1})
        );
        assert_eq!(b["allow_user_autostart"], json!(true));
        assert!(b.get("provisioner").is_none());
        let c = body(&CreateTemplateRequest {
            name: "ws".into(),
            template_version_id: "v1".into(),
            settings: TemplateModel::imported("default".into()).settings(),
        });
        assert_eq!(
            c,
            json!({"name": "ws", "template_version_id": "v1", "display_name": "", "description": "",
                   "icon": "", "default_ttl_ms": 0, "activity_bump_ms": ACTIVITY_BUMP_MS,
                   "allow_user_cancel_workspace_jobs": true, "require_active_version": false})
        );
    }
}
