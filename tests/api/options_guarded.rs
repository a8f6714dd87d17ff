//! `OPTIONS` on a protected resource authenticates and checks permissions exactly as the
//! resource's reads do (DRF runs `initial()` before answering metadata): 401 for an anonymous
//! caller or an inactive user, 403 without the `view` permission, and the same bodies as the
//! refused `GET`.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, challenge_of, json_of, spawn_app_with};
use crate::tokens::{keyward_claims, sign_valid, with_signing_key};

/// What a resource's reads require.
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    /// Any active user.
    Authenticated,
    /// The model's `view` permission.
    View,
}

/// A session id no login made: the reference `DELETE`s end nothing.
const UNKNOWN_SESSION: &str = "0123456789abcdef0123456789abcdef";

/// Status, `WWW-Authenticate` and JSON body of a request as `access` (anonymous with `None`).
async fn answer(
    app: &TestApp,
    method: Method,
    path: &str,
    access: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let response = app.request_as(method, path, access, None).await;
    let challenge = challenge_of(&response);
    let (status, body) = json_of(response).await;
    (status, challenge, body)
}

#[actix_web::test]
async fn options_on_every_protected_resource_is_refused_exactly_as_its_reads_are() {
    let app = spawn_app_with(with_signing_key).await;
    let plain_id = app.create_user("plain");
    let inactive_id = app.create_inactive_user("sleepy");
    app.create_superuser("root");
    let group = app.create_group("analysts", &[]);
    let permission = app.permission_id("auth.view_user");
    let plain = app.access_for("plain").await;
    let root = app.access_for("root").await;
    // Login refuses an inactive user: their token is minted with the server's key.
    let inactive = sign_valid(&keyward_claims("access", inactive_id, app.now(), 300));

    // (path, the method whose refusal OPTIONS must repeat, what reads need)
    let resources = [
        ("/api/users/".to_owned(), Method::GET, Needs::View),
        (format!("/api/users/{plain_id}/"), Method::GET, Needs::View),
        ("/api/users".to_owned(), Method::GET, Needs::View),
        ("/api/groups/".to_owned(), Method::GET, Needs::View),
        (format!("/api/groups/{group}/"), Method::GET, Needs::View),
        ("/api/permissions/".to_owned(), Method::GET, Needs::View),
        (
            format!("/api/permissions/{permission}/"),
            Method::GET,
            Needs::View,
        ),
        ("/api/me/".to_owned(), Method::GET, Needs::Authenticated),
        (
            "/api/me/password/".to_owned(),
            Method::POST,
            Needs::Authenticated,
        ),
        (
            "/api/auth/check".to_owned(),
            Method::GET,
            Needs::Authenticated,
        ),
        (
            "/api/me/sessions/".to_owned(),
            Method::GET,
            Needs::Authenticated,
        ),
        (
            "/api/me/sessions/revoke-others/".to_owned(),
            Method::POST,
            Needs::Authenticated,
        ),
        (
            format!("/api/me/sessions/{UNKNOWN_SESSION}/"),
            Method::DELETE,
            Needs::Authenticated,
        ),
        (
            format!("/api/users/{plain_id}/sessions/"),
            Method::GET,
            Needs::View,
        ),
        (
            format!("/api/users/{plain_id}/sessions/revoke-all/"),
            Method::POST,
            Needs::View,
        ),
        (
            format!("/api/users/{plain_id}/sessions/{UNKNOWN_SESSION}/"),
            Method::DELETE,
            Needs::View,
        ),
    ];
    let callers = [
        (None, "anonymous"),
        (Some(inactive.as_str()), "inactive user"),
        (Some(plain.as_str()), "user without view permissions"),
    ];
    for (path, reference, needs) in &resources {
        for (access, who) in callers {
            let case = format!("OPTIONS {path} as {who}");
            let options = answer(&app, Method::OPTIONS, path, access).await;
            let refused_read = answer(&app, reference.clone(), path, access).await;
            let expected = match (who, needs) {
                ("anonymous", _) | ("inactive user", _) => StatusCode::UNAUTHORIZED,
                (_, Needs::View) => StatusCode::FORBIDDEN,
                (_, Needs::Authenticated) => StatusCode::OK,
            };
            assert_eq!(options.0, expected, "{case}: {}", options.2);
            if expected != StatusCode::OK {
                assert_eq!(options, refused_read, "{case}: as {reference} {path}");
            } else {
                assert!(options.2["name"].is_string(), "{case}: {}", options.2);
            }
        }
        let (status, _, body) = answer(&app, Method::OPTIONS, path, Some(&root)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "OPTIONS {path} as a superuser: {body}"
        );
        assert!(body["name"].is_string(), "OPTIONS {path}: {body}");
    }
}

#[actix_web::test]
async fn options_on_a_public_endpoint_still_answers_anyone_and_ignores_credentials() {
    let app = spawn_app_with(with_signing_key).await;
    for path in [
        "/api/token/",
        "/api/token/verify/",
        "/api/signup/",
        "/health",
    ] {
        for access in [None, Some("not-a-token")] {
            let (status, _, body) = answer(&app, Method::OPTIONS, path, access).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "OPTIONS {path} ({access:?}): {body}"
            );
            assert!(body["name"].is_string(), "OPTIONS {path}: {body}");
        }
    }
}
