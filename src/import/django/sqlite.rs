//! A Django database on SQLite, opened read-only (`mode=ro`, and `query_only` as a second
//! lock) and read in one transaction, so the import sees one consistent snapshot.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::ImportError;
use crate::db::DbConn;

pub fn open(path: &Path) -> Result<DbConn, ImportError> {
    if !path.is_file() {
        return Err(ImportError::Source(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let uri = format!("file:{}?mode=ro", uri_path(&path.to_string_lossy()));
    let mut conn =
        SqliteConnection::establish(&uri).map_err(|e| ImportError::Source(e.to_string()))?;
    conn.batch_execute("PRAGMA query_only = ON; PRAGMA busy_timeout = 5000; BEGIN")
        .map_err(|e| ImportError::Source(e.to_string()))?;
    Ok(DbConn::Sqlite(conn))
}

/// A path as the path of a `file:` URI (the characters a URI gives a meaning escaped).
fn uri_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23")
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

pub fn tables(conn: &mut SqliteConnection) -> Result<Vec<String>, diesel::result::Error> {
    let rows: Vec<Name> =
        diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table'").load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

pub fn columns(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Vec<String>, diesel::result::Error> {
    let rows: Vec<Name> = diesel::sql_query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
        .bind::<Text, _>(table)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Django stores UTC datetimes as text on SQLite; they are read as they are.
pub fn utc(column: &str) -> String {
    column.to_owned()
}

/// The highest id `table` ever issued, from `sqlite_sequence` (Django declares its SQLite
/// primary keys AUTOINCREMENT, so ids of deleted rows are counted there).
pub fn sequence_value(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Option<i64>, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Nullable<BigInt>)]
        v: Option<i64>,
    }
    let has_sequence = tables(conn)?.iter().any(|t| t == "sqlite_sequence");
    if !has_sequence {
        return Ok(None);
    }
    let value: Value =
        diesel::sql_query("SELECT (SELECT seq FROM sqlite_sequence WHERE name = ?) AS v")
            .bind::<Text, _>(table)
            .get_result(conn)?;
    Ok(value.v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uri_characters_are_escaped() {
        assert_eq!(super::uri_path("/tmp/a?b#c%d.db"), "/tmp/a%3Fb%23c%25d.db");
        assert_eq!(super::uri_path("/tmp/é?.db"), "/tmp/é%3F.db");
    }
}
