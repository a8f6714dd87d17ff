//! The token blacklist: owns the in-memory revocation list and the list of ended sessions. It
//! writes through the token store first and updates memory only after the database committed;
//! it applies what other instances announce (see [`super::announced`]), reads revocations from
//! the database on a timer (the bound when announcements cannot arrive) and purges expired
//! entries on another. Its handlers never wait: each hands back a future, so a slow database
//! delays only the requests that need it, and the background sync runs on a store thread of
//! its own.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::ASK_TIMEOUT;
use super::expiring_ids::{IdKey, key};
pub use super::revocation_lists::{ListKeys, Lists};
use super::rotated_tokens::RotatedTokens;
use super::token_store::{
    BlacklistToken, EndSessions, LoadRevoked, RefreshSession, RevokeIds, RotateRefresh,
    SessionRefresh, StartSession, TokenStore, UnrevokeId,
};
use crate::clock::Clock;
use crate::db::models::revocation::Revocations;
use crate::db::models::token::{Blacklisting, NewOutstanding};
use crate::db::models::token_session::EndReason;
use crate::db::{DbError, stored_time};
use crate::metrics::RevocationCounters;

/// Memory's side of a revocation this instance made: the lists learn it, the counters count
/// it (a sync's revocations are learnt, not counted: other instances made them).
fn learn(lists: &Lists, counts: &RevocationCounters, revocations: &Revocations) {
    lists.remember(revocations);
    counts.revoked(revocations.tokens.len(), revocations.sessions.len());
}

pub struct TokenBlacklist {
    pub(super) lists: Lists,
    counts: RevocationCounters,
    store: Addr<TokenStore>,
    /// The store thread for the background sync, apart from the request path's threads.
    sync_store: Addr<TokenStore>,
    /// Whether a sync is under way (a slow one is never overlapped by the next).
    syncing: bool,
    /// Revocations lifted while a sync is under way: its rows, read before, must not add them
    /// back.
    pub(super) lifted: HashSet<IdKey>,
    /// Where rotated tokens wait to be announced to other instances (none on SQLite).
    rotated: Option<Arc<RotatedTokens>>,
    clock: Clock,
    sync_interval: Duration,
    purge_interval: Duration,
    /// When the last successful sync started; the next reads from a little before it.
    synced_at: OffsetDateTime,
}

impl TokenBlacklist {
    /// `loaded_at` is when the caller read the initial lists; `counts` counts the revocations
    /// this instance makes.
    pub fn new(
        lists: Lists,
        (store, sync_store): (Addr<TokenStore>, Addr<TokenStore>),
        clock: Clock,
        intervals: (Duration, Duration),
        loaded_at: OffsetDateTime,
        counts: RevocationCounters,
    ) -> Self {
        Self {
            lists,
            counts,
            store,
            sync_store,
            syncing: false,
            lifted: HashSet::new(),
            rotated: None,
            clock,
            sync_interval: intervals.0,
            purge_interval: intervals.1,
            synced_at: loaded_at,
        }
    }

    /// Queues the spent tokens of this instance's rotations for announcement.
    pub fn announcing_rotations(mut self, queue: Arc<RotatedTokens>) -> Self {
        self.rotated = Some(queue);
        self
    }

    /// Forgets a token's lifted revocation, so that no sync under way brings it back.
    pub(super) fn lift(&mut self, jti: &str) {
        self.lists.revoked.remove(jti);
        self.keep_lifted(jti);
    }

    /// Forgets the end of a reopened session, so that no sync under way brings it back.
    pub(super) fn reopen(&mut self, session: &str) {
        self.lists.ended.remove(session);
        self.keep_lifted(session);
    }

    pub(super) fn is_syncing(&self) -> bool {
        self.syncing
    }

    fn keep_lifted(&mut self, id: &str) {
        if self.syncing {
            self.lifted.insert(key(id));
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
            ended_after: stored_time(started - self.lists.ended.window()),
        });
        request
            .timeout(ASK_TIMEOUT)
            .into_actor(self)
            .map(move |result, act, _| {
                act.syncing = false;
                let lifted = std::mem::take(&mut act.lifted);
                match result {
                    Ok(Ok(rows)) => {
                        act.lists.remember_except(&rows, &lifted);
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
            let now = act.clock.now().unix_timestamp();
            let purged = act.lists.revoked.purge(now);
            let sessions = act.lists.ended.purge(now);
            if purged + sessions > 0 {
                tracing::info!(
                    purged,
                    remaining = act.lists.revoked.len(),
                    sessions,
                    sessions_remaining = act.lists.ended.len(),
                    "expired revocations purged"
                );
            }
        });
    }
}

fn unix(t: PrimitiveDateTime) -> i64 {
    t.assume_utc().unix_timestamp()
}

fn flatten<T>(result: Result<Result<T, DbError>, MailboxError>) -> Result<T, DbError> {
    result.map_err(|e| DbError::Unavailable(format!("token store: {e}")))?
}

/// Starts a session with its first refresh or sliding token.
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct Start(pub StartSession);

impl Handler<Start> for TokenBlacklist {
    type Result = ResponseFuture<Result<(), DbError>>;

    fn handle(&mut self, msg: Start, _: &mut Self::Context) -> Self::Result {
        let request = self.store.send(msg.0).timeout(ASK_TIMEOUT);
        Box::pin(async move { flatten(request.await) })
    }
}

/// Refreshes a session's token (see [`RefreshSession`]); memory learns what it revoked before
/// the answer goes out.
#[derive(Message)]
#[rtype(result = "Result<SessionRefresh, DbError>")]
pub struct Refresh(pub RefreshSession);

impl Handler<Refresh> for TokenBlacklist {
    type Result = ResponseFuture<Result<SessionRefresh, DbError>>;

