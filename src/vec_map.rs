//! A map for the app's small keyed collections (conversations, threads, pending messages):
//! a `Vec` kept sorted by key.
//!
//! `HashMap` and `BTreeMap` are compiled again for every key and value type, several
//! kilobytes of wasm each; this is a binary search and a `Vec`. Lookups are just as fast for a
//! few hundred entries, and iteration is in key order.

use std::ops::Index;

/// A map kept as a `Vec` sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn position(&self, key: &K) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.position(key).ok().map(|i| &mut self.0[i].1)
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: &K) -> bool {
        self.position(key).is_ok()
    }

    /// Sets the value of `key`; returns the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// Takes `key` out.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.position(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The value of `key`, inserted as the default first if missing.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.position(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, V::default()));
                i
            }
        };
        &mut self.0[i].1
    }
}

impl<K, V> VecMap<K, V> {
    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The values, in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<K: Ord, V> Index<&K> for VecMap<K, V> {
    type Output = V;

    fn index(&self, key: &K) -> &V {
        self.get(key).expect("key in map")
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut map = Self::default();
        for (key, value) in entries {
            map.insert(key, value);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut map: VecMap<u32, &str> = [(3, "c"), (1, "a")].into_iter().collect();
        assert_eq!(map.insert(2, "b"), None);
        assert_eq!(map.insert(3, "C"), Some("c"));
        assert_eq!(map.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(map[&3], "C");
        assert!(map.contains_key(&1));
        assert_eq!(map.remove(&1), Some("a"));
        assert_eq!(map.get(&1), None);
        *map.get_mut(&2).unwrap() = "B";
        assert_eq!(map.values().copied().collect::<Vec<_>>(), ["B", "C"]);
        let mut counts: VecMap<u8, u32> = VecMap::default();
        *counts.get_or_default(7) += 1;
        *counts.get_or_default(7) += 1;
        assert_eq!(counts[&7], 2);
        assert_eq!(counts.len(), 1);
        assert!(!counts.is_empty());
    }
}
