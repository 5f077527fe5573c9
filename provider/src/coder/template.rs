//! `webide_coder_template`: a directory of Terraform files pushed as a template version, as
//! `coder templates push` does over REST (tar upload, template version, provisioner job polled
//! to completion, then create the template or make the version active).

use std::path::Path;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value as Json};
use sha2::Sha256;

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
const SETTINGS: &[&str] = &[
    "display_name",
    "description",
    "icon",
    "default_ttl_ms",
    "activity_bump_ms",
    "allow_user_cancel_workspace_jobs",
    "require_active_version",
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("template", action, &["name", "display_name"], e)
}

/// Keyed hash (HMAC-SHA-256) of the directory's files and the variable values: what a push
/// depends on. The key is random per resource and kept in the resource's private state (never
/// an attribute, never in plan output), so the hash shown in plans, stored in state and sent
/// to Coder as the version message reveals nothing of `tf_vars`: without the key, a guessed
/// value cannot be checked against it.
fn push_hash(dir: &str, vars: &Value, key: &str) -> Result<String, Diagnostics> {
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
    for (k, v) in vars.string_entries() {
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
fn apply_hash(plan: &Value, private: &[u8]) -> Result<String, Diagnostics> {
    if let Some(h) = plan.get("directory_hash").as_str() {
        return Ok(h.to_string());
    }
    let key = private_key(private).ok_or_else(|| {
        Diagnostics::error(
            "webide_coder_template: no hash key in the planned private state",
            "plan again: the plan makes the key",
        )
    })?;
    push_hash(
        plan.get("directory").as_str().unwrap_or_default(),
        plan.get("tf_vars"),
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
fn update_body(plan: &Value, current: &Json) -> Json {
    let mut b = settings_body(plan);
    b["name"] = json!(plan.get("name").as_str());
    for k in UNMANAGED_SETTINGS {
        if let Some(v) = current.get(*k).filter(|v| !v.is_null()) {
            b[*k] = v.clone();
        }
    }
    b
}

fn settings_body(plan: &Value) -> Json {
    json!({
        "display_name": plan.get("display_name").as_str().unwrap_or(""),
        "description": plan.get("description").as_str().unwrap_or(""),
        "icon": plan.get("icon").as_str().unwrap_or(""),
        "default_ttl_ms": plan.get("default_ttl_ms").as_i64().unwrap_or(0),
        "activity_bump_ms": plan.get("activity_bump_ms").as_i64().unwrap_or(3_600_000),
        "allow_user_cancel_workspace_jobs": plan.get("allow_user_cancel_workspace_jobs").as_bool().unwrap_or(true),
        "require_active_version": plan.get("require_active_version").as_bool().unwrap_or(false),
    })
}

fn state_from(base: &Value, t: &Json, version_message: Option<&str>) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(t["id"].as_str()));
    s.set("name", Value::opt_string(t["name"].as_str()));
    s.set(
        "organization_id",
        Value::opt_string(t["organization_id"].as_str()),
    );
    s.set(
        "active_version_id",
        Value::opt_string(t["active_version_id"].as_str()),
    );
    for k in ["display_name", "description", "icon"] {
        s.set(k, Value::string(t[k].as_str().unwrap_or("")));
    }
    for k in ["default_ttl_ms", "activity_bump_ms"] {
        s.set(k, Value::opt_int(t[k].as_i64()));
    }
    for k in ["allow_user_cancel_workspace_jobs", "require_active_version"] {
        s.set(k, Value::Bool(t[k].as_bool().unwrap_or(false)));
    }
    if let Some(m) = version_message {
        // A version pushed by something else has no webide hash: the plan pushes again.
        s.set(
            "directory_hash",
            Value::opt_string(m.strip_prefix(MESSAGE_PREFIX)),
        );
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
    plan: &Value,
    hash: &str,
) -> Result<String, Diagnostics> {
    let dir = plan.get("directory").as_str().unwrap_or_default();
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
        .get("tf_vars")
        .string_entries()
        .into_iter()
        .chain(plan.get("tf_vars_wo").string_entries())
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
    let timeout = Duration::from_secs(
        parse_duration(plan.get("build_timeout").as_str().unwrap_or("10m")).unwrap_or(600),
    );
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

async fn read_full(c: &Client, base: &Value, t: &Json) -> Result<Value, Diagnostics> {
    let vid = t["active_version_id"].as_str().unwrap_or_default();
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
            .attr(Attribute::string("organization").default("default").requires_replace().describe("Organization name or id; `default` is the default organization. `default` and the default organization's real name are the same organization: switching between them (or importing by either) plans no change."))
            .attr(Attribute::string("organization_id").computed().use_state_for_unknown().describe("Organization id."))
            .attr(Attribute::string("directory").required().describe("Directory of the template's Terraform files. Import cannot know it (`-generate-config-out` writes `null`): set it before planning."))
            .attr(Attribute::string_map("tf_vars").default(Value::Map(Default::default())).sensitive().describe("Values of the template's Terraform variables (sensitive: they often carry keys, e.g. the AI gateway's master key); kept in state. On Terraform >= 1.11 put secret values in `tf_vars_wo` instead, which never reaches plan or state; on older Terraform use this."))
            .attr(Attribute::string_map("tf_vars_wo").optional().sensitive().write_only().describe("Write-only values of the template's Terraform variables (Terraform >= 1.11): sent with every version pushed, never stored in plan or state, and not part of `directory_hash`. Preferred over `tf_vars` for secrets on Terraform >= 1.11 (older Terraform refuses it at validate: use `tf_vars`); a variable may not be in both. Its values are not compared: bump `tf_vars_wo_version` to push a version with new values."))
            .attr(Attribute::number("tf_vars_wo_version").optional().describe("Any number, kept in state: changing it pushes a new active version with the current `tf_vars_wo` values."))
            .attr(Attribute::string("directory_hash").computed().describe("Keyed hash (HMAC-SHA-256) of the directory's files and `tf_vars` (computed at plan; kept in the version's message). Its key is random per resource and kept in the resource's private state, so the hash reveals nothing of the `tf_vars` values; a template imported (or created before the key existed) is pushed once to get one."))
            .attr(Attribute::string("active_version_id").computed().use_state_for_unknown().describe("The active template version."))
            .attr(Attribute::string("display_name").default("").validate(super::names::CoderDisplayName(64)).describe("Display name."))
            .attr(Attribute::string("description").default("").describe("Description."))
            .attr(Attribute::string("icon").default("").describe("Icon URL or path, e.g. `/icon/code.svg`."))
            .attr(Attribute::number("default_ttl_ms").default(0i64).validate(Range { min: 0.0, max: None }).describe("Default workspace autostop (ms); 0 = none."))
            .attr(Attribute::number("activity_bump_ms").default(3_600_000i64).validate(Range { min: 0.0, max: None }).describe("How much activity extends the deadline (ms)."))
            .attr(Attribute::bool("allow_user_cancel_workspace_jobs").default(true).describe("Users may cancel workspace builds."))
            .attr(Attribute::bool("require_active_version").default(false).describe("Workspaces must use the active version."))
            .attr(Attribute::string("build_timeout").default("10m").validate(DurationV).describe("How long to wait for a version's build."));
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
            (Some(k), Some(d)) => Value::string(push_hash(d, vars, &k)?),
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
        let org_key = plan.get("organization").as_str().unwrap_or("default");
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
        let hash = apply_hash(plan, private)?;
        let vid = push(c, &org_id, None, plan, &hash).await?;
        let mut body = settings_body(plan);
        body["name"] = json!(plan.get("name").as_str());
        body["template_version_id"] = json!(vid);
        let t = c
            .send(
                Method::POST,
                &format!("/organizations/{org_id}/templates"),
                &body,
                false,
            )
            .await
            .map_err(|e| err("create", e))?;
        let mut s = state_from(plan, &t, None);
        s.set("directory_hash", Value::string(hash));
        Ok(s)
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let Some(id) = state.get("id").as_str() else {
            return Ok(None);
        };
        match c
            .get(&format!("/templates/{id}"))
            .await
            .map_err(|e| err("read", e))?
        {
            Some(t) => Ok(Some(read_full(c, state, &t).await?)),
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
        let id = prior.get("id").as_str().unwrap_or_default().to_string();
        let org_id = prior
            .get("organization_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut state = prior.clone();
        if !plan
            .get("directory_hash")
            .equals(prior.get("directory_hash"))
            || !plan
                .get("tf_vars_wo_version")
                .equals(prior.get("tf_vars_wo_version"))
        {
            let hash = apply_hash(plan, private)?;
            let vid = push(c, &org_id, Some(&id), plan, &hash).await?;
            c.send(
                Method::PATCH,
                &format!("/templates/{id}/versions"),
                &id_body(&vid),
                true,
            )
            .await
            .map_err(|e| {
                ApplyError::with_state(err("activate the new version of", e), state.clone())
            })?;
            state.set("active_version_id", Value::string(vid));
            state.set("directory_hash", Value::string(hash));
        }
        if SETTINGS.iter().any(|k| !plan.get(k).equals(prior.get(k))) {
            let current = c
                .get(&format!("/templates/{id}"))
                .await
                .map_err(|e| ApplyError::with_state(err("read", e), state.clone()))?
                .unwrap_or_default();
            // 200 with the template, or 304 Not Modified (no body) when nothing changed.
            c.send(
                Method::PATCH,
                &format!("/templates/{id}"),
                &update_body(plan, &current),
                true,
            )
            .await
            .map_err(|e| ApplyError::with_state(err("update the settings of", e), state.clone()))?;
        }
        let t = c
            .get(&format!("/templates/{id}"))
            .await
            .map_err(|e| err("read back", e))?
            .unwrap_or_default();
        let mut s = state_from(plan, &t, None);
        s.set("directory_hash", state.get("directory_hash").clone());
        Ok(s)
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.coder.get()?;
        if let Some(id) = state.get("id").as_str() {
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
        let mut base = self.schema().block.null_object();
        let org = canonical_organization(c, org)
            .await
            .map_err(|e| err("import", e))?;
        base.set("organization", Value::string(org));
        base.set("tf_vars", Value::Map(Default::default()));
        base.set("build_timeout", Value::string("10m"));
        read_full(c, &base, &t).await
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
        let vars = |v: &str| Value::Map([("k".to_string(), Value::string(v))].into());
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
