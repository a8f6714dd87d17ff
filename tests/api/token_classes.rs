//! `auth_token_classes` (simplejwt's `AUTH_TOKEN_CLASSES`): which token types protected routes
//! and the check endpoint accept, apart from `sliding_tokens`, which only mounts the sliding
//! endpoints.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{Sandbox, Server};
use crate::helpers::{PASSWORD, TestApp, assert_unauthorized, json_of, spawn_app_with};
use crate::tokens::{keyward_claims, sign_valid, with_signing_key};

const ME: &str = "/api/me/";
const CHECK: &str = "/api/auth/check";

fn classes(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|n| (*n).to_owned()).collect())
}

/// simplejwt's 401 when every class in `tried` refused the token with `message`.
fn refused(tried: &[(&str, &str)], message: &str) -> Value {
    let messages: Vec<Value> = tried
        .iter()
        .map(|(class, kind)| json!({"token_class": class, "token_type": kind, "message": message}))
        .collect();
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": messages,
    })
}

const ACCESS: (&str, &str) = ("AccessToken", "access");
const SLIDING: (&str, &str) = ("SlidingToken", "sliding");

/// An app serving the sliding endpoints, accepting `names`, with a user `alice`.
async fn app_accepting(names: &[&str]) -> TestApp {
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        s.auth_token_classes = classes(names);
    })
    .await;
    app.create_user("alice");
    app
}

/// A sliding token for alice from `POST /api/token/sliding/`.
async fn sliding_login(app: &TestApp) -> String {
    let (status, body) = json_of(
        app.post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "sliding login: {body}");
    body["token"].as_str().unwrap_or_default().to_owned()
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    json_of(app.get_as(path, token).await).await
}

#[actix_web::test]
async fn with_the_sliding_endpoints_mounted_but_only_access_accepted_a_sliding_token_is_refused() {
    let app = app_accepting(&["access"]).await;
    let sliding = sliding_login(&app).await;
    let (_, access) = app.login("alice", PASSWORD).await;
    let expected = refused(&[ACCESS], "Token has wrong type");
    for path in [ME, CHECK] {
        assert_unauthorized(
            app.get_as(path, &sliding).await,
            &expected,
            &format!("a sliding token on {path}"),
        )
        .await;
        let (status, body) = status_of(&app, path, &access).await;
        assert_eq!(status, StatusCode::OK, "an access token on {path}: {body}");
    }
    let (status, body) = json_of(
        app.post_token("/api/token/sliding/refresh/", "token", &sliding)
            .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the sliding endpoints still serve: {body}"
    );
}

#[actix_web::test]
async fn with_only_sliding_accepted_an_access_token_is_refused_naming_only_sliding_token() {
    let app = app_accepting(&["sliding"]).await;
    let sliding = sliding_login(&app).await;
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for path in [ME, CHECK] {
        assert_unauthorized(
            app.get_as(path, &access).await,
            &refused(&[SLIDING], "Token has wrong type"),
            &format!("an access token on {path}"),
        )
        .await;
        assert_unauthorized(
            app.get_as(path, "garbage").await,
            &refused(&[SLIDING], "Token is invalid"),
            &format!("garbage on {path}"),
        )
        .await;
        let (status, body) = status_of(&app, path, &sliding).await;
        assert_eq!(status, StatusCode::OK, "a sliding token on {path}: {body}");
    }
    // Refresh and verify are not protected routes: they answer as before.
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "refresh: {body}");
}

#[actix_web::test]
async fn with_both_accepted_both_kinds_pass_and_a_refusal_lists_the_classes_in_their_order() {
    let app = app_accepting(&["sliding", "access"]).await;
    let sliding = sliding_login(&app).await;
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for path in [ME, CHECK] {
        for (token, kind) in [(&access, "access"), (&sliding, "sliding")] {
            let (status, body) = status_of(&app, path, token).await;
            assert_eq!(status, StatusCode::OK, "{kind} token on {path}: {body}");
        }
        assert_unauthorized(
            app.get_as(path, &refresh).await,
            &refused(&[SLIDING, ACCESS], "Token has wrong type"),
            &format!("a refresh token on {path}"),
        )
        .await;
    }
}

#[actix_web::test]
async fn sliding_tokens_may_be_accepted_without_serving_the_sliding_endpoints() {
    let app = spawn_app_with(|s| {
        with_signing_key(s);
        s.auth_token_classes = classes(&["access", "sliding"]);
    })
    .await;
    let id = app.create_user("alice");
    let mut claims = keyward_claims("sliding", id, app.now(), 300);
    claims["refresh_exp"] = json!(app.now() + 86_400);
    let (status, body) = status_of(&app, ME, &sign_valid(&claims)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a sliding token from another issuer: {body}"
    );
    let response = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "sliding_tokens is off"
    );
}

