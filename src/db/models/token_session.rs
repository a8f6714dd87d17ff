//! Token sessions: one row per login. A session is a family of tokens (a refresh token and its
//! rotations with their access tokens, or a sliding token) that all carry the session's id.
//! The row records the refresh token that may be used next; ending a session is one update,
//! and the ended ids are what request handlers refuse from memory.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{outstanding_tokens, token_sessions};
use crate::db::{DbConn, DbError};

/// What started a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A refresh and access pair (`/api/token/`).
    Pair,
    /// A sliding token (`/api/token/sliding/`).
    Sliding,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pair => "pair",
            Self::Sliding => "sliding",
        }
    }
}

/// Why a session ended, as stored in `end_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The holder logged out (`/api/token/blacklist/`).
    Logout,
    /// The user or an administrator ended this one session.
    Ended,
    /// An administrator revoked the session's refresh token in the console.
    TokenRevoked,
    /// Every session of the user ended at once: password change, deactivation, deletion or
    /// "revoke all".
    RevokeAll,
    /// A rotated refresh token was presented again.
    RefreshReuse,
    /// Past `session_max_lifetime`.
    MaxLifetime,
    /// Not refreshed within `session_idle_timeout`.
    Idle,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Ended => "ended",
            Self::TokenRevoked => "token_revoked",
            Self::RevokeAll => "revoke_all",
            Self::RefreshReuse => "refresh_reuse",
            Self::MaxLifetime => "max_lifetime",
            Self::Idle => "idle",
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = token_sessions)]
pub struct NewTokenSession {
    pub id: String,
    pub user_id: i64,
    pub kind: &'static str,
    pub current_jti: String,
    pub created_at: PrimitiveDateTime,
    pub refreshed_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub user_agent: String,
    pub client_address: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = token_sessions)]
pub struct TokenSession {
    pub id: String,
    pub user_id: i64,
    pub kind: String,
    pub current_jti: String,
    pub previous_jti: Option<String>,
    pub rotated_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub refreshed_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub user_agent: String,
    pub client_address: String,
    pub ended_at: Option<PrimitiveDateTime>,
    pub end_reason: Option<String>,
    pub ended_by: Option<i64>,
}

impl TokenSession {
    /// Not ended, before its deadline, and (with an idle timeout) refreshed after
    /// `idle_before`: what [`newest_live_for_user`] lists.
    pub fn is_live(&self, now: PrimitiveDateTime, idle_before: Option<PrimitiveDateTime>) -> bool {
        self.ended_at.is_none()
            && self.expires_at > now
            && idle_before.is_none_or(|idle| self.refreshed_at > idle)
    }
}

/// A session that has ended: what the in-memory list of ended sessions needs.
#[derive(Debug, Clone, Queryable, PartialEq, Eq)]
pub struct Ended {
    pub id: String,
    pub user_id: i64,
    pub ended_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

/// A refresh (or sliding refresh) presented for a session.
#[derive(Debug, Clone)]
pub struct Advance<'a> {
    pub session_id: &'a str,
    /// The jti of the presented refresh token.
    pub presented: &'a str,
    /// The jti of its successor, when rotating.
    pub next: Option<&'a str>,
    /// Only the session's current refresh token may be used (rotation with blacklisting):
    /// any other member of the family is a reuse.
    pub strict: bool,
    pub now: PrimitiveDateTime,
    /// Sessions last refreshed at or before this are idle (`session_idle_timeout`).
    pub idle_before: Option<PrimitiveDateTime>,
    /// A rotation at or after this makes a repeat of its old token a retry, not a reuse
    /// (`refresh_reuse_interval`).
    pub grace_since: Option<PrimitiveDateTime>,
}

/// What a refresh did to its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The session moved on; the successor must not outlive `expires_at`.
    Advanced { expires_at: PrimitiveDateTime },
    /// The session had ended already, or is unknown.
    Gone,
    /// The session had just passed its deadline or idle timeout, and has now ended.
    Lapsed(Ended, EndReason),
    /// The previous refresh token, presented again within the reuse interval.
    Retry,
    /// A rotated refresh token presented again: the session has now ended.
    Reused(Ended),
}

const BLANK: Option<&str> = None;

/// The columns of an [`Ended`].
type EndedColumns = (
    token_sessions::id,
    token_sessions::user_id,
    diesel::dsl::AssumeNotNull<token_sessions::ended_at>,
    token_sessions::expires_at,
);

fn ended_columns() -> EndedColumns {
    use token_sessions::dsl as s;
    (
        s::id,
        s::user_id,
        s::ended_at.assume_not_null(),
        s::expires_at,
    )
}

/// The change that ends a session.
type Ending = (
    diesel::dsl::Eq<token_sessions::ended_at, Option<PrimitiveDateTime>>,
    diesel::dsl::Eq<token_sessions::end_reason, Option<&'static str>>,
    diesel::dsl::Eq<token_sessions::ended_by, Option<i64>>,
);

