//! SQLite keeps recent writes in `<file>-wal` until a checkpoint copies them into the database
//! file. Checkpointing when the server stops leaves the file complete on its own, so copying
//! it is a backup; PostgreSQL needs nothing.

use diesel::RunQueryDsl;
use diesel::sql_types::Integer;

use super::{DbError, DbPool};

#[derive(diesel::QueryableByName)]
struct Outcome {
    /// 1 when readers or writers kept the checkpoint from finishing.
    #[diesel(sql_type = Integer)]
    busy: i32,
}

/// Copies the whole write-ahead log into the database file and empties the log.
pub fn checkpoint(pool: &DbPool) -> Result<(), DbError> {
    let mut conn = pool.get()?;
    let super::DbConn::Sqlite(conn) = &mut *conn else {
        return Ok(());
    };
    let outcome: Outcome = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(conn)?;
    if outcome.busy != 0 {
        return Err(DbError::Unavailable(
            "checkpoint: the database is still in use".into(),
        ));
    }
    tracing::info!("SQLite write-ahead log checkpointed into the database file");
    Ok(())
}
