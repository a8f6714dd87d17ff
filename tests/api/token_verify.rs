//! `POST /api/token/verify/`: any kind of token, checked for signature, times, id and the
//! blacklist (keyward always consults it and answers 401, unlike simplejwt's 400), and its user
//! as a protected route checks them (unlike simplejwt, which never looks at the user).

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_post_only, assert_token_not_valid, assert_unauthorized, json_of, spawn_app,
    spawn_app_with,
};
use crate::tokens::{SIGNING_KEY, keyward_claims, sign, sign_valid, unsigned, with_signing_key};

const VERIFY: &str = "/api/token/verify/";

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().map(|o| o.remove(key));
    claims
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if let Some(o) = claims.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
    claims
}

/// `header.payload.signature` with the payload swapped for `claims`.
fn with_payload(token: &str, claims: &Value) -> String {
    use base64::Engine as _;
    let parts: Vec<&str> = token.split('.').collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[actix_web::test]
async fn valid_access_and_refresh_tokens_verify_to_an_empty_object() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for (token, kind) in [(access, "access"), (refresh, "refresh")] {
        let (status, body) = app.verify(&token).await;
        assert_eq!((status, body), (StatusCode::OK, json!({})), "{kind}");
    }
}

#[actix_web::test]
async fn a_token_keyward_would_sign_verifies() {
    // The control for the forgeries below: the same key, algorithm and claims do verify.
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let token = sign_valid(&keyward_claims("access", id, app.now(), 300));
    let (status, body) = app.verify(&token).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
}

#[actix_web::test]
async fn forged_and_malformed_tokens_are_refused_with_simplejwts_messages() {
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let now = app.now();
    let good = keyward_claims("access", id, now, 300);
    let genuine = sign_valid(&good);
    let other_key = "a-different-key-of-enough-length-0123456789".as_bytes();
    let long_key = [SIGNING_KEY.as_bytes(), SIGNING_KEY.as_bytes()].concat();
    let cases = [
        (
            with_payload(&genuine, &with(good.clone(), "user_id", json!("999"))),
            "Token is invalid",
            "payload changed after signing",
        ),
        (
            with_payload(&genuine, &keyward_claims("access", id, now, 300)),
            "Token is invalid",
            "signature of another token",
        ),
        (
            sign(Algorithm::HS256, other_key, &good),
            "Token is invalid",
            "signed with another key",
        ),
        (
            sign(Algorithm::HS512, SIGNING_KEY.as_bytes(), &good),
            "Token is invalid",
            "HS512 with the same key",
        ),
        (
            sign(Algorithm::HS512, &long_key, &good),
            "Token is invalid",
            "HS512 with a longer key",
        ),
        (unsigned(&good), "Token is invalid", "alg none"),
        (
            sign_valid(&without(good.clone(), "jti")),
            "Token has no id",
            "no jti",
        ),
        (
            sign_valid(&with(good.clone(), "jti", json!(""))),
            "Token has no id",
            "an empty jti",
        ),
        (
            sign_valid(&with(good.clone(), "jti", json!(12345))),
            "Token is invalid",
            "a numeric jti",
        ),
        (
            sign_valid(&without(good.clone(), "exp")),
            "Token has no 'exp' claim",
            "no exp",
        ),
        (
            sign_valid(&with(good.clone(), "exp", json!(now - 1))),
            "Token is expired",
            "exp in the past",
        ),
        (
            sign_valid(&with(good.clone(), "exp", json!("tomorrow"))),
            "Token is invalid",
            "exp not a number",
        ),
        (
            sign_valid(&with(good.clone(), "iat", json!(now + 3600))),
            "Token is invalid",
            "iat in the future",
        ),
        (
            sign_valid(&with(good.clone(), "nbf", json!(now + 3600))),
            "Token is invalid",
            "nbf in the future",
        ),
        (
            sign_valid(&with(good.clone(), "sub", json!(1))),
            "Token is invalid",
            "a numeric sub",
        ),
        ("not-a-token".to_owned(), "Token is invalid", "no dots"),
        (format!("{genuine}.extra"), "Token is invalid", "four parts"),
    ];
    for (token, detail, case) in cases {
        assert_token_not_valid(app.post_token(VERIFY, "token", &token).await, detail, case).await;
    }
}

