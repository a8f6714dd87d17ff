//! `keyward migrate`: apply pending migrations.

use super::{CliResult, connect_for_migrations};
use crate::config::Settings;
use crate::db::migrations;

pub fn run(settings: &Settings) -> CliResult {
    let mut conn = connect_for_migrations(settings)?;
    let applied = migrations::run_pending(&mut conn)?;
    if applied.is_empty() {
        println!("No migrations to apply.");
    }
    for version in applied {
        println!("Applied {version}");
    }
    Ok(())
}
