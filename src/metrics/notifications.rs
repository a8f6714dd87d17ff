//! The change listener's metrics (PostgreSQL `LISTEN`/`NOTIFY`, see [`crate::propagation`]),
//! read from its [`ListenerStats`] at scrape time. They are registered when a listener starts
//! ([`super::Metrics::watch_listener`]), so a SQLite instance shows none rather than a
//! listener that looks down.
//!
//! | metric | type |
//! |---|---|
//! | `keyward_notification_listener_up` | gauge: 1 while connected, listening and caught up |
//! | `keyward_notifications_received_total`, `_applied_total`, `_published_total` | counter |
//! | `keyward_notification_listener_connects_total`, `keyward_notification_catch_ups_total` | counter |
//! | `keyward_notification_lag_seconds` | histogram: from the change's transaction on any instance to its application here |

use std::collections::HashMap;
use std::sync::Weak;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Bucket, Counter, Gauge, Histogram, Metric, MetricFamily, MetricType};

use super::pulled::family;

use crate::db::listener::ListenerStats;

const UP: (&str, &str) = (
    "keyward_notification_listener_up",
    "1 while the change listener is connected, listening and caught up; else 0 (polling).",
);
/// A counter's name, help and reading.
type Count = (&'static str, &'static str, fn(&ListenerStats) -> u64);

const COUNTERS: [Count; 5] = [
    (
        "keyward_notifications_received_total",
        "Change notifications read from PostgreSQL.",
        ListenerStats::received,
    ),
    (
        "keyward_notifications_applied_total",
        "Change notifications applied to memory (revocation lists, user cache).",
        ListenerStats::applied,
    ),
    (
        "keyward_notifications_published_total",
        "Notifications this instance published from its listening connection (rotations).",
        ListenerStats::published,
    ),
    (
        "keyward_notification_listener_connects_total",
        "Connections of the change listener: the first one, then one per reconnect.",
        ListenerStats::connects,
    ),
    (
        "keyward_notification_catch_ups_total",
        "Catch-ups from the database: one per connect, plus one per notification not understood.",
        ListenerStats::catch_ups,
    ),
];
const LAG: (&str, &str) = (
    "keyward_notification_lag_seconds",
    "Time from a change's transaction (on any instance) to its application in this one.",
);

/// See the module documentation.
pub(super) struct ListenerCollector {
    stats: Weak<ListenerStats>,
    descs: Vec<Desc>,
}

impl ListenerCollector {
    pub(super) fn new(stats: Weak<ListenerStats>) -> prometheus::Result<Self> {
        let names = [UP, LAG]
            .into_iter()
            .chain(COUNTERS.iter().map(|&(name, help, _)| (name, help)));
        let descs = names
            .map(|(name, help)| Desc::new(name.into(), help.into(), Vec::new(), HashMap::new()))
            .collect::<prometheus::Result<_>>()?;
        Ok(Self { stats, descs })
    }
}

impl Collector for ListenerCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // Gone with its application: nothing left to report.
        let Some(stats) = self.stats.upgrade() else {
            return Vec::new();
        };
        let mut up = Gauge::default();
        up.set_value(if stats.is_listening() { 1.0 } else { 0.0 });
        let mut up_metric = Metric::default();
        up_metric.set_gauge(up);
        let mut families = vec![family(UP, MetricType::GAUGE, up_metric)];
        for (name, help, read) in COUNTERS {
            let mut counter = Counter::default();
            counter.set_value(read(&stats) as f64);
            let mut metric = Metric::default();
            metric.set_counter(counter);
            families.push(family((name, help), MetricType::COUNTER, metric));
        }
        families.push(family(LAG, MetricType::HISTOGRAM, lag(&stats)));
        families
    }
}

fn lag(stats: &ListenerStats) -> Metric {
    let reading = stats.lag();
    let mut histogram = Histogram::default();
    histogram.set_sample_count(reading.count);
    histogram.set_sample_sum(reading.sum_seconds);
    histogram.set_bucket(
        reading
            .buckets
            .iter()
            .map(|&(upper, count)| {
                let mut bucket = Bucket::default();
                bucket.set_upper_bound(upper);
                bucket.set_cumulative_count(count);
                bucket
            })
            .collect(),
    );
    let mut metric = Metric::default();
    metric.set_histogram(histogram);
    metric
}
