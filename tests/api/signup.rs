//! `POST /api/signup/`: account creation with Django's username, email and password rules.

use diesel::prelude::*;
use keyward::db::schema::users;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with};

const PATH: &str = "/api/signup/";
const INVALID_USERNAME: &str = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
const TOO_LONG: &str = "Ensure this field has no more than 150 characters.";
const INVALID_EMAIL: &str = "Enter a valid email address.";
const TOO_SHORT: &str = "This password is too short. It must contain at least 8 characters.";
const TOO_COMMON: &str = "This password is too common.";
const NUMERIC: &str = "This password is entirely numeric.";
const SIMILAR: &str = "The password is too similar to the username.";

fn valid() -> Value {
    json!({"username": "bob", "email": "bob@example.com", "password": PASSWORD})
}

/// `valid()` with one field replaced.
fn with(field: &str, value: Value) -> Value {
    let mut body = valid();
    body[field] = value;
    body
}

async fn signup(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    json_of(app.post_json(PATH, body).await).await
}

fn stored_password(app: &TestApp, username: &str) -> Option<String> {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => users::table
            .filter(users::username.eq(username.to_owned()))
            .select(users::password)
            .first::<String>(c)
            .optional())
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

#[actix_web::test]
async fn signup_creates_an_ordinary_active_user_shown_without_secrets_who_can_then_log_in() {
    let app = spawn_app().await;
    let response = app.post_json(PATH, &valid()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = response.text().await.unwrap_or_default();
    assert!(
        !text.contains(PASSWORD) && !text.contains("bcrypt") && !text.contains("\"password\""),
        "the password and its hash stay private: {text}"
    );
    let mut body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    let id = body["id"].take();
    assert!(id.as_i64().is_some_and(|id| id > 0), "an id: {id}");
    let joined = body["date_joined"].take();
    assert!(joined.is_string(), "date_joined: {joined}");
    assert_eq!(
        body,
        json!({
            "id": null,
            "username": "bob",
            "email": "bob@example.com",
            "first_name": "",
            "last_name": "",
            "is_active": true,
            "is_staff": false,
            "is_superuser": false,
            "date_joined": null,
            "last_login": null,
            "groups": [],
            "permissions": [],
        })
    );

    let hash = stored_password(&app, "bob").unwrap_or_default();
    assert!(
        hash.starts_with("bcrypt_sha256$") && !hash.contains(PASSWORD),
        "stored hashed: {hash}"
    );
    let (_, access) = app.login("bob", PASSWORD).await;
    let (status, me) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], id, "the token is for the new user");
}