fn ending(reason: EndReason, by: Option<i64>, now: PrimitiveDateTime) -> Ending {
    use token_sessions::dsl as s;
    (
        s::ended_at.eq(Some(now)),
        s::end_reason.eq(Some(reason.as_str())),
        s::ended_by.eq(by),
    )
}

/// Earlier than any row: the idle cutoff when there is no idle timeout.
pub(super) fn long_ago() -> PrimitiveDateTime {
    crate::db::stored_time(time::OffsetDateTime::UNIX_EPOCH)
}

/// Starts a session. Run inside [`DbConn::write`], with the recording of its first token.
pub fn start(conn: &mut DbConn, session: &NewTokenSession) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::insert_into(token_sessions::table)
        .values(session)
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<TokenSession>, DbError> {
    Ok(crate::with_conn!(conn, c => token_sessions::table
        .find(id)
        .select(TokenSession::as_select())
        .first(c)
        .optional())?)
}

/// Moves a session on for a refresh: one conditional update, so of several concurrent
/// refreshes with one token exactly one advances a strict session. When nothing matched, the
/// row tells why. Run inside [`DbConn::write`].
pub fn advance(conn: &mut DbConn, step: &Advance<'_>) -> Result<Step, DbError> {
    use token_sessions::dsl as s;
    // Without an idle timeout nothing is older than this.
    let idle_before = step.idle_before.unwrap_or_else(long_ago);
    let advanced: Option<PrimitiveDateTime> = crate::with_conn!(conn, c => {
        let mut target = diesel::update(s::token_sessions)
            .filter(s::id.eq(step.session_id))
            .filter(s::ended_at.is_null())
            .filter(s::expires_at.gt(step.now))
            .filter(s::refreshed_at.gt(idle_before))
            .into_boxed();
        if step.strict {
            target = target.filter(s::current_jti.eq(step.presented));
        }
        match step.next {
            Some(next) => target
                .set((
                    s::current_jti.eq(next),
                    s::previous_jti.eq(Some(step.presented)),
                    s::rotated_at.eq(Some(step.now)),
                    s::refreshed_at.eq(step.now),
                ))
                .returning(s::expires_at)
                .get_result(c)
                .optional(),
            None => target
                .set(s::refreshed_at.eq(step.now))
                .returning(s::expires_at)
                .get_result(c)
                .optional(),
        }
    })?;
    if let Some(expires_at) = advanced {
        return Ok(Step::Advanced { expires_at });
    }
    let Some(row) = find(conn, step.session_id)? else {
        return Ok(Step::Gone);
    };
    if row.ended_at.is_some() {
        return Ok(Step::Gone);
    }
    let lapsed = if row.expires_at <= step.now {
        Some(EndReason::MaxLifetime)
    } else if row.refreshed_at <= idle_before {
        Some(EndReason::Idle)
    } else {
        None
    };
    if let Some(reason) = lapsed {
        return Ok(match end(conn, step.session_id, reason, None, step.now)? {
            Some(ended) => Step::Lapsed(ended, reason),
            None => Step::Gone,
        });
    }
    let retry = row.previous_jti.as_deref() == Some(step.presented)
        && step
            .grace_since
            .zip(row.rotated_at)
            .is_some_and(|(since, rotated)| rotated >= since);
    if retry {
        return Ok(Step::Retry);
    }
    Ok(
        match end(
            conn,
            step.session_id,
            EndReason::RefreshReuse,
            None,
            step.now,
        )? {
            Some(ended) => Step::Reused(ended),
            None => Step::Gone,
        },
    )
}

