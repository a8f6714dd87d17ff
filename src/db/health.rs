//! Whether the database is reachable, as last seen. A failed connection attempt or a call the
//! watchdog had to abandon marks it down; from then on checkouts fail at once (503) instead of
//! each waiting out its timeout, and a prober thread reconnects in the background and marks it
//! up again the moment the database answers. It also counts the connections the pool has lost,
//! so the others are checked before their next use (see [`super::liveness`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::Duration;

/// How often the prober tries to reach a database marked down.
const PROBE_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
pub struct DbHealth {
    down: AtomicBool,
    /// What made it down, for error messages.
    cause: Mutex<String>,
    /// Set once the pool is closed: no connection is opened or probed any more.
    closed: AtomicBool,
    /// Connections found lost (and times the database was marked down) so far.
    losses: AtomicU64,
}

impl DbHealth {
    /// Whether the pool was closed ([`Self::close`]).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the pool for good: checkouts fail, nothing reconnects, the prober ends.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Why the database was last marked down.
    pub fn cause(&self) -> String {
        self.cause.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many connections the pool has lost so far.
    pub fn losses(&self) -> u64 {
        self.losses.load(Ordering::Acquire)
    }

    /// Counts a connection found lost: every connection that last answered before this is
    /// checked before its next use.
    pub fn lost_connection(&self) {
        self.losses.fetch_add(1, Ordering::AcqRel);
    }

    /// Marks the database unreachable; logs the first sign only.
    pub fn mark_down(&self, why: &str) {
        self.lost_connection();
        why.clone_into(&mut self.cause.lock().unwrap_or_else(|e| e.into_inner()));
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                cause = why,
                "database unreachable; answering 503 until it is back"
            );
        }
    }

    pub fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("database reachable again");
        }
    }
}

/// Starts the thread that, while the database is marked down, tries `probe` (open a connection
/// and run a query, each bounded) every [`PROBE_INTERVAL`] and marks it up on success. The
/// thread ends when `alive` is gone (the pool was dropped) or the pool is closed, dropping
/// `probe` and what it holds.
pub fn start_prober<P>(health: &Arc<DbHealth>, alive: Weak<()>, probe: P) -> std::io::Result<()>
where
    P: Fn() -> Result<(), String> + Send + 'static,
{
    let health: Weak<DbHealth> = Arc::downgrade(health);
    thread::Builder::new()
        .name("keyward-db-prober".into())
        .spawn(move || {
            loop {
                thread::sleep(PROBE_INTERVAL);
                if alive.strong_count() == 0 {
                    return;
                }
                let Some(health) = health.upgrade() else {
                    return;
                };
                if health.is_closed() {
                    return;
                }
                if !health.is_down() {
                    continue;
                }
                match probe() {
                    Ok(()) => health.mark_up(),
                    Err(err) => tracing::debug!(error = %err, "database still unreachable"),
                }
            }
        })
        .map(drop)
}
