//! Users whose stored hash came from Django sign in with their password, and the hash is then
//! rewritten as keyward's `bcrypt_sha256` (at the test cost, 4) without ending their sessions.
//! The hashes below were written by Django's own hashers (5.2, and 4.2 for the legacy ones 5.x
//! no longer ships), mostly at low work factors.

use std::time::Duration;

use diesel::prelude::*;
use keyward::clock::Clock;
use keyward::db::models::user::{self, NewUser};
use keyward::db::schema::users;
use keyward::db::stored_time;
use reqwest::StatusCode;
use serde_json::json;

use crate::console_client::ConsoleClient;
use crate::helpers::{INITIAL_STAMP, TestApp, json_of, spawn_app, spawn_app_with};

/// The password every hash below was made from.
const PASSWORD: &str = "tangerine-voyage-41";

/// (format, hash of [`PASSWORD`] as Django wrote it).
const DJANGO_HASHES: &[(&str, &str)] = &[
    (
        "pbkdf2_sha256",
        "pbkdf2_sha256$1000$zkC3klVqz4vuo4dIshABMB$9EAvTDT9TBLJGuBoVpC1LR6wn9SS7OrWZ1QACpQ95Ro=",
    ),
    (
        "pbkdf2_sha1",
        "pbkdf2_sha1$1000$GMpCafwSu9et2l98I9cCJg$o8mfYfTKH3GrkEvGhJpVkXPVkQI=",
    ),
    (
        "argon2id",
        "argon2$argon2id$v=19$m=64,t=1,p=2$SnNKbW1NYnoyQ0U2ZUpyM1ZMNUEzbA$6jV8kN1jqNoISmSe3tw8ERCwHaPEoo9IGazMfgmFsGA",
    ),
    (
        "argon2i without v=",
        "argon2$argon2i$m=64,t=1,p=2$UXg3Y1QxbVprOUxwQTJzVjhiTmQzZQ$+CIasf0xaxl0HRn7MKbluxBnstG7jJ5uV1yDk+nUY50",
    ),
    (
        "scrypt",
        "scrypt$256$U9Yz48MypMFNpUpNIXsBgq$8$5$LwtKnik8vrfGbQjYvY9O3/5+9F4M30FdR4bSGSehaL01+X32VA38DoJfnfpc4ogqcfhjHIWv2yrb0+0FSH9UAA==",
    ),
    (
        "bcrypt",
        "bcrypt$$2b$04$2ZVgl303G5RmTQDtUIwQPOto4eGK.YvHOtNcLJriWfYQHWst2qRTS",
    ),
    (
        "md5",
        "md5$eBd8cZCCKYn1eA86oxVuXZ$2b288628a36d2cea7fbcc0bd0864b6e7",
    ),
    (
        "sha1 (Django 4.2)",
        "sha1$etiUCTFoqJIYVoMITfVJri$da60f7e7189b52ea74f94169e7ffff607116a5f1",
    ),
    (
        "unsalted_md5 (Django 4.2)",
        "e434e24b30fc41833f72e719f6e15c21",
    ),
    (
        "unsalted_sha1 (Django 4.2)",
        "sha1$$23ca1c0c74e4c39bb43de6656f7d2f5ec18f7499",
    ),
];

/// Django's `bcrypt_sha256` of [`PASSWORD`] at costs 4 and 12.
const BCRYPT_SHA256_4: &str =
    "bcrypt_sha256$$2b$04$zLve2z.WyvtjNaaXBTVaquGq5pX7FYZbimfnBiOJvEBY7Yz8daHDS";
const BCRYPT_SHA256_12: &str =
    "bcrypt_sha256$$2b$12$zAcNJJoWiPM6kSxorEqdv.t8znL26c8IT.WCewcy.7QJVElv7fd6K";

/// What keyward writes at the tests' `bcrypt_cost`.
const REHASHED: &str = "bcrypt_sha256$$2b$04$";

/// Inserts a user whose stored password is `stored`, as the import does; returns the id.
pub fn insert_with_hash(app: &TestApp, username: &str, stored: &str, stamp: &str) -> i64 {
    let new = NewUser {
        username,
        email: "",
        password: stored,
        first_name: "",
        last_name: "",
        is_active: true,
        is_staff: true,
        is_superuser: false,
        date_joined: stored_time(Clock::default().now()),
        security_stamp: stamp,
    };
    app.with_db(|conn| user::insert(conn, &new))
        .unwrap_or_else(|e| panic!("insert {username}: {e}"))
        .id
}

/// The stored hash once it is keyward's (polled: the rehash finishes after the answer).
pub async fn wait_for_rehash(app: &TestApp, id: i64, case: &str) -> String {
    wait_for_prefix(app, id, REHASHED, case).await
}

async fn wait_for_prefix(app: &TestApp, id: i64, prefix: &str, case: &str) -> String {
    for _ in 0..100 {
        let hash = app.password_hash(id);
        if hash.starts_with(prefix) {
            return hash;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{case}: not rehashed within 5 s: {}", app.password_hash(id));
}

fn stamp_of(app: &TestApp, id: i64) -> String {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => users::table.find(id).select(users::security_stamp).first::<String>(c))
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn login_status(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": username, "password": password}),
        )
        .await,
    )
    .await
}