/// Ends one live session; `None` when it had ended already (or never existed). The caller
/// blacklists its current refresh token in the same transaction.
pub fn end(
    conn: &mut DbConn,
    id: &str,
    reason: EndReason,
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Option<Ended>, DbError> {
    use token_sessions::dsl as s;
    Ok(
        crate::with_conn!(conn, c => diesel::update(s::token_sessions)
        .filter(s::id.eq(id))
        .filter(s::ended_at.is_null())
        .set(ending(reason, by, now))
        .returning(ended_columns())
        .get_result(c)
        .optional())?,
    )
}

/// The current refresh token of a session (to blacklist when it ends).
pub fn current_jti(conn: &mut DbConn, id: &str) -> Result<Option<String>, DbError> {
    Ok(crate::with_conn!(conn, c => token_sessions::table
        .find(id)
        .select(token_sessions::current_jti)
        .first(c)
        .optional())?)
}

/// Ends every live session of a user, or every one but `except`. A session past its deadline
/// has no token left to refuse and stays as it is.
pub fn end_all_for_user(
    conn: &mut DbConn,
    user_id: i64,
    except: Option<&str>,
    reason: EndReason,
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Vec<Ended>, DbError> {
    use token_sessions::dsl as s;
    let except = except.unwrap_or_default();
    Ok(
        crate::with_conn!(conn, c => diesel::update(s::token_sessions)
        .filter(s::user_id.eq(user_id))
        .filter(s::ended_at.is_null())
        .filter(s::expires_at.gt(now))
        .filter(s::id.ne(except))
        .set(ending(reason, by, now))
        .returning(ended_columns())
        .get_results(c))?,
    )
}

/// Ends the live sessions whose current refresh token is one of `ids` (outstanding-token ids).
pub fn end_for_tokens(
    conn: &mut DbConn,
    ids: &[i64],
    by: Option<i64>,
    now: PrimitiveDateTime,
) -> Result<Vec<Ended>, DbError> {
    use token_sessions::dsl as s;
    let jtis: Vec<String> = crate::with_conn!(conn, c => outstanding_tokens::table
        .filter(outstanding_tokens::id.eq_any(ids))
        .select(outstanding_tokens::jti)
        .load(c))?;
    if jtis.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        crate::with_conn!(conn, c => diesel::update(s::token_sessions)
        .filter(s::current_jti.eq_any(&jtis))
        .filter(s::ended_at.is_null())
        .set(ending(EndReason::TokenRevoked, by, now))
        .returning(ended_columns())
        .get_results(c))?,
    )
}

/// Lifting the revocation of a session's current refresh token reopens the session, whatever
/// ended it (an administrator's explicit decision), unless it is past its deadline; the
/// reopened session's id.
pub fn reopen_for_token(
    conn: &mut DbConn,
    jti: &str,
    now: PrimitiveDateTime,
) -> Result<Option<String>, DbError> {
    use token_sessions::dsl as s;
    Ok(
        crate::with_conn!(conn, c => diesel::update(s::token_sessions)
        .filter(s::current_jti.eq(jti))
        .filter(s::ended_at.is_not_null())
        .filter(s::expires_at.gt(now))
        .set((s::ended_at.eq(None::<PrimitiveDateTime>), s::end_reason.eq(BLANK), s::ended_by.eq(None::<i64>)))
        .returning(s::id)
        .get_result(c)
        .optional())?,
    )
}

/// Sessions ended after `ended_after` (and, with `since`, at or after it) whose deadline is
/// still ahead of `now`: those whose access tokens may still be live.
pub fn ended_recently(
    conn: &mut DbConn,
    now: PrimitiveDateTime,
    ended_after: PrimitiveDateTime,
    since: Option<PrimitiveDateTime>,
) -> Result<Vec<Ended>, DbError> {
    use token_sessions::dsl as s;
    let from = since.map_or(ended_after, |since| since.max(ended_after));
    Ok(crate::with_conn!(conn, c => s::token_sessions
        .filter(s::ended_at.ge(from))
        .filter(s::expires_at.gt(now))
        .select(ended_columns())
        .load(c))?)
}

/// At most `limit` of a user's live sessions, newest first.
pub fn newest_live_for_user(
    conn: &mut DbConn,
    user_id: i64,
    now: PrimitiveDateTime,
    idle_before: Option<PrimitiveDateTime>,
    limit: i64,
) -> Result<Vec<TokenSession>, DbError> {
    use token_sessions::dsl as s;
    let idle_before = idle_before.unwrap_or_else(long_ago);
    Ok(crate::with_conn!(conn, c => s::token_sessions
        .filter(s::user_id.eq(user_id))
        .filter(s::ended_at.is_null())
        .filter(s::expires_at.gt(now))
        .filter(s::refreshed_at.gt(idle_before))
        .order((s::created_at.desc(), s::id.desc()))
        .limit(limit)
        .select(TokenSession::as_select())
        .load(c))?)
}

/// The session whose current refresh (or sliding) token has this jti, live or ended.
pub fn by_current_jti(conn: &mut DbConn, jti: &str) -> Result<Option<TokenSession>, DbError> {
    Ok(crate::with_conn!(conn, c => token_sessions::table
        .filter(token_sessions::current_jti.eq(jti))
        .order(token_sessions::created_at.desc())
        .select(TokenSession::as_select())
        .first(c)
        .optional())?)
}

/// Deletes up to `batch` sessions past their deadline; returns how many.
pub fn delete_expired_batch(
    conn: &mut DbConn,
    now: PrimitiveDateTime,
    batch: i64,
) -> Result<usize, DbError> {
    use token_sessions::dsl as s;
    conn.write(|conn| {
        let ids: Vec<String> = crate::with_conn!(conn, c => s::token_sessions
            .filter(s::expires_at.le(now))
            .select(s::id)
            .limit(batch)
            .load(c))?;
        if ids.is_empty() {
            return Ok(0);
        }
        Ok(crate::with_conn!(conn, c => diesel::delete(s::token_sessions.filter(s::id.eq_any(&ids))).execute(c))?)
    })
}
