//! Tokens issued by Django (simplejwt) before the switch: `token_type`, `exp`, `iat`, `jti`
//! and `user_id`, no `sid`, no `stamp`, signed with the shared key as PyJWT writes them. They
//! are accepted under simplejwt's rules while they live, for users imported with the stamp
//! their Django project's `CHECK_REVOKE_TOKEN` calls for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use hmac::{KeyInit, Mac};
use keyward::auth::{UNSTAMPED, django_revoke_claim};
use keyward::db::schema::{blacklisted_tokens, outstanding_tokens};
use keyward::db::stored_time;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::django_passwords::{insert_with_hash, wait_for_rehash};
use crate::helpers::{TestApp, json_of, spawn_app_with};
use crate::tokens::{SIGNING_KEY, new_jti, with_signing_key};

/// A Django user's stored hash (pbkdf2_sha256, 1000 iterations) of this password.
const PASSWORD: &str = "tangerine-voyage-41";
const DJANGO_HASH: &str =
    "pbkdf2_sha256$1000$zkC3klVqz4vuo4dIshABMB$9EAvTDT9TBLJGuBoVpC1LR6wn9SS7OrWZ1QACpQ95Ro=";

/// A token as PyJWT signs simplejwt's payloads: compact JSON, header `alg` then `typ`.
fn django_token(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let message = format!("{header}.{payload}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SIGNING_KEY.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    mac.update(message.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{message}.{signature}")
}

/// simplejwt's claims for `user_id` (a string, as simplejwt 5.5.1 writes it).
fn django_claims(token_type: &str, user_id: i64, now: i64, lifetime: i64) -> Value {
    json!({
        "token_type": token_type,
        "exp": now + lifetime,
        "iat": now,
        "jti": new_jti(),
        "user_id": user_id.to_string(),
    })
}

async fn app() -> TestApp {
    spawn_app_with(with_signing_key).await
}

/// An imported user of a Django project that ran with `CHECK_REVOKE_TOKEN = False`.
fn imported(app: &TestApp, username: &str) -> i64 {
    insert_with_hash(app, username, DJANGO_HASH, UNSTAMPED)
}

#[actix_web::test]
async fn a_django_access_token_is_accepted_while_it_lives() {
    let app = app().await;
    let id = imported(&app, "alice");
    let now = app.now();
    for (claims, case) in [
        (django_claims("access", id, now, 300), "user id as a string"),
        (
            json!({"token_type": "access", "exp": now + 300, "iat": now, "jti": new_jti(), "user_id": id}),
            "user id as a number (simplejwt before 5.5.1)",
        ),
    ] {
        let token = django_token(&claims);
        let response = app.me(&token).await;
        assert_eq!(response.status(), StatusCode::OK, "{case}: protected route");
        let (status, body) = app.verify(&token).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({})),
            "{case}: verify"
        );
    }
    let expired = django_token(&django_claims("access", id, now - 600, 300));
    let (status, body) = json_of(app.me(&expired).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired: {body}");
    assert_eq!(body["messages"][0]["message"], "Token is expired", "{body}");
}

#[actix_web::test]
async fn only_a_token_without_the_stamp_claim_matches_the_imported_empty_stamp() {
    let app = app().await;
    let id = app.create_user("bob");
    let token = django_token(&django_claims("access", id, app.now(), 300));
    let (status, body) = json_of(app.me(&token).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed.", "code": "password_changed"})
    );

    let alice = imported(&app, "alice");
    for (stamp, case) in [
        (json!(null), "null"),
        (json!(0), "a number"),
        (json!("x"), "another"),
    ] {
        let mut claims = django_claims("access", alice, app.now(), 300);
        claims["stamp"] = stamp;
        let (status, body) = json_of(app.me(&django_token(&claims)).await).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{case} stamp claim: {body}"
        );
        assert_eq!(body["code"], "password_changed", "{case} stamp claim");
    }
}

#[actix_web::test]
async fn a_django_refresh_token_refreshes_and_rotates_into_a_keyward_token() {
    let app = app().await;
    let id = imported(&app, "alice");
    let refresh = django_token(&django_claims("refresh", id, app.now(), 86_400));
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access"].as_str().unwrap_or_default();
    let next = body["refresh"].as_str().unwrap_or_default();
    assert_eq!(
        app.me(access).await.status(),
        StatusCode::OK,
        "the new access token"
    );

    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "spent by rotation: {body}"
    );
    assert_eq!(body["detail"], "Token is blacklisted", "{body}");
    let (status, body) = app.refresh(next).await;
    assert_eq!(status, StatusCode::OK, "the successor refreshes: {body}");
}

#[actix_web::test]
async fn a_django_refresh_token_can_be_blacklisted_and_is_then_refused() {
    let app = app().await;
    let id = imported(&app, "alice");
    let refresh = django_token(&django_claims("refresh", id, app.now(), 86_400));
    let (status, body) = app.logout(&refresh).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})), "blacklist");
    for (status, body) in [app.refresh(&refresh).await, app.verify(&refresh).await] {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(
            body,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        );
    }
    let (status, _) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "twice");
}

