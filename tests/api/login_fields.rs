//! `login_fields`: signing in with a username or an email address (the token endpoints, sliding
//! obtain and the console), and unique addresses while addresses sign in (signup, the admin
//! API and the console's user form).

use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyward::config::Settings;
use keyward::db::schema::users;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console_client::{ConsoleClient, superuser, user_named};
use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app, spawn_app_with};
use crate::tokens::claims_of;

const NO_ACCOUNT: &str = "No active account found with the given credentials";
const EMAIL_TAKEN: &str = "A user with that email address already exists.";
const OTHER_PASSWORD: &str = "marble-kettle-52";

fn fields(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// Settings hook: usernames and email addresses sign in; the sliding endpoints serve.
fn username_or_email(s: &mut Settings) {
    s.login_fields = fields(&["username", "email"]);
    s.sliding_tokens = true;
}

/// Stores `email` as the user's address, as written (straight into the database).
fn set_email(app: &TestApp, id: i64, email: &str) {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => diesel::update(users::table.find(id))
            .set(users::email.eq(email.to_owned()))
            .execute(c))
    })
    .unwrap_or_else(|e| panic!("set email: {e}"));
}

fn email_of(app: &TestApp, id: i64) -> String {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => users::table.find(id).select(users::email).first::<String>(c))
    })
    .unwrap_or_else(|e| panic!("email of {id}: {e}"))
}

/// `POST path {"username": identifier, "password"}`.
async fn sign_in(
    app: &TestApp,
    path: &str,
    identifier: &str,
    password: &str,
) -> (StatusCode, Value) {
    json_of(
        app.post_json(path, &json!({"username": identifier, "password": password}))
            .await,
    )
    .await
}

