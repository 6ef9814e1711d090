//! A map kept as a sorted vector, for the maps of the world, the sockets and the snapshots.
//!
//! It behaves like `BTreeMap` where sockscope uses one (ordered iteration, `get`, `insert`,
//! `remove`, `get_or_insert_with` for `entry`), and serializes the same way, so traces and
//! snapshots are unchanged. Most of its maps hold a handful of entries (a process's
//! descriptors, a socket's timers, the segments in flight); the largest are a host's
//! connections and ports, up to tens of thousands in the engine's benchmark, where an insert
//! moves part of the vector but a lookup is a binary search; the benchmark's lifecycle rate
//! stayed within its run-to-run noise when the world's maps changed over.
//!
//! The reason for it is size: every key and value type of a `BTreeMap` brings its own copy of
//! the tree's node code, about 2 to 4 KB of WebAssembly each, while a sorted vector's code is
//! a binary search and a `Vec::insert`.

use std::borrow::Borrow;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A map from `K` to `V`, ordered by key.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { entries: Vec::new() }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        VecMap { entries: Vec::new() }
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(candidate, _)| candidate.borrow().cmp(key))
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (key, value));
                None
            }
        }
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|index| &self.entries[index].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|index| &mut self.entries[index].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Removes a key; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|index| self.entries.remove(index).1)
    }

    /// The value of `key`, inserted from `make` first when missing (`entry().or_insert_with()`).
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let index = match self.find(&key) {
            Ok(index) => index,
            Err(index) => {
                self.entries.insert(index, (key, make()));
                index
            }
        };
        &mut self.entries[index].1
    }
}

impl<K, V> VecMap<K, V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.into_iter()
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, value)| value)
    }

    /// Removes the `count` entries with the smallest keys (all of them if there are fewer).
    pub fn remove_first(&mut self, count: usize) {
        self.entries.drain(..count.min(self.entries.len()));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = VecMap::new();
        for (key, value) in iter {
            map.insert(key, value);
        }
        map
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(key, value)| (key, value))
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Serialized as a map, exactly as a `BTreeMap` with the same entries.
impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A run of inserts, replacements and removals leaves the same entries, in the same
    /// order, as a `BTreeMap` given the same operations.
    #[test]
    fn behaves_like_a_btree_map() {
        let mut ours = VecMap::new();
        let mut theirs = BTreeMap::new();
        let mut state = 7u32;
        for step in 0..2000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = (state >> 16) % 64;
            match step % 5 {
                0..=2 => assert_eq!(ours.insert(key, step), theirs.insert(key, step)),
                3 => assert_eq!(ours.remove(&key), theirs.remove(&key)),
                _ => {
                    *ours.get_or_insert_with(key, || 0) += 1;
                    *theirs.entry(key).or_insert(0) += 1;
                }
            }
            assert_eq!(ours.get(&key), theirs.get(&key));
            assert_eq!(ours.contains_key(&(key + 1)), theirs.contains_key(&(key + 1)));
        }
        assert!(ours.iter().eq(theirs.iter()));
        assert_eq!(ours.len(), theirs.len());
        ours.remove_first(2);
        for _ in 0..2 {
            theirs.pop_first();
        }
        assert!(ours.keys().eq(theirs.keys()));
        assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap());
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        let collected: VecMap<u32, u32> = theirs.clone().into_iter().collect();
        assert!(collected.iter().eq(theirs.iter()));
    }
}
