//! Embedded migrations, one tree per backend (same versions and names in both).

use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConn, DbError};

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Arbitrary constant naming keyward's migration lock, so several instances starting at once
/// run migrations one after another.
pub const MIGRATION_LOCK: i64 = 0x6b65_7977_6172;

/// Applies pending migrations; returns the versions applied.
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        DbConn::Postgres(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(pg)?;
            let result = pg
                .run_pending_migrations(POSTGRES)
                .map(|v| v.iter().map(ToString::to_string).collect());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(pg)?;
            result
        }
        DbConn::Sqlite(lite) => lite
            .run_pending_migrations(SQLITE)
            .map(|v| v.iter().map(ToString::to_string).collect()),
    };
    applied.map_err(|e| DbError::Other(format!("migration failed: {e}")))
}

/// Versions not yet applied.
pub fn pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let pending = match conn {
        DbConn::Postgres(pg) => pg
            .pending_migrations(POSTGRES)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
        DbConn::Sqlite(lite) => lite
            .pending_migrations(SQLITE)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
    };
    pending.map_err(|e| DbError::Unavailable(e.to_string()))
}

/// The migration that creates the users table.
const USERS_TABLE: &str = "2026-12-01-000001_initial";

/// Whether the users table exists, given the pending migrations ([`pending`]).
pub fn has_users_table(pending: &[String]) -> bool {
    !pending.iter().any(|name| name == USERS_TABLE)
}
