//! `keyward import-django`: bring a Django (DRF + simplejwt) deployment's users, groups,
//! permissions and refresh tokens into keyward.
//!
//! The source is read, never written (opened read-only); each step plans what changes by
//! comparing the source with keyward ([`plan`]) and writes one batch per transaction
//! ([`write`]). Running it again changes nothing unless the source changed; `--dry-run` plans
//! everything and writes nothing.

mod catalog;
mod database;
mod discover;
mod dumpdata;
pub mod plan;
mod postgres;
pub mod report;
mod rows;
pub mod source;
mod sqlite;
mod tokens;
mod users;
mod write;

use std::path::PathBuf;

use crate::db::{DatabaseUrl, DbConn, DbError};
pub use plan::OnConflict;
pub use report::Report;
pub use source::Source;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Plan and report, write nothing.
    pub dry_run: bool,
    pub on_conflict: OnConflict,
    /// Import md5/sha1/crypt/unsalted hashes as they are (unsafe).
    pub allow_legacy_hashes: bool,
    /// Django ran with `CHECK_REVOKE_TOKEN = True`: a new user's security stamp is simplejwt's
    /// revoke claim (the MD5 of their Django hash), so the tokens Django issued, which carry it,
    /// pass keyward's stamp check. Otherwise it is empty, what a token without the claim
    /// carries. Either way it is renewed by the user's next password change or revocation.
    pub django_revoke_claims: bool,
    /// Rows per batch (and per transaction).
    pub batch_size: i64,
    /// The time the run started (for rows Django left without a creation time).
    pub now: time::PrimitiveDateTime,
}

/// Where the Django data comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    Database {
        url: DatabaseUrl,
        user_table: Option<String>,
    },
    Dumpdata(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the Django source: {0}")]
    Source(String),
    #[error("cannot read the Django database: {0}")]
    SourceQuery(#[from] diesel::result::Error),
    #[error("keyward's database: {0}")]
    Target(#[from] DbError),
    #[error(
        "{count} Django user(s) collide with keyward users (same id and another username, or \
         same username and another id), e.g. {examples}. Nothing was written. Choose with \
         --on-conflict=skip (keep keyward's users, skip those Django users) or \
         --on-conflict=overwrite (Django's users win; keyward users holding their usernames are deleted)"
    )]
    Conflicts { count: usize, examples: String },
}

/// Opens the source: read-only for a database, read whole for a dumpdata file.
pub fn open(from: &Origin) -> Result<Box<dyn Source>, ImportError> {
    Ok(match from {
        Origin::Database { url, user_table } => {
            Box::new(database::DatabaseSource::open(url, user_table.as_deref())?)
        }
        Origin::Dumpdata(path) => Box::new(dumpdata::DumpdataSource::read(path)?),
    })
}

/// Runs the import from `source` into `target`.
pub fn run(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
) -> Result<Report, ImportError> {
    let mut report = Report {
        source: source.describe(),
        dry_run: options.dry_run,
        layout: source.layout().clone(),
        ..Report::default()
    };
    if options.on_conflict == OnConflict::Refuse {
        users::refuse_conflicts(source, target, options)?;
    }
    let permissions = catalog::permissions(source, target, options, &mut report)?;
    let groups = catalog::groups(source, target, options, &permissions, &mut report)?;
    let skipped = users::import(source, target, options, &groups, &permissions, &mut report)?;
    tokens::import(source, target, options, &skipped, &mut report)?;
    users::advance_ids(source, target, options, &mut report)?;
    Ok(report)
}
