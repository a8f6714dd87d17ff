//! Database failures, sorted once into what the caller can act on.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the payload names the constraint or column.
    #[error("unique violation: {0}")]
    Conflict(String),
    /// The database cannot be reached or is too busy: retry later (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant (HTTP 500, logged).
    #[error("database error: {0}")]
    Other(String),
}

impl From<DieselError> for DbError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let what = info
                    .constraint_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| info.message().to_owned());
                Self::Conflict(what)
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(_, info) if is_transient(info.message()) => {
                Self::Unavailable(info.message().to_owned())
            }
            DieselError::BrokenTransactionManager => Self::Unavailable("broken transaction".into()),
            other => Self::Other(other.to_string()),
        }
    }
}

impl From<r2d2::Error> for DbError {
    fn from(err: r2d2::Error) -> Self {
        Self::Unavailable(err.to_string())
    }
}

/// Messages of failures that go away by themselves: lock contention, timeouts, lost servers.
fn is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "database is locked",
        "database table is locked",
        "statement timeout",
        "canceling statement",
        "terminating connection",
        "server closed the connection",
        "connection",
        "could not serialize",
        "deadlock",
        "disk i/o error",
        "the database system is",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}
