//! Revocations that span tokens and sessions: ending a session blacklists its current refresh
//! token, and revoking a user's tokens ends their sessions. Each function runs inside the
//! caller's transaction and returns what changed, for the in-memory lists.

use time::PrimitiveDateTime;

use super::token::{self, Revoked};
use super::token_session::{self, EndReason, Ended};
use crate::db::{DbConn, DbError};

/// Tokens newly blacklisted and sessions newly ended by one revocation.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    pub tokens: Vec<Revoked>,
    pub sessions: Vec<Ended>,
}

impl Revocations {
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.sessions.is_empty()
    }
}

/// Ends one session and blacklists its current refresh token.
pub fn end_session(
    conn: &mut DbConn,
    session_id: &str,
    reason: EndReason,
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Revocations, DbError> {
    let Some(ended) = token_session::end(conn, session_id, reason, by, now)? else {
        return Ok(Revocations::default());
    };
    Ok(Revocations {
        tokens: current_token(conn, &ended.id, now)?,
        sessions: vec![ended],
    })
}

/// The blacklisting of an ended session's current refresh token.
pub fn current_token(
    conn: &mut DbConn,
    session_id: &str,
    now: PrimitiveDateTime,
) -> Result<Vec<Revoked>, DbError> {
    Ok(match token_session::current_jti(conn, session_id)? {
        Some(jti) => token::blacklist_jti(conn, &jti, now)?.into_iter().collect(),
        None => Vec::new(),
    })
}

/// Every live token and session of a user (password change, deactivation, deletion, "revoke
/// all").
pub fn revoke_all_for_user(
    conn: &mut DbConn,
    user_id: i64,
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Revocations, DbError> {
    Ok(Revocations {
        tokens: token::blacklist_all_for_user(conn, user_id, now)?,
        sessions: token_session::end_all_for_user(
            conn,
            user_id,
            None,
            EndReason::RevokeAll,
            by,
            now,
        )?,
    })
}

/// Which sessions of a user to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhichSessions {
    /// This one, if it is the user's and live.
    One(String),
    /// Every live one but this one (the caller's own).
    AllBut(String),
    All,
}

/// Ends sessions of a user (one, all but one, or all) with their current refresh tokens. A
/// session of another user, or one already ended or past its deadline, is left alone: nothing
/// is returned for it.
pub fn end_user_sessions(
    conn: &mut DbConn,
    user_id: i64,
    which: &WhichSessions,
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Revocations, DbError> {
    match which {
        WhichSessions::One(id) => {
            let live = token_session::find(conn, id)?
                .is_some_and(|s| s.user_id == user_id && s.expires_at > now);
            if !live {
                return Ok(Revocations::default());
            }
            end_session(conn, id, EndReason::Ended, by, now)
        }
        WhichSessions::AllBut(keep) => end_other_sessions(conn, user_id, Some(keep), by, now),
        WhichSessions::All => end_other_sessions(conn, user_id, None, by, now),
    }
}

/// Every live session of a user but one, with their refresh tokens.
pub fn end_other_sessions(
    conn: &mut DbConn,
    user_id: i64,
    keep: Option<&str>,
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Revocations, DbError> {
    let sessions = token_session::end_all_for_user(conn, user_id, keep, EndReason::Ended, by, now)?;
    let mut tokens = Vec::new();
    for ended in &sessions {
        tokens.extend(current_token(conn, &ended.id, now)?);
    }
    Ok(Revocations { tokens, sessions })
}
