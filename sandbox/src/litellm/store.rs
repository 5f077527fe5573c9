//! Server-side state of the LiteLLM simulator, shared by handlers and tests.

use imbl::OrdMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::persist;
use crate::time::{self, Micros};

/// Name of the state file in the state directory.
pub const STATE_FILE: &str = "litellm.json";

/// Everything the simulator stores (persistent maps, so the copy each commit works on costs
/// O(1) instead of a clone of every row). Rows are JSON objects shaped like the
/// proxy's database rows (key rows carry `token`, the sha256 of the key).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Live keys by token.
    pub keys: OrdMap<String, Value>,
    /// Deleted keys by token (with `deleted_at`, `deleted_by`).
    pub deleted_keys: OrdMap<String, Value>,
    /// Teams by `team_id`.
    pub teams: OrdMap<String, Value>,
    /// Models (`LiteLLM_ProxyModelTable` rows) by `model_id`.
    pub models: OrdMap<String, Value>,
    /// Users made by `/team/member_add` (`LiteLLM_UserTable` rows) by `user_id`.
    pub users: OrdMap<String, Value>,
    /// Whether the proxy has an enterprise licence (`LITELLM_LICENSE`): tags, guardrails,
    /// key regeneration, team admins. Off, like a proxy installed from PyPI.
    pub premium: bool,
}

struct Inner {
    state: State,
    dir: Option<PathBuf>,
    last_ts: Micros,
}

/// Cloneable handle on the simulator's state.
#[derive(Clone)]
pub struct Store(Arc<Mutex<Inner>>);

/// sha256 of a key, lowercase hex (LiteLLM's "token").
pub fn hash_token(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Hashes values starting with `sk-`; other values are taken to be hashes.
pub fn hash_if_needed(key_or_hash: &str) -> String {
    if key_or_hash.starts_with("sk-") {
        hash_token(key_or_hash)
    } else {
        key_or_hash.to_owned()
    }
}

impl Store {
    /// An empty store that is not persisted.
    pub fn in_memory() -> Self {
        Self::with(State::default(), None)
    }

    /// Loads `dir/litellm.json` (empty state when absent); every later change is saved there.
    pub fn open(dir: Option<&Path>) -> anyhow::Result<Self> {
        let state = match dir {
            Some(d) => persist::load(d, STATE_FILE)?.unwrap_or_default(),
            None => State::default(),
        };
        Ok(Self::with(state, dir.map(Path::to_path_buf)))
    }

    fn with(state: State, dir: Option<PathBuf>) -> Self {
        Store(Arc::new(Mutex::new(Inner {
            state,
            dir,
            last_ts: 0,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the whole state.
    pub fn snapshot(&self) -> State {
        self.lock().state.clone()
    }

    /// A live key row, by key (`sk-...`) or token.
    pub fn key(&self, key_or_hash: &str) -> Option<Value> {
        self.lock()
            .state
            .keys
            .get(&hash_if_needed(key_or_hash))
            .cloned()
    }

    /// A team row.
    pub fn team(&self, team_id: &str) -> Option<Value> {
        self.lock().state.teams.get(team_id).cloned()
    }

    /// Changes the state directly (e.g. to set `spend` or `expires` in a test) and saves it.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut State) -> R) -> anyhow::Result<R> {
        let mut inner = self.lock();
        let out = f(&mut inner.state);
        if let Some(dir) = &inner.dir {
            persist::save(dir, STATE_FILE, &inner.state)?;
        }
        Ok(out)
    }

    /// Reads the state.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock().state)
    }

    /// Runs a change on a copy of the state, given a timestamp unique to this
    /// change; on success saves the copy and makes it current, so failed or
    /// unsaved changes leave nothing behind.
    pub(crate) fn commit<R>(
        &self,
        f: impl FnOnce(&mut State, Micros) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut inner = self.lock();
        let now = time::now().max(inner.last_ts + 1);
        inner.last_ts = now;
        let mut next = inner.state.clone();
        let out = f(&mut next, now)?;
        if let Some(dir) = &inner.dir {
            persist::save(dir, STATE_FILE, &next)
                .map_err(|e| ApiError::Internal(format!("{e:#}")))?;
        }
        inner.state = next;
        Ok(out)
    }
}
