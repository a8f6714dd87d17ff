//! The audit log and the real `keyward` binary: `keyward purgeevents`, a failing audit write
//! that is logged while the sign-in succeeds, and the events a graceful stop still writes.

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyward::clock::Clock;
use keyward::db::DbConn;
use keyward::db::schema::security_events;
use keyward::db::stored_time;
use reqwest::StatusCode;
use serde_json::json;

use crate::cli::{Sandbox, Server};
use crate::helpers::{PASSWORD, UserFlags, insert_user};

/// Inserts an event `days_ago` days old.
fn seed_event(sandbox: &Sandbox, detail: &str, days_ago: i64) {
    let at = Clock::default().now() - time::Duration::days(days_ago);
    diesel::insert_into(security_events::table)
        .values((
            security_events::kind.eq("user_changed"),
            security_events::at.eq(stored_time(at)),
            security_events::detail.eq(detail),
        ))
        .execute(&mut sandbox.sqlite())
        .unwrap_or_else(|e| panic!("seed {detail}: {e}"));
}

/// The stored events' (kind, detail), oldest first.
fn stored(sandbox: &Sandbox) -> Vec<(String, String)> {
    security_events::table
        .order(security_events::id.asc())
        .select((security_events::kind, security_events::detail))
        .load(&mut sandbox.sqlite())
        .unwrap_or_else(|e| panic!("events: {e}"))
}

fn details(sandbox: &Sandbox) -> Vec<String> {
    stored(sandbox).into_iter().map(|(_, d)| d).collect()
}

#[test]
fn purgeevents_removes_events_past_the_retention_or_before_a_given_age() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    for (detail, days) in [("100 days", 100), ("40 days", 40), ("1 day", 1)] {
        seed_event(&sandbox, detail, days);
    }
    let run = sandbox.ok(&["purgeevents"]);
    assert!(
        run.stdout
            .trim()
            .starts_with("Removed 1 security event(s) recorded before "),
        "the default retention is 90 days: {run}"
    );
    assert_eq!(details(&sandbox), ["40 days", "1 day"]);

    let run = sandbox.ok(&["purgeevents", "--before", "30d", "--batch-size", "1"]);
    assert!(
        run.stdout.starts_with("Removed 1 security event(s)"),
        "{run}"
    );
    assert_eq!(details(&sandbox), ["1 day"]);

    let run = sandbox.run(&["purgeevents"], &[("KEYWARD_AUDIT_RETENTION", "0")], None);
    assert!(run.success, "{run}");
    assert!(
        run.stdout.contains("audit_retention is 0") && run.stdout.contains("nothing was removed"),
        "{run}"
    );
    let run = sandbox.run(
        &["purgeevents", "--before", "3600"],
        &[("KEYWARD_AUDIT_RETENTION", "0")],
        None,
    );
    assert!(
        run.stdout.starts_with("Removed 1 security event(s)"),
        "{run}"
    );
    assert!(details(&sandbox).is_empty());

    for bad in [
        &["purgeevents", "--before", "soon"][..],
        &["purgeevents", "--batch-size", "0"][..],
    ] {
        let run = sandbox.run(bad, &[], None);
        assert!(!run.success, "{bad:?}: {run}");
        assert!(
            run.stderr.contains(bad[1]),
            "{bad:?} names the option: {run}"
        );
    }
}

fn rename_table(sandbox: &Sandbox, from: &str, to: &str) {
    diesel::sql_query(format!("ALTER TABLE {from} RENAME TO {to}"))
        .execute(&mut sandbox.sqlite())
        .unwrap_or_else(|e| panic!("rename {from}: {e}"));
}

async fn sign_in(client: &reqwest::Client, server: &Server, password: &str) -> StatusCode {
    client
        .post(format!("{}/api/token/", server.base))
        .json(&json!({"username": "alice", "password": password}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /api/token/: {e}"))
        .status()
}

#[actix_web::test]
async fn a_failing_audit_write_is_logged_the_sign_in_succeeds_and_a_graceful_stop_writes_the_rest()
{
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    insert_user(
        &mut DbConn::Sqlite(sandbox.sqlite()),
        "alice",
        PASSWORD,
        UserFlags::default(),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    let mut server = Server::start(&sandbox, "audit", true);
    server.wait_until_listening(&client).await;

    rename_table(&sandbox, "security_events", "security_events_away");
    assert_eq!(sign_in(&client, &server, PASSWORD).await, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.output().1.contains("audit log write failed") && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, stderr) = server.output();
    assert!(
        stderr.contains("audit log write failed") && stderr.contains("WARN"),
        "the failure is logged as a warning: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "no password in the log");

    rename_table(&sandbox, "security_events_away", "security_events");
    assert_eq!(
        sign_in(&client, &server, "wrong-password").await,
        StatusCode::UNAUTHORIZED
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.child.try_wait().ok().flatten().is_none() {
        assert!(Instant::now() < deadline, "keyward did not stop on SIGTERM");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let kinds: Vec<String> = stored(&sandbox).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        ["login_succeeded", "login_failed"],
        "the kept event was retried, and the last one written by the time keyward stopped"
    );
}
