//! The change listener's state and counters: plain atomics written by its thread and read by
//! health checks and, at scrape time, by the metrics. No lock, no allocation when recording.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the lag histogram's buckets, in microseconds (1 ms to 5 s); a lag above the
/// last counts only in the total.
pub const LAG_BUCKETS_MICROS: [u64; 12] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000,
];

/// See the module documentation.
#[derive(Debug, Default)]
pub struct ListenerStats {
    listening: AtomicBool,
    received: AtomicU64,
    applied: AtomicU64,
    published: AtomicU64,
    connects: AtomicU64,
    catch_ups: AtomicU64,
    last_lag_micros: AtomicU64,
    backend_pid: AtomicI64,
    lag: LagHistogram,
}

/// How long applied notifications took from their transaction's start, as bucket counts.
#[derive(Debug, Default)]
pub struct LagHistogram {
    /// Per bucket of [`LAG_BUCKETS_MICROS`], not cumulative.
    buckets: [AtomicU64; LAG_BUCKETS_MICROS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// A reading of the lag histogram, cumulative as Prometheus exposes it.
#[derive(Debug, Clone, PartialEq)]
pub struct LagReading {
    /// `(upper bound in seconds, observations at or below it)`, one per bucket.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl LagHistogram {
    fn observe(&self, lag: Duration) {
        let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
        if let Some(i) = LAG_BUCKETS_MICROS.iter().position(|&upper| micros <= upper) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> LagReading {
        let mut seen = 0;
        let buckets = LAG_BUCKETS_MICROS
            .iter()
            .zip(&self.buckets)
            .map(|(&upper, n)| {
                seen += n.load(Ordering::Relaxed);
                (upper as f64 / 1e6, seen)
            })
            .collect();
        LagReading {
            buckets,
            // Never below the last bucket, though a reading races with recording.
            count: self.count.load(Ordering::Relaxed).max(seen),
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

impl ListenerStats {
    /// Connected, listening and caught up: changes of other instances arrive at once.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Notifications read from the server.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Notifications understood and applied.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
    }

    /// Payloads this instance published from the listening connection.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Successful connections (the first one, then one per reconnect).
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// Catch-ups from the database (one per connect, plus one per notification not understood).
    pub fn catch_ups(&self) -> u64 {
        self.catch_ups.load(Ordering::Relaxed)
    }

    /// How long the last applied notification took from its transaction's start.
    pub fn last_lag(&self) -> Duration {
        Duration::from_micros(self.last_lag_micros.load(Ordering::Relaxed))
    }

    /// Every applied notification's lag so far, where it was known.
    pub fn lag(&self) -> LagReading {
        self.lag.read()
    }

    /// The server process id of the listening connection (0 while there is none).
    pub fn backend_pid(&self) -> i64 {
        self.backend_pid.load(Ordering::Relaxed)
    }

    pub(super) fn record_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_applied(&self, lag: Option<Duration>) {
        self.applied.fetch_add(1, Ordering::Relaxed);
        if let Some(lag) = lag {
            let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
            self.last_lag_micros.store(micros, Ordering::Relaxed);
            self.lag.observe(lag);
        }
    }

    pub(super) fn record_published(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_catch_up(&self) {
        self.catch_ups.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn mark_up(&self, pid: i64) {
        self.backend_pid.store(pid, Ordering::Relaxed);
        self.connects.fetch_add(1, Ordering::Relaxed);
        self.listening.store(true, Ordering::Release);
    }

    /// Whether it was listening until now.
    pub(super) fn mark_down(&self) -> bool {
        self.backend_pid.store(0, Ordering::Relaxed);
        self.listening.swap(false, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_land_in_cumulative_buckets_and_the_total() {
        let stats = ListenerStats::default();
        stats.record_applied(Some(Duration::from_micros(900)));
        stats.record_applied(Some(Duration::from_millis(7)));
        stats.record_applied(Some(Duration::from_secs(9)));
        stats.record_applied(None);
        let lag = stats.lag();
        assert_eq!(stats.applied(), 4);
        assert_eq!(lag.count, 3, "an unknown lag is not observed");
        assert_eq!(lag.buckets[0], (0.001, 1));
        assert_eq!(lag.buckets[2], (0.005, 1), "7 ms is above 5 ms");
        assert_eq!(lag.buckets[3], (0.01, 2));
        assert_eq!(lag.buckets[11], (5.0, 2), "9 s is in no bucket");
        assert!(
            (lag.sum_seconds - 9.0079).abs() < 1e-9,
            "{}",
            lag.sum_seconds
        );
        assert_eq!(stats.last_lag(), Duration::from_secs(9));
    }
}
