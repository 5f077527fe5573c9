//! The LiteLLM simulator's stored rows against the proxy's Prisma models, after every write:
//! the rows added or changed since the last check (a diff of the persistent maps, so the
//! cost follows the change, not the table size).

use std::sync::{Arc, Mutex};

use imbl::ordmap::DiffItem;
use imbl::OrdMap;
use serde_json::Value;

use super::prisma::Schema;
use super::RowCheck;
use crate::litellm::{State, Store};

/// The simulator's tables and the Prisma model each row is held to.
const TABLES: [(&str, fn(&State) -> &OrdMap<String, Value>); 5] = [
    ("LiteLLM_VerificationToken", |s| &s.keys),
    ("LiteLLM_DeletedVerificationToken", |s| &s.deleted_keys),
    ("LiteLLM_TeamTable", |s| &s.teams),
    ("LiteLLM_ProxyModelTable", |s| &s.models),
    ("LiteLLM_UserTable", |s| &s.users),
];

/// A [`RowCheck`] over `store`: issues as `(Model.field, "row <id>: message")`.
pub fn litellm(schema: Arc<Schema>, store: Store) -> RowCheck {
    let last = Mutex::new(State::default());
    Arc::new(move || {
        let now = store.snapshot();
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for (model, table) in TABLES {
            for item in table(&last).diff(table(&now)) {
                let (id, row) = match item {
                    DiffItem::Add(id, row) => (id, row),
                    DiffItem::Update { new, .. } => (new.0, new.1),
                    DiffItem::Remove(..) => continue,
                };
                for (field, message) in schema.check_row(model, row) {
                    out.push((
                        format!("{model}.{field}"),
                        format!("row {}: {message}", short(id)),
                    ));
                }
            }
        }
        *last = now;
        out
    })
}

/// A row id for messages (key tokens are 64 hex digits).
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