#[actix_web::test]
async fn surrounding_whitespace_is_trimmed_from_username_and_email_but_not_password() {
    let app = spawn_app().await;
    let spaced = format!(" {PASSWORD} ");
    let (status, body) = signup(
        &app,
        &json!({"username": "  bob ", "email": " bob@example.com ", "password": spaced}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "bob");
    assert_eq!(body["email"], "bob@example.com");
    let login = |password: &str| json!({"username": "bob", "password": password});
    assert_eq!(
        app.post_json("/api/token/", &login(&spaced)).await.status(),
        StatusCode::OK,
        "the password as sent"
    );
    assert_eq!(
        app.post_json("/api/token/", &login(PASSWORD))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "spaces are part of the password"
    );
}

#[actix_web::test]
async fn fields_a_client_may_not_set_are_ignored() {
    let app = spawn_app().await;
    let mut body = valid();
    for (field, value) in [
        ("is_superuser", json!(true)),
        ("is_staff", json!(true)),
        ("is_active", json!(false)),
        ("id", json!(4242)),
        ("groups", json!(["admins"])),
        ("permissions", json!(["auth.delete_user"])),
        ("last_login", json!("2020-01-01T00:00:00Z")),
    ] {
        body[field] = value;
    }
    let (status, created) = signup(&app, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (
            &created["is_superuser"],
            &created["is_staff"],
            &created["is_active"]
        ),
        (&json!(false), &json!(false), &json!(true)),
        "an ordinary active user: {created}"
    );
    assert_ne!(created["id"], 4242);
    assert_eq!(created["groups"], json!([]));
    assert_eq!(created["permissions"], json!([]));
    assert_eq!(created["last_login"], Value::Null);
    let (_, access) = app.login("bob", PASSWORD).await;
    let (_, me) = json_of(app.me(&access).await).await;
    assert_eq!(
        (&me["is_superuser"], &me["is_staff"]),
        (&json!(false), &json!(false)),
        "as stored: {me}"
    );
}

#[actix_web::test]
async fn a_taken_username_is_refused_and_the_first_account_is_untouched() {
    let app = spawn_app().await;
    assert_eq!(signup(&app, &valid()).await.0, StatusCode::CREATED);
    let before = stored_password(&app, "bob");
    let (status, body) = signup(
        &app,
        &json!({"username": "bob", "email": "other@example.com", "password": "quiet-harbour-58"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({"username": ["A user with that username already exists."]})
    );
    assert_eq!(
        stored_password(&app, "bob"),
        before,
        "the first password stands"
    );
    app.login("bob", PASSWORD).await;
}

#[actix_web::test]
async fn concurrent_signups_for_one_username_create_exactly_one_account() {
    let app = spawn_app().await;
    let app = &app;
    let attempts = (0..6).map(|i| {
        let body = json!({
            "username": "bob",
            "email": format!("bob{i}@example.com"),
            "password": PASSWORD,
        });
        async move { signup(app, &body).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let created = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            body,
            &json!({"username": ["A user with that username already exists."]})
        );
    }
}

#[actix_web::test]
async fn a_username_taken_by_an_existing_user_is_refused() {
    let app = spawn_app().await;
    app.create_user("carol");
    let (status, body) = signup(&app, &with("username", json!("carol"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({"username": ["A user with that username already exists."]})
    );
}

#[actix_web::test]
async fn each_bad_field_is_refused_with_its_own_messages() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, Vec<&str>, &str)> = vec![
        (
            "username",
            json!("bob smith"),
            vec![INVALID_USERNAME],
            "a space",
        ),
        (
            "username",
            json!("bob;drop"),
            vec![INVALID_USERNAME],
            "a semicolon",
        ),
        (
            "username",
            json!("bob/alice"),
            vec![INVALID_USERNAME],
            "a slash",
        ),
        (
            "username",
            json!("x".repeat(151)),
            vec![TOO_LONG],
            "151 characters",
        ),
        (
            "username",
            json!(""),
            vec!["This field may not be blank."],
            "blank",
        ),
        (
            "username",
            json!(null),
            vec!["This field may not be null."],
            "null",
        ),
        (
            "username",
            json!(["bob"]),
            vec!["Not a valid string."],
            "a list",
        ),
        ("email", json!("not-an-email"), vec![INVALID_EMAIL], "no @"),
        (
            "email",
            json!("bob@localhost"),
            vec![INVALID_EMAIL],
            "no dot in the domain",
        ),
        (
            "email",
            json!("@example.com"),
            vec![INVALID_EMAIL],
            "nothing before @",
        ),
        (
            "email",
            json!("bob smith@example.com"),
            vec![INVALID_EMAIL],
            "a space",
        ),
        (
            "email",
            json!("bob@@example.com"),
            vec![INVALID_EMAIL],
            "two @",
        ),
        (
            "email",
            json!("bob@example..com"),
            vec![INVALID_EMAIL],
            "an empty label",
        ),
        (
            "email",
            json!(""),
            vec!["This field may not be blank."],
            "blank email",
        ),
        ("password", json!("Zq7!x"), vec![TOO_SHORT], "too short"),
        ("password", json!("password123"), vec![TOO_COMMON], "common"),
        (
            "password",
            json!("sunshine"),
            vec![TOO_COMMON],
            "common, exactly 8",
        ),
        (
            "password",
            json!("83920174659"),
            vec![NUMERIC],
            "entirely numeric",
        ),
        (
            "password",
            json!("bob-the-builder-7"),
            vec![SIMILAR],
            "contains the username",
        ),
        (
            "password",
            json!("xbobx"),
            vec![TOO_SHORT, SIMILAR],
            "short and similar",
        ),
        (
            "password",
            json!("1234567"),
            vec![TOO_SHORT, TOO_COMMON, NUMERIC],
            "short, common, numeric",
        ),
        (
            "password",
            json!(""),
            vec!["This field may not be blank."],
            "blank password",
        ),
    ];
    for (field, value, messages, case) in cases {
        let (status, body) = signup(&app, &with(field, value)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}, {case}: {body}");
        assert_eq!(body, json!({ field: messages }), "{field}, {case}");
    }
    let (status, _) = signup(&app, &valid()).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "no refused attempt created bob"
    );
}

#[actix_web::test]
async fn unusual_but_valid_usernames_and_a_150_character_username_are_accepted() {
    let app = spawn_app().await;
    let long = "y".repeat(150);
    let cases = [
        ("b.o+b-_@x", "every allowed punctuation"),
        ("Zoë", "a non-ASCII letter"),
        (long.as_str(), "exactly 150 characters"),
    ];
    for (i, (username, case)) in cases.into_iter().enumerate() {
        let email = format!("user{i}@example.com");
        let (status, body) = signup(
            &app,
            &json!({"username": username, "email": email, "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{case}: {body}");
        assert_eq!(body["username"], username, "{case}");
    }
}

#[actix_web::test]
async fn several_bad_fields_are_refused_together_in_one_answer() {
    let app = spawn_app().await;
    let (status, body) = signup(
        &app,
        &json!({"username": "bad name", "email": "nope", "password": "short"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({
            "username": [INVALID_USERNAME],
            "email": [INVALID_EMAIL],
            "password": [TOO_SHORT],
        })
    );
    let (status, body) = signup(&app, &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({
            "username": ["This field is required."],
            "email": ["This field is required."],
            "password": ["This field is required."],
        }),
        "an empty body"
    );
}

#[actix_web::test]
async fn signup_accepts_a_form_body_too() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            PATH,
            &[
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "bob");
}

#[actix_web::test]
async fn with_signup_disabled_the_endpoint_does_not_exist() {
    let app = spawn_app_with(|s| s.allow_signup = false).await;
    for path in [PATH, "/api/signup"] {
        let (status, body) = json_of(app.post_json(path, &valid()).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "Not found."}), "{path}");
    }
    assert_eq!(stored_password(&app, "bob"), None, "no account was created");
}
