//! Outstanding refresh (and sliding) tokens and their blacklist entries. Only a SHA-256 digest
//! of a token is stored, never the token.

use diesel::prelude::*;
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

use crate::db::schema::{blacklisted_tokens, outstanding_tokens};
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outstanding_tokens)]
pub struct NewOutstanding {
    pub user_id: Option<i64>,
    pub jti: String,
    pub token_digest: String,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

/// A blacklisted token still inside its lifetime.
#[derive(Debug, Clone, Queryable)]
pub struct Revoked {
    pub jti: String,
    pub expires_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blacklisting {
    /// This call blacklisted the token.
    Done,
    /// It already was.
    AlreadyBlacklisted,
}

/// Why a token is blacklisted. A revocation is announced to the other instances by the
/// database in the same transaction; the spent token of a rotation is announced by the
/// instance after the commit (a notice inside every refresh's transaction would serialize
/// their commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Revocation,
    Rotation,
}

impl Cause {
    fn rotated(self) -> bool {
        self == Self::Rotation
    }
}

/// Rows removed by one flush batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    pub outstanding: usize,
    pub blacklisted: usize,
}

/// The stored digest of a token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Records an outstanding token; recording the same jti twice is a no-op.
pub fn record(conn: &mut DbConn, token: &NewOutstanding) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::insert_into(outstanding_tokens::table)
        .values(token)
        .on_conflict(outstanding_tokens::jti)
        .do_nothing()
        .execute(c))?;
    Ok(())
}

/// Blacklists a token, recording it as outstanding first if it was not (simplejwt's
/// `blacklist()`). Run inside [`DbConn::write`]: the unique `token_id` makes exactly one of
/// several concurrent callers see [`Blacklisting::Done`].
pub fn blacklist(
    conn: &mut DbConn,
    token: &NewOutstanding,
    at: PrimitiveDateTime,
    cause: Cause,
) -> Result<Blacklisting, DbError> {
    record(conn, token)?;
    let id: i64 = crate::with_conn!(conn, c => outstanding_tokens::table
        .filter(outstanding_tokens::jti.eq(&token.jti))
        .select(outstanding_tokens::id)
        .first(c))?;
    let inserted = crate::with_conn!(conn, c => diesel::insert_into(blacklisted_tokens::table)
        .values((
            blacklisted_tokens::token_id.eq(id),
            blacklisted_tokens::blacklisted_at.eq(at),
            blacklisted_tokens::rotated.eq(cause.rotated()),
        ))
        .on_conflict(blacklisted_tokens::token_id)
        .do_nothing()
        .execute(c))?;
    Ok(if inserted == 1 {
        Blacklisting::Done
    } else {
        Blacklisting::AlreadyBlacklisted
    })
}

/// Blacklisted tokens that have not expired at `now`; with `since`, only those blacklisted at
/// or after it (the incremental sync between instances).
pub fn revoked_live(
    conn: &mut DbConn,
    now: PrimitiveDateTime,
    since: Option<PrimitiveDateTime>,
) -> Result<Vec<Revoked>, DbError> {
    Ok(crate::with_conn!(conn, c => {
        let mut query = blacklisted_tokens::table
            .inner_join(outstanding_tokens::table)
            .filter(outstanding_tokens::expires_at.gt(now))
            .select((outstanding_tokens::jti, outstanding_tokens::expires_at))
            .into_boxed();
        if let Some(since) = since {
            query = query.filter(blacklisted_tokens::blacklisted_at.ge(since));
        }
        query.load(c)
    })?)
}

