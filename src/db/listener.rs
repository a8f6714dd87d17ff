//! The change listener: one PostgreSQL connection outside the pool, on a thread of its own,
//! that `LISTEN`s on keyward's channel and hands every notification to a [`Subscriber`].
//!
//! On every connect it listens first and lets the subscriber catch up from the database
//! before it counts as listening, so nothing committed while it was away is missed: a change
//! committed before the `LISTEN` is in what the catch-up reads, and one committed after is
//! delivered. It then drains notifications every [`TICK`] (diesel's non-blocking
//! `notifications_iter`: no `unsafe`, so it sleeps between drains rather than waiting on the
//! socket). A closed connection shows at the next drain; a silent one (a partition) at a
//! cheap query sent after [`PING_AFTER`] without news, bounded like every call (the pool's
//! watchdog, TCP keepalives and `tcp_user_timeout`). It then reconnects with backoff. The
//! thread ends once the [`Listener`] handle and its clones are gone.

use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, RunQueryDsl};
use rand::Rng;

pub use super::listener_stats::{LAG_BUCKETS_MICROS, LagReading, ListenerStats};
use super::{ConnectionManager, DbConn, DbError};

/// The channel keyward's notifications travel on (see the `change_notifications` migration).
pub const CHANNEL: &str = "keyward";

/// The `application_name` of the listening connection (to find it in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "keyward-listener";

/// How long the thread sleeps between two drains: the most a notification waits to be read.
const TICK: Duration = Duration::from_millis(5);

/// After this long without a notification, a cheap query checks that the server still answers.
const PING_AFTER: Duration = Duration::from_secs(3);

/// The first wait before reconnecting; each failure doubles it, up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// What the listener's owner does with what it hears.
pub trait Subscriber: Send + 'static {
    /// Brings memory up to date from the database, on the listening connection, after each
    /// (re)connect and whenever a notification asks for it.
    fn catch_up(&mut self, conn: &mut DbConn) -> Result<(), DbError>;

    /// Applies one notification's payload.
    fn notified(&mut self, payload: &str) -> Heard;

    /// Payloads to publish on the channel now, from the listening connection (announcements
    /// that belong to no transaction of their own).
    fn outgoing(&mut self) -> Vec<String>;
}

/// What a notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Applied; `lag` is how long after its transaction started it was applied, when known.
    Applied { lag: Option<Duration> },
    /// Not understood: memory must be caught up from the database.
    CatchUp,
}

/// A running listener. Clones share it; the thread ends once the last one is dropped.
#[derive(Debug, Clone)]
pub struct Listener {
    stats: Arc<ListenerStats>,
}

impl Listener {
    /// Starts the listening thread. It connects through `connector` (as the pool does) and
    /// is not listening until its first catch-up is done.
    pub fn start(
        connector: ConnectionManager,
        subscriber: impl Subscriber,
    ) -> std::io::Result<Self> {
        let stats = Arc::new(ListenerStats::default());
        let weak = Arc::downgrade(&stats);
        thread::Builder::new()
            .name("keyward-listener".into())
            .spawn(move || run(&connector, subscriber, &weak))?;
        Ok(Self { stats })
    }

    pub fn stats(&self) -> &ListenerStats {
        &self.stats
    }

    /// The stats without keeping the listener alive: a reader that outlives it (the metrics)
    /// reads nothing once it is gone, and the thread still ends with the last handle.
    pub fn watch(&self) -> Weak<ListenerStats> {
        Arc::downgrade(&self.stats)
    }
}

/// Why serving a connection stopped.
enum Stop {
    /// The listener was dropped.
    Dropped,
    Lost(String),
}

