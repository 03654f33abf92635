//! Bounded caches of verified credentials, keyed by a keyed hash: neither passwords nor tokens
//! are kept, only HMAC-SHA-256 digests under a key made at random for each process.

use core::num::NonZeroUsize;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use hmac::{Hmac, KeyInit, Mac};
use lru::LruCache;
use sha2::Sha256;
use zeroize::Zeroize;

pub type Digest = [u8; 32];

/// An HMAC-SHA-256 key made at random, for digests of credentials.
pub struct DigestKey(Hmac<Sha256>);

impl DigestKey {
    pub fn random() -> Self {
        // A key of the block's length, which HMAC takes as it is.
        let mut secret = [0u8; 64];
        // A failing system RNG leaves a zero key: digests stay unguessable only to the extent
        // the inputs are, which is still no worse than no cache at all.
        let _ = SystemRandom::new().fill(&mut secret);
        let key = DigestKey(Hmac::new(&secret.into()));
        secret.zeroize();
        key
    }

    /// The digest of `parts`, each length-prefixed so that no two lists collide.
    pub fn digest(&self, parts: &[&[u8]]) -> Digest {
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// Up to `max` entries, each valid until its own expiry, least recently used evicted first.
pub struct Cache<V> {
    entries: LruCache<Digest, (V, i64)>,
    key: DigestKey,
    /// Seconds an entry lives at most.
    pub valid: i64,
}

impl<V: Clone> Cache<V> {
    pub fn new(max: NonZeroUsize, valid: i64) -> Self {
        Self {
            entries: LruCache::new(max),
            key: DigestKey::random(),
            valid,
        }
    }

    /// The digest of `parts`, each length-prefixed so that no two lists collide.
    pub fn digest(&self, parts: &[&[u8]]) -> Digest {
        self.key.digest(parts)
    }

    pub fn get(&mut self, digest: &Digest, now: i64) -> Option<V> {
        match self.entries.get(digest) {
            Some((value, expires)) if *expires > now => Some(value.clone()),
            Some(_) => {
                self.entries.pop(digest);
                None
            }
            None => None,
        }
    }

    /// Keeps `value` until `expires`, or `valid` seconds from `now` if that comes first.
    pub fn insert(&mut self, digest: Digest, value: V, now: i64, expires: i64) {
        let expires = expires.min(now.saturating_add(self.valid));
        if expires > now {
            self.entries.put(digest, (value, expires));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max: usize, valid: i64) -> Cache<u32> {
        Cache::new(NonZeroUsize::new(max).unwrap(), valid)
    }

    #[test]
    fn digests_separate_parts() {
        let c = cache(4, 60);
        assert_ne!(c.digest(&[b"ab", b"c"]), c.digest(&[b"a", b"bc"]));
        assert_eq!(c.digest(&[b"ab", b"c"]), c.digest(&[b"ab", b"c"]));
        assert_ne!(
            c.digest(&[b"x"]),
            cache(4, 60).digest(&[b"x"]),
            "keys are per cache"
        );
    }

    #[test]
    fn expiry_and_valid() {
        let mut c = cache(4, 60);
        let d = c.digest(&[b"k"]);
        c.insert(d, 1, 1000, 1010);
        assert_eq!(c.get(&d, 1009), Some(1));
        assert_eq!(c.get(&d, 1010), None);
        assert!(c.is_empty());

        c.insert(d, 2, 1000, i64::MAX);
        assert_eq!(c.get(&d, 1059), Some(2));
        assert_eq!(c.get(&d, 1060), None);

        c.insert(d, 3, 1000, 999);
        assert_eq!(c.get(&d, 1000), None);
    }

    #[test]
    fn bounded_least_recently_used_first() {
        let mut c = cache(2, 60);
        let (a, b, x) = (c.digest(&[b"a"]), c.digest(&[b"b"]), c.digest(&[b"x"]));
        c.insert(a, 1, 0, 100);
        c.insert(b, 2, 0, 100);
        assert_eq!(c.get(&a, 1), Some(1));
        c.insert(x, 3, 0, 100);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&b, 1), None);
        assert_eq!(c.get(&a, 1), Some(1));
        assert_eq!(c.get(&x, 1), Some(3));
    }
}
