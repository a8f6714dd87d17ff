//! Failed sign-in counters. A failure is counted by one `INSERT ... ON CONFLICT DO UPDATE`
//! over all the counters it touches, so concurrent failures on any number of instances are
//! all counted; a counter whose last failure is older than the window starts again at one.

use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use time::PrimitiveDateTime;

use crate::db::models::Page;
use crate::db::schema::login_failures;
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_failures)]
pub struct LoginFailure {
    pub key_digest: String,
    pub scope: String,
    pub username: String,
    pub address: String,
    pub failures: i64,
    pub last_failed_at: PrimitiveDateTime,
    pub locked_until: Option<PrimitiveDateTime>,
}

/// A counter's first failure.
#[derive(Debug, Insertable)]
#[diesel(table_name = login_failures)]
pub struct NewFailure<'a> {
    pub key_digest: &'a str,
    pub scope: &'a str,
    pub username: &'a str,
    pub address: &'a str,
    pub failures: i64,
    pub last_failed_at: PrimitiveDateTime,
    pub locked_until: Option<PrimitiveDateTime>,
}

/// The stored counters among `digests`.
pub fn find(conn: &mut DbConn, digests: &[&str]) -> Result<Vec<LoginFailure>, DbError> {
    Ok(crate::with_conn!(conn, c => login_failures::table
        .filter(login_failures::key_digest.eq_any(digests))
        .select(LoginFailure::as_select())
        .load(c))?)
}

/// Counts one failure on each counter (`rows` are their first-failure rows, all at the same
/// time); a counter last failed at or before `forget_before` restarts. Returns each counter's
/// digest and count after this failure.
pub fn record(
    conn: &mut DbConn,
    rows: &[NewFailure<'_>],
    forget_before: PrimitiveDateTime,
) -> Result<Vec<(String, i64)>, DbError> {
    let Some(now) = rows.first().map(|r| r.last_failed_at) else {
        return Ok(Vec::new());
    };
    let count = case_when(
        login_failures::last_failed_at.le(forget_before),
        1i64.into_sql::<BigInt>(),
    )
    .otherwise(login_failures::failures + 1i64);
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(login_failures::table)
        .values(rows)
        .on_conflict(login_failures::key_digest)
        .do_update()
        .set((
            login_failures::failures.eq(count),
            login_failures::last_failed_at.eq(now),
        ))
        .returning((login_failures::key_digest, login_failures::failures))
        .get_results(c))?,
    )
}

/// Locks a counter until `until`, unless it is already locked for longer.
pub fn lock(conn: &mut DbConn, digest: &str, until: PrimitiveDateTime) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::update(login_failures::table.find(digest))
        .filter(
            login_failures::locked_until
                .is_null()
                .or(login_failures::locked_until.lt(until)),
        )
        .set(login_failures::locked_until.eq(until))
        .execute(c))?;
    Ok(())
}

/// Forgets a counter; `true` when there was one.
pub fn clear(conn: &mut DbConn, digest: &str) -> Result<bool, DbError> {
    let deleted = crate::with_conn!(conn, c =>
        diesel::delete(login_failures::table.find(digest)).execute(c))?;
    Ok(deleted > 0)
}

/// The counters locked at `now`, the longest lock first, and how many there are.
pub fn locked(
    conn: &mut DbConn,
    now: PrimitiveDateTime,
    page: Page,
) -> Result<(Vec<LoginFailure>, i64), DbError> {
    crate::with_conn!(conn, c => {
        let total: i64 = login_failures::table
            .filter(login_failures::locked_until.gt(now))
            .count()
            .get_result(c)?;
        let rows = login_failures::table
            .filter(login_failures::locked_until.gt(now))
            .order((login_failures::locked_until.desc(), login_failures::key_digest))
            .offset(page.offset)
            .limit(page.limit)
            .select(LoginFailure::as_select())
            .load(c)?;
        Ok((rows, total))
    })
}

/// Removes counters that are forgotten (last failure at or before `forget_before`) and not
/// locked at `now`.
pub fn purge(
    conn: &mut DbConn,
    forget_before: PrimitiveDateTime,
    now: PrimitiveDateTime,
) -> Result<usize, DbError> {
    Ok(crate::with_conn!(conn, c => diesel::delete(
        login_failures::table
            .filter(login_failures::last_failed_at.le(forget_before))
            .filter(
                login_failures::locked_until
                    .is_null()
                    .or(login_failures::locked_until.le(now)),
            ),
    )
    .execute(c))?)
}
