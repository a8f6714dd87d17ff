//! Prometheus metrics, served as text at `GET /metrics` on a listener of its own
//! (`metrics_bind`; off by default), optionally behind a bearer token (`metrics_token`).
//!
//! Each application has its own registry, built once at start and passed as app data; nothing
//! is global, so applications with different settings can run in one process. Requests are
//! counted by each worker in counters of its own, added up at scrape time (see [`RouteLabel`]); the
//! other counters and histograms are atomics shared by the workers, on paths that already
//! wait for an actor. Recording takes no lock and allocates nothing. State that already lives
//! elsewhere (the in-memory lists, the user cache, the pool) is read when a scrape asks, not
//! kept up to date on every request.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `keyward_http_requests_total` | counter | `route` (matched pattern or `unmatched`), `method`, `status` (`2xx` ...) |
//! | `keyward_http_request_duration_seconds` | histogram | `route`, `method` |
//! | `keyward_sign_ins_total` | counter | `via` (`token`, `sliding`, `console`), `outcome` (`ok`, `failed`, `throttled`, `error`) |
//! | `keyward_refreshes_total` | counter | `kind` (`pair`, `sliding`), `outcome` (`ok`, `refused`, `error`) |
//! | `keyward_refresh_reuse_total` | counter | |
//! | `keyward_tokens_blacklisted_total`, `keyward_sessions_ended_total` | counter | |
//! | `keyward_actor_call_duration_seconds` | histogram | `actor` (`user_manager`, `user_reader`, `token_blacklist`) |
//! | `keyward_revoked_tokens`, `keyward_ended_sessions`, `keyward_user_cache_entries` | gauge | |
//! | `keyward_db_pool_max_connections`, `_connections`, `_idle_connections`, `_in_use_connections`, `keyward_db_up` | gauge | |
//! | `keyward_db_pool_checkouts_total`, `_wait_seconds_total`, `_timeouts_total`, `_unavailable_total` | counter | |
//! | `keyward_build_info` | gauge (1) | `version` |
//! | `process_start_time_seconds` | gauge | |
//! | `keyward_notifications_*`, `keyward_notification_*` | | the change listener's, on PostgreSQL: see [`notifications`] |

mod calls;
mod http;
mod middleware;
mod notifications;
mod pulled;
mod scrape;
mod state;
mod tokens;

use std::sync::Weak;

use prometheus::proto::MetricFamily;
use prometheus::{Gauge, IntGaugeVec, Opts, Registry};

use crate::db::listener::ListenerStats;

pub use calls::{ActorCalls, Mailbox, timed};
pub use http::{HttpMetrics, RouteLabel, UNMATCHED};
pub use middleware::RecordRequests;
pub use scrape::serve;
pub use state::Sources;
pub use tokens::{RefreshKind, RevocationCounters, SignInOutcome, SignInVia, TokenEvents};

/// An application's metrics: its registry and the handles that record into it.
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
    pub tokens: TokenEvents,
    pub revocations: RevocationCounters,
    pub calls: ActorCalls,
}

impl Metrics {
    /// Registers every metric; `started` is the process start, in seconds since the epoch.
    pub fn new(sources: Sources, started: f64) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let build = IntGaugeVec::new(
            Opts::new("keyward_build_info", "keyward's version; always 1."),
            &["version"],
        )?;
        build
            .get_metric_with_label_values(&[env!("CARGO_PKG_VERSION")])?
            .set(1);
        registry.register(Box::new(build))?;
        let start = Gauge::with_opts(Opts::new(
            "process_start_time_seconds",
            "When keyward started, in seconds since the Unix epoch.",
        ))?;
        start.set(started);
        registry.register(Box::new(start))?;
        state::register(&registry, sources)?;
        Ok(Self {
            http: HttpMetrics::register(&registry)?,
            tokens: TokenEvents::register(&registry)?,
            revocations: RevocationCounters::register(&registry)?,
            calls: ActorCalls::register(&registry)?,
            registry,
        })
    }

    /// Adds the change listener's series, read from `stats` at each scrape (see
    /// [`notifications`]); called once, when the listener starts.
    pub fn watch_listener(&self, stats: Weak<ListenerStats>) -> prometheus::Result<()> {
        let collector = notifications::ListenerCollector::new(stats)?;
        self.registry.register(Box::new(collector))
    }

    /// Every metric's current value (scrape-time values are read now).
    pub fn gather(&self) -> Vec<MetricFamily> {
        self.registry.gather()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::auth::UserCache;
    use crate::db::{DatabaseUrl, PoolTimeouts, build_pool};

    fn metrics(dir: &std::path::Path) -> Metrics {
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.join("k.db").display()))
            .unwrap_or_else(|e| panic!("{e}"));
        let wait = Duration::from_secs(1);
        let timeouts = PoolTimeouts {
            connect: wait,
            wait,
            statement: wait,
        };
        let pool = build_pool(&url, 1, timeouts).unwrap_or_else(|e| panic!("{e}"));
        let sources = Sources {
            revoked: Arc::default(),
            ended: Arc::default(),
            users: Arc::new(UserCache::new(Duration::from_secs(30))),
            pool,
        };
        Metrics::new(sources, 1_700_000_000.0).unwrap_or_else(|e| panic!("{e}"))
    }

    fn exported(metrics: &Metrics, name: &str) -> Option<f64> {
        metrics
            .gather()
            .iter()
            .find(|family| family.name() == name)
            .and_then(|family| family.get_metric().first().cloned())
            .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
    }

    #[test]
    fn the_listener_series_appear_once_a_listener_is_watched_and_read_its_stats() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let metrics = metrics(dir.path());
        assert_eq!(
            exported(&metrics, "keyward_notifications_received_total"),
            None
        );
        let stats = Arc::new(ListenerStats::default());
        metrics
            .watch_listener(Arc::downgrade(&stats))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            exported(&metrics, "keyward_notifications_received_total"),
            Some(0.0)
        );
        assert_eq!(
            exported(&metrics, "keyward_notification_listener_up"),
            Some(0.0)
        );
        let lag = metrics
            .gather()
            .into_iter()
            .find(|f| f.name() == "keyward_notification_lag_seconds")
            .map(|f| f.get_metric()[0].get_histogram().get_bucket().len());
        assert_eq!(lag, Some(12), "every lag bucket");
        assert_eq!(
            exported(&metrics, "process_start_time_seconds"),
            Some(1_700_000_000.0)
        );
        drop(stats);
        assert_eq!(
            exported(&metrics, "keyward_notifications_received_total"),
            None,
            "nothing once the listener is gone"
        );
    }
}
