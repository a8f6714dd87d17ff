//! Sliding tokens (`sliding_tokens = true`): one token that authenticates and renews itself
//! until its fixed `refresh_exp`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, assert_post_only, assert_token_not_valid, assert_unauthorized, json_of,
    spawn_app, spawn_app_with,
};
use crate::tokens::{claims_of, keyward_claims, sign_valid, with_signing_key};

const OBTAIN: &str = "/api/token/sliding/";
const REFRESH: &str = "/api/token/sliding/refresh/";

async fn sliding_app() -> TestApp {
    spawn_app_with(|s| s.sliding_tokens = true).await
}

async fn obtain(app: &TestApp) -> String {
    let (status, body) = json_of(
        app.post_json(OBTAIN, &json!({"username": "alice", "password": PASSWORD}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "sliding login: {body}");
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["token"], "only a token is returned");
    body["token"].as_str().unwrap_or_default().to_owned()
}

async fn slide(app: &TestApp, token: &str) -> (StatusCode, Value) {
    json_of(app.post_token(REFRESH, "token", token).await).await
}

fn int(claims: &Value, key: &str) -> i64 {
    claims[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {key} in {claims}"))
}

#[actix_web::test]
async fn sliding_login_returns_one_sliding_token_with_both_deadlines() {
    let app = sliding_app().await;
    let id = app.create_user("alice");
    let token = obtain(&app).await;
    let claims = claims_of(&token);
    assert_eq!(claims["token_type"], "sliding");
    assert_eq!(claims["user_id"], json!(id.to_string()));
    assert_eq!(int(&claims, "exp") - int(&claims, "iat"), 300);
    assert_eq!(int(&claims, "refresh_exp") - int(&claims, "iat"), 86_400);
    assert_eq!(
        app.token_counts(),
        (1, 0),
        "the sliding token is outstanding"
    );
}

#[actix_web::test]
async fn a_sliding_token_authenticates_protected_routes() {
    let app = sliding_app().await;
    app.create_user("alice");
    let token = obtain(&app).await;
    let (status, body) = json_of(app.me(&token).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "alice");
}

#[actix_web::test]
async fn sliding_refresh_keeps_the_id_and_refresh_deadline_and_moves_exp() {
    let app = sliding_app().await;
    app.create_user("alice");
    let token = obtain(&app).await;
    app.clock.advance(Duration::from_secs(120));
    let (status, body) = slide(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["token"]);

    let (old, new) = (
        claims_of(&token),
        claims_of(body["token"].as_str().unwrap_or_default()),
    );
    assert_eq!(new["token_type"], "sliding");
    assert_eq!(new["jti"], old["jti"], "same id");
    assert_eq!(
        new["refresh_exp"], old["refresh_exp"],
        "same refresh deadline"
    );
    assert_eq!(new["user_id"], old["user_id"]);
    assert!(
        int(&new, "exp") >= int(&old, "exp") + 120,
        "exp moved with the clock"
    );
    assert_eq!(
        int(&new, "exp") - int(&new, "iat"),
        300,
        "a full sliding lifetime"
    );
    let (status, _) = json_of(app.me(body["token"].as_str().unwrap_or_default()).await).await;
    assert_eq!(status, StatusCode::OK, "the renewed token authenticates");
}

#[actix_web::test]
async fn a_renewed_token_outlives_the_original_but_not_its_refresh_deadline() {
    // Renew within exp, then step past refresh_exp while the renewed exp still holds: the
    // renewal is refused on refresh_exp, not on exp.
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        s.sliding_token_lifetime = Duration::from_secs(10 * 60);
        s.sliding_token_refresh_lifetime = Duration::from_secs(15 * 60);
    })
    .await;
    app.create_user("alice");
    let token = obtain(&app).await;
    app.clock.advance(Duration::from_secs(8 * 60));
    let (status, body) = slide(&app, &token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "renewed inside both deadlines: {body}"
    );
    let renewed = body["token"].as_str().unwrap_or_default().to_owned();

    app.clock.advance(Duration::from_secs(8 * 60));
    let response = app.post_token(REFRESH, "token", &renewed).await;
    assert_token_not_valid(
        response,
        "Token 'refresh_exp' claim has expired",
        "16 minutes after login",
    )
    .await;
    let (status, _) = json_of(app.me(&renewed).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "until its exp the renewed token still authenticates, as in simplejwt"
    );
}

#[actix_web::test]
async fn past_the_refresh_lifetime_an_unrenewed_token_is_simply_expired() {
    // With the default lifetimes exp (5 min) passes long before refresh_exp (1 day), and
    // decoding reports it first.
    let app = sliding_app().await;
    app.create_user("alice");
    let token = obtain(&app).await;
    app.clock.advance(Duration::from_secs(86_400 + 1));
    let response = app.post_token(REFRESH, "token", &token).await;
    assert_token_not_valid(response, "Token is expired", "a day after login").await;
}

