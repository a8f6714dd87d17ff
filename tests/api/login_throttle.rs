//! Brute-force protection on the token endpoints: failed logins counted in the database per
//! (address, username) pair, per username and per address; 429 with `Retry-After` in DRF's
//! shape past a limit, right password or not; the same answers for unknown and known
//! usernames; locks that expire (the clock is moved, never slept) and grow.

use std::time::Duration;

use diesel::prelude::*;
use keyward::db::schema::login_failures;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with};

const WRONG: &str = "not-the-password";

/// One login answer: status, body and `Retry-After`.
#[derive(Debug, PartialEq)]
struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<String>,
}

/// `POST path {"username","password"}`, as the client at `from` behind a proxy when given
/// (the app must trust 127.0.0.1 for that to count).
async fn login_at(
    app: &TestApp,
    path: &str,
    username: &str,
    password: &str,
    from: Option<&str>,
) -> Answer {
    let mut request = app
        .client
        .post(app.url(path))
        .json(&json!({"username": username, "password": password}));
    if let Some(address) = from {
        request = request.header("x-forwarded-for", address);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = json_of(response).await;
    Answer {
        status,
        body,
        retry_after,
    }
}

async fn login(app: &TestApp, username: &str, password: &str) -> Answer {
    login_at(app, "/api/token/", username, password, None).await
}

async fn login_from(app: &TestApp, username: &str, password: &str, from: &str) -> Answer {
    login_at(app, "/api/token/", username, password, Some(from)).await
}

/// Asserts DRF's `Throttled` answer: 429, `Retry-After: secs`, the message naming `secs`.
fn assert_throttled(answer: &Answer, secs: u64, case: &str) {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{case}: {}",
        answer.body
    );
    assert_eq!(
        answer.body,
        json!({"detail": format!("Request was throttled. Expected available in {secs} seconds.")}),
        "{case}"
    );
    assert_eq!(
        answer.retry_after.as_deref(),
        Some(secs.to_string().as_str()),
        "{case}: Retry-After"
    );
}

fn assert_refused(answer: &Answer, case: &str) {
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        answer.body
    );
    assert_eq!(
        answer.body,
        json!({"detail": "No active account found with the given credentials"}),
        "{case}"
    );
}

async fn fail_times(app: &TestApp, username: &str, times: usize) {
    for attempt in 1..=times {
        assert_refused(
            &login(app, username, WRONG).await,
            &format!("{username}: failure {attempt}"),
        );
    }
}

/// The stored counters: (scope, username, address, failures), sorted.
fn counters(app: &TestApp) -> Vec<(String, String, String, i64)> {
    let mut rows: Vec<(String, String, String, i64)> = app
        .with_db(|conn| {
            keyward::with_conn!(conn, c => login_failures::table
                .select((
                    login_failures::scope,
                    login_failures::username,
                    login_failures::address,
                    login_failures::failures,
                ))
                .load(c))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    rows.sort();
    rows
}

#[actix_web::test]
async fn guessing_a_password_locks_with_429_and_retry_after_even_for_the_right_password() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    app.create_user("alice");
    fail_times(&app, "alice", 5).await;
    assert_throttled(
        &login(&app, "alice", PASSWORD).await,
        60,
        "the sixth attempt, with the right password",
    );
    assert_throttled(
        &login_at(&app, "/api/token/sliding/", "alice", PASSWORD, None).await,
        60,
        "the sliding login shares the counters",
    );
    assert_throttled(
        &login(&app, "alice", WRONG).await,
        60,
        "a wrong password while locked",
    );
    assert_eq!(
        counters(&app),
        [
            ("address".into(), String::new(), "127.0.0.1".into(), 5),
            ("pair".into(), "alice".into(), "127.0.0.1".into(), 5),
            ("username".into(), "alice".into(), String::new(), 5),
        ],
        "attempts refused while locked are not counted"
    );
}

#[actix_web::test]
async fn an_unknown_and_a_known_username_answer_alike() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    app.create_user("alice");
    for path in ["/api/token/", "/api/token/sliding/"] {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for _ in 0..6 {
            known.push(login_at(&app, path, "alice", WRONG, None).await);
            unknown.push(login_at(&app, path, "nobody-by-that-name", WRONG, None).await);
        }
        assert_eq!(
            known, unknown,
            "{path}: the same answers, attempt by attempt"
        );
        assert_throttled(&known[5], 60, path);
        app.clock.advance(Duration::from_secs(3601));
    }
    let stored = counters(&app);
    assert!(
        stored
            .iter()
            .any(|(scope, name, _, n)| scope == "pair" && name == "nobody-by-that-name" && *n >= 5),
        "an unknown username is counted like a known one: {stored:?}"
    );
}

#[actix_web::test]
async fn another_username_from_the_same_address_is_not_locked_by_an_accounts_failures() {
    let app = spawn_app().await;
    app.create_user("alice");
    app.create_user("bob");
    fail_times(&app, "alice", 5).await;
    assert_throttled(&login(&app, "alice", PASSWORD).await, 60, "alice is locked");
    assert_refused(
        &login(&app, "bob", WRONG).await,
        "bob's wrong password is a plain 401",
    );
    let answer = login(&app, "bob", PASSWORD).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "bob logs in: {}",
        answer.body
    );
}

#[actix_web::test]
async fn the_same_username_from_another_address_is_not_locked_by_the_pair() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.create_user("alice");
    for _ in 0..5 {
        assert_refused(
            &login_from(&app, "alice", WRONG, "203.0.113.7").await,
            "the attacker",
        );
    }
    assert_throttled(
        &login_from(&app, "alice", PASSWORD, "203.0.113.7").await,
        60,
        "the attacker's address is locked for alice",
    );
    let answer = login_from(&app, "alice", PASSWORD, "198.51.100.20").await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "alice from her own address: {}",
        answer.body
    );
}

