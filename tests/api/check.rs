//! `GET /api/auth/check?permission=...`: forward auth for proxies and other services.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app};

const DENIED: &str = "You do not have permission to perform this action.";

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A user holding `auth.view_user` directly and `auth.view_group` through a group.
async fn holder(app: &TestApp) -> (i64, String) {
    let id = app.create_user("holder");
    app.grant(id, &["auth.view_user"]);
    let group = app.create_group("viewers", &["auth.view_group"]);
    app.add_to_group(id, group);
    (id, app.access_for("holder").await)
}

#[actix_web::test]
async fn check_answers_200_with_the_user_in_body_and_headers_when_every_permission_is_held() {
    let app = spawn_app().await;
    let (id, access) = holder(&app).await;
    let response = app
        .get_as(
            "/api/auth/check?permission=auth.view_user&permission=auth.view_group",
            &access,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "x-keyward-user").as_deref(),
        Some("holder")
    );
    assert_eq!(header(&response, "x-keyward-user-id"), Some(id.to_string()));
    let (_, body) = json_of(response).await;
    assert_eq!(
        body,
        json!({
            "user_id": id.to_string(),
            "username": "holder",
            "granted": ["auth.view_group", "auth.view_user"],
        }),
        "direct and inherited permissions both count; each named once, sorted"
    );

    let (status, body) = json_of(
        app.get_as(
            "/api/auth/check?permission=auth.view_user&permission=auth.view_user",
            &access,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["granted"],
        json!(["auth.view_user"]),
        "a repeat is one"
    );
}

#[actix_web::test]
async fn check_answers_403_naming_exactly_the_missing_permissions() {
    let app = spawn_app().await;
    let (_, access) = holder(&app).await;
    let cases: [(&str, &[&str], &str); 3] = [
        (
            "permission=auth.view_user&permission=auth.delete_user",
            &["auth.delete_user"],
            "one of two missing",
        ),
        (
            "permission=reports.view&permission=auth.view_group&permission=auth.add_user",
            &["auth.add_user", "reports.view"],
            "two of three missing, sorted",
        ),
        (
            "permission=no.such",
            &["no.such"],
            "a permission that does not exist",
        ),
    ];
    for (query, missing, case) in cases {
        let response = app
            .get_as(&format!("/api/auth/check?{query}"), &access)
            .await;
        assert_eq!(
            header(&response, "x-keyward-user"),
            None,
            "{case}: no identity on a refusal"
        );
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {body}");
        assert_eq!(
            body,
            json!({"detail": DENIED, "code": "permission_denied", "missing": missing}),
            "{case}"
        );
    }
}

#[actix_web::test]
async fn check_without_a_valid_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let cases = [
        (
            None,
            "Authentication credentials were not provided.",
            "no header",
        ),
        (
            Some("Bearer not-a-token".to_owned()),
            "Given token not valid for any token type",
            "garbage",
        ),
        (
            Some(format!("Bearer {refresh}")),
            "Given token not valid for any token type",
            "a refresh token",
        ),
    ];
    for (authorization, detail, case) in cases {
        let response = app
            .get(
                "/api/auth/check?permission=auth.view_user",
                authorization.as_deref(),
            )
            .await;
        assert_eq!(
            header(&response, "www-authenticate").as_deref(),
            Some("Bearer realm=\"api\""),
            "{case}"
        );
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(body["detail"], detail, "{case}");
    }
}

#[actix_web::test]
async fn a_superuser_passes_any_permission_check() {
    let app = spawn_app().await;
    let id = app.create_superuser("root");
    let access = app.access_for("root").await;
    let (status, body) = json_of(
        app.get_as(
            "/api/auth/check?permission=auth.delete_user&permission=made.up",
            &access,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"user_id": id.to_string(), "username": "root", "granted": ["auth.delete_user", "made.up"]})
    );
}

#[actix_web::test]
async fn check_without_a_permission_parameter_passes_any_authenticated_user() {
    let app = spawn_app().await;
    let id = app.create_user("plain");
    let access = app.access_for("plain").await;
    for path in ["/api/auth/check", "/api/auth/check?other=x"] {
        let response = app.get_as(path, &access).await;
        assert_eq!(
            header(&response, "x-keyward-user-id"),
            Some(id.to_string()),
            "{path}"
        );
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            body,
            json!({"user_id": id.to_string(), "username": "plain", "granted": []}),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn check_answers_head_requests_with_the_same_status_and_headers() {
    let app = spawn_app().await;
    let (id, access) = holder(&app).await;
    let cases = [
        ("permission=auth.view_user", StatusCode::OK),
        ("permission=auth.delete_user", StatusCode::FORBIDDEN),
    ];
    for (query, expected) in cases {
        let response = app
            .request_as(
                Method::HEAD,
                &format!("/api/auth/check?{query}"),
                Some(&access),
                None,
            )
            .await;
        assert_eq!(response.status(), expected, "{query}");
        if expected == StatusCode::OK {
            assert_eq!(header(&response, "x-keyward-user-id"), Some(id.to_string()));
        }
    }
    let response = app
        .request_as(Method::HEAD, "/api/auth/check", None, None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn check_refuses_an_inactive_user_and_a_user_whose_rights_were_revoked() {
    let app = spawn_app().await;
    let (id, access) = holder(&app).await;
    app.create_superuser("root");
    let admin = app.access_for("root").await;
    let path = format!("/api/users/{id}/");
    let response = app
        .patch_as(&path, &admin, &json!({"user_permissions": []}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = json_of(
        app.get_as("/api/auth/check?permission=auth.view_user", &access)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["missing"], json!(["auth.view_user"]));

    let response = app
        .patch_as(&path, &admin, &json!({"is_active": false}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = json_of(app.get_as("/api/auth/check", &access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "User is inactive", "code": "user_inactive"})
    );
}

#[actix_web::test]
async fn check_names_a_user_with_a_non_ascii_username_in_its_headers() {
    let app = spawn_app().await;
    let id = app.create_user("jürgen");
    let access = app.access_for("jürgen").await;
    let response = app.get_as("/api/auth/check", &access).await;
    let raw = response
        .headers()
        .get("x-keyward-user")
        .map(|v| v.as_bytes().to_vec());
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "jürgen");
    assert_eq!(body["user_id"], id.to_string());
    assert_eq!(
        raw.as_deref(),
        Some("jürgen".as_bytes()),
        "the header carries the name as UTF-8"
    );
}