fn run(
    connector: &ConnectionManager,
    mut subscriber: impl Subscriber,
    stats: &Weak<ListenerStats>,
) {
    let mut retry = FIRST_RETRY;
    let mut ever_up = false;
    let mut failures = 0u32;
    loop {
        if stats.strong_count() == 0 {
            return;
        }
        match connect(connector, &mut subscriber) {
            Ok((mut conn, pid)) => {
                let Some(up) = stats.upgrade() else { return };
                up.record_catch_up();
                up.mark_up(pid);
                drop(up);
                if ever_up {
                    tracing::info!(
                        backend_pid = pid,
                        "change listener back: caught up, listening again"
                    );
                } else {
                    tracing::info!(
                        backend_pid = pid,
                        channel = CHANNEL,
                        "listening for changes"
                    );
                }
                ever_up = true;
                failures = 0;
                retry = FIRST_RETRY;
                match serve(&mut conn, &mut subscriber, stats) {
                    Stop::Dropped => return,
                    Stop::Lost(cause) => {
                        if stats.upgrade().is_some_and(|s| s.mark_down()) {
                            tracing::warn!(
                                cause = cause.trim(),
                                "change listener lost its connection; polling for changes \
                                 (blacklist_sync_interval, user_cache_ttl) until it is back"
                            );
                        }
                    }
                }
            }
            Err(err) => {
                failures += 1;
                if failures == 1 && !ever_up {
                    tracing::warn!(
                        error = %err,
                        "change listener cannot connect; polling for changes \
                         (blacklist_sync_interval, user_cache_ttl) until it can"
                    );
                } else {
                    tracing::debug!(error = %err, "change listener still cannot connect");
                }
            }
        }
        if !sleep_while_alive(jittered(retry), stats) {
            return;
        }
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// Opens the connection, listens, and catches up; the server process id.
fn connect(
    connector: &ConnectionManager,
    subscriber: &mut impl Subscriber,
) -> Result<(DbConn, i64), DbError> {
    let mut conn = connector.open_dedicated()?;
    let DbConn::Postgres(pg) = &mut conn else {
        return Err(DbError::Other(
            "change notifications need PostgreSQL".into(),
        ));
    };
    // What it publishes needs no durability: a notice lost in a crash is covered by polling.
    pg.batch_execute(&format!(
        "SET application_name = '{APPLICATION_NAME}'; SET synchronous_commit = off; LISTEN {CHANNEL}"
    ))?;
    let pid = backend_pid(pg)?;
    subscriber.catch_up(&mut conn)?;
    Ok((conn, pid))
}

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

fn backend_pid(pg: &mut PgConnection) -> Result<i64, DbError> {
    let row: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(pg)?;
    Ok(i64::from(row.pid))
}

/// Drains, publishes and checks the connection until it fails or the listener is dropped.
fn serve(conn: &mut DbConn, subscriber: &mut impl Subscriber, stats: &Weak<ListenerStats>) -> Stop {
    let mut last_news = Instant::now();
    loop {
        let Some(stats) = stats.upgrade() else {
            return Stop::Dropped;
        };
        let DbConn::Postgres(pg) = &mut *conn else {
            return Stop::Lost("not a PostgreSQL connection".into());
        };
        let mut catch_up = false;
        for notification in pg.notifications_iter() {
            let notification = match notification {
                Ok(n) => n,
                Err(err) => return Stop::Lost(err.to_string()),
            };
            last_news = Instant::now();
            stats.record_received();
            match subscriber.notified(&notification.payload) {
                Heard::Applied { lag } => stats.record_applied(lag),
                Heard::CatchUp => catch_up = true,
            }
        }
        for payload in subscriber.outgoing() {
            if let Err(err) = publish(pg, &payload) {
                return Stop::Lost(err.to_string());
            }
            stats.record_published();
        }
        if catch_up {
            if let Err(err) = subscriber.catch_up(conn) {
                return Stop::Lost(err.to_string());
            }
            stats.record_catch_up();
        } else if last_news.elapsed() >= PING_AFTER {
            if let Err(err) =
                crate::with_conn!(&mut *conn, c => diesel::sql_query("SELECT 1").execute(c))
            {
                return Stop::Lost(err.to_string());
            }
            last_news = Instant::now();
        }
        drop(stats);
        thread::sleep(TICK);
    }
}

fn publish(pg: &mut PgConnection, payload: &str) -> Result<(), DbError> {
    use diesel::sql_types::Text;
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(pg)?;
    Ok(())
}

/// `wait` give or take a quarter, so instances that lost the server together do not all
/// come back in the same instant.
fn jittered(wait: Duration) -> Duration {
    wait.mul_f64(rand::rng().random_range(0.75..1.25))
}

/// Sleeps `wait` in short slices; false as soon as the listener is dropped.
fn sleep_while_alive(wait: Duration, stats: &Weak<ListenerStats>) -> bool {
    let until = Instant::now() + wait;
    loop {
        if stats.strong_count() == 0 {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}
