//! Metrics of a listener for revocations announced by other instances (PostgreSQL
//! `LISTEN`/`NOTIFY`). keyward's revocation sync reads the database on a timer; a listener,
//! where one runs, takes [`super::Metrics::notifications`] when it starts and reports through
//! it. The series are registered on that first call, so an instance without a listener
//! (SQLite, or the feature off) shows none rather than a listener that looks down.

use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Opts, Registry};

/// Lag buckets, in seconds: from the revoking instance's commit to this instance's memory.
const LAG_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A listener's counters, its lag histogram and its state.
#[derive(Clone)]
pub struct NotificationMetrics {
    received: IntCounter,
    applied: IntCounter,
    lag: Histogram,
    listening: IntGauge,
}

impl NotificationMetrics {
    pub(super) fn new() -> prometheus::Result<Self> {
        Ok(Self {
            received: IntCounter::with_opts(Opts::new(
                "keyward_notifications_received_total",
                "Revocation notifications received from other instances.",
            ))?,
            applied: IntCounter::with_opts(Opts::new(
                "keyward_notifications_applied_total",
                "Revocation notifications applied to the in-memory lists.",
            ))?,
            lag: Histogram::with_opts(
                HistogramOpts::new(
                    "keyward_notification_lag_seconds",
                    "Time from a revocation's commit on another instance to its application here.",
                )
                .buckets(LAG_BUCKETS.to_vec()),
            )?,
            listening: IntGauge::with_opts(Opts::new(
                "keyward_notification_listener_up",
                "1 while the notification listener is connected and listening, else 0.",
            ))?,
        })
    }

    pub(super) fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.received.clone()))?;
        registry.register(Box::new(self.applied.clone()))?;
        registry.register(Box::new(self.lag.clone()))?;
        registry.register(Box::new(self.listening.clone()))
    }

    /// A notification arrived.
    pub fn received(&self) {
        self.received.inc();
    }

    /// A notification was applied, `lag` after its commit.
    pub fn applied(&self, lag: Duration) {
        self.applied.inc();
        self.lag.observe(lag.as_secs_f64());
    }

    /// The listener connected and listens (`true`), or lost its connection (`false`).
    pub fn listening(&self, up: bool) {
        self.listening.set(i64::from(up));
    }
}
