//! What the console shows of tokens: the outstanding list with filters, one token, bulk
//! revocation and un-revocation, and the dashboard's counts.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::revocation::Revocations;
use super::token::Revoked;
use super::token_session;
use super::{Page, contains_pattern, lower};
use crate::db::schema::{blacklisted_tokens, outstanding_tokens, users};
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Not blacklisted and not expired.
    Active,
    Expired,
    Blacklisted,
}

#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    /// A jti prefix, or part of the owner's username.
    pub search: Option<String>,
    /// Tokens of this user id.
    pub user_id: Option<i64>,
    pub status: Option<TokenStatus>,
    pub issued_after: Option<PrimitiveDateTime>,
    pub issued_before: Option<PrimitiveDateTime>,
    pub expires_after: Option<PrimitiveDateTime>,
    pub expires_before: Option<PrimitiveDateTime>,
}

/// One outstanding token with its owner and blacklist state.
#[derive(Debug, Clone, Queryable)]
pub struct TokenRow {
    pub id: i64,
    pub jti: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub blacklisted_at: Option<PrimitiveDateTime>,
}

macro_rules! filtered_tokens {
    ($filter:expr, $now:expr, $pattern:expr, $prefix:expr) => {{
        let filter: &TokenFilter = $filter;
        let now: PrimitiveDateTime = $now;
        let mut query = outstanding_tokens::table
            .left_join(users::table)
            .left_join(blacklisted_tokens::table)
            .into_boxed();
        if let (Some(pattern), Some(prefix)) = ($pattern, $prefix) {
            query = query.filter(
                outstanding_tokens::jti
                    .like(prefix.clone())
                    .escape('\\')
                    .or(lower(users::username.nullable().assume_not_null())
                        .like(pattern.clone())
                        .escape('\\')
                        .and(users::id.nullable().is_not_null())),
            );
        }
        if let Some(id) = filter.user_id {
            query = query.filter(outstanding_tokens::user_id.eq(id));
        }
        match filter.status {
            Some(TokenStatus::Active) => {
                query = query
                    .filter(blacklisted_tokens::id.nullable().is_null())
                    .filter(outstanding_tokens::expires_at.gt(now))
            }
            Some(TokenStatus::Expired) => {
                query = query.filter(outstanding_tokens::expires_at.le(now))
            }
            Some(TokenStatus::Blacklisted) => {
                query = query.filter(blacklisted_tokens::id.nullable().is_not_null())
            }
            None => {}
        }
        if let Some(t) = filter.issued_after {
            query = query.filter(outstanding_tokens::created_at.ge(t));
        }
        if let Some(t) = filter.issued_before {
            query = query.filter(outstanding_tokens::created_at.lt(t));
        }
        if let Some(t) = filter.expires_after {
            query = query.filter(outstanding_tokens::expires_at.ge(t));
        }
        if let Some(t) = filter.expires_before {
            query = query.filter(outstanding_tokens::expires_at.lt(t));
        }
        query
    }};
}

type RowColumns = (
    outstanding_tokens::id,
    outstanding_tokens::jti,
    outstanding_tokens::user_id,
    diesel::dsl::Nullable<users::username>,
    outstanding_tokens::created_at,
    outstanding_tokens::expires_at,
    diesel::dsl::Nullable<blacklisted_tokens::blacklisted_at>,
);

fn row_columns() -> RowColumns {
    (
        outstanding_tokens::id,
        outstanding_tokens::jti,
        outstanding_tokens::user_id,
        users::username.nullable(),
        outstanding_tokens::created_at,
        outstanding_tokens::expires_at,
        blacklisted_tokens::blacklisted_at.nullable(),
    )
}

