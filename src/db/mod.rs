//! Persistence: one diesel codebase over PostgreSQL and SQLite. The backend is chosen from the
//! URL scheme; model code is written once and compiled for each backend by [`with_conn!`].

mod checkpoint;
mod connection;
pub mod connection_limit;
mod error;
mod health;
pub mod listener;
mod listener_stats;
mod liveness;
pub mod migrations;
pub mod models;
mod pool;
pub use pool::ConnectionManager;
pub mod schema;
mod socket;
mod url;
mod watchdog;

pub use checkpoint::checkpoint;
pub use connection::DbConn;
pub use error::DbError;
pub use pool::{DbPool, MigrationConn, PoolStatus, PoolTimeouts, PooledConn, build_pool};
pub use url::{DatabaseUrl, UrlError};

/// Runs `$body` with `$c` bound to the concrete connection (`&mut PgConnection` or
/// `&mut SqliteConnection`), so one diesel query is compiled for both backends.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// A timestamp as stored: UTC, truncated to microseconds (PostgreSQL's precision), so a value
/// read back compares equal on both backends.
pub fn stored_time(t: time::OffsetDateTime) -> time::PrimitiveDateTime {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let micros = utc.microsecond();
    let truncated = utc.replace_nanosecond(micros * 1000).unwrap_or(utc);
    time::PrimitiveDateTime::new(truncated.date(), truncated.time())
}

/// One trivial query through the pool.
pub fn ping(pool: &DbPool) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    let mut conn = pool.get()?;
    crate::with_conn!(&mut *conn, c => diesel::sql_query("SELECT 1").execute(c))?;
    Ok(())
}
