//! A Django database on PostgreSQL, opened read-only: the session refuses writes
//! (`default_transaction_read_only`) and everything is read in one `REPEATABLE READ READ ONLY`
//! transaction, so the import sees one consistent snapshot while Django keeps running.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::ImportError;
use crate::db::DbConn;

pub fn open(url: &str) -> Result<DbConn, ImportError> {
    let mut conn = PgConnection::establish(url).map_err(|e| ImportError::Source(e.to_string()))?;
    conn.batch_execute(
        "SET default_transaction_read_only = on; \
         BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    )
    .map_err(|e| ImportError::Source(e.to_string()))?;
    Ok(DbConn::Postgres(conn))
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

pub fn tables(conn: &mut PgConnection) -> Result<Vec<String>, diesel::result::Error> {
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = ANY (current_schemas(false))",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

pub fn columns(conn: &mut PgConnection, table: &str) -> Result<Vec<String>, diesel::result::Error> {
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT column_name::text AS name FROM information_schema.columns \
         WHERE table_schema = ANY (current_schemas(false)) AND table_name = $1 \
         ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// A timestamp column (with or without time zone) as UTC without time zone.
pub fn utc(column: &str) -> String {
    format!("({column} AT TIME ZONE 'UTC')")
}

/// The highest value the id sequence of `table` has issued, if it has one.
pub fn sequence_value(
    conn: &mut PgConnection,
    table: &str,
) -> Result<Option<i64>, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct Seq {
        #[diesel(sql_type = Nullable<Text>)]
        seq: Option<String>,
    }
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Nullable<BigInt>)]
        v: Option<i64>,
    }
    let found: Seq = diesel::sql_query("SELECT pg_get_serial_sequence($1, 'id') AS seq")
        .bind::<Text, _>(super::database::quoted(table))
        .get_result(conn)?;
    let Some(seq) = found.seq else {
        return Ok(None);
    };
    // The name comes from the catalog, already quoted where it needs to be.
    let value: Value = diesel::sql_query(format!(
        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS v FROM {seq}"
    ))
    .get_result(conn)?;
    Ok(value.v)
}
