//! The command line: `keyward [--config FILE] [COMMAND]`; no command means `serve`.

mod check;
mod createsuperuser;
mod flushexpiredtokens;
mod import_django;
mod migrate;
mod purgeevents;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "JWT authentication server, wire-compatible with djangorestframework-simplejwt"
)]
pub struct Cli {
    /// Settings file (default: ./keyward.toml when it exists).
    #[arg(long, global = true, env = "KEYWARD_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a superuser (prompts, or flags for scripts).
    Createsuperuser(createsuperuser::CreateSuperuserArgs),
    /// Delete expired outstanding tokens (and their blacklist entries) in batches.
    Flushexpiredtokens(flushexpiredtokens::FlushArgs),
    /// Delete security events older than audit_retention (or --before) in batches.
    Purgeevents(purgeevents::PurgeArgs),
    /// Validate settings, keys and the database; non-zero exit on any problem.
    Check,
    /// Import users, groups, permissions and refresh tokens from a Django deployment.
    ImportDjango(import_django::ImportDjangoArgs),
}

/// Runs the parsed command; errors are printed as one clear line.
pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load_reporting(cli.config.as_deref()) {
        Ok((settings, warnings)) => {
            for warning in warnings {
                eprintln!("keyward: warning: {warning}");
            }
            settings
        }
        Err(err) => return fail(&err),
    };
    crate::telemetry::init(&settings.log_format);
    let result = match cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()))
    {
        Command::Serve(args) => serve::run(settings, args),
        Command::Migrate => migrate::run(&settings),
        Command::Createsuperuser(args) => createsuperuser::run(&settings, args),
        Command::Flushexpiredtokens(args) => flushexpiredtokens::run(&settings, args),
        Command::Purgeevents(args) => purgeevents::run(&settings, args),
        Command::Check => check::run(&settings),
        Command::ImportDjango(args) => import_django::run(&settings, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&*err),
    }
}

fn fail(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("keyward: {err}");
    ExitCode::FAILURE
}

/// The error type of every command.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// A pooled connection for a one-shot command.
fn connect(settings: &Settings) -> Result<crate::db::PooledConn, Box<dyn std::error::Error>> {
    with_pool_of_one(settings, crate::db::DbPool::get)
}

/// A connection to run migrations on: no statement deadline (see
/// [`crate::db::DbPool::for_migrations`]).
fn connect_for_migrations(
    settings: &Settings,
) -> Result<crate::db::MigrationConn, Box<dyn std::error::Error>> {
    with_pool_of_one(settings, crate::db::DbPool::for_migrations)
}

/// `take` of a pool of one connection to the configured database; its error names the database
/// (password redacted).
fn with_pool_of_one<T>(
    settings: &Settings,
    take: impl FnOnce(&crate::db::DbPool) -> Result<T, crate::db::DbError>,
) -> Result<T, Box<dyn std::error::Error>> {
    let url = crate::db::DatabaseUrl::parse(&settings.database_url)?;
    let pool = crate::db::build_pool(&url, 1, settings.pool_timeouts())?;
    take(&pool).map_err(|e| format!("cannot connect to {}: {e}", url.redacted()).into())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }
}
