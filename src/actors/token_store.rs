//! Blocking token writes and reads, on a `SyncArbiter`. Each message is one transaction.

use actix::prelude::*;
use time::PrimitiveDateTime;

use crate::db::models::token::{self, Blacklisting, NewOutstanding, Revoked};
use crate::db::{DbError, DbPool};

pub struct TokenStore {
    pool: DbPool,
}

impl TokenStore {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

impl Actor for TokenStore {
    type Context = SyncContext<Self>;
}

/// Records a newly issued refresh or sliding token.
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct RecordOutstanding(pub NewOutstanding);

impl Handler<RecordOutstanding> for TokenStore {
    type Result = Result<(), DbError>;

    fn handle(&mut self, msg: RecordOutstanding, _: &mut Self::Context) -> Self::Result {
        token::record(&mut *self.pool.get()?, &msg.0)
    }
}

/// Blacklists one token (logout).
#[derive(Message)]
#[rtype(result = "Result<Blacklisting, DbError>")]
pub struct BlacklistToken {
    pub token: NewOutstanding,
    pub at: PrimitiveDateTime,
}

impl Handler<BlacklistToken> for TokenStore {
    type Result = Result<Blacklisting, DbError>;

    fn handle(&mut self, msg: BlacklistToken, _: &mut Self::Context) -> Self::Result {
        self.pool
            .get()?
            .write(|conn| token::blacklist(conn, &msg.token, msg.at))
    }
}

/// Rotation in one transaction: blacklist the old refresh token (when asked) and record the
/// new one. Of several concurrent rotations of one token exactly one is `Done`; the others
/// are `AlreadyBlacklisted` and record nothing.
#[derive(Message)]
#[rtype(result = "Result<Blacklisting, DbError>")]
pub struct RotateRefresh {
    pub old: NewOutstanding,
    pub new: NewOutstanding,
    pub blacklist_old: bool,
    pub at: PrimitiveDateTime,
}

impl Handler<RotateRefresh> for TokenStore {
    type Result = Result<Blacklisting, DbError>;

    fn handle(&mut self, msg: RotateRefresh, _: &mut Self::Context) -> Self::Result {
        self.pool.get()?.write(|conn| {
            if msg.blacklist_old
                && token::blacklist(conn, &msg.old, msg.at)? == Blacklisting::AlreadyBlacklisted
            {
                return Ok(Blacklisting::AlreadyBlacklisted);
            }
            token::record(conn, &msg.new)?;
            Ok(Blacklisting::Done)
        })
    }
}

/// Live blacklisted tokens, all or those blacklisted since a time.
#[derive(Message)]
#[rtype(result = "Result<Vec<Revoked>, DbError>")]
pub struct LoadRevoked {
    pub now: PrimitiveDateTime,
    pub since: Option<PrimitiveDateTime>,
}

impl Handler<LoadRevoked> for TokenStore {
    type Result = Result<Vec<Revoked>, DbError>;

    fn handle(&mut self, msg: LoadRevoked, _: &mut Self::Context) -> Self::Result {
        token::revoked_live(&mut *self.pool.get()?, msg.now, msg.since)
    }
}

/// Blacklists outstanding tokens by id (the console's revoke and bulk revoke).
#[derive(Message)]
#[rtype(result = "Result<Vec<Revoked>, DbError>")]
pub struct RevokeIds {
    pub ids: Vec<i64>,
    pub at: PrimitiveDateTime,
}

impl Handler<RevokeIds> for TokenStore {
    type Result = Result<Vec<Revoked>, DbError>;

    fn handle(&mut self, msg: RevokeIds, _: &mut Self::Context) -> Self::Result {
        crate::db::models::token_admin::revoke_ids(&mut *self.pool.get()?, &msg.ids, msg.at)
    }
}

/// Removes an outstanding token's blacklist entry; the jti when there was one.
#[derive(Message)]
#[rtype(result = "Result<Option<String>, DbError>")]
pub struct UnrevokeId(pub i64);

impl Handler<UnrevokeId> for TokenStore {
    type Result = Result<Option<String>, DbError>;

    fn handle(&mut self, msg: UnrevokeId, _: &mut Self::Context) -> Self::Result {
        crate::db::models::token_admin::unrevoke(&mut *self.pool.get()?, msg.0)
    }
}
