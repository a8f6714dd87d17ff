//! A client-side deadline on every PostgreSQL call. libpq waits for an answer forever: a
//! server that went silent (a partition behind a middlebox that still acknowledges, a frozen
//! host) keeps the calling thread, and `statement_timeout` never fires because it runs on that
//! server. Each connection reports when a call starts and ends (diesel's instrumentation); a
//! watchdog thread shuts down the socket of a call past its deadline, libpq returns an error at
//! once, the connection is discarded and the thread is free again.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};

use super::health::DbHealth;

/// How often the watchdog looks for calls past their deadline.
const TICK: Duration = Duration::from_millis(50);

struct Watched {
    fd: RawFd,
    /// When the call in progress must have ended; `None` between calls.
    deadline: Option<Instant>,
    /// The call in progress, for the warning if it is cut: its SQL (never its bound values)
    /// and the thread that made it.
    call: Option<Call>,
}

struct Call {
    sql: String,
    thread: String,
}

/// The most of a call's SQL the warning shows.
const SQL_SHOWN: usize = 160;

impl Call {
    /// `query` as diesel shows it (`SQL -- binds: [...]`), without the bound values.
    fn new(query: &dyn std::fmt::Display) -> Self {
        let shown = query.to_string();
        let sql = shown.split(" -- binds:").next().unwrap_or_default();
        Self {
            sql: sql.chars().take(SQL_SHOWN).collect(),
            thread: thread::current().name().unwrap_or("unnamed").to_owned(),
        }
    }
}

struct Inner {
    limit: Duration,
    next_id: AtomicU64,
    calls: Mutex<HashMap<u64, Watched>>,
    health: Arc<DbHealth>,
}

/// The watchdog of one pool. Cloning shares it.
#[derive(Clone)]
pub struct Watchdog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("limit", &self.inner.limit)
            .finish_non_exhaustive()
    }
}

impl Watchdog {
    /// Starts the watchdog thread; it ends when the last `Watchdog` handle is dropped.
    pub fn start(limit: Duration, health: Arc<DbHealth>) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            limit,
            next_id: AtomicU64::new(0),
            calls: Mutex::new(HashMap::new()),
            health,
        });
        let weak = Arc::downgrade(&inner);
        thread::Builder::new()
            .name("keyward-db-watchdog".into())
            .spawn(move || watch(&weak))?;
        Ok(Self { inner })
    }

    /// The instrumentation for a connection whose socket is `fd`.
    pub fn guard(&self, fd: RawFd) -> CallGuard {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.calls).insert(
            id,
            Watched {
                fd,
                deadline: None,
                call: None,
            },
        );
        CallGuard {
            inner: Arc::clone(&self.inner),
            id,
            cut: false,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn watch(inner: &Weak<Inner>) {
    loop {
        thread::sleep(TICK);
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let now = Instant::now();
        let mut calls = lock(&inner.calls);
        let late: Vec<u64> = calls
            .iter()
            .filter(|(_, w)| w.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            if let Some(watched) = calls.remove(&id) {
                // The call is still in progress (its end would have cleared the deadline under
                // this lock), so the descriptor is still this connection's socket.
                let _ = nix::sys::socket::shutdown(watched.fd, nix::sys::socket::Shutdown::Both);
                inner
                    .health
                    .mark_down("a database call passed its deadline");
                let (sql, thread) = watched.call.map(|c| (c.sql, c.thread)).unwrap_or_default();
                tracing::warn!(
                    limit = ?inner.limit,
                    sql,
                    thread,
                    "database call got no answer in time; connection dropped"
                );
            }
        }
    }
}

/// Arms the deadline when a call starts and disarms it when the call ends; installed as the
/// connection's diesel instrumentation.
pub struct CallGuard {
    inner: Arc<Inner>,
    id: u64,
    /// Set once the watchdog has cut this connection.
    cut: bool,
}

impl CallGuard {
    /// Whether the watchdog cut this connection (it must not be reused).
    pub fn was_cut(&mut self) -> bool {
        if !self.cut {
            self.cut = !lock(&self.inner.calls).contains_key(&self.id);
        }
        self.cut
    }

    fn set_deadline(&self, deadline: Option<Instant>, call: Option<Call>) {
        if let Some(watched) = lock(&self.inner.calls).get_mut(&self.id) {
            watched.deadline = deadline;
            watched.call = call;
        }
    }
}

impl Instrumentation for CallGuard {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let deadline = Instant::now() + self.inner.limit;
                self.set_deadline(Some(deadline), Some(Call::new(query)));
            }
            InstrumentationEvent::FinishQuery { .. } => self.set_deadline(None, None),
            _ => {}
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        lock(&self.inner.calls).remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_call_is_named_by_its_sql_without_its_bound_values() {
        let shown = "SELECT * FROM users WHERE username = $1 -- binds: [\"alice\"]";
        let call = Call::new(&shown);
        assert_eq!(call.sql, "SELECT * FROM users WHERE username = $1");
        assert!(!call.sql.contains("alice"));
        let long = "x".repeat(500);
        assert_eq!(Call::new(&long).sql.len(), SQL_SHOWN);
    }
}
