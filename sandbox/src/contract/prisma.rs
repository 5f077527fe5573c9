//! The LiteLLM proxy's database schema (`litellm-schema-1.106.2.prisma`), and stored rows held
//! to it: LiteLLM's OpenAPI document leaves most answers untyped (`{}`), but its answers are
//! its database rows, so the simulator's rows are checked against the Prisma models instead
//! (column exists, type, nullability, columns the database fills by default present).
//!
//! A minimal reader of the Prisma schema language, hand-written: Prisma's own parser (`psl`,
//! in prisma-engines) is not published on crates.io, and no other crate in the registry
//! reads the format. Only what the checks need is read: `model` and `enum` blocks, and in a
//! model each field's name, type, `?` / `[]` modifiers, and whether it has `@default` or
//! `@updatedAt`. Block attributes (`@@index`), comments and other field attributes are skipped.

use std::collections::BTreeMap;

use serde_json::Value;

/// One field of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// `String`, `Int`, `BigInt`, `Float`, `Boolean`, `DateTime`, `Json`, `Bytes`, `Decimal`,
    /// an enum's or another model's name.
    pub ty: String,
    /// `Type?`.
    pub optional: bool,
    /// `Type[]`.
    pub list: bool,
    /// `@default(...)` or `@updatedAt`: the database fills it on insert.
    pub filled: bool,
}

/// The models and enums of a schema.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub models: BTreeMap<String, BTreeMap<String, Field>>,
    pub enums: BTreeMap<String, Vec<String>>,
}

impl Schema {
    /// Reads the `model` and `enum` blocks of `text`.
    pub fn parse(text: &str) -> anyhow::Result<Schema> {
        let mut schema = Schema::default();
        let mut lines = text.lines().enumerate();
        while let Some((n, line)) = lines.next() {
            let line = strip_comment(line).trim();
            let mut words = line.split_whitespace();
            let (kind, name) = match (words.next(), words.next()) {
                (Some(k @ ("model" | "enum")), Some(name)) => (k, name.to_string()),
                _ => continue,
            };
            anyhow::ensure!(
                line.ends_with('{'),
                "line {}: `{kind} {name}` without an opening brace",
                n + 1
            );
            let mut fields = BTreeMap::new();
            let mut values = Vec::new();
            loop {
                let Some((m, body)) = lines.next() else {
                    anyhow::bail!("{kind} {name} (line {}) is not closed", n + 1);
                };
                let body = strip_comment(body).trim();
                if body == "}" {
                    break;
                }
                if body.is_empty() || body.starts_with("@@") {
                    continue;
                }
                if kind == "enum" {
                    values.push(body.split_whitespace().next().unwrap_or(body).to_string());
                    continue;
                }
                let mut parts = body.split_whitespace();
                let (Some(field), Some(ty)) = (parts.next(), parts.next()) else {
                    anyhow::bail!("line {}: field without a type: {body:?}", m + 1);
                };
                let attrs: Vec<&str> = parts.collect();
                let (ty, list) = match ty.strip_suffix("[]") {
                    Some(t) => (t, true),
                    None => (ty, false),
                };
                let (ty, optional) = match ty.strip_suffix('?') {
                    Some(t) => (t, true),
                    None => (ty, false),
                };
                let filled = attrs
                    .iter()
                    .any(|a| a.starts_with("@default(") || *a == "@updatedAt");
                fields.insert(
                    field.to_string(),
                    Field {
                        ty: ty.to_string(),
                        optional,
                        list,
                        filled,
                    },
                );
            }
            match kind {
                "model" => schema.models.insert(name, fields).is_none(),
                _ => schema.enums.insert(name, values).is_none(),
            };
        }
        anyhow::ensure!(!schema.models.is_empty(), "no model in the schema");
        Ok(schema)
    }

    /// Every issue of `row` (a JSON object shaped like what Prisma returns for `model`,
    /// relations included or not) as `(field, message)`.
    pub fn check_row(&self, model: &str, row: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(fields) = self.models.get(model) else {
            return vec![(String::new(), format!("no model {model} in the schema"))];
        };
        let Some(obj) = row.as_object() else {
            return vec![(String::new(), "a row that is not an object".into())];
        };
        for (name, value) in obj {
            match fields.get(name) {
                None => out.push((name.clone(), format!("not a field of {model}"))),
                Some(f) => {
                    if let Some(msg) = self.value_issue(f, value) {
                        out.push((name.clone(), msg));
                    }
                }
            }
        }
        for (name, f) in fields {
            if obj.contains_key(name) || self.models.contains_key(&f.ty) {
                continue; // present, or a relation (only there when included)
            }
            if f.filled {
                out.push((
                    name.clone(),
                    "missing; the database fills this column (@default) on insert".into(),
                ));
            } else if f.list {
                out.push((
                    name.clone(),
                    "missing; Prisma returns a list (never null) for this column".into(),
                ));
            } else if !f.optional {
                out.push((name.clone(), "missing; a required column".into()));
            }
        }
        out
    }

