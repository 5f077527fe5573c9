//! Findings read from the plan's `configuration` section rather than from drift: choices in the
//! HCL that hand a secret to more people than it should reach.
//!
//! Today one rule: a `webide_coder_template` whose `tf_vars` reference the value the `webide`
//! provider uses as the LiteLLM master key. Template variables are readable by every template
//! admin (and by every workspace build's provisioner), so the master key would leave the admins'
//! hands; workspaces should get their keys through a narrow provisioning credential instead.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::Severity;

/// One finding about the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Configuration address of the resource (`module.x.webide_coder_template.y`).
    pub address: String,
    pub severity: Severity,
    pub message: String,
}

/// Every reference an expression (or a nested block's expressions) makes.
fn references(expr: &Json, out: &mut BTreeSet<String>) {
    match expr {
        Json::Object(m) => {
            if let Some(Json::Array(refs)) = m.get("references") {
                out.extend(refs.iter().filter_map(Json::as_str).map(str::to_string));
            }
            for (k, v) in m {
                if k != "references" {
                    references(v, out);
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// References made by `litellm.master_key` of the `webide` provider configurations declared in
/// the module at `module_address` ("" for the root module).
fn master_key_refs(config: &Json, module_address: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(providers) = config.get("provider_config").and_then(Json::as_object) else {
        return out;
    };
    for p in providers.values() {
        let name = p.get("name").and_then(Json::as_str).unwrap_or_default();
        let module = p
            .get("module_address")
            .and_then(Json::as_str)
            .unwrap_or_default();
        if name != "webide" || module != module_address {
            continue;
        }
        if let Some(blocks) = p.pointer("/expressions/litellm") {
            for b in blocks
                .as_array()
                .into_iter()
                .flatten()
                .chain(blocks.as_object().map(|_| blocks))
            {
                if let Some(mk) = b.get("master_key") {
                    references(mk, &mut out);
                }
            }
        }
    }
    // `var.x.y` style references also list their prefix `var.x`; only variables and locals
    // are compared (a resource attribute would be a generated value, not the master key).
    out.retain(|r| r.starts_with("var.") || r.starts_with("local."));
    out
}

fn walk(config: &Json, module: &Json, module_address: &str, out: &mut Vec<Finding>) {
    let master = master_key_refs(config, module_address);
    for r in module
        .get("resources")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if r.get("type").and_then(Json::as_str) != Some("webide_coder_template") {
            continue;
        }
        let mut refs = BTreeSet::new();
        if let Some(tf_vars) = r.pointer("/expressions/tf_vars") {
            references(tf_vars, &mut refs);
        }
        let shared: Vec<&String> = refs.intersection(&master).collect();
        if shared.is_empty() {
            continue;
        }
        let local = r
            .get("address")
            .and_then(Json::as_str)
            .unwrap_or("webide_coder_template");
        let address = if module_address.is_empty() {
            local.to_string()
        } else {
            format!("{module_address}.{local}")
        };
        out.push(Finding {
            address,
            severity: Severity::Critical,
            message: format!(
                "tf_vars pass {} — the value the provider uses as the LiteLLM master key — to the template: every template admin and every workspace build can read it. Give the template a provisioning credential that can only make keys for its team instead.",
                shared.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    if let Some(calls) = module.get("module_calls").and_then(Json::as_object) {
        for (name, call) in calls {
            if let Some(child) = call.get("module") {
                let addr = if module_address.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{module_address}.module.{name}")
                };
                walk(config, child, &addr, out);
            }
        }
    }
}

/// The findings of a plan's `configuration` section (none when the plan JSON has none).
pub fn findings(plan: &Json) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(config) = plan.get("configuration") {
        if let Some(root) = config.get("root_module") {
            walk(config, root, "", &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(tf_vars_refs: &[&str]) -> Json {
        json!({
            "format_version": "1.0",
            "configuration": {
                "provider_config": {
                    "webide": {
                        "name": "webide",
                        "full_name": "registry.terraform.io/webide/webide",
                        "expressions": {
                            "litellm": [{
                                "url": {"references": ["var.litellm_url"]},
                                "master_key": {"references": ["var.litellm_master_key"]}
                            }]
                        }
                    }
                },
                "root_module": {
                    "resources": [{
                        "address": "webide_coder_template.contractor",
                        "mode": "managed",
                        "type": "webide_coder_template",
                        "name": "contractor",
                        "provider_config_key": "webide",
                        "expressions": {
                            "name": {"constant_value": "contractor-workspace"},
                            "tf_vars": {"references": tf_vars_refs}
                        }
                    }]
                }
            }
        })
    }

    #[test]
    fn master_key_in_tf_vars_is_critical() {
        let f = findings(&plan(&["var.litellm_master_key", "var.gitea_url"]));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].address, "webide_coder_template.contractor");
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(
            f[0].message.contains("`var.litellm_master_key`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn other_tf_vars_are_fine() {
        assert!(findings(&plan(&["var.provisioner_key", "var.gitea_url"])).is_empty());
        assert!(findings(&json!({"format_version": "1.0"})).is_empty());
    }
}
