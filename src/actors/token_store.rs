//! Blocking token writes and reads, on a `SyncArbiter`. Each message is one transaction.

use actix::prelude::*;
use time::PrimitiveDateTime;

pub use crate::db::models::revocation::WhichSessions;
use crate::db::models::revocation::{self, Revocations};
use crate::db::models::rotation::{self, Rotation};
use crate::db::models::token::{self, Blacklisting, Cause, NewOutstanding, Revoked};
use crate::db::models::token_session::{self, Advance, EndReason, Ended, NewTokenSession, Step};
use crate::db::{DbError, DbPool};
use crate::jwt::Minted;

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

/// Starts a session with its first token, in one transaction.
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct StartSession {
    pub session: NewTokenSession,
    pub token: NewOutstanding,
}

impl Handler<StartSession> for TokenStore {
    type Result = Result<(), DbError>;

    fn handle(&mut self, msg: StartSession, _: &mut Self::Context) -> Self::Result {
        self.pool.get()?.write(|conn| {
            token_session::start(conn, &msg.session)?;
            token::record(conn, &msg.token)
        })
    }
}

/// Blacklists one token (logout), ending its session in the same transaction when it has one.
#[derive(Message)]
#[rtype(result = "Result<(Blacklisting, Revocations), DbError>")]
pub struct BlacklistToken {
    pub token: NewOutstanding,
    /// The session to end, and who ends it.
    pub session: Option<(String, Option<i64>)>,
    pub at: PrimitiveDateTime,
}

impl Handler<BlacklistToken> for TokenStore {
    type Result = Result<(Blacklisting, Revocations), DbError>;

    fn handle(&mut self, msg: BlacklistToken, _: &mut Self::Context) -> Self::Result {
        self.pool.get()?.write(|conn| {
            let outcome = token::blacklist(conn, &msg.token, msg.at, Cause::Revocation)?;
            if outcome == Blacklisting::AlreadyBlacklisted {
                return Ok((outcome, Revocations::default()));
            }
            let mut revocations = match &msg.session {
                Some((id, by)) => {
                    revocation::end_session(conn, id, EndReason::Logout, *by, msg.at)?
                }
                None => Revocations::default(),
            };
            revocations.tokens.push(Revoked {
                jti: msg.token.jti.clone(),
                expires_at: msg.token.expires_at,
            });
            Ok((outcome, revocations))
        })
    }
}

/// Mints the successor of a rotated refresh token: no later than the session's deadline when
/// it is given; without one, as long-lived as a refresh token is (the same token whenever the
/// deadline is further away).
pub type MintSuccessor =
    Box<dyn Fn(Option<PrimitiveDateTime>) -> Result<(Minted, NewOutstanding), String> + Send>;

/// A refresh of a session's token (pair or sliding), in one transaction: the session moves on
/// (exactly one of several concurrent refreshes with one token, when strict), the old token is
/// blacklisted when asked and the successor recorded; or the session ends (reuse, deadline,
/// idle) and its current token is blacklisted. On PostgreSQL a rotation is first tried as one
/// statement ([`rotation::at_once`]); what that leaves is done by the general path.
#[derive(Message)]
#[rtype(result = "Result<(SessionRefresh, Revocations), DbError>")]
pub struct RefreshSession {
    pub session_id: String,
    pub presented: NewOutstanding,
    /// The successor's jti and how to mint it, when rotating.
    pub successor: Option<(String, MintSuccessor)>,
    pub blacklist_old: bool,
    pub strict: bool,
    pub now: PrimitiveDateTime,
    pub idle_before: Option<PrimitiveDateTime>,
    pub grace_since: Option<PrimitiveDateTime>,
}

/// What a session refresh did.
#[derive(Debug)]
pub enum SessionRefresh {
    /// The session moved on; no token of it may outlive `deadline`.
    Advanced {
        deadline: PrimitiveDateTime,
        successor: Option<Minted>,
    },
    /// Refused: the session had ended, or ends now for the reason given.
    Refused(Option<EndReason>),
    /// The previous token again, within the reuse interval.
    Retry,
}

impl Handler<RefreshSession> for TokenStore {
    type Result = Result<(SessionRefresh, Revocations), DbError>;