#[actix_web::test]
async fn a_refresh_token_blacklisted_in_django_is_refused() {
    let app = app().await;
    let id = imported(&app, "alice");
    let now = app.now();
    let claims = django_claims("refresh", id, now, 86_400);
    let refresh = django_token(&claims);
    // What the import writes for simplejwt's OutstandingToken and BlacklistedToken rows.
    let at = |epoch: i64| {
        stored_time(OffsetDateTime::from_unix_timestamp(epoch).unwrap_or_else(|e| panic!("{e}")))
    };
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => {
            let token_id: i64 = diesel::insert_into(outstanding_tokens::table)
                .values((
                    outstanding_tokens::user_id.eq(Some(id)),
                    outstanding_tokens::jti.eq(claims["jti"].as_str().unwrap_or_default()),
                    outstanding_tokens::token_digest.eq(keyward::db::models::token::digest(&refresh)),
                    outstanding_tokens::created_at.eq(at(now)),
                    outstanding_tokens::expires_at.eq(at(now + 86_400)),
                ))
                .returning(outstanding_tokens::id)
                .get_result(c)?;
            diesel::insert_into(blacklisted_tokens::table)
                .values((
                    blacklisted_tokens::token_id.eq(token_id),
                    blacklisted_tokens::blacklisted_at.eq(at(now)),
                    blacklisted_tokens::rotated.eq(false),
                ))
                .execute(c)
        })
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["detail"], "Token is blacklisted", "{body}");
}

#[actix_web::test]
async fn django_tokens_outlive_the_rehash_but_not_a_password_change() {
    let app = app().await;
    let id = imported(&app, "alice");
    let django_access = django_token(&django_claims("access", id, app.now(), 300));
    let (_, access) = app.login("alice", PASSWORD).await;
    wait_for_rehash(&app, id, "pbkdf2").await;
    assert_eq!(
        app.me(&django_access).await.status(),
        StatusCode::OK,
        "the rehash keeps the stamp, so Django's token stays valid"
    );

    let (status, body) = json_of(
        app.post_as(
            "/api/me/password/",
            &access,
            &json!({"current_password": PASSWORD, "new_password": "a-whole-new-passphrase-7"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "password change: {body}");
    let (status, body) = json_of(app.me(&django_access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "password_changed", "{body}");
}

#[actix_web::test]
async fn with_check_revoke_token_djangos_hash_claim_is_the_stamp() {
    let app = spawn_app_with(|s| {
        with_signing_key(s);
        s.revoke_token_claim = "hash_password".into();
    })
    .await;
    let id = insert_with_hash(
        &app,
        "alice",
        DJANGO_HASH,
        &django_revoke_claim(DJANGO_HASH),
    );
    let now = app.now();
    let mut claims = django_claims("access", id, now, 300);
    claims["hash_password"] = json!(django_revoke_claim(DJANGO_HASH));
    assert_eq!(
        app.me(&django_token(&claims)).await.status(),
        StatusCode::OK
    );

    claims["hash_password"] = json!(django_revoke_claim("pbkdf2_sha256$1000$old$hash"));
    let (status, body) = json_of(app.me(&django_token(&claims)).await).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a token from before a change: {body}"
    );
    assert_eq!(body["code"], "password_changed", "{body}");

    let mut refresh = django_claims("refresh", id, now, 86_400);
    let stale = django_token(&{
        refresh["hash_password"] = json!("0123");
        refresh.clone()
    });
    let (status, body) = app.refresh(&stale).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["detail"], "The user's password has been changed.",
        "{body}"
    );
}

#[actix_web::test]
async fn a_django_sliding_token_slides_and_can_be_used_where_sliding_tokens_are_accepted() {
    let app = spawn_app_with(|s| {
        with_signing_key(s);
        s.sliding_tokens = true;
    })
    .await;
    let id = imported(&app, "alice");
    let now = app.now();
    let jti = new_jti();
    let sliding = django_token(&json!({
        "token_type": "sliding",
        "exp": now + 300,
        "iat": now,
        "jti": jti,
        "refresh_exp": now + 86_400,
        "user_id": id.to_string(),
    }));
    assert_eq!(
        app.me(&sliding).await.status(),
        StatusCode::OK,
        "protected route"
    );
    let (status, body) = json_of(
        app.post_token("/api/token/sliding/refresh/", "token", &sliding)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = crate::tokens::claims_of(body["token"].as_str().unwrap_or_default());
    assert_eq!(renewed["jti"], jti.as_str(), "same id, as simplejwt slides");
    assert_eq!(
        renewed["refresh_exp"],
        now + 86_400,
        "same refresh deadline"
    );
}
