//! The session settings the token endpoints apply: the absolute lifetime, the idle timeout,
//! reuse detection and its grace interval.

use std::time::Duration;

use time::{OffsetDateTime, PrimitiveDateTime};

use crate::config::Settings;
use crate::db::stored_time;

#[derive(Debug, Clone)]
pub struct SessionPolicy {
    pub max_lifetime: Duration,
    pub idle_timeout: Option<Duration>,
    pub reuse_interval: Option<Duration>,
    /// Only the current refresh token of a session may be used; any older one presented is a
    /// reuse that ends the session. On when rotated tokens are blacklisted.
    pub strict: bool,
}

impl SessionPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        let nonzero = |d: Duration| (!d.is_zero()).then_some(d);
        Self {
            max_lifetime: settings.session_max_lifetime,
            idle_timeout: nonzero(settings.session_idle_timeout),
            reuse_interval: nonzero(settings.refresh_reuse_interval),
            strict: settings.rotate_refresh_tokens && settings.blacklist_after_rotation,
        }
    }

    /// The deadline of a session started at `now`, in epoch seconds.
    pub fn deadline(&self, now: OffsetDateTime) -> i64 {
        let lifetime = i64::try_from(self.max_lifetime.as_secs()).unwrap_or(i64::MAX / 4);
        now.unix_timestamp().saturating_add(lifetime)
    }

    /// Sessions last refreshed at or before this are idle.
    pub fn idle_before(&self, now: OffsetDateTime) -> Option<PrimitiveDateTime> {
        self.idle_timeout.map(|idle| stored_time(now - idle))
    }

    /// Rotations at or after this make a repeat of the old token a retry.
    pub fn grace_since(&self, now: OffsetDateTime) -> Option<PrimitiveDateTime> {
        self.reuse_interval.map(|grace| stored_time(now - grace))
    }
}