    fn handle(&mut self, msg: RefreshSession, _: &mut Self::Context) -> Self::Result {
        let RefreshSession {
            session_id,
            presented,
            successor,
            blacklist_old,
            strict,
            now,
            idle_before,
            grace_since,
        } = msg;
        let (next, mint) = match successor {
            Some((jti, mint)) => (Some(jti), Some(mint)),
            None => (None, None),
        };
        let advance = Advance {
            session_id: &session_id,
            presented: &presented.jti,
            next: next.as_deref(),
            strict,
            now,
            idle_before,
            grace_since,
        };
        let mut conn = self.pool.get()?;
        // The successor as long-lived as a refresh token is, for the one-statement rotation.
        let early = match &mint {
            Some(mint) if rotation::available(&conn) => Some(mint(None).map_err(DbError::Other)?),
            _ => None,
        };
        // Always a transaction, the one statement included: a lone statement held up on the
        // way could still commit after this answered 503, and the client's retry with the
        // same token would then look like a reuse and end the session.
        conn.write(|conn| {
            if let Some((minted, row)) = early {
                let rotation = Rotation {
                    advance: &advance,
                    successor: &row,
                    blacklist_old,
                };
                if let Some(rotated) = rotation::at_once(conn, &rotation)? {
                    let mut revocations = Revocations::default();
                    if rotated.blacklisted {
                        revocations.tokens.push(Revoked {
                            jti: presented.jti.clone(),
                            expires_at: presented.expires_at,
                        });
                    }
                    let advanced = SessionRefresh::Advanced {
                        deadline: rotated.deadline,
                        successor: Some(minted),
                    };
                    return Ok((advanced, revocations));
                }
            }
            let step = token_session::advance(conn, &advance)?;
            let ended = |conn: &mut _, ended: Ended, reason| {
                let tokens = revocation::current_token(conn, &ended.id, now)?;
                Ok::<_, DbError>((
                    SessionRefresh::Refused(Some(reason)),
                    Revocations {
                        tokens,
                        sessions: vec![ended],
                    },
                ))
            };
            match step {
                Step::Advanced { expires_at } => {
                    let mut revocations = Revocations::default();
                    // The presented token was recorded when it was minted: one statement
                    // blacklists it (recording it first only if it was not).
                    if blacklist_old
                        && (token::blacklist_recorded(conn, &presented.jti, now, Cause::Rotation)?
                            || token::blacklist(conn, &presented, now, Cause::Rotation)?
                                == Blacklisting::Done)
                    {
                        revocations.tokens.push(Revoked {
                            jti: presented.jti.clone(),
                            expires_at: presented.expires_at,
                        });
                    }
                    let successor = match &mint {
                        Some(mint) => {
                            let (minted, row) = mint(Some(expires_at)).map_err(DbError::Other)?;
                            token::record(conn, &row)?;
                            Some(minted)
                        }
                        None => None,
                    };
                    Ok((
                        SessionRefresh::Advanced {
                            deadline: expires_at,
                            successor,
                        },
                        revocations,
                    ))
                }
                Step::Gone => Ok((SessionRefresh::Refused(None), Revocations::default())),
                Step::Retry => Ok((SessionRefresh::Retry, Revocations::default())),
                Step::Lapsed(session, reason) => ended(conn, session, reason),
                Step::Reused(session) => ended(conn, session, EndReason::RefreshReuse),
            }
        })
    }
}

/// Ends sessions of a user: one, all but one, or all.
#[derive(Message)]
#[rtype(result = "Result<Revocations, DbError>")]
pub struct EndSessions {
    pub user_id: i64,
    pub which: WhichSessions,
    pub by: Option<i64>,
    pub at: PrimitiveDateTime,
}

impl Handler<EndSessions> for TokenStore {
    type Result = Result<Revocations, DbError>;

    fn handle(&mut self, msg: EndSessions, _: &mut Self::Context) -> Self::Result {
        self.pool.get()?.write(|conn| {
            revocation::end_user_sessions(conn, msg.user_id, &msg.which, msg.by, msg.at)
        })
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
                && token::blacklist(conn, &msg.old, msg.at, Cause::Rotation)?
                    == Blacklisting::AlreadyBlacklisted
            {
                return Ok(Blacklisting::AlreadyBlacklisted);
            }
            token::record(conn, &msg.new)?;
            Ok(Blacklisting::Done)
        })
    }
}

/// Live blacklisted tokens and recently ended sessions, all or those since a time.
#[derive(Message)]
#[rtype(result = "Result<Revocations, DbError>")]
pub struct LoadRevoked {
    pub now: PrimitiveDateTime,
    pub since: Option<PrimitiveDateTime>,
    /// Sessions that ended before this can have no live token left.
    pub ended_after: PrimitiveDateTime,
}

impl Handler<LoadRevoked> for TokenStore {
    type Result = Result<Revocations, DbError>;

    fn handle(&mut self, msg: LoadRevoked, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.pool.get()?;
        Ok(Revocations {
            tokens: token::revoked_live(&mut conn, msg.now, msg.since)?,
            sessions: token_session::ended_recently(
                &mut conn,
                msg.now,
                msg.ended_after,
                msg.since,
            )?,
        })
    }
}

/// Blacklists outstanding tokens by id (the console's revoke and bulk revoke), ending the
/// sessions they carry on.
#[derive(Message)]
#[rtype(result = "Result<Revocations, DbError>")]
pub struct RevokeIds {
    pub ids: Vec<i64>,
    pub by: Option<i64>,
    pub at: PrimitiveDateTime,
}

impl Handler<RevokeIds> for TokenStore {
    type Result = Result<Revocations, DbError>;

    fn handle(&mut self, msg: RevokeIds, _: &mut Self::Context) -> Self::Result {
        crate::db::models::token_admin::revoke_ids(&mut *self.pool.get()?, &msg.ids, msg.by, msg.at)
    }
}

/// Removes an outstanding token's blacklist entry; the jti when there was one, and the session
/// reopened with it.
#[derive(Message)]
#[rtype(result = "Result<Option<(String, Option<String>)>, DbError>")]
pub struct UnrevokeId {
    pub id: i64,
    pub at: PrimitiveDateTime,
}

impl Handler<UnrevokeId> for TokenStore {
    type Result = Result<Option<(String, Option<String>)>, DbError>;

    fn handle(&mut self, msg: UnrevokeId, _: &mut Self::Context) -> Self::Result {
        crate::db::models::token_admin::unrevoke(&mut *self.pool.get()?, msg.id, msg.at)
    }
}
