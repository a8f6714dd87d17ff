//! Where the writer's batches go: the database through the pool, or a stand-in in tests.

use time::PrimitiveDateTime;

use super::NewEvent;
use crate::db::models::security_event;
use crate::db::{DbError, DbPool};

/// Where batches go: the database, or a stand-in in tests.
pub trait Sink: Send + 'static {
    /// Stores the batch in one transaction: all of it or none.
    fn write(&mut self, batch: &[NewEvent]) -> Result<(), DbError>;
    /// Deletes the events recorded before `before`; returns how many.
    fn purge(&mut self, before: PrimitiveDateTime) -> Result<u64, DbError>;
}

/// The database, through the pool (a connection per batch).
pub struct DbSink {
    pool: DbPool,
    purge_batch: i64,
}

impl DbSink {
    pub fn new(pool: DbPool, purge_batch: i64) -> Self {
        Self { pool, purge_batch }
    }
}

impl Sink for DbSink {
    fn write(&mut self, batch: &[NewEvent]) -> Result<(), DbError> {
        let rows: Vec<_> = batch.iter().map(NewEvent::row).collect();
        security_event::insert_batch(&mut *self.pool.get()?, &rows)?;
        Ok(())
    }

    fn purge(&mut self, before: PrimitiveDateTime) -> Result<u64, DbError> {
        security_event::purge(&mut *self.pool.get()?, before, self.purge_batch)
    }
}
