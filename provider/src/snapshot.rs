//! Batched refresh: one paged list per resource type answers every `ReadResource` of that type.
//!
//! A refresh reads every object in state. Instead of one GET per object, the first read of a
//! type in this provider process fetches the type's list once (all pages) and later reads are
//! answered from that snapshot. Rules that keep drift detection exact:
//! - any write by this process (create, update, delete) through the same client invalidates
//!   the snapshot: every later read goes back to the server with its single GET (the list is
//!   fetched at most once per process, so mixed reads and writes stay linear);
//! - an object missing from the list, or whose list entry lacks a field the resource reads
//!   back, is read with the single GET, so "deleted outside Terraform" and every drifted
//!   field are decided by the same answer as before;
//! - a list that fails (permissions, an older server without the endpoint) disables the
//!   snapshot for the process: every read falls back to the single GET.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::Mutex;

use crate::http::ApiError;

/// Rows of one list, by the id the resource keeps in state.
pub type Rows = HashMap<String, Json>;

/// Rows as kept in a snapshot: shared, so a read costs no copy of its row.
type SharedRows = HashMap<String, Arc<Json>>;

#[derive(Default)]
enum Slot {
    #[default]
    Empty,
    /// The rows, and the write generation they were listed in.
    Loaded(Arc<SharedRows>, u64),
    /// The list failed once; reads use the single GET for the rest of the process.
    Disabled,
}

/// The list snapshot of one resource type (cheap to clone; clones share it).
#[derive(Clone, Default)]
pub struct ListSnapshot {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    slot: Mutex<Slot>,
    /// Bumped by every write; a list fetched across a write is used once, not kept.
    generation: AtomicU64,
}

impl std::fmt::Debug for ListSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListSnapshot")
            .field("generation", &self.inner.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ListSnapshot {
    pub fn new() -> ListSnapshot {
        ListSnapshot::default()
    }

    /// Forgets the snapshot: call after every write of this type (and before it returns).
    /// A snapshot listed before the bump is never used again, and a list in flight across
    /// the bump is not kept.
    pub fn invalidate(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The list entry for `id`, fetching the list with `load` when there is no snapshot.
    /// Concurrent first reads wait for one load. `None`: not in the list (or no list), so
    /// the caller reads the object with its single GET.
    pub async fn row<F, Fut>(&self, id: &str, load: F) -> Option<Arc<Json>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rows, ApiError>>,
    {
        let mut slot = self.inner.slot.lock().await;
        let generation = self.inner.generation.load(Ordering::SeqCst);
        let rows = match &*slot {
            Slot::Loaded(rows, listed) if *listed == generation => rows.clone(),
            Slot::Disabled => return None,
            // Listed once and written since: later reads use the single GET. Listing again
            // after every write would make a workload that mixes reads and writes (a destroy
            // of N objects) cost N lists of N rows.
            Slot::Loaded(..) => {
                *slot = Slot::Disabled;
                return None;
            }
            Slot::Empty => match load().await {
                Ok(rows) => {
                    let rows: Arc<SharedRows> =
                        Arc::new(rows.into_iter().map(|(k, v)| (k, Arc::new(v))).collect());
                    if self.inner.generation.load(Ordering::SeqCst) == generation {
                        *slot = Slot::Loaded(rows.clone(), generation);
                    } else {
                        // A write happened while listing: the list may predate it.
                        *slot = Slot::Disabled;
                        return None;
                    }
                    rows
                }
                Err(e) => {
                    tracing::debug!(error = %e, "list for batched refresh failed; reading objects one by one");
                    *slot = Slot::Disabled;
                    return None;
                }
            },
        };
        drop(slot);
        rows.get(id).cloned()
    }
}

/// Fetches every page of a paged list: `page(n)` returns the rows of page `n` (from 1) and
/// whether more pages follow. Stops after `max_pages` as a guard against a server that never
/// says it is done.
pub async fn all_pages<F, Fut>(mut page: F, max_pages: u32) -> Result<Vec<Json>, ApiError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<(Vec<Json>, bool), ApiError>>,
{
    let mut out = Vec::new();
    for n in 1..=max_pages {
        let (rows, more) = page(n).await?;
        let empty = rows.is_empty();
        out.extend(rows);
        if !more || empty {
            break;
        }
    }
    Ok(out)
}

/// Whether `row` has every field in `fields` (null counts as present): a list entry without a
/// field the resource reads back cannot stand in for the single GET.
pub fn has_fields<'a>(row: &Json, fields: impl IntoIterator<Item = &'a str>) -> bool {
    let Some(obj) = row.as_object() else {
        return false;
    };
    fields.into_iter().all(|f| obj.contains_key(f))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use serde_json::json;

    use super::*;

    fn rows(ids: &[&str]) -> Rows {
        ids.iter()
            .map(|id| (id.to_string(), json!({ "id": id })))
            .collect()
    }

    #[tokio::test]
    async fn one_load_serves_every_read_until_a_write() {
        let snap = ListSnapshot::new();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(rows(&["a", "b"]))
        };
        assert_eq!(
            snap.row("a", load).await.as_deref(),
            Some(&json!({"id": "a"}))
        );
        assert_eq!(
            snap.row("b", load).await.as_deref(),
            Some(&json!({"id": "b"}))
        );
        assert_eq!(snap.row("gone", load).await, None, "missing: single GET");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        snap.invalidate();
        assert!(
            snap.row("a", load).await.is_none(),
            "after a write: single GET"
        );
        assert_eq!(loads.load(Ordering::SeqCst), 1, "never listed twice");
    }

    #[tokio::test]
    async fn concurrent_first_reads_share_one_load() {
        let snap = ListSnapshot::new();
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (snap, loads) = (snap.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                snap.row(&format!("k{}", i % 3), || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok(rows(&["k0", "k1", "k2"]))
                })
                .await
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().is_some());
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_list_across_a_write_is_not_kept() {
        let snap = ListSnapshot::new();
        let s2 = snap.clone();
        let got = snap
            .row("a", || async move {
                s2.invalidate(); // a write lands while the list is in flight
                Ok(rows(&["a"]))
            })
            .await;
        assert_eq!(got, None, "the read falls back to the single GET");
        let loads = AtomicUsize::new(0);
        let again = snap
            .row("a", || async {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok(rows(&["a"]))
            })
            .await;
        assert_eq!(
            (again, loads.load(Ordering::SeqCst)),
            (None, 0),
            "not listed again"
        );
    }

    #[tokio::test]
    async fn a_failed_list_disables_batching() {
        let snap = ListSnapshot::new();
        let loads = AtomicUsize::new(0);
        let failing = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::Transport {
                service: "t",
                method: reqwest::Method::GET,
                path: "/list".into(),
                message: "refused".into(),
            })
        };
        assert_eq!(snap.row("a", failing).await, None);
        assert_eq!(snap.row("a", failing).await, None);
        assert_eq!(loads.load(Ordering::SeqCst), 1, "not retried per read");
    }

    #[tokio::test]
    async fn pages_until_the_server_says_done() {
        let calls = AtomicUsize::new(0);
        let all = all_pages(
            |n| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { Ok((vec![json!(n)], n < 3)) }
            },
            100,
        )
        .await
        .unwrap();
        assert_eq!(all, vec![json!(1), json!(2), json!(3)]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(has_fields(&json!({"a": null, "b": 1}), ["a", "b"]));
        assert!(!has_fields(&json!({"a": 1}), ["a", "b"]));
    }
}