#[actix_web::test]
async fn a_validly_signed_refresh_token_without_jti_is_a_401_not_a_500() {
    // simplejwt checks the blacklist before the id and answers 500 (KeyError) here.
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let token = sign_valid(&without(
        keyward_claims("refresh", id, app.now(), 3600),
        "jti",
    ));
    for (path, field) in [
        (VERIFY, "token"),
        ("/api/token/refresh/", "refresh"),
        ("/api/token/blacklist/", "refresh"),
    ] {
        assert_token_not_valid(
            app.post_token(path, field, &token).await,
            "Token has no id",
            path,
        )
        .await;
    }
}

#[actix_web::test]
async fn audience_and_issuer_are_checked_when_configured() {
    let app = spawn_app_with(|s| {
        with_signing_key(s);
        s.audience = Some("api".into());
        s.issuer = Some("keyward".into());
    })
    .await;
    let id = app.create_user("alice");
    let base = keyward_claims("access", id, app.now(), 300);
    let good = with(
        with(base.clone(), "aud", json!("api")),
        "iss",
        json!("keyward"),
    );
    let (status, body) = app.verify(&sign_valid(&good)).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({})),
        "the control verifies"
    );
    let (status, body) = app
        .verify(&sign_valid(&with(
            good.clone(),
            "aud",
            json!(["other", "api"]),
        )))
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({})),
        "aud as a list naming us"
    );

    let cases = [
        (without(good.clone(), "aud"), "no aud"),
        (with(good.clone(), "aud", json!("other")), "another aud"),
        (
            with(good.clone(), "aud", json!(["other"])),
            "a list without our aud",
        ),
        (without(good.clone(), "iss"), "no iss"),
        (
            with(good.clone(), "iss", json!("someone-else")),
            "another iss",
        ),
    ];
    for (claims, case) in cases {
        let response = app.post_token(VERIFY, "token", &sign_valid(&claims)).await;
        assert_token_not_valid(response, "Token is invalid", case).await;
    }
}

#[actix_web::test]
async fn a_logged_out_refresh_token_no_longer_verifies() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = app.post_token(VERIFY, "token", &refresh).await;
    assert_token_not_valid(response, "Token is blacklisted", "after logout").await;
}

#[actix_web::test]
async fn a_rotated_away_refresh_token_no_longer_verifies() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = app.post_token(VERIFY, "token", &refresh).await;
    assert_token_not_valid(response, "Token is blacklisted", "after rotation").await;
}

#[actix_web::test]
async fn an_access_token_no_longer_verifies_once_its_session_logged_out() {
    // Unlike simplejwt, a logout ends the session, and its access tokens with it.
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let (status, _) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.verify(&access).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        )
    );
}

#[actix_web::test]
async fn a_bad_token_field_is_a_400() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "This field is required.", "missing"),
        (
            json!({"refresh": "a.b.c"}),
            "This field is required.",
            "another field name",
        ),
        (
            json!({"token": ""}),
            "This field may not be blank.",
            "blank",
        ),
        (
            json!({"token": null}),
            "This field may not be null.",
            "null",
        ),
        (
            json!({"token": {"jwt": "a.b.c"}}),
            "Not a valid string.",
            "an object",
        ),
    ];
    for (request, message, case) in cases {
        let (status, body) = json_of(app.post_json(VERIFY, &request).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, json!({"token": [message]}), "{case}");
    }
}

#[actix_web::test]
async fn a_blacklisted_token_that_also_expired_is_reported_as_expired() {
    // simplejwt's order: the expiry is checked before the blacklist.
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, _) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::OK);
    app.clock
        .advance(std::time::Duration::from_secs(86_400 + 1));
    let response = app.post_token(VERIFY, "token", &refresh).await;
    assert_token_not_valid(response, "Token is expired", "blacklisted and expired").await;
}

