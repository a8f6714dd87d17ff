//! Console sessions, kept server-side: the cookie holds a random token and only its SHA-256
//! digest is stored, so a database leak gives no usable session.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::admin_sessions;
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_sessions)]
pub struct Session {
    pub id: i64,
    pub token_digest: String,
    pub user_id: i64,
    pub user_stamp: String,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = admin_sessions)]
pub struct NewSession<'a> {
    pub token_digest: &'a str,
    pub user_id: i64,
    pub user_stamp: &'a str,
    pub csrf_token: &'a str,
    pub flash: Option<&'a str>,
    pub created_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewSession<'_>) -> Result<Session, DbError> {
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(admin_sessions::table)
        .values(new)
        .returning(Session::as_returning())
        .get_result(c))?,
    )
}

pub fn find_by_digest(conn: &mut DbConn, digest: &str) -> Result<Option<Session>, DbError> {
    Ok(crate::with_conn!(conn, c => admin_sessions::table
        .filter(admin_sessions::token_digest.eq(digest))
        .select(Session::as_select())
        .first(c)
        .optional())?)
}

pub fn touch(conn: &mut DbConn, id: i64, at: PrimitiveDateTime) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::update(admin_sessions::table.find(id))
        .set(admin_sessions::last_seen_at.eq(at))
        .execute(c))?;
    Ok(())
}

/// Replaces the pending flash message (`None` clears it).
pub fn set_flash(conn: &mut DbConn, id: i64, flash: Option<&str>) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::update(admin_sessions::table.find(id))
        .set(admin_sessions::flash.eq(flash))
        .execute(c))?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, id: i64) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::delete(admin_sessions::table.find(id)).execute(c))?;
    Ok(())
}

/// Removes sessions past their absolute expiry (served by the `expires_at` index). Idle
/// sessions are refused on their next request and removed then, or here once they expire.
pub fn delete_expired(conn: &mut DbConn, now: PrimitiveDateTime) -> Result<usize, DbError> {
    Ok(crate::with_conn!(conn, c => diesel::delete(
        admin_sessions::table.filter(admin_sessions::expires_at.le(now))
    ).execute(c))?)
}
