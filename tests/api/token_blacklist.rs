//! `POST /api/token/blacklist/` (logout): the refresh token stops working.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    PASSWORD, assert_post_only, assert_token_not_valid, json_of, spawn_app, spawn_app_with,
};
use crate::tokens::{keyward_claims, sign_valid, with_signing_key};

const BLACKLIST: &str = "/api/token/blacklist/";

#[actix_web::test]
async fn logout_answers_an_empty_object_and_the_refresh_token_stops_refreshing() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.logout(&refresh).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(
        app.token_counts(),
        (1, 1),
        "the login's token is blacklisted"
    );
    let response = app
        .post_token("/api/token/refresh/", "refresh", &refresh)
        .await;
    assert_token_not_valid(response, "Token is blacklisted", "refresh after logout").await;
}

#[actix_web::test]
async fn a_second_logout_of_the_same_token_is_refused_as_blacklisted() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, _) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::OK);
    let response = app.post_token(BLACKLIST, "refresh", &refresh).await;
    assert_token_not_valid(response, "Token is blacklisted", "second logout").await;
    assert_eq!(app.token_counts(), (1, 1));
}

#[actix_web::test]
async fn logout_refuses_tokens_that_are_not_valid_refresh_tokens() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let cases = [
        (access, "Token has wrong type", "an access token"),
        ("garbage".to_owned(), "Token is invalid", "garbage"),
        (
            format!("{refresh}x"),
            "Token is invalid",
            "a refresh token with a byte appended",
        ),
    ];
    for (token, detail, case) in cases {
        assert_token_not_valid(
            app.post_token(BLACKLIST, "refresh", &token).await,
            detail,
            case,
        )
        .await;
    }
    assert_eq!(app.token_counts(), (1, 0), "nothing was blacklisted");
}

#[actix_web::test]
async fn logout_refuses_an_expired_refresh_token() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(86_400 + 1));
    let response = app.post_token(BLACKLIST, "refresh", &refresh).await;
    assert_token_not_valid(response, "Token is expired", "a day after login").await;
    assert_eq!(app.token_counts(), (1, 0));
}

#[actix_web::test]
async fn logout_records_a_valid_refresh_token_it_has_never_seen() {
    // simplejwt's blacklist() creates the OutstandingToken when it is absent (a token issued
    // before the blacklist app was installed, or by another instance).
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let token = sign_valid(&keyward_claims("refresh", id, app.now(), 3600));
    assert_eq!(app.token_counts(), (0, 0));
    let (status, body) = app.logout(&token).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(app.token_counts(), (1, 1));
    let response = app
        .post_token("/api/token/refresh/", "refresh", &token)
        .await;
    assert_token_not_valid(response, "Token is blacklisted", "refresh after logout").await;
}

#[actix_web::test]
async fn logout_refuses_the_sessions_access_token_at_once_everywhere() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let (status, _) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "me: {body}");
    assert_eq!(body["messages"][0]["message"], "Token is blacklisted");
    let (status, body) = json_of(app.get_as("/api/auth/check", &access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "check: {body}");
    let (status, body) = app.verify(&access).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        ),
        "verify"
    );
}

#[actix_web::test]
async fn logout_of_one_session_leaves_another_session_refreshable() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (phone, _) = app.login("alice", PASSWORD).await;
    let (laptop, laptop_access) = app.login("alice", PASSWORD).await;
    let (status, _) = app.logout(&phone).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_of(app.me(&laptop_access).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the other session's access token on me: {body}"
    );
    let response = app.get_as("/api/auth/check", &laptop_access).await;
    assert_eq!(response.status(), StatusCode::OK, "on check");
    let (status, body) = app.verify(&laptop_access).await;
    assert_eq!(status, StatusCode::OK, "on verify: {body}");
    let (status, body) = app.refresh(&laptop).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_web::test]
async fn a_bad_refresh_field_is_a_400() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "This field is required.", "missing"),
        (
            json!({"token": "a.b.c"}),
            "This field is required.",
            "another field name",
        ),
        (
            json!({"refresh": " "}),
            "This field may not be blank.",
            "blank",
        ),
        (
            json!({"refresh": null}),
            "This field may not be null.",
            "null",
        ),
        (json!({"refresh": true}), "Not a valid string.", "a bool"),
    ];
    for (request, message, case) in cases {
        let (status, body) = json_of(app.post_json(BLACKLIST, &request).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, json!({"refresh": [message]}), "{case}");
    }
}

#[actix_web::test]
async fn concurrent_logouts_of_one_token_have_exactly_one_success() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let answers = join_all((0..8).map(|_| app.logout(&refresh))).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "exactly one logout succeeds: {statuses:?}");
    let blacklisted = json!({"detail": "Token is blacklisted", "code": "token_not_valid"});
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!((*status, body), (StatusCode::UNAUTHORIZED, &blacklisted));
    }
    assert_eq!(app.token_counts(), (1, 1));
}

#[actix_web::test]
async fn a_logout_racing_refreshes_leaves_no_usable_descendant_of_a_refused_use() {
    // Logout and refresh of one token at once: either the logout wins (every refresh is
    // refused) or one refresh wins (and the logout is refused as blacklisted). Never both.
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let logout = app.logout(&refresh);
    let refreshes = join_all((0..4).map(|_| app.refresh(&refresh)));
    let ((logout_status, logout_body), refreshed) =
        futures_util::future::join(logout, refreshes).await;
    let winners = refreshed
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    let logged_out = logout_status == StatusCode::OK;
    assert_eq!(
        winners + usize::from(logged_out),
        1,
        "exactly one use of the token succeeds: logout {logout_status} {logout_body}, refreshes {:?}",
        refreshed
            .iter()
            .map(|(s, _)| s.as_u16())
            .collect::<Vec<_>>()
    );
    let (outstanding, blacklisted) = app.token_counts();
    assert_eq!(outstanding, 1 + winners as i64);
    assert_eq!(
        blacklisted, outstanding,
        "every token of the session is blacklisted: the logout ended it, or a refused refresh \
         reused the rotated token and ended it"
    );
}

#[actix_web::test]
async fn blacklist_is_post_only_and_describes_its_field() {
    let app = spawn_app().await;
    assert_post_only(
        &app,
        BLACKLIST,
        "Token Blacklist",
        &[("refresh", "Refresh")],
    )
    .await;
}