#[actix_web::test]
async fn verify_stays_untyped_whatever_the_classes_as_in_simplejwt() {
    let app = app_accepting(&["access"]).await;
    let sliding = sliding_login(&app).await;
    let (refresh, _) = app.login("alice", PASSWORD).await;
    for (token, kind) in [(&sliding, "sliding"), (&refresh, "refresh")] {
        let (status, body) = app.verify(token).await;
        assert_eq!(status, StatusCode::OK, "verify a {kind} token: {body}");
    }
}

#[test]
fn the_settings_refuse_an_empty_list_or_an_unknown_or_repeated_class() {
    let cases: [(&[&str], &str); 4] = [
        (
            &[],
            "auth_token_classes must name at least one of access, sliding",
        ),
        (
            &["refresh"],
            "auth_token_classes: unknown token class \"refresh\" (known: access, sliding)",
        ),
        (&["AccessToken"], "unknown token class \"AccessToken\""),
        (
            &["access", "access"],
            "auth_token_classes names \"access\" twice",
        ),
    ];
    for (names, expected) in cases {
        let settings = keyward::config::Settings {
            auth_token_classes: classes(names),
            ..keyward::config::Settings::default()
        };
        let err = settings
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(expected), "{names:?}: {err:?}");
    }
}

#[test]
fn keyward_check_refuses_bad_auth_token_classes_from_the_environment() {
    let cases = [
        (
            "[]",
            "auth_token_classes must name at least one of access, sliding",
        ),
        ("[refresh]", "unknown token class \"refresh\""),
        ("[access, access]", "names \"access\" twice"),
        (
            "access",
            "KEYWARD_AUTH_TOKEN_CLASSES: expected a list, e.g. [\"a\", \"b\"]",
        ),
    ];
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    for (value, expected) in cases {
        let run = sandbox.run(&["check"], &[("KEYWARD_AUTH_TOKEN_CLASSES", value)], None);
        assert!(!run.success, "{value}: {run}");
        assert!(run.stderr.contains(expected), "{value}: {run}");
    }
    let run = sandbox.run(
        &["check"],
        &[("KEYWARD_AUTH_TOKEN_CLASSES", "[sliding, access]")],
        None,
    );
    assert!(run.success, "a good list: {run}");
}

/// `KEYWARD_AUTH_TOKEN_CLASSES='[sliding]'` read by the real binary: the sliding endpoints
/// (`KEYWARD_SLIDING_TOKENS`) serve, and only sliding tokens authenticate.
#[actix_web::test]
async fn the_environment_variable_is_read_as_a_list() {
    let sandbox = Sandbox::new();
    let created = sandbox.run(
        &[
            "createsuperuser",
            "--no-input",
            "--username",
            "root",
            "--password-stdin",
        ],
        &[],
        Some("quiet-harbour-58\n"),
    );
    assert!(created.success, "{created}");
    let mut server = Server::start_with(
        &sandbox,
        "classes",
        true,
        &[
            ("KEYWARD_SLIDING_TOKENS", "true"),
            ("KEYWARD_AUTH_TOKEN_CLASSES", "[sliding]"),
        ],
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    server.wait_until_listening(&client).await;
    let post = |path: &str| {
        client
            .post(format!("{}{path}", server.base))
            .json(&json!({"username": "root", "password": "quiet-harbour-58"}))
            .send()
    };
    let get_me = |token: &str| {
        client
            .get(format!("{}{ME}", server.base))
            .bearer_auth(token)
            .send()
    };
    let read = |r: reqwest::Result<reqwest::Response>| async move {
        let r = r.unwrap_or_else(|e| panic!("request: {e}"));
        (r.status(), r.json::<Value>().await.unwrap_or_default())
    };
    let (status, body) = read(post("/api/token/sliding/").await).await;
    assert_eq!(status, StatusCode::OK, "sliding login: {body}");
    let sliding = body["token"].as_str().unwrap_or_default().to_owned();
    let (status, body) = read(post("/api/token/").await).await;
    assert_eq!(status, StatusCode::OK, "login: {body}");
    let access = body["access"].as_str().unwrap_or_default().to_owned();

    let (status, body) = read(get_me(&sliding).await).await;
    assert_eq!(status, StatusCode::OK, "sliding token: {body}");
    let (status, body) = read(get_me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, refused(&[SLIDING], "Token has wrong type"));
}