/// The user id in the token a successful sign-in returned.
fn token_user(body: &Value) -> String {
    let token = body["access"].as_str().or(body["token"].as_str());
    claims_of(token.unwrap_or_else(|| panic!("no token in {body}")))["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[actix_web::test]
async fn an_email_address_in_any_case_signs_in_on_both_obtain_endpoints() {
    let app = spawn_app_with(username_or_email).await;
    let id = app.create_user("alice");
    set_email(&app, id, "Alice@Example.com");
    for path in ["/api/token/", "/api/token/sliding/"] {
        for identifier in [
            "alice@example.com",
            "ALICE@EXAMPLE.COM",
            "Alice@Example.com",
            "alice",
        ] {
            let (status, body) = sign_in(&app, path, identifier, PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "{path} as {identifier}: {body}");
            assert_eq!(token_user(&body), id.to_string(), "{path} as {identifier}");
        }
        let (status, body) = sign_in(&app, path, "alice@example.com", OTHER_PASSWORD).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "wrong password: {body}");
    }
}

#[actix_web::test]
async fn an_unknown_address_is_answered_as_an_unknown_username_in_about_the_same_time() {
    // A bcrypt cost where a skipped password check would show: about 60 ms per check here.
    let app = spawn_app_with(|s| {
        username_or_email(s);
        s.bcrypt_cost = 9;
        s.login_throttle = false;
    })
    .await;
    // Signed up, so the account's hash has the app's cost, as the dummy hash does.
    let (status, body) = signup(&app, "alice", "alice@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cases = [
        ("nobody@example.com", PASSWORD, "an unknown address"),
        ("nobody", PASSWORD, "an unknown username"),
        (
            "alice@example.com",
            OTHER_PASSWORD,
            "a known address, wrong password",
        ),
        (
            "",
            PASSWORD,
            "an empty identifier is a field error, not a match of empty addresses",
        ),
    ];
    let mut answers = Vec::new();
    for path in ["/api/token/", "/api/token/sliding/"] {
        for (identifier, password, case) in cases {
            let response = app
                .post_json(path, &json!({"username": identifier, "password": password}))
                .await;
            let challenge = crate::helpers::challenge_of(&response);
            let (status, body) = json_of(response).await;
            if identifier.is_empty() {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {case}: {body}");
                continue;
            }
            answers.push((path, case, status, body, challenge));
        }
    }
    for (path, case, status, body, challenge) in &answers {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{path} {case}");
        assert_eq!(body, &json!({"detail": NO_ACCOUNT}), "{path} {case}");
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"api\""),
            "{path} {case}"
        );
    }

    // The unknown address costs a password check too (against the dummy hash). Timed in
    // turns, so a busy moment of the machine weighs on both alike.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..7 {
        for (identifier, took) in [
            ("alice@example.com", &mut known),
            ("nobody@example.com", &mut unknown),
        ] {
            let started = Instant::now();
            let response = app
                .post_json(
                    "/api/token/",
                    &json!({"username": identifier, "password": OTHER_PASSWORD}),
                )
                .await;
            took.push(started.elapsed());
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let median = |took: &mut Vec<Duration>| {
        took.sort();
        took[took.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    assert!(
        known > Duration::from_millis(5),
        "the known address was checked against its hash: {known:?}"
    );
    assert!(
        unknown * 2 > known,
        "an unknown address takes about as long as a known one: {unknown:?} vs {known:?}"
    );
}

#[actix_web::test]
async fn by_default_an_email_address_does_not_sign_in() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    let id = superuser(&app, "alice");
    set_email(&app, id, "alice@example.com");
    for path in ["/api/token/", "/api/token/sliding/"] {
        let (status, body) = sign_in(&app, path, "alice@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert_eq!(body, json!({"detail": NO_ACCOUNT}), "{path}");
    }
    let mut browser = ConsoleClient::new(&app);
    let page = browser
        .sign_in("alice@example.com", PASSWORD, "/admin/")
        .await;
    assert_eq!(page.status, StatusCode::OK, "the form again");
    assert!(
        page.has(crate::console_client::BAD_CREDENTIALS),
        "{}",
        page.body
    );
    app.login("alice", PASSWORD).await;
}

#[actix_web::test]
async fn with_email_alone_the_username_no_longer_signs_in() {
    let app = spawn_app_with(|s| s.login_fields = fields(&["email"])).await;
    let id = app.create_user("alice");
    set_email(&app, id, "alice@example.com");
    let (status, body) = sign_in(&app, "/api/token/", "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "username: {body}");
    assert_eq!(body, json!({"detail": NO_ACCOUNT}));
    let (status, body) = sign_in(&app, "/api/token/", "ALICE@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "address: {body}");
}

#[actix_web::test]
async fn a_username_match_wins_over_another_users_address() {
    let app = spawn_app_with(username_or_email).await;
    // A username may look like an address; it names its own account first.
    let named = app.create_user("bob@example.com");
    let other = app.create_user_with("robert", OTHER_PASSWORD, UserFlags::default());
    set_email(&app, other, "Bob@Example.com");
    let (status, body) = sign_in(&app, "/api/token/", "bob@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(token_user(&body), named.to_string(), "the username's owner");
    let (status, body) = sign_in(&app, "/api/token/", "bob@example.com", OTHER_PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the address's owner cannot use the other account's name: {body}"
    );
    // A case the username does not match exactly is only an address.
    let (status, body) = sign_in(&app, "/api/token/", "BOB@example.com", OTHER_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(token_user(&body), other.to_string(), "the address's owner");
}

#[actix_web::test]
async fn the_console_signs_staff_in_by_address() {
    let app = spawn_app_with(username_or_email).await;
    let id = superuser(&app, "root");
    set_email(&app, id, "root@example.com");
    let plain = app.create_user("plain");
    set_email(&app, plain, "plain@example.com");
    let mut browser = ConsoleClient::new(&app);
    let page = browser
        .sign_in("Root@Example.COM", PASSWORD, "/admin/")
        .await;
    page.assert_redirect("/admin/", "staff by address");
    let dashboard = browser.get("/admin/").await;
    assert_eq!(dashboard.status, StatusCode::OK);

    let mut other = ConsoleClient::new(&app);
    for (identifier, case) in [
        ("plain@example.com", "not staff"),
        ("nobody@example.com", "unknown address"),
    ] {
        let page = other.sign_in(identifier, PASSWORD, "/admin/").await;
        assert_eq!(page.status, StatusCode::OK, "{case}");
        assert!(page.has(crate::console_client::BAD_CREDENTIALS), "{case}");
    }
}

#[actix_web::test]
async fn the_throttle_counts_the_address_as_typed_whatever_its_case() {
    let app = spawn_app_with(|s| {
        username_or_email(s);
        s.login_attempts_per_pair = 2;
    })
    .await;
    let id = app.create_user("alice");
    set_email(&app, id, "alice@example.com");
    for identifier in ["ALICE@example.com", "alice@EXAMPLE.com"] {
        let (status, _) = sign_in(&app, "/api/token/", identifier, OTHER_PASSWORD).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = sign_in(&app, "/api/token/", "Alice@Example.com", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "one counter for the address: {body}"
    );
    let (status, body) = sign_in(&app, "/api/token/", "alice", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the username is another identifier: {body}"
    );
}

/// `POST /api/signup/` with this username and address.
async fn signup(app: &TestApp, username: &str, email: &str) -> (StatusCode, Value) {
    json_of(
        app.post_json(
            "/api/signup/",
            &json!({"username": username, "email": email, "password": PASSWORD}),
        )
        .await,
    )
    .await
}

#[actix_web::test]
async fn signup_refuses_a_taken_address_in_any_case_while_addresses_sign_in() {
    let app = spawn_app_with(username_or_email).await;
    let (status, body) = signup(&app, "alice", "alice@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = signup(&app, "alice2", "ALICE@Example.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": [EMAIL_TAKEN]}));
    let (status, body) = signup(&app, "alice", "Alice@example.COM").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "username": ["A user with that username already exists."],
            "email": [EMAIL_TAKEN],
        }),
        "both taken fields are named"
    );
    assert!(user_named(&app, "alice2").is_none());
}

#[actix_web::test]
async fn by_default_two_users_may_share_an_address() {
    let app = spawn_app().await;
    for username in ["alice", "alice2"] {
        let (status, body) = signup(&app, username, "alice@example.com").await;
        assert_eq!(status, StatusCode::CREATED, "{username}: {body}");
    }
    superuser(&app, "root");
    let root = app.access_for("root").await;
    let (status, body) = json_of(
        app.post_as(
            "/api/users/",
            &root,
            &json!({"username": "alice3", "email": "ALICE@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "admin API: {body}");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let page = browser
        .submit(
            "/admin/users/add/",
            &[("username", "alice4"), ("email", "alice@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "console: {}", page.body);
}

#[actix_web::test]
async fn the_admin_api_refuses_a_taken_address_on_create_and_update() {
    let app = spawn_app_with(username_or_email).await;
    app.create_superuser("root");
    let root = app.access_for("root").await;
    let alice = app.create_user("alice");
    set_email(&app, alice, "alice@example.com");
    let bob = app.create_user("bob");

    let (status, body) = json_of(
        app.post_as(
            "/api/users/",
            &root,
            &json!({"username": "carol", "email": "Alice@Example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": [EMAIL_TAKEN]}), "create");
    assert!(user_named(&app, "carol").is_none());

    let (status, body) = json_of(
        app.patch_as(
            &format!("/api/users/{bob}/"),
            &root,
            &json!({"email": "ALICE@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": [EMAIL_TAKEN]}), "update");
    assert_eq!(email_of(&app, bob), "", "nothing saved");

    let (status, body) = json_of(
        app.patch_as(
            &format!("/api/users/{alice}/"),
            &root,
            &json!({"email": "ALICE@example.com", "first_name": "Alice"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a user keeps their own address: {body}"
    );

    for username in ["dave", "erin"] {
        let (status, body) = json_of(
            app.post_as(
                "/api/users/",
                &root,
                &json!({"username": username, "email": ""}),
            )
            .await,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "empty addresses are nobody's: {body}"
        );
    }
}

#[actix_web::test]
async fn the_console_refuses_a_taken_address_on_add_and_edit() {
    let app = spawn_app_with(username_or_email).await;
    superuser(&app, "root");
    let alice = app.create_user("alice");
    set_email(&app, alice, "alice@example.com");
    let bob = app.create_user("bob");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let page = browser
        .submit(
            "/admin/users/add/",
            &[
                ("username", "carol"),
                ("email", "Alice@Example.com"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "add");
    assert!(
        email_errors(&page.body).contains(EMAIL_TAKEN),
        "{}",
        page.body
    );
    assert!(user_named(&app, "carol").is_none());

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[
                ("username", "bob"),
                ("email", "ALICE@example.com"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "edit");
    assert!(
        email_errors(&page.body).contains(EMAIL_TAKEN),
        "{}",
        page.body
    );
    assert_eq!(email_of(&app, bob), "", "nothing saved");

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[
                ("username", "bob"),
                ("email", ""),
                ("first_name", "Bob"),
                ("is_active", "on"),
            ],
        )
        .await;
    page.assert_redirect(&format!("/admin/users/{bob}/"), "an empty address is free");
}

/// The console form's error list for the email field.
fn email_errors(body: &str) -> &str {
    let Some(start) = body.find("id=\"email-errors\"") else {
        return "";
    };
    let rest = &body[start..];
    &rest[..rest.find("</ul>").unwrap_or(rest.len())]
}

#[actix_web::test]
async fn of_concurrent_signups_with_one_address_exactly_one_succeeds() {
    let app = spawn_app_with(|s| {
        username_or_email(s);
        s.user_manager_threads = 4;
    })
    .await;
    let attempts = (0..8).map(|i| {
        let app = &app;
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@Example.com"
        };
        async move { signup(app, &format!("racer{i}"), email).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert_eq!(body, &json!({"email": [EMAIL_TAKEN]}));
    }
}
