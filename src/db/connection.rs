//! One connection of either backend, and write transactions over it.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{PgConnection, SqliteConnection};

use super::DbError;

/// A live connection; model code reaches the concrete type through [`crate::with_conn!`].
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, so concurrent writers queue on
    /// the write lock (bounded by `busy_timeout`) instead of failing when they upgrade.
    pub fn write<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Self::Postgres(c) => AnsiTransactionManager::begin_transaction(c),
            Self::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        }
        .map_err(DbError::from)?;
        match f(self) {
            Ok(value) => {
                match crate::with_conn!(self, c => AnsiTransactionManager::commit_transaction(c)) {
                    Ok(()) => Ok(value),
                    Err(err) => {
                        self.rollback_quietly();
                        Err(DbError::from(err).into())
                    }
                }
            }
            Err(err) => {
                self.rollback_quietly();
                Err(err)
            }
        }
    }

    fn rollback_quietly(&mut self) {
        let result = crate::with_conn!(self, c => {
            if AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().ok().flatten().is_some() {
                AnsiTransactionManager::rollback_transaction(c)
            } else {
                Ok(())
            }
        });
        if let Err(err) = result {
            tracing::warn!(error = %err, "rollback failed; the connection will be discarded");
        }
    }
}
