//! The read view of ended sessions that request handlers consult without a round trip: an
//! access (or sliding) token whose session id is here is refused at once. An entry stays
//! until the last token the session could have issued has expired. Only the token blacklist
//! actor writes to it.

use std::ops::Deref;

use super::expiring_ids::ExpiringIds;
use crate::db::models::token_session::Ended;
use crate::jwt::Decoded;

#[derive(Debug, Default)]
pub struct EndedSessions {
    ids: ExpiringIds,
    /// How long a token of a session may outlive the session's end: the longest access or
    /// sliding token lifetime, plus the leeway.
    token_window: i64,
}

impl EndedSessions {
    pub fn new(token_window: std::time::Duration, capacity: usize) -> Self {
        Self {
            ids: ExpiringIds::with_capacity(capacity),
            token_window: i64::try_from(token_window.as_secs()).unwrap_or(i64::MAX / 4),
        }
    }

    /// When the entry for a session ended at `ended_at` may leave: once every token it issued
    /// has expired (never after the session's own deadline).
    pub fn until(&self, ended: &Ended) -> i64 {
        self.until_for(
            ended.ended_at.assume_utc().unix_timestamp(),
            ended.expires_at.assume_utc().unix_timestamp(),
        )
    }

    /// As [`Self::until`], for a session ended at `ended_at` with its deadline at `deadline`
    /// (epoch seconds).
    pub fn until_for(&self, ended_at: i64, deadline: i64) -> i64 {
        ended_at.saturating_add(self.token_window).min(deadline)
    }

    /// Whether `token` belongs to a session that has ended (a token from before sessions
    /// belongs to none).
    pub fn holds(&self, token: &Decoded) -> bool {
        token
            .session_id
            .as_deref()
            .is_some_and(|id| self.ids.contains(id))
    }

    /// The oldest end an entry can still need: sessions ended before it are not loaded.
    pub fn window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.token_window).unwrap_or(0))
    }
}

impl Deref for EndedSessions {
    type Target = ExpiringIds;

    fn deref(&self) -> &ExpiringIds {
        &self.ids
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn ended(at: time::PrimitiveDateTime, deadline: time::PrimitiveDateTime) -> Ended {
        Ended {
            id: "0123456789abcdef0123456789abcdef".into(),
            user_id: 1,
            ended_at: at,
            expires_at: deadline,
        }
    }

    #[test]
    fn an_entry_lasts_as_long_as_a_token_of_the_session_can() {
        let set = EndedSessions::new(std::time::Duration::from_secs(300), 0);
        let session = ended(datetime!(2026-12-04 12:00), datetime!(2026-12-31 0:00));
        set.insert(&session.id, set.until(&session));
        let ended_at = datetime!(2026-12-04 12:00).assume_utc().unix_timestamp();
        assert_eq!(set.until(&session), ended_at + 300);
        assert!(set.contains(&session.id));
        assert_eq!(set.purge(ended_at + 299), 0);
        assert_eq!(set.purge(ended_at + 301), 1);
        assert!(!set.contains(&session.id));
    }

    #[test]
    fn no_entry_outlives_the_sessions_deadline() {
        let set = EndedSessions::new(std::time::Duration::from_secs(300), 0);
        let session = ended(datetime!(2026-12-04 12:00), datetime!(2026-12-04 12:01));
        let deadline = datetime!(2026-12-04 12:01).assume_utc().unix_timestamp();
        assert_eq!(set.until(&session), deadline);
    }
}
