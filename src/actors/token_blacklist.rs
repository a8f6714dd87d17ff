//! The token blacklist: owns the in-memory revocation list. It writes through the token store
//! first and updates memory only after the database committed; it reads revocations made by
//! other instances on a timer and purges expired entries on another. Its handlers never wait:
//! each hands back a future, so a slow database delays only the requests that need it, and the
//! background sync runs on a store thread of its own.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::ASK_TIMEOUT;
use super::revoked::RevokedSet;
use super::token_store::{
    BlacklistToken, LoadRevoked, RecordOutstanding, RevokeIds, RotateRefresh, TokenStore,
    UnrevokeId,
};
use crate::clock::Clock;
use crate::db::models::token::{Blacklisting, NewOutstanding, Revoked};
use crate::db::{DbError, stored_time};

pub struct TokenBlacklist {
    revoked: Arc<RevokedSet>,
    store: Addr<TokenStore>,
    /// The store thread for the background sync, apart from the request path's threads.
    sync_store: Addr<TokenStore>,
    /// Whether a sync is under way (a slow one is never overlapped by the next).
    syncing: bool,
    clock: Clock,
    sync_interval: Duration,
    purge_interval: Duration,
    /// When the last successful sync started; the next reads from a little before it.
    synced_at: OffsetDateTime,
}

impl TokenBlacklist {
    /// `loaded_at` is when the caller read the initial list into `revoked`.
    pub fn new(
        revoked: Arc<RevokedSet>,
        (store, sync_store): (Addr<TokenStore>, Addr<TokenStore>),
        clock: Clock,
        intervals: (Duration, Duration),
        loaded_at: OffsetDateTime,
    ) -> Self {
        Self {
            revoked,
            store,
            sync_store,
            syncing: false,
            clock,
            sync_interval: intervals.0,
            purge_interval: intervals.1,
            synced_at: loaded_at,
        }
    }

    fn sync(&mut self, ctx: &mut Context<Self>) {
        if self.syncing {
            return;
        }
        self.syncing = true;
        let started = self.clock.now();
        // Overlap generously: rows committed late (long transactions, skewed clocks) are
        // still read; inserting a known jti again is harmless.
        let since = self.synced_at - self.sync_interval * 3 - Duration::from_secs(5);
        let request = self.sync_store.send(LoadRevoked {
            now: stored_time(started),
            since: Some(stored_time(since)),
        });
        request
            .timeout(ASK_TIMEOUT)
            .into_actor(self)
            .map(move |result, act, _| {
                act.syncing = false;
                match result {
                    Ok(Ok(rows)) => {
                        remember(&act.revoked, &rows);
                        act.synced_at = started;
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "revocation sync failed; retrying")
                    }
                    Err(err) => tracing::warn!(error = %err, "revocation sync failed; retrying"),
                }
            })
            .spawn(ctx);
    }
}

impl Actor for TokenBlacklist {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.sync_interval, Self::sync);
        ctx.run_interval(self.purge_interval, |act, _| {
            let purged = act.revoked.purge(act.clock.now().unix_timestamp());
            if purged > 0 {
                tracing::info!(
                    purged,
                    remaining = act.revoked.len(),
                    "expired revocations purged"
                );
            }
        });
    }
}

/// Adds rows to the in-memory list.
pub fn remember(revoked: &RevokedSet, rows: &[Revoked]) {
    for row in rows {
        revoked.insert(&row.jti, row.expires_at.assume_utc().unix_timestamp());
    }
}

fn unix(t: PrimitiveDateTime) -> i64 {
    t.assume_utc().unix_timestamp()
}

fn flatten<T>(result: Result<Result<T, DbError>, MailboxError>) -> Result<T, DbError> {
    result.map_err(|e| DbError::Unavailable(format!("token store: {e}")))?
}

/// Records an issued refresh or sliding token.
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct Record(pub NewOutstanding);

impl Handler<Record> for TokenBlacklist {
    type Result = ResponseFuture<Result<(), DbError>>;