#[actix_web::test]
async fn sliding_and_pair_tokens_are_not_interchangeable() {
    let app = sliding_app().await;
    app.create_user("alice");
    let sliding = obtain(&app).await;
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let cases = [
        (REFRESH, "token", refresh.clone(), "a refresh token slid"),
        (REFRESH, "token", access, "an access token slid"),
        (
            "/api/token/refresh/",
            "refresh",
            sliding.clone(),
            "a sliding token refreshed",
        ),
        (
            "/api/token/blacklist/",
            "refresh",
            sliding,
            "a sliding token logged out",
        ),
    ];
    for (path, field, token, case) in cases {
        assert_token_not_valid(
            app.post_token(path, field, &token).await,
            "Token has wrong type",
            case,
        )
        .await;
    }
}

#[actix_web::test]
async fn sliding_endpoints_check_their_fields_and_credentials() {
    let app = sliding_app().await;
    app.create_user("alice");
    let (status, body) = json_of(app.post_json(REFRESH, &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"token": ["This field is required."]}));

    let (status, body) = json_of(app.post_json(OBTAIN, &json!({"username": "alice"})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["This field is required."]}));

    let (status, body) = json_of(
        app.post_json(
            OBTAIN,
            &json!({"username": "alice", "password": "wrong-password-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "No active account found with the given credentials"})
    );
}

#[actix_web::test]
async fn without_sliding_tokens_the_sliding_paths_are_not_found() {
    let app = spawn_app().await;
    app.create_user("alice");
    for path in [
        OBTAIN,
        REFRESH,
        "/api/token/sliding",
        "/api/token/sliding/refresh",
    ] {
        let (status, body) = json_of(
            app.post_json(
                path,
                &json!({"username": "alice", "password": PASSWORD, "token": "x"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "Not found."}), "{path}");
        let (status, _) = json_of(app.send(Method::OPTIONS, path).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "OPTIONS {path}");
    }
}

#[actix_web::test]
async fn sliding_endpoints_are_post_only_and_describe_their_fields() {
    let app = sliding_app().await;
    let credentials = [("username", "Username"), ("password", "Password")];
    assert_post_only(&app, OBTAIN, "Token Obtain Sliding", &credentials).await;
    assert_post_only(
        &app,
        REFRESH,
        "Token Refresh Sliding",
        &[("token", "Token")],
    )
    .await;
}

/// A sliding token as keyward mints one, signed with the test key.
fn forged_sliding(user_id: i64, now: i64) -> String {
    let mut claims = keyward_claims("sliding", user_id, now, 300);
    claims["refresh_exp"] = json!(now + 86_400);
    sign_valid(&claims)
}

#[actix_web::test]
async fn sliding_refresh_refuses_a_token_whose_user_was_deleted_or_deactivated() {
    // Minted here rather than by logging in, which would cache the user (see token_refresh).
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        with_signing_key(s);
    })
    .await;
    let deleted = app.create_user("gone");
    let inactive = app.create_inactive_user("sleepy");
    app.delete_user(deleted);
    let control = app.create_user("alice");
    let now = app.now();
    let (status, body) = slide(&app, &forged_sliding(control, now)).await;
    assert_eq!(status, StatusCode::OK, "the control token slides: {body}");
    for (id, case) in [(deleted, "deleted user"), (inactive, "inactive user")] {
        assert_unauthorized(
            app.post_token(REFRESH, "token", &forged_sliding(id, now))
                .await,
            &json!({"detail": "No active account found for the given token."}),
            case,
        )
        .await;
    }
}

#[actix_web::test]
async fn a_sliding_token_without_refresh_exp_cannot_slide() {
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        with_signing_key(s);
    })
    .await;
    let id = app.create_user("alice");
    let token = sign_valid(&keyward_claims("sliding", id, app.now(), 300));
    let response = app.post_token(REFRESH, "token", &token).await;
    assert_token_not_valid(
        response,
        "Token has no 'refresh_exp' claim",
        "no refresh_exp",
    )
    .await;
}

#[actix_web::test]
async fn with_sliding_tokens_off_a_sliding_token_does_not_authenticate() {
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let token = forged_sliding(id, app.now());
    assert_unauthorized(
        app.me(&token).await,
        &json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"}],
        }),
        "sliding token, sliding off",
    )
    .await;
}

#[actix_web::test]
async fn sliding_refresh_refuses_a_validly_signed_token_without_a_user_id() {
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        with_signing_key(s);
    })
    .await;
    let id = app.create_user("alice");
    let now = app.now();
    let (status, body) = slide(&app, &forged_sliding(id, now)).await;
    assert_eq!(status, StatusCode::OK, "the same token with a user: {body}");
    let mut claims = keyward_claims("sliding", id, now, 300);
    claims["refresh_exp"] = json!(now + 86_400);
    claims.as_object_mut().map(|c| c.remove("user_id"));
    assert_unauthorized(
        app.post_token(REFRESH, "token", &sign_valid(&claims)).await,
        &json!({
            "detail": "Token contained no recognizable user identification",
            "code": "token_not_valid",
        }),
        "a sliding token without user_id",
    )
    .await;
}
