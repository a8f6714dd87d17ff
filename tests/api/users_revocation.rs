//! An administrator's change to a user takes effect on that user's very next request, not when
//! their access token expires: deactivation, a new password, deletion, a removed permission.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app};

/// A superuser's access token.
async fn root(app: &TestApp) -> String {
    app.create_superuser("root");
    app.access_for("root").await
}

/// What a refresh of a revoked token answers: the change's 200 goes out only once the
/// in-memory revocation list has the user's refresh tokens, so the blacklist refuses it first.
fn assert_refresh_blacklisted(status: StatusCode, body: &Value, case: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
    assert_eq!(
        *body,
        json!({"detail": "Token is blacklisted", "code": "token_not_valid"}),
        "{case}"
    );
}

#[actix_web::test]
async fn deactivating_a_user_refuses_their_access_token_at_once_and_their_refresh_token() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let victim = app.create_user("victim");
    let (refresh, access) = app.login("victim", PASSWORD).await;
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);

    let (status, body) = json_of(
        app.patch_as(
            &format!("/api/users/{victim}/"),
            &admin,
            &json!({"is_active": false}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_active"], false);

    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "User is inactive", "code": "user_inactive"})
    );
    assert_eq!(
        app.token_counts(),
        (2, 1),
        "the victim's refresh token is blacklisted, root's is not"
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_refresh_blacklisted(status, &body, "refresh");
    let (status, _) = json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": "victim", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no new login");
}

#[actix_web::test]
async fn reactivating_a_user_does_not_revive_the_tokens_they_had() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let victim = app.create_user("victim");
    let (refresh, access) = app.login("victim", PASSWORD).await;
    let path = format!("/api/users/{victim}/");
    for active in [false, true] {
        let response = app
            .patch_as(&path, &admin, &json!({ "is_active": active }))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed.", "code": "password_changed"})
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_refresh_blacklisted(status, &body, "refresh");
    let (_, fresh) = app.login("victim", PASSWORD).await;
    assert_eq!(app.me(&fresh).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn setting_a_password_refuses_the_old_tokens_and_the_new_password_logs_in() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let victim = app.create_user("victim");
    let (refresh, access) = app.login("victim", PASSWORD).await;

    let (status, body) = json_of(
        app.patch_as(
            &format!("/api/users/{victim}/"),
            &admin,
            &json!({"password": "new-orchard-77"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("password").is_none(), "{body}");

    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed.", "code": "password_changed"})
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_refresh_blacklisted(status, &body, "refresh");
    let (status, _) = json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": "victim", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password");
    let (_, fresh) = app.login("victim", "new-orchard-77").await;
    assert_eq!(app.me(&fresh).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn a_weak_new_password_is_refused_and_the_old_tokens_keep_working() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let victim = app.create_user("victim");
    let (_, access) = app.login("victim", PASSWORD).await;
    let cases = [
        (
            json!({"password": ""}),
            "This field may not be blank.",
            "blank",
        ),
        (
            json!({"password": "password"}),
            "This password is too common.",
            "common",
        ),
        (
            json!({"password": "1234"}),
            "This password is too short. It must contain at least 8 characters.",
            "short",
        ),
    ];
    for (body, message, case) in cases {
        let (status, answer) = json_of(
            app.patch_as(&format!("/api/users/{victim}/"), &admin, &body)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {answer}");
        assert_eq!(answer["password"][0], message, "{case}: {answer}");
    }
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn deleting_a_user_refuses_their_access_token_and_their_refresh_token() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let victim = app.create_user("victim");
    let (refresh, access) = app.login("victim", PASSWORD).await;
    let response = app
        .delete_as(&format!("/api/users/{victim}/"), &admin)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "User not found", "code": "user_not_found"})
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_refresh_blacklisted(status, &body, "refresh");
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "and again: {body}");
}

#[actix_web::test]
async fn removing_a_direct_permission_refuses_the_next_request_that_needs_it() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let reader = app.create_user("reader");
    app.grant(reader, &["auth.view_user"]);
    let access = app.access_for("reader").await;
    assert_eq!(
        app.get_as("/api/users/", &access).await.status(),
        StatusCode::OK
    );

    let path = format!("/api/users/{reader}/");
    let (status, body) = json_of(
        app.patch_as(&path, &admin, &json!({"user_permissions": []}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_permissions"], json!([]));
    let (status, body) = json_of(app.get_as("/api/users/", &access).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "same token, next request: {body}"
    );
    assert_eq!(
        app.me(&access).await.status(),
        StatusCode::OK,
        "the token itself is still valid"
    );

    let response = app
        .patch_as(
            &path,
            &admin,
            &json!({"user_permissions": ["auth.view_user"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.get_as("/api/users/", &access).await.status(),
        StatusCode::OK,
        "a grant also takes effect on the next request"
    );
}

#[actix_web::test]
async fn removing_a_user_from_a_group_refuses_the_next_request_that_needs_its_permission() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let reader = app.create_user("reader");
    let readers = app.create_group("readers", &["auth.view_user"]);
    app.add_to_group(reader, readers);
    let access = app.access_for("reader").await;
    assert_eq!(
        app.get_as("/api/users/", &access).await.status(),
        StatusCode::OK
    );
    let response = app
        .patch_as(
            &format!("/api/users/{reader}/"),
            &admin,
            &json!({"groups": []}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.get_as("/api/users/", &access).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn demoting_a_superuser_takes_their_rights_away_on_their_next_request() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let other = app.create_superuser("other");
    let access = app.access_for("other").await;
    assert_eq!(
        app.get_as("/api/users/", &access).await.status(),
        StatusCode::OK
    );
    let response = app
        .patch_as(
            &format!("/api/users/{other}/"),
            &admin,
            &json!({"is_superuser": false}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = json_of(app.get_as("/api/users/", &access).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, me) = json_of(app.me(&access).await).await;
    assert_eq!(me["is_superuser"], false);
}
