//! What a pooled PostgreSQL connection last showed of its own health, so that a checkout
//! pings only a connection that may have gone bad since its last answer, instead of every
//! connection every time (a round trip per request):
//!
//! - a connection that lost its server (libpq reports it closed, or the watchdog cut it) is
//!   known bad: the pool drops it when it comes back and never hands it out again;
//! - a connection that answered within [`TRUSTED_IDLE`], and since whose answer the pool has
//!   seen no connection lost, is handed out as it is;
//! - any other one is pinged first: one idle for longer (a server restart or a cut network
//!   path is seen by the first call after it), or one from before a loss (a lost server
//!   usually takes every connection with it, so the others are checked before they are used).
//!
//! It is the connection's diesel instrumentation, and holds the watchdog's call guard.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::result::{DatabaseErrorKind, Error};

use super::health::DbHealth;
use super::watchdog::CallGuard;

/// How long after its last answer a connection is handed out without a ping.
pub const TRUSTED_IDLE: Duration = Duration::from_secs(1);

/// The instrumentation of a pooled PostgreSQL connection.
pub struct Liveness {
    /// The watchdog's deadline on each call, when the connection's socket is known.
    guard: Option<CallGuard>,
    health: Arc<DbHealth>,
    /// How many connections the pool had lost when the call in progress started.
    losses_at_start: u64,
    /// When the server last answered on this connection, and how many connections the pool
    /// had lost when that call started.
    answered: Option<(Instant, u64)>,
    /// The server is gone for this connection.
    lost: bool,
}

impl Liveness {
    pub fn new(guard: Option<CallGuard>, health: Arc<DbHealth>) -> Self {
        Self {
            guard,
            health,
            losses_at_start: 0,
            answered: None,
            lost: false,
        }
    }

    /// Whether the connection is known bad: closed by the server or the network, or cut by
    /// the watchdog.
    pub fn is_lost(&mut self) -> bool {
        if !self.lost && self.guard.as_mut().is_some_and(CallGuard::was_cut) {
            self.lost = true;
        }
        self.lost
    }

    /// Whether the connection can be used without a ping: it answered within
    /// [`TRUSTED_IDLE`] and the pool has lost no connection since.
    pub fn is_trusted(&self) -> bool {
        !self.lost
            && self.answered.is_some_and(|(at, losses)| {
                at.elapsed() < TRUSTED_IDLE && losses == self.health.losses()
            })
    }
}

/// Errors that mean the connection itself is gone, not just the statement.
fn is_connection_error(error: &Error) -> bool {
    matches!(
        error,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

impl Instrumentation for Liveness {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match &event {
            InstrumentationEvent::StartQuery { .. } => {
                self.losses_at_start = self.health.losses();
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if error.is_some_and(is_connection_error) {
                    self.lost = true;
                } else {
                    self.answered = Some((Instant::now(), self.losses_at_start));
                }
            }
            _ => {}
        }
        if let Some(guard) = &mut self.guard {
            guard.on_connection_event(event);
        }
    }
}
