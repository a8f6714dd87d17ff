//! The audit log's rows: written in batches, listed newest first with filters, purged in
//! batches once past their retention. No foreign keys to users: a row keeps the username of
//! the time, so it stays meaningful after the user is deleted.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{Page, lower};
use crate::db::schema::{security_events, users};
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = security_events)]
pub struct SecurityEvent {
    pub id: i64,
    pub kind: String,
    pub at: PrimitiveDateTime,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub username: String,
    pub session_id: Option<String>,
    pub client_address: String,
    pub user_agent: String,
    pub detail: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = security_events)]
pub struct NewSecurityEvent<'a> {
    pub kind: &'a str,
    pub at: PrimitiveDateTime,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub username: &'a str,
    pub session_id: Option<&'a str>,
    pub client_address: &'a str,
    pub user_agent: &'a str,
    pub detail: &'a str,
}

/// Which events a list shows; every part given must hold.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events this user made or that concern them (actor or subject); with `username` too,
    /// also the events recorded under that name.
    pub user_id: Option<i64>,
    /// Events recorded under this username (exactly, or ignoring ASCII case): the name typed
    /// at a sign-in, or the subject's name at the time.
    pub username: Option<String>,
    /// Any of these kinds; empty: all.
    pub kinds: Vec<String>,
    /// At or after.
    pub since: Option<PrimitiveDateTime>,
    /// Before.
    pub until: Option<PrimitiveDateTime>,
}

macro_rules! filtered_events {
    ($filter:expr) => {{
        let filter: &EventFilter = $filter;
        let mut query = security_events::table.into_boxed();
        let name = filter.username.clone();
        let lowered = name.as_ref().map(|n| n.to_lowercase());
        match (filter.user_id, name, lowered) {
            (Some(id), Some(name), Some(lowered)) => {
                query = query.filter(
                    security_events::actor_id
                        .eq(id)
                        .or(security_events::subject_id.eq(id))
                        .or(security_events::username.eq(name).nullable())
                        .or(lower(security_events::username).eq(lowered).nullable()),
                )
            }
            (Some(id), _, _) => {
                query = query.filter(
                    security_events::actor_id
                        .eq(id)
                        .or(security_events::subject_id.eq(id)),
                )
            }
            (None, Some(name), Some(lowered)) => {
                query = query.filter(
                    security_events::username
                        .eq(name)
                        .or(lower(security_events::username).eq(lowered)),
                )
            }
            _ => {}
        }
        if !filter.kinds.is_empty() {
            query = query.filter(security_events::kind.eq_any(filter.kinds.clone()));
        }
        if let Some(t) = filter.since {
            query = query.filter(security_events::at.ge(t));
        }
        if let Some(t) = filter.until {
            query = query.filter(security_events::at.lt(t));
        }
        query
    }};
}

/// Inserts a batch in one transaction.
pub fn insert_batch(conn: &mut DbConn, rows: &[NewSecurityEvent<'_>]) -> Result<usize, DbError> {
    if rows.is_empty() {
        return Ok(0);
    }
    conn.write(|conn| {
        Ok(
            crate::with_conn!(conn, c => diesel::insert_into(security_events::table)
                .values(rows)
                .execute(c))?,
        )
    })
}

/// A page of events, newest first, and how many match.
pub fn list(
    conn: &mut DbConn,
    filter: &EventFilter,
    page: Page,
) -> Result<(Vec<SecurityEvent>, i64), DbError> {
    Ok(crate::with_conn!(conn, c => {
        let total: i64 = filtered_events!(filter).count().get_result(c)?;
        let rows = filtered_events!(filter)
            .order((security_events::at.desc(), security_events::id.desc()))
            .limit(page.limit)
            .offset(page.offset)
            .select(SecurityEvent::as_select())
            .load(c)?;
        Ok::<_, diesel::result::Error>((rows, total))
    })?)
}

/// The current usernames of these user ids (those that still exist).
pub fn usernames_of(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    Ok(crate::with_conn!(conn, c => users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::username))
        .load(c))?)
}

/// Deletes up to `batch` of the oldest events recorded before `before`, in one short
/// transaction; returns how many.
pub fn purge_batch(
    conn: &mut DbConn,
    before: PrimitiveDateTime,
    batch: i64,
) -> Result<usize, DbError> {
    conn.write(|conn| {
        let ids: Vec<i64> = crate::with_conn!(conn, c => security_events::table
            .filter(security_events::at.lt(before))
            .order(security_events::id.asc())
            .limit(batch)
            .select(security_events::id)
            .load(c))?;
        if ids.is_empty() {
            return Ok(0);
        }
        Ok(crate::with_conn!(conn, c => diesel::delete(
            security_events::table.filter(security_events::id.eq_any(&ids))
        )
        .execute(c))?)
    })
}

/// Deletes every event recorded before `before`, `batch` rows per transaction; returns how
/// many.
pub fn purge(conn: &mut DbConn, before: PrimitiveDateTime, batch: i64) -> Result<u64, DbError> {
    let full = usize::try_from(batch).unwrap_or(usize::MAX);
    let mut total = 0u64;
    loop {
        let deleted = purge_batch(conn, before, batch)?;
        total += deleted as u64;
        if deleted < full {
            return Ok(total);
        }
    }
}
