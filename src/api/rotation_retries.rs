//! The answers of recent rotations, kept for `refresh_reuse_interval` so that a client retrying
//! with the refresh token it just rotated (two tabs refreshing at once) gets the same new pair
//! instead of a refusal. Memory of this instance only; empty when the interval is 0.

use std::sync::Mutex;
use std::time::Duration;

use dashmap::DashMap;
use serde_json::Value;
use time::OffsetDateTime;

use crate::clock::Clock;

#[derive(Debug, Default)]
pub struct RotationRetries {
    answers: DashMap<String, (Value, OffsetDateTime)>,
    /// When expired answers were last dropped (at most once a second).
    swept_at: Mutex<Option<OffsetDateTime>>,
}

/// How long a retry waits for the answer of a rotation that has committed but not yet been
/// kept here (the two happen microseconds apart).
const WAIT: Duration = Duration::from_millis(250);
const POLL: Duration = Duration::from_millis(5);

impl RotationRetries {
    /// Keeps the answer given for rotating `jti` until `until`.
    pub fn keep(&self, jti: &str, answer: Value, now: OffsetDateTime, until: OffsetDateTime) {
        self.sweep(now);
        self.answers.insert(jti.to_owned(), (answer, until));
    }

    fn sweep(&self, now: OffsetDateTime) {
        let Ok(mut swept_at) = self.swept_at.try_lock() else {
            return;
        };
        if swept_at.is_some_and(|at| now - at < time::Duration::SECOND) {
            return;
        }
        *swept_at = Some(now);
        self.answers.retain(|_, (_, until)| *until > now);
    }

    /// The answer given for rotating `jti`, if it is still kept at `now`.
    pub fn get(&self, jti: &str, now: OffsetDateTime) -> Option<Value> {
        let entry = self.answers.get(jti)?;
        (entry.1 > now).then(|| entry.0.clone())
    }

    /// As [`Self::get`], waiting briefly for an answer about to be kept.
    pub async fn wait_for(&self, jti: &str, clock: &Clock) -> Option<Value> {
        let start = std::time::Instant::now();
        loop {
            if let Some(answer) = self.get(jti, clock.now()) {
                return Some(answer);
            }
            if start.elapsed() >= WAIT {
                return None;
            }
            actix_web::rt::time::sleep(POLL).await;
        }
    }
}
