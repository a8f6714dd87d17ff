//! Where the writer's batches go: the database through the pool, or a stand-in in tests.

use std::collections::BTreeMap;

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
    /// Events that name their user by id only (the refresh path has no username at hand)
    /// get the username it has now, read here, off the request's path.
    fn write(&mut self, batch: &[NewEvent]) -> Result<(), DbError> {
        let mut conn = self.pool.get()?;
        let mut unnamed: Vec<i64> = batch.iter().filter_map(NewEvent::unnamed_subject).collect();
        unnamed.sort_unstable();
        unnamed.dedup();
        let names: BTreeMap<i64, String> = if unnamed.is_empty() {
            BTreeMap::new()
        } else {
            security_event::usernames_of(&mut conn, &unnamed)?
                .into_iter()
                .collect()
        };
        let rows: Vec<_> = batch
            .iter()
            .map(|event| {
                let found = event.unnamed_subject().and_then(|id| names.get(&id));
                event.row_named(found.map(String::as_str))
            })
            .collect();
        security_event::insert_batch(&mut conn, &rows)?;
        Ok(())
    }

    fn purge(&mut self, before: PrimitiveDateTime) -> Result<u64, DbError> {
        security_event::purge(&mut *self.pool.get()?, before, self.purge_batch)
    }
}
