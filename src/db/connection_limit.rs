//! How many connections a PostgreSQL server accepts from ordinary roles.

use diesel::RunQueryDsl;

use super::{DbConn, DbError};

/// `max_connections` less `superuser_reserved_connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimit {
    pub max_connections: i64,
    pub reserved: i64,
}

impl ConnectionLimit {
    pub fn available(&self) -> i64 {
        self.max_connections - self.reserved
    }
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    setting: String,
}

/// The server's limit; `None` on SQLite.
pub fn connection_limit(conn: &mut DbConn) -> Result<Option<ConnectionLimit>, DbError> {
    let DbConn::Postgres(pg) = conn else {
        return Ok(None);
    };
    let mut read = |name: &str| -> Result<i64, DbError> {
        let row: Setting = diesel::sql_query(format!(
            "SELECT setting FROM pg_settings WHERE name = '{name}'"
        ))
        .get_result(pg)?;
        row.setting
            .parse()
            .map_err(|_| DbError::Other(format!("{name} is not a number: {}", row.setting)))
    };
    Ok(Some(ConnectionLimit {
        max_connections: read("max_connections")?,
        reserved: read("superuser_reserved_connections")?,
    }))
}
