//! A set of ids, each kept until its expiry, that request handlers read without a round trip:
//! 20 bytes an entry. keyward's ids (jtis, session ids) are 32 hex digits and are stored as
//! their 16 bytes; any other id is hashed down to 16 bytes.

use std::collections::HashSet;

use dashmap::DashMap;
use sha2::{Digest, Sha256};

/// An id as the set keeps it.
pub type IdKey = [u8; 16];

#[derive(Debug, Default)]
pub struct ExpiringIds {
    ids: DashMap<IdKey, u32>,
}

/// The key the set keeps for `id`.
pub fn key(id: &str) -> IdKey {
    let mut out = [0u8; 16];
    if id.len() == 32 && hex::decode_to_slice(id, &mut out).is_ok() {
        return out;
    }
    let digest = Sha256::digest(id.as_bytes());
    out.copy_from_slice(&digest[..16]);
    out
}

fn clamp(epoch: i64) -> u32 {
    u32::try_from(epoch.max(0)).unwrap_or(u32::MAX)
}

impl ExpiringIds {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            ids: DashMap::with_capacity(capacity),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(&key(id))
    }

    /// Adds `id` until `expires_at` (epoch seconds); a later expiry wins over an earlier one.
    pub fn insert(&self, id: &str, expires_at: i64) {
        let expires_at = clamp(expires_at);
        self.ids
            .entry(key(id))
            .and_modify(|exp| *exp = (*exp).max(expires_at))
            .or_insert(expires_at);
    }

    pub fn remove(&self, id: &str) {
        self.ids.remove(&key(id));
    }

    pub fn remove_key(&self, key: &IdKey) {
        self.ids.remove(key);
    }

    /// Every key held now (a copy, to compare with what the database holds).
    pub fn keys(&self) -> HashSet<IdKey> {
        self.ids.iter().map(|entry| *entry.key()).collect()
    }

    /// Drops entries that expired before `now`; returns how many.
    pub fn purge(&self, now: i64) -> usize {
        let before = self.ids.len();
        let now = clamp(now);
        self.ids.retain(|_, exp| *exp > now);
        before - self.ids.len()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_until_purged_after_expiry() {
        let set = ExpiringIds::default();
        set.insert("0123456789abcdef0123456789abcdef", 100);
        set.insert("not-hex", 200);
        assert!(set.contains("0123456789abcdef0123456789abcdef"));
        assert!(set.contains("not-hex"));
        assert!(!set.contains("0123456789abcdef0123456789abcdee"));
        assert_eq!(set.purge(150), 1);
        assert!(!set.contains("0123456789abcdef0123456789abcdef"));
        assert!(set.contains("not-hex"));
    }

    #[test]
    fn a_later_expiry_is_kept() {
        let set = ExpiringIds::default();
        set.insert("a", 300);
        set.insert("a", 100);
        assert_eq!(set.purge(200), 0);
        assert!(set.contains("a"));
    }
}