    fn handle(&mut self, msg: Refresh, _: &mut Self::Context) -> Self::Result {
        let (lists, counts) = (self.lists.clone(), self.counts.clone());
        let rotated = self.rotated.clone();
        let at = msg.0.now.assume_utc();
        let request = self.store.send(msg.0).timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let (outcome, revocations) = flatten(request.await)?;
            learn(&lists, &counts, &revocations);
            // The spent token of a rotation; a session's end is announced by the database.
            if let (SessionRefresh::Advanced { .. }, Some(queue)) = (&outcome, rotated) {
                for token in &revocations.tokens {
                    queue.push(&token.jti, unix(token.expires_at), at);
                }
            }
            if matches!(
                outcome,
                SessionRefresh::Refused(Some(EndReason::RefreshReuse))
            ) {
                counts.refresh_reused();
            }
            Ok(outcome)
        })
    }
}

/// Ends sessions of a user (see [`EndSessions`]); memory learns them after the commit.
#[derive(Message)]
#[rtype(result = "Result<Revocations, DbError>")]
pub struct EndUserSessions(pub EndSessions);

impl Handler<EndUserSessions> for TokenBlacklist {
    type Result = ResponseFuture<Result<Revocations, DbError>>;

    fn handle(&mut self, msg: EndUserSessions, _: &mut Self::Context) -> Self::Result {
        let (lists, counts) = (self.lists.clone(), self.counts.clone());
        let request = self.store.send(msg.0).timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let revocations = flatten(request.await)?;
            learn(&lists, &counts, &revocations);
            Ok(revocations)
        })
    }
}

/// Blacklists one token, ending its session when it names one (logout); memory learns both
/// once the database has them.
#[derive(Message)]
#[rtype(result = "Result<Blacklisting, DbError>")]
pub struct Blacklist {
    pub token: NewOutstanding,
    /// The session to end, and who ends it.
    pub session: Option<(String, Option<i64>)>,
    pub at: PrimitiveDateTime,
}

impl Handler<Blacklist> for TokenBlacklist {
    type Result = ResponseFuture<Result<Blacklisting, DbError>>;

    fn handle(&mut self, msg: Blacklist, _: &mut Self::Context) -> Self::Result {
        let (lists, counts) = (self.lists.clone(), self.counts.clone());
        let (jti, exp) = (msg.token.jti.clone(), unix(msg.token.expires_at));
        let request = self
            .store
            .send(BlacklistToken {
                token: msg.token,
                session: msg.session,
                at: msg.at,
            })
            .timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let (outcome, revocations) = flatten(request.await)?;
            lists.revoked.insert(&jti, exp);
            learn(&lists, &counts, &revocations);
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
        let (revoked, counts) = (Arc::clone(&self.lists.revoked), self.counts.clone());
        let rotated = self.rotated.clone();
        let at = msg.at.assume_utc();
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
                if let Some(queue) = rotated {
                    queue.push(&jti, exp, at);
                }
                if outcome == Blacklisting::Done {
                    counts.revoked(1, 0);
                }
            }
            Ok(outcome)
        })
    }
}

/// Tokens and sessions the database already revoked (e.g. in a password change's transaction).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Remember(pub Revocations);

impl Handler<Remember> for TokenBlacklist {
    type Result = ();

    fn handle(&mut self, msg: Remember, _: &mut Self::Context) {
        learn(&self.lists, &self.counts, &msg.0);
    }
}

/// Revokes outstanding tokens by id (console), ending the sessions they carry on; memory learns
/// them after the commit. Answers how many tokens were revoked.
#[derive(Message)]
#[rtype(result = "Result<usize, DbError>")]
pub struct RevokeTokens {
    pub ids: Vec<i64>,
    pub by: Option<i64>,
    pub at: PrimitiveDateTime,
}

impl Handler<RevokeTokens> for TokenBlacklist {
    type Result = ResponseFuture<Result<usize, DbError>>;

    fn handle(&mut self, msg: RevokeTokens, _: &mut Self::Context) -> Self::Result {
        let (lists, counts) = (self.lists.clone(), self.counts.clone());
        let request = self
            .store
            .send(RevokeIds {
                ids: msg.ids,
                by: msg.by,
                at: msg.at,
            })
            .timeout(ASK_TIMEOUT);
        Box::pin(async move {
            let revocations = flatten(request.await)?;
            learn(&lists, &counts, &revocations);
            Ok(revocations.tokens.len())
        })
    }
}

/// Lifts the revocation of one outstanding token, and reopens the session its revocation
/// ended; memory forgets both after the commit (other instances hear of it from the database).
#[derive(Message)]
#[rtype(result = "Result<bool, DbError>")]
pub struct Unrevoke {
    pub id: i64,
    pub at: PrimitiveDateTime,
}

impl Handler<Unrevoke> for TokenBlacklist {
    type Result = ResponseActFuture<Self, Result<bool, DbError>>;

    fn handle(&mut self, msg: Unrevoke, _: &mut Self::Context) -> Self::Result {
        let request = self
            .store
            .send(UnrevokeId {
                id: msg.id,
                at: msg.at,
            })
            .timeout(ASK_TIMEOUT);
        Box::pin(
            async move { flatten(request.await) }
                .into_actor(self)
                .map(|lifted, act, _| {
                    let lifted = lifted?;
                    if let Some((jti, session)) = &lifted {
                        act.lift(jti);
                        if let Some(session) = session {
                            act.reopen(session);
                        }
                    }
                    Ok(lifted.is_some())
                }),
        )
    }
}
