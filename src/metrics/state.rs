//! Gauges and counters read from keyward's state at scrape time, not on any request: the sizes
//! of the in-memory lists and of the user cache, and the database pool (size, use, health, and
//! its checkouts so far).

use std::sync::Arc;

use prometheus::{PullingGauge, Registry};

use super::pulled::{Pulled, Read};

use crate::actors::ended_sessions::EndedSessions;
use crate::actors::revoked::RevokedSet;
use crate::auth::UserCache;
use crate::db::DbPool;

/// What the scrape-time values are read from.
pub struct Sources {
    pub revoked: Arc<RevokedSet>,
    pub ended: Arc<EndedSessions>,
    pub users: Arc<UserCache>,
    pub pool: DbPool,
}

pub(super) fn register(registry: &Registry, sources: Sources) -> prometheus::Result<()> {
    let gauge = |name: &str, help: &str, read: Read| {
        registry.register(Box::new(PullingGauge::new(name, help, read)?))
    };
    let counter = |name: &str, help: &str, read: Read| {
        registry.register(Box::new(Pulled::new(name, help, read)?))
    };
    let Sources {
        revoked,
        ended,
        users,
        pool,
    } = sources;
    gauge(
        "keyward_revoked_tokens",
        "Revoked token ids held in memory (until the tokens expire).",
        Box::new(move || revoked.len() as f64),
    )?;
    gauge(
        "keyward_ended_sessions",
        "Ended session ids held in memory (until their last token expires).",
        Box::new(move || ended.len() as f64),
    )?;
    gauge(
        "keyward_user_cache_entries",
        "Users held in the user cache (entries past user_cache_ttl count until replaced).",
        Box::new(move || users.len() as f64),
    )?;
    let status = move |read: fn(&crate::db::PoolStatus) -> f64| -> Read {
        let pool = pool.clone();
        Box::new(move || read(&pool.status()))
    };
    gauge(
        "keyward_db_pool_max_connections",
        "Most connections the pool opens (database_pool_size).",
        status(|s| f64::from(s.max)),
    )?;
    gauge(
        "keyward_db_pool_connections",
        "Connections open now, in use or idle.",
        status(|s| f64::from(s.open)),
    )?;
    gauge(
        "keyward_db_pool_idle_connections",
        "Open connections waiting in the pool.",
        status(|s| f64::from(s.idle)),
    )?;
    gauge(
        "keyward_db_pool_in_use_connections",
        "Connections checked out now.",
        status(|s| f64::from(s.open.saturating_sub(s.idle))),
    )?;
    gauge(
        "keyward_db_up",
        "1 while the database is reachable, as last seen; 0 while requests that need it answer 503.",
        status(|s| if s.up { 1.0 } else { 0.0 }),
    )?;
    counter(
        "keyward_db_pool_checkouts_total",
        "Connections asked of the pool.",
        status(|s| s.checkouts as f64),
    )?;
    counter(
        "keyward_db_pool_wait_seconds_total",
        "Time spent waiting for pooled connections, added up over all checkouts.",
        status(|s| s.waited.as_secs_f64()),
    )?;
    counter(
        "keyward_db_pool_timeouts_total",
        "Checkouts that got no connection within database_wait_timeout (answered 503).",
        status(|s| s.timeouts as f64),
    )?;
    counter(
        "keyward_db_pool_unavailable_total",
        "Checkouts refused at once because the database was unreachable (answered 503).",
        status(|s| s.refused as f64),
    )?;
    Ok(())
}