    fn value_issue(&self, f: &Field, value: &Value) -> Option<String> {
        if self.models.contains_key(&f.ty) {
            // An included relation: an object (a list for `Model[]`), or null.
            let ok = match value {
                Value::Null => f.optional || f.list,
                Value::Array(_) => f.list,
                Value::Object(_) => !f.list,
                _ => false,
            };
            return (!ok).then(|| format!("not a {} relation: {value}", f.ty));
        }
        if value.is_null() {
            return (!f.optional || f.list).then(|| {
                let what = if f.list { "list" } else { "required" };
                format!("null in a {what} column of type {}", f.ty)
            });
        }
        if f.list {
            let Some(items) = value.as_array() else {
                return Some(format!("{value} where the column is {}[]", f.ty));
            };
            return items.iter().enumerate().find_map(|(i, v)| {
                self.scalar_issue(&f.ty, v)
                    .map(|m| format!("item {i}: {m}"))
            });
        }
        self.scalar_issue(&f.ty, value)
    }

    fn scalar_issue(&self, ty: &str, v: &Value) -> Option<String> {
        let ok = match ty {
            "String" => v.is_string(),
            "Boolean" => v.is_boolean(),
            "Int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "BigInt" => v.is_i64() || v.is_u64(),
            "Float" | "Decimal" => v.is_number(),
            "DateTime" => v
                .as_str()
                .is_some_and(|s| super::schema::format_ok("date-time", s)),
            "Json" => true,
            "Bytes" => v.is_string(),
            e => match self.enums.get(e) {
                Some(values) => v.as_str().is_some_and(|s| values.iter().any(|x| x == s)),
                None => return Some(format!("unknown type {e}")),
            },
        };
        (!ok).then(|| format!("{v} is not a {ty}"))
    }
}

/// A line without its `//` comment (the schema has no `//` inside strings).
fn strip_comment(line: &str) -> &str {
    line.split_once("//").map_or(line, |(code, _)| code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"
datasource client { provider = "postgresql" }
model Team {
    team_id String @id @default(uuid())
    team_alias String? // a comment
    models String[]
    metadata Json @default("{}")
    max_budget Float?
    rpm_limit BigInt?
    status Status @default(ACTIVE)
    created_at DateTime @default(now()) @map("created_at")
    org Org? @relation(fields: [org_id], references: [id])
    @@index([team_alias])
}
model Org {
  id String @id
}
enum Status {
  ACTIVE
  INACTIVE
}
"#;

    #[test]
    fn reads_models_fields_and_enums() {
        let s = Schema::parse(SCHEMA).unwrap();
        let team = &s.models["Team"];
        assert_eq!(team.len(), 9);
        assert_eq!(
            team["team_alias"],
            Field {
                ty: "String".into(),
                optional: true,
                list: false,
                filled: false
            }
        );
        assert!(team["models"].list && !team["models"].filled);
        assert!(team["created_at"].filled && team["metadata"].filled);
        assert_eq!(s.enums["Status"], ["ACTIVE", "INACTIVE"]);
    }

    #[test]
    fn rows_against_a_model() {
        let s = Schema::parse(SCHEMA).unwrap();
        let good = json!({
            "team_id": "t", "team_alias": null, "models": [], "metadata": {"a": 1},
            "rpm_limit": 5, "status": "ACTIVE", "created_at": "2026-01-01T00:00:00Z",
            "org": {"id": "o"}
        });
        assert!(
            s.check_row("Team", &good).is_empty(),
            "{:?}",
            s.check_row("Team", &good)
        );
        let bad = json!({
            "team_id": "t", "models": null, "rpm_limit": 1.5, "status": "GONE",
            "created_at": "yesterday", "extra": 1, "max_budget": "10"
        });
        let mut issues = s.check_row("Team", &bad);
        issues.sort();
        let fields: Vec<&str> = issues.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "created_at",
                "extra",
                "max_budget",
                "metadata",
                "models",
                "rpm_limit",
                "status"
            ],
            "{issues:?}"
        );
        assert!(issues[1].1.contains("not a field of Team"));
        assert!(issues[3].1.contains("@default"));
    }

    #[test]
    fn reads_the_litellm_schema() {
        let dir = crate::contract::Contract::specs_dir();
        let Ok(text) = std::fs::read_to_string(dir.join(super::super::PRISMA_SCHEMA)) else {
            assert!(std::env::var_os("CI").is_none(), "{} absent", dir.display());
            eprintln!("SKIPPED: {} absent", dir.display());
            return;
        };
        let s = Schema::parse(&text).unwrap();
        let key = &s.models["LiteLLM_VerificationToken"];
        assert!(key["budget_fallbacks"].filled && !key["budget_fallbacks"].optional);
        assert!(key["models"].list);
        assert!(s.models["LiteLLM_TeamTable"]["team_member_permissions"].filled);
        assert!(s.models.contains_key("LiteLLM_ProxyModelTable"));
        assert_eq!(s.enums["JobStatus"], ["ACTIVE", "INACTIVE"]);
    }
}
