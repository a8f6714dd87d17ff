//! The console's view of the sign-in throttle: the counters locked now, and lifting a lock.
//! Its own small `SyncArbiter`, so console pages never queue behind bcrypt. (The counting
//! itself runs where passwords are checked, see [`super::sign_in`].)

use actix::prelude::*;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::auth::throttle::Scope;
use crate::db::models::Page;
use crate::db::models::login_failure::{self, LoginFailure};
use crate::db::{DbError, DbPool, stored_time};

pub struct LoginLocks {
    pool: DbPool,
}

impl LoginLocks {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

impl Actor for LoginLocks {
    type Context = SyncContext<Self>;
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

impl Handler<ListLocks> for LoginLocks {
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

impl Handler<LiftLock> for LoginLocks {
    type Result = Result<bool, DbError>;

    fn handle(&mut self, msg: LiftLock, _: &mut Self::Context) -> Self::Result {
        login_failure::clear(&mut *self.pool.get()?, &msg.key_digest)
    }
}