    fn handle(&mut self, msg: Record, _: &mut Self::Context) -> Self::Result {
        let request = self
            .store
            .send(RecordOutstanding(msg.0))
            .timeout(ASK_TIMEOUT);
        Box::pin(async move { flatten(request.await) })
    }
}

/// Blacklists one token; memory learns it once the database has it.
#[derive(Message)]
#[rtype(result = "Result<Blacklisting, DbError>")]
pub struct Blacklist {
    pub token: NewOutstanding,
    pub at: PrimitiveDateTime,
}

impl Handler<Blacklist> for TokenBlacklist {
    type Result = ResponseFuture<Result<Blacklisting, DbError>>;

    fn handle(&mut self, msg: Blacklist, _: &mut Self::Context) -> Self::Result {
        let revoked = Arc::clone(&self.revoked);
        let (jti, exp) = (msg.token.jti.clone(), unix(msg.token.expires_at));
        let request = self
            .store
            .send(BlacklistToken {
                token: msg.token,
                at: msg.at,
            })
            .timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let outcome = flatten(request.await)?;
            revoked.insert(&jti, exp);
            Ok(outcome)
        })
    }
}

/// Rotates a refresh token atomically (see [`RotateRefresh`]).
#[derive(Message)]
#[rtype(result = "Result<Blacklisting, DbError>")]
pub struct Rotate {
    pub old: NewOutstanding,
    pub new: NewOutstanding,
    pub blacklist_old: bool,
    pub at: PrimitiveDateTime,
}

impl Handler<Rotate> for TokenBlacklist {
    type Result = ResponseFuture<Result<Blacklisting, DbError>>;

    fn handle(&mut self, msg: Rotate, _: &mut Self::Context) -> Self::Result {
        let revoked = Arc::clone(&self.revoked);
        let (jti, exp, blacklist_old) = (
            msg.old.jti.clone(),
            unix(msg.old.expires_at),
            msg.blacklist_old,
        );
        let request = self
            .store
            .send(RotateRefresh {
                old: msg.old,
                new: msg.new,
                blacklist_old,
                at: msg.at,
            })
            .timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let outcome = flatten(request.await)?;
            if blacklist_old {
                revoked.insert(&jti, exp);
            }
            Ok(outcome)
        })
    }
}

/// Tokens the database already blacklisted (e.g. in a password change's transaction).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Remember(pub Vec<Revoked>);

impl Handler<Remember> for TokenBlacklist {
    type Result = ();

    fn handle(&mut self, msg: Remember, _: &mut Self::Context) {
        remember(&self.revoked, &msg.0);
    }
}

/// Revokes outstanding tokens by id (console); memory learns them after the commit.
#[derive(Message)]
#[rtype(result = "Result<usize, DbError>")]
pub struct RevokeTokens {
    pub ids: Vec<i64>,
    pub at: PrimitiveDateTime,
}

impl Handler<RevokeTokens> for TokenBlacklist {
    type Result = ResponseFuture<Result<usize, DbError>>;

    fn handle(&mut self, msg: RevokeTokens, _: &mut Self::Context) -> Self::Result {
        let revoked = Arc::clone(&self.revoked);
        let request = self
            .store
            .send(RevokeIds {
                ids: msg.ids,
                at: msg.at,
            })
            .timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let rows = flatten(request.await)?;
            remember(&revoked, &rows);
            Ok(rows.len())
        })
    }
}

/// Lifts the revocation of one outstanding token. Other instances keep refusing it until they
/// restart: the sync between instances only adds revocations.
#[derive(Message)]
#[rtype(result = "Result<bool, DbError>")]
pub struct Unrevoke(pub i64);

impl Handler<Unrevoke> for TokenBlacklist {
    type Result = ResponseFuture<Result<bool, DbError>>;

    fn handle(&mut self, msg: Unrevoke, _: &mut Self::Context) -> Self::Result {
        let revoked = Arc::clone(&self.revoked);
        let request = self.store.send(UnrevokeId(msg.0)).timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let jti = flatten(request.await)?;
            if let Some(jti) = &jti {
                revoked.remove(jti);
            }
            Ok(jti.is_some())
        })
    }
}
