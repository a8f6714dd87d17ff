//! The r2d2 pool. The manager opens the backend the URL names and passes the real error on,
//! bounds every wait (connect, checkout, statement) and applies per-connection settings.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{DatabaseUrl, DbConn, DbError};

pub type DbPool = r2d2::Pool<ConnectionManager>;

/// Opens connections for the pool.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let url = with_libpq_timeouts(url, self.connect_timeout);
                let mut conn =
                    PgConnection::establish(&url).map_err(|e| ConnectError(e.to_string()))?;
                let millis = self.statement_timeout.as_millis();
                conn.batch_execute(&format!(
                    "SET statement_timeout = {millis}; SET lock_timeout = {millis}; SET TIME ZONE 'UTC'"
                ))
                .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(|e| ConnectError(e.to_string()))?;
                let busy = self.statement_timeout.as_millis();
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {busy}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                ))
                .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        crate::with_conn!(conn, c => c.ping()).map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        crate::with_conn!(conn, c => c.is_broken())
    }
}

/// Adds libpq timeouts the URL does not set itself, so a lost server never blocks a thread
/// forever: `connect_timeout`, TCP keepalives and `tcp_user_timeout`.
fn with_libpq_timeouts(url: &str, connect_timeout: Duration) -> String {
    let secs = connect_timeout.as_secs().max(1);
    let defaults = [
        ("connect_timeout", secs.to_string()),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", "30".to_owned()),
        ("keepalives_interval", "10".to_owned()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", (secs * 1000 * 2).to_string()),
    ];
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut out = url.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (key, value) in defaults {
        let present = query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(key));
        if !present {
            out.push(sep);
            out.push_str(key);
            out.push('=');
            out.push_str(&value);
            sep = '&';
        }
    }
    out
}

/// Builds the pool without waiting for the database: connections are opened on demand, so
/// the server starts (and `/health/ready` reports) while the database is still down.
pub fn build_pool(
    url: &DatabaseUrl,
    size: u32,
    connect_timeout: Duration,
    statement_timeout: Duration,
) -> Result<DbPool, DbError> {
    let manager = ConnectionManager {
        url: url.clone(),
        connect_timeout,
        statement_timeout,
    };
    let min_idle = match url {
        DatabaseUrl::Postgres(_) => Some(1.min(size)),
        DatabaseUrl::Sqlite(_) => Some(1),
    };
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(min_idle)
        .connection_timeout(connect_timeout)
        .test_on_check_out(true)
        .error_handler(Box::new(LogErrors))
        .build_unchecked(manager))
}

#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<ConnectError> for LogErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_timeouts_are_added_but_never_override_the_url() {
        let url = with_libpq_timeouts("postgres://h/db?connect_timeout=9", Duration::from_secs(5));
        assert!(
            url.starts_with("postgres://h/db?connect_timeout=9&keepalives=1"),
            "{url}"
        );
        assert_eq!(url.matches("connect_timeout").count(), 1);
        let url = with_libpq_timeouts("postgres://h/db", Duration::from_secs(5));
        assert!(
            url.contains("?connect_timeout=5&") && url.contains("tcp_user_timeout=10000"),
            "{url}"
        );
    }
}
