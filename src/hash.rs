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

/// Whether `count` labels are all different, `label(i)` the `i`-th: `true`
/// is certain, `false` means that two labels may be the same (their hashes
/// are). Hashes are computed on all cores and compared within buckets small
/// enough for the cache: a million labels take a few milliseconds, where a
/// set of them takes tens.
pub(crate) fn surely_distinct<'a>(count: usize, label: impl Fn(usize) -> &'a str + Sync) -> bool {
    const BUCKET_BITS: u32 = 10;
    let hash = |i: usize| {
        let mut hasher = Fnv::default();
        hasher.write(label(i).as_bytes());
        // FNV's high bits mix least: the top ones pick the bucket.
        hasher.finish().wrapping_mul(0x9e37_79b9_7f4a_7c15)
    };
    if count <= HASH_CHUNK {
        // One task's worth: threads and buckets would cost more than the sort.
        return !has_repeat((0..count).map(hash).collect());
    }
    let hashes = crate::parallel::map(0..count.div_ceil(HASH_CHUNK), |c| {
        (c * HASH_CHUNK..((c + 1) * HASH_CHUNK).min(count))
            .map(hash)
            .collect::<Vec<u64>>()
    });
    let bucket = |h: u64| (h >> (64 - BUCKET_BITS)) as usize;
    let mut starts = vec![0usize; (1 << BUCKET_BITS) + 1];
    for &h in hashes.iter().flatten() {
        starts[bucket(h) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut sorted = vec![0u64; count];
    let mut next = starts.clone();
    for &h in hashes.iter().flatten() {
        sorted[next[bucket(h)]] = h;
        next[bucket(h)] += 1;
    }
    drop(hashes);
    let repeats = crate::parallel::map(0..1 << BUCKET_BITS, |b| {
        has_repeat(sorted[starts[b]..starts[b + 1]].to_vec())
    });
    !repeats.contains(&true)
}

/// Whether a hash occurs twice among `hashes`.
fn has_repeat(mut hashes: Vec<u64>) -> bool {
    hashes.sort_unstable();
    hashes.windows(2).any(|pair| pair[0] == pair[1])
}

/// Labels hashed by one task.
const HASH_CHUNK: usize = 1 << 16;

#[cfg(test)]
mod tests {
    use super::surely_distinct;

    #[test]
    fn distinct_labels_are_told_apart_and_a_repeat_is_found() {
        let labels: Vec<String> = (0..200_000).map(|i| format!("S{i}")).collect();
        assert!(surely_distinct(labels.len(), |i| &labels[i]));
        let mut repeated = labels.clone();
        repeated[150_000] = "S17".into();
        assert!(!surely_distinct(repeated.len(), |i| &repeated[i]));
        assert!(surely_distinct(0, |_| ""));
        assert!(!surely_distinct(2, |_| "same"));
        assert!(surely_distinct(3, |i| ["a", "b", "c"][i]));
    }
}