/// A page of tokens, newest first, and the total matching.
pub fn list(
    conn: &mut DbConn,
    filter: &TokenFilter,
    now: PrimitiveDateTime,
    page: Page,
) -> Result<(Vec<TokenRow>, i64), DbError> {
    let pattern = filter.search.as_deref().map(contains_pattern);
    let prefix = filter
        .search
        .as_deref()
        .map(|s| format!("{}%", contains_pattern(s).trim_matches('%')));
    Ok(crate::with_conn!(conn, c => {
        let total: i64 = filtered_tokens!(filter, now, pattern.as_ref(), prefix.as_ref()).count().get_result(c)?;
        let rows = filtered_tokens!(filter, now, pattern.as_ref(), prefix.as_ref())
            .order((outstanding_tokens::created_at.desc(), outstanding_tokens::id.desc()))
            .limit(page.limit)
            .offset(page.offset)
            .select(row_columns())
            .load(c)?;
        Ok::<_, diesel::result::Error>((rows, total))
    })?)
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<TokenRow>, DbError> {
    Ok(crate::with_conn!(conn, c => outstanding_tokens::table
        .left_join(users::table)
        .left_join(blacklisted_tokens::table)
        .filter(outstanding_tokens::id.eq(id))
        .select(row_columns())
        .first(c)
        .optional())?)
}

/// Blacklists the given outstanding tokens; returns those newly blacklisted.
pub fn revoke_ids(
    conn: &mut DbConn,
    ids: &[i64],
    by: Option<i64>,
    at: PrimitiveDateTime,
) -> Result<Revocations, DbError> {
    conn.write(|conn| {
        let live: Vec<(i64, String, PrimitiveDateTime)> = crate::with_conn!(conn, c => outstanding_tokens::table
            .left_join(blacklisted_tokens::table)
            .filter(outstanding_tokens::id.eq_any(ids))
            .filter(blacklisted_tokens::id.nullable().is_null())
            .select((outstanding_tokens::id, outstanding_tokens::jti, outstanding_tokens::expires_at))
            .load(c))?;
        let rows: Vec<_> = live
            .iter()
            .map(|(id, _, _)| (blacklisted_tokens::token_id.eq(*id), blacklisted_tokens::blacklisted_at.eq(at)))
            .collect();
        if !rows.is_empty() {
            crate::with_conn!(conn, c => diesel::insert_into(blacklisted_tokens::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        // The sessions these tokens carry on end with them, so their access tokens stop too.
        let sessions = token_session::end_for_tokens(conn, ids, by, at)?;
        let tokens = live.into_iter().map(|(_, jti, expires_at)| Revoked { jti, expires_at }).collect();
        Ok(Revocations { tokens, sessions })
    })
}

/// Removes the blacklist entry of an outstanding token and reopens the session its revocation
/// ended; the token's jti when there was an entry, and the reopened session's id.
pub fn unrevoke(
    conn: &mut DbConn,
    id: i64,
    now: PrimitiveDateTime,
) -> Result<Option<(String, Option<String>)>, DbError> {
    conn.write(|conn| {
        let jti: Option<String> = crate::with_conn!(conn, c => outstanding_tokens::table
            .inner_join(blacklisted_tokens::table)
            .filter(outstanding_tokens::id.eq(id))
            .select(outstanding_tokens::jti)
            .first(c)
            .optional())?;
        let Some(jti) = jti else {
            return Ok(None);
        };
        crate::with_conn!(conn, c => diesel::delete(blacklisted_tokens::table.filter(blacklisted_tokens::token_id.eq(id))).execute(c))?;
        let session = token_session::reopen_for_token(conn, &jti, now)?;
        Ok(Some((jti, session)))
    })
}

/// The dashboard's figures.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub users: i64,
    pub active_users: i64,
    pub staff_users: i64,
    pub live_tokens: i64,
    pub blacklisted_tokens: i64,
    pub issued_last_day: i64,
    pub revoked_last_day: i64,
}

pub fn counts(
    conn: &mut DbConn,
    now: PrimitiveDateTime,
    day_ago: PrimitiveDateTime,
) -> Result<Counts, DbError> {
    Ok(crate::with_conn!(conn, c => {
        let users_total = users::table.count().get_result(c)?;
        let active_users = users::table.filter(users::is_active.eq(true)).count().get_result(c)?;
        let staff_users = users::table.filter(users::is_staff.eq(true)).count().get_result(c)?;
        let live_tokens = outstanding_tokens::table
            .left_join(blacklisted_tokens::table)
            .filter(blacklisted_tokens::id.nullable().is_null())
            .filter(outstanding_tokens::expires_at.gt(now))
            .count()
            .get_result(c)?;
        let blacklisted = blacklisted_tokens::table.count().get_result(c)?;
        let issued_last_day = outstanding_tokens::table.filter(outstanding_tokens::created_at.ge(day_ago)).count().get_result(c)?;
        let revoked_last_day = blacklisted_tokens::table.filter(blacklisted_tokens::blacklisted_at.ge(day_ago)).count().get_result(c)?;
        Ok::<_, diesel::result::Error>(Counts {
            users: users_total,
            active_users,
            staff_users,
            live_tokens,
            blacklisted_tokens: blacklisted,
            issued_last_day,
            revoked_last_day,
        })
    })?)
}

/// The latest sign-ins: (user id, username, last_login).
pub fn recent_logins(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<(i64, String, PrimitiveDateTime)>, DbError> {
    let rows: Vec<(i64, String, Option<PrimitiveDateTime>)> = crate::with_conn!(conn, c => users::table
        .filter(users::last_login.is_not_null())
        .order(users::last_login.desc())
        .limit(limit)
        .select((users::id, users::username, users::last_login))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, at)| at.map(|at| (id, name, at)))
        .collect())
}
