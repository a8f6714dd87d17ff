//! The read view of revoked token ids that request handlers consult without a round trip.
//! Only the token blacklist actor writes to it.

use dashmap::DashMap;
use sha2::{Digest, Sha256};

/// Revoked jtis with their expiry (epoch seconds): 20 bytes an entry.
#[derive(Debug, Default)]
pub struct RevokedSet {
    jtis: DashMap<[u8; 16], u32>,
}

/// keyward's jtis are 32 hex digits (16 bytes); anything else is hashed down to 16 bytes.
fn key(jti: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    if jti.len() == 32 && hex::decode_to_slice(jti, &mut out).is_ok() {
        return out;
    }
    let digest = Sha256::digest(jti.as_bytes());
    out.copy_from_slice(&digest[..16]);
    out
}

fn clamp(epoch: i64) -> u32 {
    u32::try_from(epoch.max(0)).unwrap_or(u32::MAX)
}

impl RevokedSet {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            jtis: DashMap::with_capacity(capacity),
        }
    }

    pub fn contains(&self, jti: &str) -> bool {
        self.jtis.contains_key(&key(jti))
    }

    pub(super) fn insert(&self, jti: &str, expires_at: i64) {
        self.jtis.insert(key(jti), clamp(expires_at));
    }

    pub(super) fn remove(&self, jti: &str) {
        self.jtis.remove(&key(jti));
    }

    /// Drops entries that expired before `now`; returns how many.
    pub(super) fn purge(&self, now: i64) -> usize {
        let before = self.jtis.len();
        let now = clamp(now);
        self.jtis.retain(|_, exp| *exp > now);
        before - self.jtis.len()
    }

    pub fn len(&self) -> usize {
        self.jtis.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jtis.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_until_purged_after_expiry() {
        let set = RevokedSet::default();
        set.insert("0123456789abcdef0123456789abcdef", 100);
        set.insert("not-hex", 200);
        assert!(set.contains("0123456789abcdef0123456789abcdef"));
        assert!(set.contains("not-hex"));
        assert!(!set.contains("0123456789abcdef0123456789abcdee"));
        assert_eq!(set.purge(150), 1);
        assert!(!set.contains("0123456789abcdef0123456789abcdef"));
        assert!(set.contains("not-hex"));
    }
}
