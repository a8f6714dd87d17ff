//! `keyward check`: settings (already validated when loaded), keys and the database. Pending
//! migrations are reported, not refused: the server applies them when it starts.

use super::{CliResult, connect};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DatabaseUrl, migrations};
use crate::jwt::{SigningKeys, needs_generated_secret};
use crate::prepare::{check_unique_emails, signing_keys};

pub fn run(settings: &Settings) -> CliResult {
    println!("settings: ok");
    println!("metrics: {}", metrics_line(settings));
    let url = DatabaseUrl::parse(&settings.database_url)?;
    if !needs_generated_secret(settings) {
        SigningKeys::from_settings(settings, None)?;
        println!("keys: ok ({})", settings.algorithm);
    }
    let mut conn = connect(settings)?;
    println!("database: ok ({})", url.redacted());
    let pending = migrations::pending(&mut conn)?;
    if pending.is_empty() {
        println!("migrations: up to date");
    } else {
        // Not a problem: `serve` applies them at start (a fresh database is the usual case).
        println!(
            "migrations: {} pending ({}), applied by `keyward migrate` or at the server's start",
            pending.len(),
            pending.join(", ")
        );
    }
    if settings.login_field_set()?.unique_emails() {
        if migrations::has_users_table(&pending) {
            check_unique_emails(settings, &mut conn)?;
            println!("emails: ok (unique, as login_fields needs)");
        } else {
            println!("emails: ok (no users yet)");
        }
    }
    if needs_generated_secret(settings) {
        if pending.is_empty() {
            signing_keys(settings, &mut conn, Clock::default().now())?;
            println!(
                "keys: ok ({}, generated key stored in the database)",
                settings.algorithm
            );
        } else {
            println!(
                "keys: ok ({}, a key is generated into the database at the first start)",
                settings.algorithm
            );
        }
    }
    println!("keyward check: no problems found");
    Ok(())
}

/// Where `GET /metrics` is served, and whether a scrape needs the token.
fn metrics_line(settings: &Settings) -> String {
    if !settings.metrics_enabled() {
        return "off (metrics_bind is empty)".into();
    }
    let guard = match settings.metrics_token {
        Some(_) => "a bearer token (metrics_token) required",
        None => "no token: anyone who reaches that address may scrape",
    };
    format!("GET /metrics on {}, {guard}", settings.metrics_bind)
}