#[actix_web::test]
async fn verify_is_post_only_and_describes_its_field() {
    let app = spawn_app().await;
    assert_post_only(&app, VERIFY, "Token Verify", &[("token", "Token")]).await;
}

#[actix_web::test]
async fn a_token_verifies_only_while_its_user_would_be_accepted_by_a_protected_route() {
    // Verify answers "would this token be accepted?": after a deactivation, a deletion or a
    // password change through the API it says no, with a protected route's 401 bodies.
    let app = spawn_app().await;
    app.create_superuser("root");
    let admin = app.access_for("root").await;
    let inactive = json!({"detail": "User is inactive", "code": "user_inactive"});
    let deleted = json!({"detail": "User not found", "code": "user_not_found"});
    let changed = json!({
        "detail": "The user's password has been changed.",
        "code": "password_changed",
    });
    // (username, what the admin does, what verify and a protected route answer after it)
    let cases: [(&str, Value, &Value); 3] = [
        ("deactivated", json!({"is_active": false}), &inactive),
        ("deleted", Value::Null, &deleted),
        (
            "repassworded",
            json!({"password": "orchard-lantern-58"}),
            &changed,
        ),
    ];
    for (case, patch, expected) in cases {
        let id = app.create_user(case);
        let (refresh, access) = app.login(case, PASSWORD).await;
        for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
            let (status, body) = app.verify(token).await;
            assert_eq!(
                (status, body),
                (StatusCode::OK, json!({})),
                "{case}: {kind} before"
            );
        }
        let path = format!("/api/users/{id}/");
        let response = if patch.is_null() {
            app.delete_as(&path, &admin).await
        } else {
            app.patch_as(&path, &admin, &patch).await
        };
        assert!(
            response.status().is_success(),
            "{case}: {}",
            response.status()
        );

        let refused = app.post_token(VERIFY, "token", &access).await;
        assert_unauthorized(refused, expected, &format!("{case}: access token")).await;
        let protected = app.me(&access).await;
        assert_unauthorized(
            protected,
            expected,
            &format!("{case}: the same on /api/me/"),
        )
        .await;
        // The refresh token was blacklisted with the change, which verify reports first.
        let refused = app.post_token(VERIFY, "token", &refresh).await;
        assert_token_not_valid(refused, "Token is blacklisted", &format!("{case}: refresh")).await;
    }
}

#[actix_web::test]
async fn a_refresh_token_whose_user_changed_behind_the_blacklist_is_refused_by_verify() {
    // A refresh token that is not blacklisted still has its user checked: minted here for
    // users made inactive, deleted or re-stamped straight in the database (no login, so the
    // server's user cache has never seen them).
    let app = spawn_app_with(with_signing_key).await;
    let now = app.now();
    let inactive = app.create_inactive_user("sleepy");
    let gone = app.create_user("gone");
    app.delete_user(gone);
    let alice = app.create_user("alice");
    let mut stale = keyward_claims("refresh", alice, now, 3600);
    stale["stamp"] = json!("stamp-before-the-password-change");
    let cases = [
        (
            keyward_claims("refresh", inactive, now, 3600),
            json!({"detail": "User is inactive", "code": "user_inactive"}),
            "inactive user",
        ),
        (
            keyward_claims("refresh", gone, now, 3600),
            json!({"detail": "User not found", "code": "user_not_found"}),
            "deleted user",
        ),
        (
            stale,
            json!({"detail": "The user's password has been changed.", "code": "password_changed"}),
            "stale stamp",
        ),
        (
            without(keyward_claims("refresh", alice, now, 3600), "user_id"),
            json!({
                "detail": "Token contained no recognizable user identification",
                "code": "token_not_valid",
            }),
            "no user_id",
        ),
    ];
    for (claims, expected, case) in cases {
        let response = app.post_token(VERIFY, "token", &sign_valid(&claims)).await;
        assert_unauthorized(response, &expected, case).await;
    }
    let control = sign_valid(&keyward_claims("refresh", alice, now, 3600));
    let (status, body) = app.verify(&control).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})), "the control");
    assert_eq!(app.token_counts(), (0, 0), "verify writes nothing");
}
