//! `webide_compose_exec`: a declared step run inside a running container (database init,
//! a service's admin CLI). It runs on create and again whenever its command, input or
//! `triggers` change; the command must be idempotent. There is nothing on the Engine to read
//! back or delete: destroy only forgets it.

use std::time::Duration;

use async_trait::async_trait;

use super::exec::{run_checked, ExecSpec};
use crate::framework::validators::{parse_duration, Duration as DurationV, NonEmpty};
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use webide_tfplugin::service::ClientOf;

use super::Client;

pub struct ExecStepResource;

/// Attributes whose change runs the step again.
const INPUTS: &[&str] = &[
    "container",
    "command",
    "env",
    "stdin",
    "user",
    "working_dir",
    "triggers",
];

/// The exec of a planned step.
pub(crate) fn spec(plan: &Value) -> ExecSpec {
    let opt = |k: &str| plan.get(k).as_str().map(str::to_string);
    ExecSpec {
        container: opt("container").unwrap_or_default(),
        cmd: plan.get("command").string_elements(),
        env: plan.get("env").string_entries().into_iter().collect(),
        stdin: opt("stdin"),
        user: opt("user"),
        working_dir: opt("working_dir"),
        timeout: Duration::from_secs(
            parse_duration(plan.get("timeout").as_str().unwrap_or("5m")).unwrap_or(300),
        ),
    }
}

impl ExecStepResource {
    async fn run<D: ClientOf<Client>>(&self, data: &D, plan: &Value) -> ApplyResult {
        let d = data.client()?.engine().await?;
        let out = run_checked(d, &spec(plan)).await?;
        let mut s = plan.clone();
        s.set("exit_code", Value::int(out.exit_code));
        Ok(s)
    }
}

#[async_trait]
impl<D: ClientOf<Client>> Resource<D> for ExecStepResource {
    fn type_name(&self) -> &'static str {
        "webide_compose_exec"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("A step run inside a running container through the Engine's exec API, e.g. creating databases with `psql`. Runs on create and again when `command`, `env`, `stdin`, `container`, `user`, `working_dir` or `triggers` change (put the container's `id` in `triggers` to run it again in a replaced container); the command must be idempotent. A non-zero exit fails the apply with the command's stderr. Secrets belong in `env` or `stdin` (both sensitive), never in `command`. Destroy only forgets the step.")
                .attr(Attribute::string("container").required().validate(NonEmpty).describe("Container name or id (`webide_compose_service.x.name`)."))
                .attr(Attribute::string_list("command").required().describe("Program and arguments (exec form; no shell unless you call one). Shown in plans and diagnostics: no secrets here."))
                .attr(Attribute::string_map("env").optional().sensitive().describe("Environment of the command; the place for passwords."))
                .attr(Attribute::string("stdin").optional().sensitive().describe("Written to the command's standard input, which is then closed."))
                .attr(Attribute::string("user").optional().describe("User (and group) to run as; default: the container's."))
                .attr(Attribute::string("working_dir").optional().describe("Working directory."))
                .attr(Attribute::string_map("triggers").optional().describe("Any change runs the step again."))
                .attr(Attribute::string("timeout").default("5m").validate(DurationV).describe("Time limit of one run."))
                .attr(Attribute::number("exit_code").computed().describe("Exit code of the last run (always 0 in state: a failing run fails the apply).")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let cmd = config.get("command");
        if !cmd.is_unknown() && !cmd.is_null() && cmd.elements().is_empty() {
            diags.push_attr_error(
                AttrPath::root("command"),
                "Empty command",
                "`command` needs at least the program to run",
            );
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&D>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if !ctx.is_create() && INPUTS.iter().any(|a| ctx.changed(a)) {
            ctx.set_unknown("exit_code");
        }
        Ok(())
    }

    async fn create(&self, data: &D, plan: &Value) -> ApplyResult {
        self.run(data, plan).await
    }

    async fn read(&self, _data: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        Ok(Some(state.clone()))
    }

    async fn update(&self, data: &D, prior: &Value, plan: &Value) -> ApplyResult {
        if INPUTS.iter().any(|a| prior.get(a) != plan.get(a)) {
            return self.run(data, plan).await;
        }
        let mut s = plan.clone();
        s.set("exit_code", prior.get("exit_code").clone());
        Ok(s)
    }

    async fn delete(&self, _data: &D, _state: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }
}
