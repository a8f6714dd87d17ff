//! `keyward check`: settings (already validated when loaded), keys and the database. Pending
//! migrations are reported, not refused: the server applies them when it starts. So are the
//! deployment's warnings (`instances`): several processes on one SQLite file, or more
//! connections than the PostgreSQL server accepts.

use super::{CliResult, connect};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::connection_limit::connection_limit;
use crate::db::{DatabaseUrl, DbConn, DbError, migrations};
use crate::jwt::{SigningKeys, needs_generated_secret};
use crate::prepare::{check_unique_emails, signing_keys};
use crate::propagation::sqlite_instances_warning;

pub fn run(settings: &Settings) -> CliResult {
    println!("settings: ok");
    println!("metrics: {}", metrics_line(settings));
    println!("paths: {}", paths_line(settings));
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
    match instances(settings, &mut conn)? {
        0 => println!("keyward check: no problems found"),
        n => println!("keyward check: no problems found, {n} warning(s)"),
    }
    Ok(())
}

/// Prints what `instances` means for this database; how many warnings that made.
fn instances(settings: &Settings, conn: &mut DbConn) -> Result<usize, DbError> {
    if let Some(warning) = sqlite_instances_warning(settings) {
        println!("instances: warning: {warning}");
        return Ok(1);
    }
    let Some(limit) = connection_limit(conn)? else {
        return Ok(0);
    };
    let per_instance = settings.connections_per_instance();
    let needed = i64::from(settings.instances) * i64::from(per_instance);
    let sum = format!(
        "{} instance(s) x (database_pool_size {} + 1 change listener) = {needed} connections, \
         the server accepts {} (max_connections {} less {} reserved)",
        settings.instances,
        settings.database_pool_size,
        limit.available(),
        limit.max_connections,
        limit.reserved
    );
    if needed > limit.available() {
        println!(
            "connections: warning: {sum}; raise max_connections or lower database_pool_size \
             (other clients, backups and migrations need connections too)"
        );
        return Ok(1);
    }
    println!("connections: ok ({sum})");
    Ok(0)
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

/// Which endpoints are moved from their default paths.
fn paths_line(settings: &Settings) -> String {
    let moved = settings.paths.moved();
    if moved.is_empty() {
        return "defaults".into();
    }
    format!("{} moved ({})", moved.len(), moved.join(", "))
}
