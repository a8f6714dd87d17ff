//! The spent refresh tokens of this instance's rotations, waiting to be announced to the other
//! instances. A rotation's blacklist entry is not announced by the database inside the
//! refresh's transaction (a notice there would serialize the commits of all refreshes; see
//! [`crate::db::models::token::Cause`]): the token blacklist queues the token here after the
//! commit, and the change listener publishes what is queued, in batches, from its own
//! connection. Bounded: past [`CAPACITY`] tokens waiting (no listener connection to take
//! them), further ones are left to the revocation sync (`blacklist_sync_interval`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

/// The most tokens waiting at once.
pub const CAPACITY: usize = 10_000;

/// Rotated tokens to announce.
#[derive(Debug, Default)]
pub struct RotatedTokens {
    waiting: Mutex<Batch>,
    dropped: AtomicU64,
}

/// Tokens taken together, and when the oldest of them was queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Epoch milliseconds.
    pub since_ms: i64,
    /// (jti, expiry in epoch seconds).
    pub tokens: Vec<(String, i64)>,
}

impl RotatedTokens {
    /// Queues a token blacklisted by a rotation that committed at `at`.
    pub fn push(&self, jti: &str, expires_at: i64, at: OffsetDateTime) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.tokens.len() >= CAPACITY {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if waiting.tokens.is_empty() {
            waiting.since_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        }
        waiting.tokens.push((jti.to_owned(), expires_at));
    }

    /// Everything queued, if anything is.
    pub fn take(&self) -> Option<Batch> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        (!waiting.tokens.is_empty()).then(|| std::mem::take(&mut *waiting))
    }

    /// Tokens not queued because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_taken_once_and_dated_by_its_oldest_token() {
        let queue = RotatedTokens::default();
        assert_eq!(queue.take(), None);
        let at = OffsetDateTime::from_unix_timestamp(1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        queue.push("a", 2_000, at);
        queue.push("b", 3_000, at + time::Duration::SECOND);
        let batch = queue.take().unwrap_or_else(|| panic!("nothing taken"));
        assert_eq!(batch.since_ms, 1_000_000);
        assert_eq!(
            batch.tokens,
            vec![("a".to_owned(), 2_000), ("b".to_owned(), 3_000)]
        );
        assert_eq!(queue.take(), None);
    }

    #[test]
    fn past_its_capacity_the_queue_drops_and_counts() {
        let queue = RotatedTokens::default();
        for n in 0..CAPACITY + 3 {
            queue.push(&n.to_string(), 1, OffsetDateTime::UNIX_EPOCH);
        }
        assert_eq!(queue.dropped(), 3);
        assert_eq!(queue.take().map(|b| b.tokens.len()), Some(CAPACITY));
    }
}