#[actix_web::test]
async fn a_user_with_each_django_hash_signs_in_and_is_rehashed() {
    let app = spawn_app().await;
    for (i, (format, stored)) in DJANGO_HASHES.iter().enumerate() {
        let username = format!("user{i}");
        let id = insert_with_hash(&app, &username, stored, INITIAL_STAMP);

        let (status, body) = login_status(&app, &username, "tangerine-voyage-42").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{format}: wrong password: {body}"
        );
        assert_eq!(
            body,
            json!({"detail": "No active account found with the given credentials"}),
            "{format}: the usual refusal"
        );
        assert_eq!(
            &app.password_hash(id),
            stored,
            "{format}: a refusal changes nothing"
        );

        let (status, body) = login_status(&app, &username, PASSWORD).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{format}: original password: {body}"
        );
        let rehashed = wait_for_rehash(&app, id, format).await;
        assert_eq!(
            stamp_of(&app, id),
            INITIAL_STAMP,
            "{format}: the stamp is kept"
        );

        let (status, body) = login_status(&app, &username, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{format}: again, rehashed: {body}");
        let (status, _) = login_status(&app, &username, "tangerine-voyage-42").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{format}: wrong password, rehashed"
        );
        assert_eq!(
            app.password_hash(id),
            rehashed,
            "{format}: kept once it is keyward's"
        );
    }
}

#[actix_web::test]
async fn bcrypt_sha256_is_rehashed_only_below_the_configured_cost() {
    let app = spawn_app_with(|s| s.bcrypt_cost = 5).await;
    let low = insert_with_hash(&app, "low", BCRYPT_SHA256_4, INITIAL_STAMP);
    let high = insert_with_hash(&app, "high", BCRYPT_SHA256_12, INITIAL_STAMP);
    for username in ["high", "low"] {
        let (status, body) = login_status(&app, username, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{username}: {body}");
    }
    wait_for_prefix(
        &app,
        low,
        "bcrypt_sha256$$2b$05$",
        "cost 4 under a configured 5",
    )
    .await;
    // A rehash of `high` would have been queued first, on the same first-in first-out mailbox.
    assert_eq!(app.password_hash(high), BCRYPT_SHA256_12, "cost 12 is kept");
}

#[actix_web::test]
async fn a_rehash_does_not_end_the_users_sessions() {
    let app = spawn_app().await;
    let (_, stored) = DJANGO_HASHES[0];
    let id = insert_with_hash(&app, "alice", stored, INITIAL_STAMP);
    let (refresh, access) = app.login("alice", PASSWORD).await;
    wait_for_rehash(&app, id, "pbkdf2").await;

    let response = app.me(&access).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the access token still works"
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refresh token still refreshes: {body}"
    );
    let (status, sessions) = json_of(app.get_as("/api/me/sessions/", &access).await).await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    assert_eq!(
        sessions.as_array().map(Vec::len),
        Some(1),
        "the session lives: {sessions}"
    );
}

#[actix_web::test]
async fn sliding_and_console_sign_ins_rehash_too() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    let (_, stored) = DJANGO_HASHES[0];
    let sliding = insert_with_hash(&app, "slider", stored, INITIAL_STAMP);
    let console = insert_with_hash(&app, "staffer", stored, INITIAL_STAMP);

    let (status, body) = json_of(
        app.post_json(
            "/api/token/sliding/",
            &json!({"username": "slider", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "sliding sign-in: {body}");
    wait_for_rehash(&app, sliding, "sliding sign-in").await;

    let mut client = ConsoleClient::new(&app);
    let page = client.sign_in("staffer", PASSWORD, "/admin/").await;
    page.assert_redirect("/admin/", "console sign-in");
    wait_for_rehash(&app, console, "console sign-in").await;
}

#[actix_web::test]
async fn unusable_unknown_and_crypt_hashes_never_match() {
    let app = spawn_app().await;
    let cases = [
        ("!", "!", "Django's bare unusable marker"),
        (
            "!R4nd0mUnusab1ePasswordFromDjangoXXXXXXXXXXXX",
            "!R4nd0mUnusab1ePasswordFromDjangoXXXXXXXXXXXX",
            "an unusable password, its own text typed",
        ),
        ("", "x", "an empty stored value"),
        (PASSWORD, PASSWORD, "a plain text value"),
        (
            "crypt$$kg7TDv/kANNoU",
            PASSWORD,
            "crypt, as Django 4.2 wrote it",
        ),
        ("sha512$salt$0123", PASSWORD, "an unknown algorithm"),
    ];
    for (i, (stored, password, case)) in cases.iter().enumerate() {
        let username = format!("user{i}");
        let id = insert_with_hash(&app, &username, stored, INITIAL_STAMP);
        let (status, body) = login_status(&app, &username, password).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(
            body,
            json!({"detail": "No active account found with the given credentials"}),
            "{case}"
        );
        assert_eq!(&app.password_hash(id), stored, "{case}: left as it was");
    }
}

#[actix_web::test]
async fn a_rehash_never_overwrites_a_password_changed_meanwhile() {
    let app = spawn_app().await;
    let (_, stored) = DJANGO_HASHES[0];
    let id = insert_with_hash(&app, "alice", stored, INITIAL_STAMP);
    let changed = "bcrypt_sha256$$2b$04$changedchangedchangedchangedchangedchangedchangedcha";
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => diesel::update(users::table.find(id)).set(users::password.eq(changed)).execute(c))
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let stored_again = app
        .with_db(|conn| user::rehash_password(conn, id, stored, "bcrypt_sha256$$2b$04$new"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !stored_again,
        "the hash verified is no longer the stored one"
    );
    assert_eq!(app.password_hash(id), changed, "the new password is kept");
    let stored_now = app
        .with_db(|conn| user::rehash_password(conn, id, changed, "bcrypt_sha256$$2b$04$new"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(stored_now, "the hash verified is still the stored one");
    assert_eq!(
        stamp_of(&app, id),
        INITIAL_STAMP,
        "a rehash keeps the stamp"
    );
}
