//! A fast hash for study and cluster labels: grouping a million labels with
//! the standard library's DoS-resistant SipHash costs more than the model fit,
//! and labels come from the user's own file.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A map keyed by labels.
pub(crate) type LabelMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
/// A set of labels.
pub(crate) type LabelSet<K> = HashSet<K, BuildHasherDefault<Fnv>>;
