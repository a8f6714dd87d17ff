//! Console sign-in throttling: failed attempts counted per client address and per username in
//! a sliding window, in memory (one instance's view).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use dashmap::DashMap;

#[derive(Debug)]
pub struct LoginThrottle {
    failures: DashMap<String, VecDeque<Instant>>,
    max: usize,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            failures: DashMap::new(),
            max: max as usize,
            window,
        }
    }

    fn recent(&self, key: &str, now: Instant) -> usize {
        let Some(mut entry) = self.failures.get_mut(key) else {
            return 0;
        };
        while entry
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            entry.pop_front();
        }
        entry.len()
    }

    /// `Some(wait)` when this address or username has used up its attempts.
    pub fn blocked(&self, address: &str, username: &str) -> Option<Duration> {
        let now = Instant::now();
        let keys = [
            format!("addr:{address}"),
            format!("user:{}", username.to_lowercase()),
        ];
        keys.iter()
            .filter(|k| self.recent(k, now) >= self.max)
            .filter_map(|k| self.failures.get(k).and_then(|q| q.front().copied()))
            .map(|oldest| self.window.saturating_sub(now.duration_since(oldest)))
            .max()
    }

    pub fn record_failure(&self, address: &str, username: &str) {
        let now = Instant::now();
        for key in [
            format!("addr:{address}"),
            format!("user:{}", username.to_lowercase()),
        ] {
            let mut entry = self.failures.entry(key).or_default();
            entry.push_back(now);
            while entry.len() > self.max {
                entry.pop_front();
            }
        }
    }

    /// A successful sign-in clears the username's count (not the address's).
    pub fn record_success(&self, username: &str) {
        self.failures
            .remove(&format!("user:{}", username.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_in_the_window_is_blocked() {
        let throttle = LoginThrottle::new(5, Duration::from_secs(60));
        for _ in 0..4 {
            throttle.record_failure("1.2.3.4", "alice");
        }
        assert!(throttle.blocked("1.2.3.4", "alice").is_none());
        throttle.record_failure("1.2.3.4", "alice");
        assert!(throttle.blocked("1.2.3.4", "alice").is_some());
        assert!(
            throttle.blocked("5.6.7.8", "Alice").is_some(),
            "per username too, case-insensitive"
        );
        assert!(throttle.blocked("5.6.7.8", "bob").is_none());
    }
}
