//! How long handlers wait on actors: the time of an `addr.send(...)` round trip, measured where
//! the handler sends (the queue in the actor's mailbox plus the actor's work). Timed sends:
//! the user manager's sign-ins, the user readers' loads (the user cache's misses), and the
//! token blacklist's logins, refreshes and logouts.

use std::future::Future;
use std::time::Instant;

use actix_web::{HttpRequest, web};
use prometheus::{Histogram, HistogramOpts, HistogramVec, Registry};

use super::Metrics;

/// Round-trip buckets, in seconds: 10 µs (an idle actor) to 5 s (a queue behind bcrypt or a
/// slow database).
const CALL_BUCKETS: [f64; 18] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The actors whose round trips are timed.
#[derive(Debug, Clone, Copy)]
pub enum Mailbox {
    /// Sign-ins (bcrypt) and user writes.
    UserManager,
    /// Users loaded for the request path when the user cache misses.
    UserReader,
    /// Sessions started, refreshed and ended; tokens rotated and blacklisted.
    TokenBlacklist,
}

impl Mailbox {
    const ALL: [Self; 3] = [Self::UserManager, Self::UserReader, Self::TokenBlacklist];

    fn label(self) -> &'static str {
        match self {
            Self::UserManager => "user_manager",
            Self::UserReader => "user_reader",
            Self::TokenBlacklist => "token_blacklist",
        }
    }
}

/// One histogram per actor, registered up front.
#[derive(Clone)]
pub struct ActorCalls {
    by_actor: [Histogram; Mailbox::ALL.len()],
}

impl ActorCalls {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let family = HistogramVec::new(
            HistogramOpts::new(
                "keyward_actor_call_duration_seconds",
                "Time a handler waited for an actor's answer: the actor's mailbox queue plus \
                 its work.",
            )
            .buckets(CALL_BUCKETS.to_vec()),
            &["actor"],
        )?;
        registry.register(Box::new(family.clone()))?;
        let handle = |m: Mailbox| family.get_metric_with_label_values(&[m.label()]);
        Ok(Self {
            by_actor: [
                handle(Mailbox::UserManager)?,
                handle(Mailbox::UserReader)?,
                handle(Mailbox::TokenBlacklist)?,
            ],
        })
    }

    /// Awaits `call`, recording how long it took.
    pub async fn time<F: Future>(&self, mailbox: Mailbox, call: F) -> F::Output {
        let started = Instant::now();
        let answer = call.await;
        self.by_actor[mailbox as usize].observe(started.elapsed().as_secs_f64());
        answer
    }
}

/// Awaits `call`, timed in the metrics of the application serving `req` (untimed where an
/// application registered none).
pub async fn timed<F: Future>(req: &HttpRequest, mailbox: Mailbox, call: F) -> F::Output {
    match req.app_data::<web::Data<Metrics>>() {
        Some(metrics) => metrics.calls.time(mailbox, call).await,
        None => call.await,
    }
}
