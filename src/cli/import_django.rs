//! `keyward import-django`: import a Django deployment's users, groups, permissions and
//! refresh tokens (see docs/migrating-from-django.md).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CliResult, connect};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DatabaseUrl, migrations, stored_time};
use crate::import::django::{self, OnConflict, Options, Origin};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["from", "from_dumpdata"]))]
pub struct ImportDjangoArgs {
    /// The Django database, opened read-only: postgres://... or sqlite://path/to/db.sqlite3
    /// (sqlite:///absolute/path for an absolute path).
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// The JSON of `manage.py dumpdata auth contenttypes token_blacklist` (and the custom user
    /// model's app, if any).
    #[arg(long, value_name = "FILE")]
    pub from_dumpdata: Option<PathBuf>,
    /// The user model's table, when it is not auth_user and cannot be found by its
    /// <table>_groups and <table>_user_permissions tables.
    #[arg(long, value_name = "TABLE", requires = "from")]
    pub user_table: Option<String>,
    /// Print what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// What to do with Django users whose id or username keyward already holds for another
    /// user: refuse to run, skip them, or overwrite keyward's users.
    #[arg(long, value_enum, default_value = "refuse")]
    pub on_conflict: OnConflict,
    /// Import md5, sha1, crypt and unsalted hashes as they are (UNSAFE: weak hashes). Without
    /// it those users are imported without a usable password.
    #[arg(long)]
    pub allow_legacy_hashes: bool,
    /// Django ran with SIMPLE_JWT's CHECK_REVOKE_TOKEN = True: new users get simplejwt's
    /// revoke claim as their security stamp, so Django's tokens pass the stamp check (set
    /// revoke_token_claim to Django's REVOKE_TOKEN_CLAIM too). Without it they get the empty
    /// stamp that Django's tokens, carrying no stamp, match.
    #[arg(long)]
    pub django_check_revoke_token: bool,
    /// Rows per batch (each batch is one transaction).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub batch_size: i64,
}

pub fn run(settings: &Settings, args: ImportDjangoArgs) -> CliResult {
    let origin = match (args.from, args.from_dumpdata) {
        (Some(url), _) => Origin::Database {
            url: DatabaseUrl::parse(&url).map_err(|e| format!("--from: {e}"))?,
            user_table: args.user_table,
        },
        (None, Some(path)) => Origin::Dumpdata(path),
        (None, None) => return Err("give --from or --from-dumpdata".into()),
    };
    let mut target = connect(settings)?;
    let pending = migrations::pending(&mut target)?;
    if !pending.is_empty() {
        return Err(format!(
            "keyward's database has {} pending migration(s): run `keyward migrate` first",
            pending.len()
        )
        .into());
    }
    let mut source = django::open(&origin)?;
    let options = Options {
        dry_run: args.dry_run,
        on_conflict: args.on_conflict,
        allow_legacy_hashes: args.allow_legacy_hashes,
        django_revoke_claims: args.django_check_revoke_token,
        batch_size: args.batch_size,
        now: stored_time(Clock::default().now()),
    };
    let report = django::run(source.as_mut(), &mut target, &options)?;
    // A reader that stops early (`| head`) is no error: the import is done either way.
    match writeln!(std::io::stdout(), "{report}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => Ok(written?),
    }
}
