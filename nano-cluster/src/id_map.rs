//! [`IdMap`]: a map keyed by the ids this process hands out (its sessions' and its calls'),
//! hashed with one multiplication instead of SipHash: the keys come from counters, not from
//! the network, so there is no flooding of one bucket to defend against, and every forwarded
//! message looks several of them up.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from ids this process handed out.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Hashes one `u64` by multiplying it with an odd constant: consecutive ids differ in the low
/// bits (the bucket) and the product spreads them into the high bits (the tag hashbrown
/// compares first).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

/// 2^64 divided by the golden ratio, rounded to odd.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only ids are hashed (`write_u64`); anything else still hashes correctly.
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = (self.0.rotate_left(5) ^ id).wrapping_mul(SPREAD);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn consecutive_ids_spread_over_buckets_and_tags() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let base = (12_345_u64 << 32) + 1;
        let hashes: Vec<u64> = (0..1024).map(|n| build.hash_one(base + n)).collect();
        // The low 10 bits (a 1,024-bucket table) are all different...
        let buckets: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 1023).collect();
        assert_eq!(buckets.len(), 1024);
        // ...and the top 7 bits (the tag) take most of their 128 values.
        let tags: std::collections::HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(tags.len() > 100, "{} tags", tags.len());
        let mut map = IdMap::default();
        map.insert(base, "a");
        assert_eq!(map.get(&base), Some(&"a"));
    }
}