/// Blacklists every live outstanding token of a user; returns those newly blacklisted.
pub fn blacklist_all_for_user(
    conn: &mut DbConn,
    user_id: i64,
    now: PrimitiveDateTime,
) -> Result<Vec<Revoked>, DbError> {
    let live: Vec<(i64, String, PrimitiveDateTime)> = crate::with_conn!(conn, c => outstanding_tokens::table
        .left_join(blacklisted_tokens::table)
        .filter(outstanding_tokens::user_id.eq(user_id))
        .filter(outstanding_tokens::expires_at.gt(now))
        .filter(blacklisted_tokens::id.is_null())
        .select((outstanding_tokens::id, outstanding_tokens::jti, outstanding_tokens::expires_at))
        .load(c))?;
    let rows: Vec<_> = live
        .iter()
        .map(|(id, _, _)| {
            (
                blacklisted_tokens::token_id.eq(*id),
                blacklisted_tokens::blacklisted_at.eq(now),
            )
        })
        .collect();
    if !rows.is_empty() {
        crate::with_conn!(conn, c => diesel::insert_into(blacklisted_tokens::table).values(&rows).execute(c))?;
    }
    Ok(live
        .into_iter()
        .map(|(_, jti, expires_at)| Revoked { jti, expires_at })
        .collect())
}

/// Deletes up to `batch` expired outstanding tokens and their blacklist entries.
pub fn flush_expired_batch(
    conn: &mut DbConn,
    now: PrimitiveDateTime,
    batch: i64,
) -> Result<Flushed, DbError> {
    conn.write(|conn| {
        let ids: Vec<i64> = crate::with_conn!(conn, c => outstanding_tokens::table
            .filter(outstanding_tokens::expires_at.le(now))
            .select(outstanding_tokens::id)
            .order(outstanding_tokens::id.asc())
            .limit(batch)
            .load(c))?;
        if ids.is_empty() {
            return Ok(Flushed::default());
        }
        let blacklisted = crate::with_conn!(conn, c => diesel::delete(
            blacklisted_tokens::table.filter(blacklisted_tokens::token_id.eq_any(&ids))
        ).execute(c))?;
        let outstanding = crate::with_conn!(conn, c => diesel::delete(
            outstanding_tokens::table.filter(outstanding_tokens::id.eq_any(&ids))
        ).execute(c))?;
        Ok(Flushed {
            outstanding,
            blacklisted,
        })
    })
}

/// Blacklists a recorded token by its jti in one statement; whether this call did (a token
/// not recorded, or blacklisted already, is left alone). Run inside [`DbConn::write`].
pub fn blacklist_recorded(
    conn: &mut DbConn,
    jti: &str,
    at: PrimitiveDateTime,
    cause: Cause,
) -> Result<bool, DbError> {
    use diesel::sql_types::{Bool, Timestamp};
    let inserted = crate::with_conn!(conn, c => diesel::insert_into(blacklisted_tokens::table)
        .values(
            outstanding_tokens::table
                .filter(outstanding_tokens::jti.eq(jti))
                .select((
                    outstanding_tokens::id,
                    at.into_sql::<Timestamp>(),
                    cause.rotated().into_sql::<Bool>(),
                )),
        )
        .into_columns((
            blacklisted_tokens::token_id,
            blacklisted_tokens::blacklisted_at,
            blacklisted_tokens::rotated,
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Blacklists the live outstanding token `jti` unless it already is; the token when this call
/// blacklisted it.
pub fn blacklist_jti(
    conn: &mut DbConn,
    jti: &str,
    now: PrimitiveDateTime,
) -> Result<Option<Revoked>, DbError> {
    let live: Option<PrimitiveDateTime> = crate::with_conn!(conn, c => outstanding_tokens::table
        .left_join(blacklisted_tokens::table)
        .filter(outstanding_tokens::jti.eq(jti))
        .filter(outstanding_tokens::expires_at.gt(now))
        .filter(blacklisted_tokens::id.nullable().is_null())
        .select(outstanding_tokens::expires_at)
        .first(c)
        .optional())?;
    let Some(expires_at) = live else {
        return Ok(None);
    };
    Ok(
        blacklist_recorded(conn, jti, now, Cause::Revocation)?.then(|| Revoked {
            jti: jti.to_owned(),
            expires_at,
        }),
    )
}
