//! `POST /api/me/password/`: a new pair for this client, every other token of the user retired.

use reqwest::header::{ALLOW, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "marmalade-orbit-77";
const PATH: &str = "/api/me/password/";

async fn change_password(app: &TestApp, access: Option<&str>, body: &Value) -> Response {
    let mut request = app.client.post(app.url(PATH)).json(body);
    if let Some(access) = access {
        request = request.bearer_auth(access);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {PATH}: {e}"))
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.post_json(
        "/api/token/",
        &json!({"username": username, "password": password}),
    )
    .await
    .status()
}

#[actix_web::test]
async fn a_password_change_returns_a_new_pair_and_retires_every_older_token() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (old_refresh, old_access) = app.login("alice", PASSWORD).await;
    let (other_refresh, other_access) = app.login("alice", PASSWORD).await;

    let response = change_password(
        &app,
        Some(&old_access),
        &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;
    let (status, pair) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let keys: Vec<&String> = pair
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["refresh", "access"],
        "simplejwt's pair, in its order"
    );
    let new_refresh = pair["refresh"].as_str().unwrap_or_default();
    let new_access = pair["access"].as_str().unwrap_or_default();

    for (access, case) in [
        (&old_access, "the access token that made the change"),
        (&other_access, "another session's access token"),
    ] {
        let (status, body) = json_of(app.me(access).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(
            body,
            json!({"detail": "The user's password has been changed.", "code": "password_changed"}),
            "{case}"
        );
    }
    for (refresh, case) in [
        (&old_refresh, "the refresh token of the changing session"),
        (&other_refresh, "another session's refresh token"),
    ] {
        let (status, body) = app.refresh(refresh).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        // Blacklisted with the change; if the in-memory list has not caught up yet, the stale
        // stamp refuses it instead. Either way it is dead.
        let blacklisted = json!({"detail": "Token is blacklisted", "code": "token_not_valid"});
        let stale = json!({"detail": "The user's password has been changed."});
        assert!(body == blacklisted || body == stale, "{case}: {body}");
    }

    let (status, me) = json_of(app.me(new_access).await).await;
    assert_eq!(status, StatusCode::OK, "the new access token works: {me}");
    assert_eq!(me["username"], "alice");
    let (status, body) = app.refresh(new_refresh).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the new refresh token works: {body}"
    );

    assert_eq!(
        login_status(&app, "alice", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "the old password no longer logs in"
    );
    assert_eq!(
        login_status(&app, "alice", NEW_PASSWORD).await,
        StatusCode::OK,
        "the new password logs in"
    );
}

#[actix_web::test]
async fn with_check_revoke_token_off_a_password_change_still_ends_every_older_session() {
    let app = spawn_app_with(|s| s.check_revoke_token = false).await;
    app.create_user("alice");
    let (old_refresh, old_access) = app.login("alice", PASSWORD).await;
    let (status, pair) = json_of(
        change_password(
            &app,
            Some(&old_access),
            &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(
        app.me(&old_access).await.status(),
        StatusCode::UNAUTHORIZED,
        "without a stamp in tokens, the ended session still refuses its access token"
    );
    let (status, body) = app.refresh(&old_refresh).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        ),
        "the change blacklisted the user's refresh tokens"
    );
    let new_refresh = pair["refresh"].as_str().unwrap_or_default();
    assert_eq!(app.refresh(new_refresh).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn a_wrong_current_password_is_a_field_error_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let (status, body) = json_of(
        change_password(
            &app,
            Some(&access),
            &json!({"current_password": "not-my-password-1", "new_password": NEW_PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({"current_password": ["Your old password was entered incorrectly. Please enter it again."]})
    );
    assert_eq!(
        app.me(&access).await.status(),
        StatusCode::OK,
        "access still works"
    );
    assert_eq!(
        app.refresh(&refresh).await.0,
        StatusCode::OK,
        "refresh still works"
    );
    assert_eq!(
        login_status(&app, "alice", PASSWORD).await,
        StatusCode::OK,
        "the password is unchanged"
    );
    assert_eq!(
        login_status(&app, "alice", NEW_PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_new_password_the_policy_refuses_is_a_field_error_naming_each_reason() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let cases = [
        (
            "Zq7!x",
            vec!["This password is too short. It must contain at least 8 characters."],
            "too short",
        ),
        (
            "password123",
            vec!["This password is too common."],
            "common",
        ),
        (
            "83920174659",
            vec!["This password is entirely numeric."],
            "numeric",
        ),
        (
            "alice-forever-9",
            vec!["The password is too similar to the username."],
            "contains the username",
        ),
        (
            "1234567",
            vec![
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ],
            "several rules at once",
        ),
        ("", vec!["This field may not be blank."], "blank"),
    ];
    for (new_password, messages, case) in cases {
        let (status, body) = json_of(
            change_password(
                &app,
                Some(&access),
                &json!({"current_password": PASSWORD, "new_password": new_password}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, json!({ "new_password": messages }), "{case}");
    }
    assert_eq!(
        app.me(&access).await.status(),
        StatusCode::OK,
        "no refused change revoked anything"
    );
}

#[actix_web::test]
async fn missing_fields_are_each_named() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let cases = [
        (
            json!({}),
            json!({"current_password": ["This field is required."], "new_password": ["This field is required."]}),
            "empty body",
        ),
        (
            json!({"current_password": PASSWORD}),
            json!({"new_password": ["This field is required."]}),
            "no new password",
        ),
        (
            json!({"new_password": NEW_PASSWORD, "current_password": null}),
            json!({"current_password": ["This field may not be null."]}),
            "null current password",
        ),
    ];
    for (request, expected, case) in cases {
        let (status, body) = json_of(change_password(&app, Some(&access), &request).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }
}

#[actix_web::test]
async fn an_unauthenticated_password_change_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("alice");
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let cases = [
        (
            None,
            json!({"detail": "Authentication credentials were not provided."}),
            "no token",
        ),
        (
            Some("garbage"),
            json!({
                "detail": "Given token not valid for any token type",
                "code": "token_not_valid",
                "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}],
            }),
            "a bad token",
        ),
    ];
    for (access, expected, case) in cases {
        let response = change_password(&app, access, &body).await;
        let challenge = response.headers().get(WWW_AUTHENTICATE).cloned();
        let (status, got) = json_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {got}");
        assert_eq!(got, expected, "{case}");
        assert_eq!(
            challenge.as_ref().and_then(|v| v.to_str().ok()),
            Some("Bearer realm=\"api\""),
            "{case}"
        );
    }
    assert_eq!(
        login_status(&app, "alice", PASSWORD).await,
        StatusCode::OK,
        "password unchanged"
    );
}

#[actix_web::test]
async fn get_on_the_password_endpoint_is_not_allowed() {
    let app = spawn_app().await;
    let response = app.get(PATH, None).await;
    let allow = response.headers().get(ALLOW).cloned();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"GET\" not allowed."}));
    assert_eq!(
        allow.as_ref().and_then(|v| v.to_str().ok()),
        Some("POST, OPTIONS")
    );
}
