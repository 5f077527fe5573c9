//! A generic, cloneable, optionally persisted state store for simulators:
//! changes run on a copy that is saved and made current only when they
//! succeed, so a failed request leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::persist;
use crate::time::{self, Micros};

struct Inner<S> {
    state: S,
    dir: Option<PathBuf>,
    file: &'static str,
    last_ts: Micros,
}

/// Handle on one simulator's state `S`, saved as `file` in the state directory.
pub struct JsonStore<S>(Arc<Mutex<Inner<S>>>);

impl<S> Clone for JsonStore<S> {
    fn clone(&self) -> Self {
        JsonStore(self.0.clone())
    }
}

impl<S> JsonStore<S>
where
    S: Clone + Default + Serialize + DeserializeOwned,
{
    /// Loads `dir/file` (default state when absent or `dir` is `None`).
    pub fn open(dir: Option<&Path>, file: &'static str) -> anyhow::Result<Self> {
        let state = match dir {
            Some(d) => persist::load(d, file)?.unwrap_or_default(),
            None => S::default(),
        };
        Ok(JsonStore(Arc::new(Mutex::new(Inner {
            state,
            dir: dir.map(Path::to_path_buf),
            file,
            last_ts: 0,
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> S {
        self.lock().state.clone()
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&self.lock().state)
    }

    /// Changes the state directly (tests, drift made "by hand") and saves it.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut S) -> R) -> anyhow::Result<R> {
        let mut inner = self.lock();
        let out = f(&mut inner.state);
        if let Some(dir) = &inner.dir {
            persist::save(dir, inner.file, &inner.state)?;
        }
        Ok(out)
    }

    /// Runs a change on a copy of the state with a timestamp unique to this
    /// change; on `Ok` saves the copy and makes it current. A save failure is
    /// turned into `E` by `on_save_error`.
    pub fn commit<R, E>(
        &self,
        f: impl FnOnce(&mut S, Micros) -> Result<R, E>,
        on_save_error: impl FnOnce(anyhow::Error) -> E,
    ) -> Result<R, E> {
        let mut inner = self.lock();
        let now = time::now().max(inner.last_ts + 1);
        inner.last_ts = now;
        let mut next = inner.state.clone();
        let out = f(&mut next, now)?;
        if let Some(dir) = &inner.dir {
            persist::save(dir, inner.file, &next).map_err(on_save_error)?;
        }
        inner.state = next;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn failed_commit_leaves_state_and_saves_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s: JsonStore<BTreeMap<String, u32>> =
            JsonStore::open(Some(dir.path()), "t.json").unwrap();
        s.commit(
            |m, _| Ok::<_, String>(m.insert("a".into(), 1)),
            |e| e.to_string(),
        )
        .unwrap();
        let r = s.commit(
            |m, _| {
                m.insert("b".into(), 2);
                Err::<(), _>("no".to_string())
            },
            |e| e.to_string(),
        );
        assert!(r.is_err());
        assert_eq!(s.snapshot().len(), 1);
        let again: JsonStore<BTreeMap<String, u32>> =
            JsonStore::open(Some(dir.path()), "t.json").unwrap();
        assert_eq!(again.snapshot().get("a"), Some(&1));
    }
}
