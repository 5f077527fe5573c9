//! Tables of simulator state: persistent ordered maps that share structure, so the copy of the
//! state each commit works on (see `store`) costs O(1) instead of a copy of every row.

/// An ordered, structure-sharing map (`imbl::OrdMap`), serialised like a `BTreeMap`.
pub type Table<K, V> = imbl::OrdMap<K, V>;

/// The in-place changes `BTreeMap` has and `imbl::OrdMap` lacks.
pub trait TableExt<K, V> {
    /// Calls `f` on every value (each row is copied at most once, on its first change).
    fn values_mut_each(&mut self, f: impl FnMut(&mut V));
    /// Keeps only the rows for which `keep` is true.
    fn retain(&mut self, keep: impl FnMut(&K, &V) -> bool);
}

impl<K: Ord + Clone, V: Clone> TableExt<K, V> for Table<K, V> {
    fn values_mut_each(&mut self, mut f: impl FnMut(&mut V)) {
        let keys: Vec<K> = self.keys().cloned().collect();
        for k in keys {
            if let Some(v) = self.get_mut(&k) {
                f(v);
            }
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let gone: Vec<K> = self
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_reach_the_table_and_not_its_copies() {
        let mut t: Table<u32, u32> = (0u32..10).map(|i| (i, i)).collect();
        let before = t.clone();
        t.values_mut_each(|v| *v *= 2);
        t.retain(|k, _| k % 2 == 0);
        assert_eq!(t.values().copied().collect::<Vec<_>>(), [0, 4, 8, 12, 16]);
        assert_eq!(before.len(), 10);
        assert_eq!(before.get(&3), Some(&3));
    }
}
