//! The login guard: the sign-in throttle's counters in the database, on a small `SyncArbiter`
//! of its own, so a locked attempt is answered without queueing behind bcrypt. The happy path
//! costs one read ([`CheckLogin`]); failures cost one upsert, plus one update when a counter
//! locks.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::auth::throttle::{AttemptKeys, Scope, ThrottlePolicy};
use crate::db::models::Page;
use crate::db::models::login_failure::{self, LoginFailure, NewFailure};
use crate::db::{DbError, DbPool, stored_time};

/// Stale counters are purged once every this many failures (per thread).
const PURGE_EVERY: u64 = 64;

pub struct LoginGuard {
    pool: DbPool,
    policy: ThrottlePolicy,
    failures_seen: u64,
}

impl LoginGuard {
    pub fn new(pool: DbPool, policy: ThrottlePolicy) -> Self {
        Self {
            pool,
            policy,
            failures_seen: 0,
        }
    }

    /// Counters whose last failure is at or before this are forgotten.
    fn forget_before(&self, now: OffsetDateTime) -> PrimitiveDateTime {
        stored_time(now - self.policy.window)
    }
}

impl Actor for LoginGuard {
    type Context = SyncContext<Self>;
}

/// Where an attempt stands before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// How long until the attempt may be made, when one of its counters is locked.
    pub locked_for: Option<Duration>,
    /// Whether the (address, username) pair has failures to forget on success.
    pub pair_failed: bool,
}

/// Reads the attempt's three counters.
#[derive(Message)]
#[rtype(result = "Result<Standing, DbError>")]
pub struct CheckLogin {
    pub keys: Arc<AttemptKeys>,
    pub now: OffsetDateTime,
}

impl Handler<CheckLogin> for LoginGuard {
    type Result = Result<Standing, DbError>;

    fn handle(&mut self, msg: CheckLogin, _: &mut Self::Context) -> Self::Result {
        let digests = msg.keys.all().map(|k| k.digest.as_str());
        let rows = login_failure::find(&mut *self.pool.get()?, &digests)?;
        let now = stored_time(msg.now);
        let locked_for = rows
            .iter()
            .filter_map(|r| r.locked_until)
            .filter(|until| *until > now)
            .max()
            .map(|until| Duration::try_from(until - now).unwrap_or(Duration::ZERO));
        let forget_before = self.forget_before(msg.now);
        let pair_failed = rows
            .iter()
            .any(|r| r.key_digest == msg.keys.pair.digest && r.last_failed_at > forget_before);
        Ok(Standing {
            locked_for,
            pair_failed,
        })
    }
}

/// Counts a failed attempt on its three counters and locks those past their limit. Returns
/// the longest lock it started, if any.
#[derive(Message)]
#[rtype(result = "Result<Option<Duration>, DbError>")]
pub struct RecordFailure {
    pub keys: Arc<AttemptKeys>,
    pub now: OffsetDateTime,
}

impl Handler<RecordFailure> for LoginGuard {
    type Result = Result<Option<Duration>, DbError>;

    fn handle(&mut self, msg: RecordFailure, _: &mut Self::Context) -> Self::Result {
        let now = stored_time(msg.now);
        let forget_before = self.forget_before(msg.now);
        let rows: Vec<NewFailure<'_>> = msg
            .keys
            .all()
            .iter()
            .map(|k| NewFailure {
                key_digest: &k.digest,
                scope: k.scope.as_str(),
                username: &k.username,
                address: &k.address,
                failures: 1,
                last_failed_at: now,
                locked_until: None,
            })
            .collect();
        let mut conn = self.pool.get()?;
        let counts = login_failure::record(&mut conn, &rows, forget_before)?;
        let mut longest = None;
        for (digest, failures) in counts {
            let scope = msg
                .keys
                .all()
                .iter()
                .find(|k| k.digest == digest)
                .map(|k| k.scope);
            let Some(lock) = scope.and_then(|s| self.policy.lock_for(s, failures)) else {
                continue;
            };
            login_failure::lock(&mut conn, &digest, stored_time(msg.now + lock))?;
            longest = longest.max(Some(lock));
        }
        self.failures_seen += 1;
        if self.failures_seen.is_multiple_of(PURGE_EVERY) {
            login_failure::purge(&mut conn, forget_before, now)?;
        }
        Ok(longest)
    }
}

/// Forgets the failures of an (address, username) pair (after a successful sign-in).
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct ClearPair(pub Arc<AttemptKeys>);

impl Handler<ClearPair> for LoginGuard {
    type Result = Result<(), DbError>;

    fn handle(&mut self, msg: ClearPair, _: &mut Self::Context) -> Self::Result {
        login_failure::clear(&mut *self.pool.get()?, &msg.0.pair.digest)?;
        Ok(())
    }
}

/// A lock as the console lists it.
#[derive(Debug, Clone)]
pub struct Lock {
    pub key_digest: String,
    pub scope: Scope,
    pub username: String,
    pub address: String,
    pub failures: i64,
    pub last_failed_at: PrimitiveDateTime,
    pub locked_until: PrimitiveDateTime,
}

impl Lock {
    fn from_row(row: LoginFailure) -> Option<Self> {
        Some(Self {
            scope: Scope::parse(&row.scope)?,
            locked_until: row.locked_until?,
            key_digest: row.key_digest,
            username: row.username,
            address: row.address,
            failures: row.failures,
            last_failed_at: row.last_failed_at,
        })
    }
}

/// The counters locked now, a page of them, and how many there are.
#[derive(Message)]
#[rtype(result = "Result<(Vec<Lock>, i64), DbError>")]
pub struct ListLocks {
    pub now: OffsetDateTime,
    pub page: Page,
}

impl Handler<ListLocks> for LoginGuard {
    type Result = Result<(Vec<Lock>, i64), DbError>;

    fn handle(&mut self, msg: ListLocks, _: &mut Self::Context) -> Self::Result {
        let (rows, total) =
            login_failure::locked(&mut *self.pool.get()?, stored_time(msg.now), msg.page)?;
        Ok((rows.into_iter().filter_map(Lock::from_row).collect(), total))
    }
}

/// Lifts a lock: the counter is forgotten. `true` when there was one.
#[derive(Message)]
#[rtype(result = "Result<bool, DbError>")]
pub struct LiftLock {
    pub key_digest: String,
}

impl Handler<LiftLock> for LoginGuard {
    type Result = Result<bool, DbError>;

    fn handle(&mut self, msg: LiftLock, _: &mut Self::Context) -> Self::Result {
        login_failure::clear(&mut *self.pool.get()?, &msg.key_digest)
    }
}
