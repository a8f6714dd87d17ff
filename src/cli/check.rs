//! `keyward check`: settings (already validated when loaded), keys and the database.

use super::{CliResult, connect};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DatabaseUrl, migrations};
use crate::jwt::{SigningKeys, needs_generated_secret};
use crate::prepare::signing_keys;

pub fn run(settings: &Settings) -> CliResult {
    println!("settings: ok");
    let url = DatabaseUrl::parse(&settings.database_url)?;
    if !needs_generated_secret(settings) {
        SigningKeys::from_settings(settings, None)?;
        println!("keys: ok ({})", settings.algorithm);
    }
    let mut conn = connect(settings)?;
    println!("database: ok ({})", url.redacted());
    let pending = migrations::pending(&mut conn)?;
    if !pending.is_empty() {
        return Err(format!(
            "{} migration(s) pending: run `keyward migrate` ({})",
            pending.len(),
            pending.join(", ")
        )
        .into());
    }
    println!("migrations: up to date");
    if needs_generated_secret(settings) {
        signing_keys(settings, &mut conn, Clock::default().now())?;
        println!(
            "keys: ok ({}, generated key stored in the database)",
            settings.algorithm
        );
    }
    println!("keyward check: no problems found");
    Ok(())
}