#[actix_web::test]
async fn the_username_limit_holds_across_addresses() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.login_attempts_per_username = 6;
    })
    .await;
    app.create_user("alice");
    for (from, times) in [("203.0.113.1", 4), ("203.0.113.2", 2)] {
        for _ in 0..times {
            assert_refused(&login_from(&app, "alice", WRONG, from).await, from);
        }
    }
    assert_throttled(
        &login_from(&app, "alice", PASSWORD, "198.51.100.20").await,
        60,
        "six failures from two addresses lock the username everywhere",
    );
    let answer = login_from(&app, "bob", WRONG, "198.51.100.20").await;
    assert_refused(&answer, "other usernames are not locked");
}

#[actix_web::test]
async fn the_address_ceiling_holds_across_usernames() {
    let app = spawn_app_with(|s| s.login_attempts_per_address = 3).await;
    app.create_user("dora");
    for name in ["ann", "ben", "cat"] {
        assert_refused(&login(&app, name, WRONG).await, name);
    }
    assert_throttled(
        &login(&app, "dora", PASSWORD).await,
        60,
        "the address has used up its ceiling, for every username",
    );
}

#[actix_web::test]
async fn a_lock_expires_and_the_next_one_is_twice_as_long() {
    let app = spawn_app().await;
    app.create_user("alice");
    fail_times(&app, "alice", 5).await;
    assert_throttled(&login(&app, "alice", PASSWORD).await, 60, "first lock");
    app.clock.advance(Duration::from_secs(30));
    assert_throttled(&login(&app, "alice", PASSWORD).await, 30, "half way");

    app.clock.advance(Duration::from_secs(31));
    fail_times(&app, "alice", 1).await;
    assert_throttled(
        &login(&app, "alice", PASSWORD).await,
        120,
        "one more failure after the lock: twice as long",
    );

    app.clock.advance(Duration::from_secs(121));
    let answer = login(&app, "alice", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    fail_times(&app, "alice", 4).await;
    let answer = login(&app, "alice", PASSWORD).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "a success forgot the pair's failures: four more are allowed: {}",
        answer.body
    );
}

#[actix_web::test]
async fn failures_older_than_the_window_are_forgotten() {
    let app = spawn_app_with(|s| s.login_window = Duration::from_secs(600)).await;
    app.create_user("alice");
    fail_times(&app, "alice", 4).await;
    app.clock.advance(Duration::from_secs(601));
    fail_times(&app, "alice", 4).await;
    let answer = login(&app, "alice", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[actix_web::test]
async fn a_client_cannot_dodge_the_throttle_with_forwarded_headers_by_default() {
    let app = spawn_app().await;
    app.create_user("alice");
    for n in 1..=5 {
        let from = format!("203.0.113.{n}");
        assert_refused(&login_from(&app, "alice", WRONG, &from).await, &from);
    }
    assert_throttled(
        &login_from(&app, "alice", PASSWORD, "198.51.100.1").await,
        60,
        "X-Forwarded-For from an untrusted peer is not the client address",
    );
}

#[actix_web::test]
async fn with_login_throttle_off_there_is_no_lock() {
    let app = spawn_app_with(|s| s.login_throttle = false).await;
    app.create_user("alice");
    fail_times(&app, "alice", 8).await;
    let answer = login(&app, "alice", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(counters(&app).is_empty(), "nothing is counted");
}

#[actix_web::test]
async fn throttle_settings_are_validated() {
    for (change, case) in [
        (
            (|s: &mut keyward::config::Settings| s.login_attempts_per_pair = 0)
                as fn(&mut keyward::config::Settings),
            "zero attempts",
        ),
        (
            |s| s.login_lockout = Duration::from_secs(7200),
            "a first lock longer than the window",
        ),
    ] {
        let mut settings = keyward::config::Settings::default();
        change(&mut settings);
        assert!(settings.validate().is_err(), "{case}");
    }
    assert!(keyward::config::Settings::default().validate().is_ok());
}

#[actix_web::test]
async fn forgotten_counters_are_purged_and_live_ones_kept() {
    let app = spawn_app().await;
    fail_times(&app, "alice", 1).await;
    app.clock.advance(Duration::from_secs(1800));
    fail_times(&app, "bob", 1).await;
    app.clock.advance(Duration::from_secs(1801));
    let now = app.clock.now();
    let purged = app
        .with_db(|conn| {
            keyward::db::models::login_failure::purge(
                conn,
                keyward::db::stored_time(now - Duration::from_secs(3600)),
                keyward::db::stored_time(now),
            )
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(purged, 2, "alice's pair and username counters");
    let left: Vec<String> = counters(&app).into_iter().map(|c| c.1).collect();
    assert_eq!(
        left,
        ["", "bob", "bob"],
        "the address (last failed by bob) and bob's"
    );
}

#[actix_web::test]
async fn a_burst_of_concurrent_guesses_is_held_to_the_limit() {
    let app = spawn_app().await;
    app.create_user("alice");
    let threads = app.settings.user_manager_threads;
    let guesses = (0..24).map(|n| {
        let app = &app;
        async move { login(app, "alice", &format!("guess-{n}")).await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, statuses.len(), "{statuses:?}");
    assert!(
        checked >= 5 && checked < 5 + threads,
        "{checked} guesses were checked: the limit is 5, give or take one per sign-in thread"
    );
}
