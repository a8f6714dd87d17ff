//! What happened to credentials and tokens: sign-ins by outcome, refreshes by outcome, reuse
//! incidents, tokens blacklisted and sessions ended by this instance. Every label set is
//! registered up front, so each series exists (at 0) from the start and `rate()` works before
//! the first event.

use actix_web::http::StatusCode;
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::actors::user_manager::UserError;

/// Where a sign-in was made.
#[derive(Debug, Clone, Copy)]
pub enum SignInVia {
    /// `POST /api/token/`
    Token,
    /// `POST /api/token/sliding/`
    Sliding,
    /// The console's sign-in form.
    Console,
}

/// How a sign-in ended, as the audit log tells it.
#[derive(Debug, Clone, Copy)]
pub enum SignInOutcome {
    /// The credentials were accepted.
    Ok,
    /// Unknown user, wrong password, inactive account (or not staff, on the console).
    Failed,
    /// Refused by the sign-in throttle.
    Throttled,
    /// Not decided: the database or the user manager failed.
    Error,
}

/// Which refresh endpoint.
#[derive(Debug, Clone, Copy)]
pub enum RefreshKind {
    /// `POST /api/token/refresh/`
    Pair,
    /// `POST /api/token/sliding/refresh/`
    Sliding,
}

const VIAS: [&str; 3] = ["token", "sliding", "console"];
const SIGN_IN_OUTCOMES: [&str; 4] = ["ok", "failed", "throttled", "error"];
const REFRESH_KINDS: [&str; 2] = ["pair", "sliding"];
const REFRESH_OUTCOMES: [&str; 3] = ["ok", "refused", "error"];

/// Sign-in and refresh counters.
#[derive(Clone)]
pub struct TokenEvents {
    sign_ins: Vec<IntCounter>,
    refreshes: Vec<IntCounter>,
}

impl TokenEvents {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let sign_ins = IntCounterVec::new(
            Opts::new(
                "keyward_sign_ins_total",
                "Sign-in attempts by where they were made (token, sliding, console) and outcome \
                 (ok, failed, throttled, error).",
            ),
            &["via", "outcome"],
        )?;
        let refreshes = IntCounterVec::new(
            Opts::new(
                "keyward_refreshes_total",
                "Token refreshes by kind (pair, sliding) and outcome (ok; refused: any client \
                 error such as an invalid, expired or blacklisted token; error: a server fault).",
            ),
            &["kind", "outcome"],
        )?;
        registry.register(Box::new(sign_ins.clone()))?;
        registry.register(Box::new(refreshes.clone()))?;
        Ok(Self {
            sign_ins: every(&sign_ins, &VIAS, &SIGN_IN_OUTCOMES)?,
            refreshes: every(&refreshes, &REFRESH_KINDS, &REFRESH_OUTCOMES)?,
        })
    }

    pub fn sign_in(&self, via: SignInVia, outcome: SignInOutcome) {
        let i = via as usize * SIGN_IN_OUTCOMES.len() + outcome as usize;
        if let Some(counter) = self.sign_ins.get(i) {
            counter.inc();
        }
    }

    /// Counts a refresh by the status it was answered with.
    pub fn refresh(&self, kind: RefreshKind, status: StatusCode) {
        let outcome = if status.is_success() {
            0
        } else if status.is_client_error() {
            1
        } else {
            2
        };
        let i = kind as usize * REFRESH_OUTCOMES.len() + outcome;
        if let Some(counter) = self.refreshes.get(i) {
            counter.inc();
        }
    }
}

/// Every series of a two-label family, in row-major order of `(first, second)`.
fn every(
    family: &IntCounterVec,
    first: &[&str],
    second: &[&str],
) -> prometheus::Result<Vec<IntCounter>> {
    let mut out = Vec::with_capacity(first.len() * second.len());
    for a in first {
        for b in second {
            out.push(family.get_metric_with_label_values(&[a, b])?);
        }
    }
    Ok(out)
}

/// Revocations made by this instance (those learnt from other instances' sync are theirs to
/// count). The token blacklist actor records them once the database has committed them.
#[derive(Clone)]
pub struct RevocationCounters {
    tokens: IntCounter,
    sessions: IntCounter,
    reuse: IntCounter,
}

impl RevocationCounters {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str| -> prometheus::Result<IntCounter> {
            let c = IntCounter::with_opts(Opts::new(name, help))?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        Ok(Self {
            tokens: counter(
                "keyward_tokens_blacklisted_total",
                "Refresh and sliding tokens this instance blacklisted (logout, rotation, \
                 revocations, ended sessions).",
            )?,
            sessions: counter(
                "keyward_sessions_ended_total",
                "Sessions this instance ended, for any reason.",
            )?,
            reuse: counter(
                "keyward_refresh_reuse_total",
                "Incidents: a rotated refresh token presented again, which ended its session.",
            )?,
        })
    }

    pub fn revoked(&self, tokens: usize, sessions: usize) {
        self.tokens
            .inc_by(u64::try_from(tokens).unwrap_or(u64::MAX));
        self.sessions
            .inc_by(u64::try_from(sessions).unwrap_or(u64::MAX));
    }

    pub fn refresh_reused(&self) {
        self.reuse.inc();
    }
}

impl SignInVia {
    /// The name the audit log and the metrics use.
    pub fn label(self) -> &'static str {
        VIAS[self as usize]
    }
}

impl SignInOutcome {
    /// The outcome of the user manager's answer to a sign-in, read as the audit log reads it.
    pub fn of<T>(answer: &Result<T, UserError>) -> Self {
        match answer {
            Ok(_) => Self::Ok,
            Err(UserError::InvalidCredentials) => Self::Failed,
            Err(UserError::Throttled(_)) => Self::Throttled,
            Err(_) => Self::Error,
        }
    }
}
