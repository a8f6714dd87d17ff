use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, UserFlags, json_of, spawn_app};

#[actix_web::test]
async fn login_returns_a_refresh_and_an_access_token_in_simplejwts_order() {
    let app = spawn_app().await;
    app.create_user("alice");
    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap_or_default();
    assert!(text.starts_with("{\"refresh\":"), "key order: {text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(body.as_object().map(|o| o.len()), Some(2));
    assert_eq!(
        app.token_counts(),
        (1, 0),
        "the refresh token is recorded as outstanding"
    );
}

#[actix_web::test]
async fn unknown_user_wrong_password_and_inactive_user_get_one_identical_answer() {
    let app = spawn_app().await;
    app.create_user("alice");
    app.create_user_with(
        "sleepy",
        PASSWORD,
        UserFlags {
            active: false,
            ..UserFlags::default()
        },
    );
    let cases = [
        ("nobody", PASSWORD, "unknown user"),
        ("alice", "wrong-password-1", "wrong password"),
        ("sleepy", PASSWORD, "inactive user"),
    ];
    for (username, password, case) in cases {
        let (status, body) = json_of(
            app.post_json(
                "/api/token/",
                &json!({"username": username, "password": password}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            body,
            json!({"detail": "No active account found with the given credentials"}),
            "{case}"
        );
    }
}
