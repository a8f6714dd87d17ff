//! `POST /api/token/refresh/`: rotation, blacklisting of the used token, refusals, and one
//! winner among concurrent uses of a refresh token.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_post_only, assert_token_not_valid, assert_unauthorized, json_of, spawn_app,
    spawn_app_with,
};
use crate::tokens::{claims_of, keyward_claims, sign_valid, with_signing_key};

const REFRESH: &str = "/api/token/refresh/";

fn text(body: &Value, key: &str) -> String {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {body}"))
        .to_owned()
}

#[actix_web::test]
async fn refresh_rotates_by_default_returning_a_new_access_and_refresh_token() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["access", "refresh"]);

    let (access, next) = (text(&body, "access"), text(&body, "refresh"));
    let (old, new) = (claims_of(&refresh), claims_of(&next));
    assert_eq!(claims_of(&access)["token_type"], "access");
    assert_eq!(new["token_type"], "refresh");
    assert_ne!(new["jti"], old["jti"], "the rotated token has a new id");
    assert_eq!(new["user_id"], json!(id.to_string()));
    let (status, me) = json_of(app.me(&access).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the new access token authenticates: {me}"
    );
}

#[actix_web::test]
async fn a_rotated_away_refresh_token_is_refused_as_blacklisted() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.token_counts(),
        (2, 1),
        "both refresh tokens outstanding, the old one blacklisted"
    );

    let again = app.post_token(REFRESH, "refresh", &refresh).await;
    assert_token_not_valid(again, "Token is blacklisted", "reuse of the old refresh").await;
    assert_eq!(
        app.token_counts(),
        (2, 2),
        "a reuse ends the session: its newer token is blacklisted too"
    );

    let again = app
        .post_token(REFRESH, "refresh", &text(&body, "refresh"))
        .await;
    assert_token_not_valid(
        again,
        "Token is blacklisted",
        "the newer token after a reuse",
    )
    .await;
}

#[actix_web::test]
async fn without_rotation_only_an_access_token_is_returned_and_the_refresh_token_stays_usable() {
    let app = spawn_app_with(|s| s.rotate_refresh_tokens = false).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    for attempt in ["first", "second"] {
        let (status, body) = app.refresh(&refresh).await;
        assert_eq!(status, StatusCode::OK, "{attempt}: {body}");
        let keys: Vec<&String> = body
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["access"], "{attempt}");
        assert_eq!(claims_of(&text(&body, "access"))["token_type"], "access");
    }
    assert_eq!(
        app.token_counts(),
        (1, 0),
        "nothing rotated, nothing blacklisted"
    );
}

#[actix_web::test]
async fn rotation_without_blacklisting_keeps_the_old_refresh_token_usable() {
    let app = spawn_app_with(|s| s.blacklist_after_rotation = false).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    for attempt in ["first", "second"] {
        let (status, body) = app.refresh(&refresh).await;
        assert_eq!(status, StatusCode::OK, "{attempt}: {body}");
        assert!(body["refresh"].is_string(), "{attempt}: {body}");
    }
    assert_eq!(
        app.token_counts(),
        (3, 0),
        "each rotated token is outstanding"
    );
}

#[actix_web::test]
async fn refresh_refuses_tokens_that_are_not_valid_refresh_tokens() {
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let now = app.now();
    let mut untyped = keyward_claims("refresh", id, now, 3600);
    untyped.as_object_mut().map(|o| o.remove("token_type"));
    let cases = [
        (access, "Token has wrong type", "an access token"),
        (
            sign_valid(&keyward_claims("sliding", id, now, 3600)),
            "Token has wrong type",
            "a sliding token",
        ),
        (
            sign_valid(&untyped),
            "Token has no type",
            "a token without token_type",
        ),
        ("garbage".to_owned(), "Token is invalid", "garbage"),
        (
            "a.b.c".to_owned(),
            "Token is invalid",
            "three dots of nothing",
        ),
        (
            format!("{refresh}x"),
            "Token is invalid",
            "a refresh token with a byte appended",
        ),
    ];
    for (token, detail, case) in cases {
        assert_token_not_valid(
            app.post_token(REFRESH, "refresh", &token).await,
            detail,
            case,
        )
        .await;
    }
    assert_eq!(app.token_counts(), (1, 0), "no refused token was recorded");
}

#[actix_web::test]
async fn an_expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(86_400));
    let response = app.post_token(REFRESH, "refresh", &refresh).await;
    assert_token_not_valid(response, "Token is expired", "a day after login").await;
}

#[actix_web::test]
async fn a_refresh_token_just_before_its_expiry_still_refreshes() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(86_400 - 60));
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = claims_of(&text(&body, "refresh"));
    let exp = next["exp"].as_i64().unwrap_or_default();
    assert_eq!(
        exp - next["iat"].as_i64().unwrap_or_default(),
        86_400,
        "a rotated token gets a full lifetime, as simplejwt's"
    );
}

#[actix_web::test]
async fn refresh_refuses_a_token_whose_user_was_deleted_or_deactivated() {
    // The tokens are minted here rather than by logging in: a login would put the user in the
    // server's user cache, which by design trusts a user for `user_cache_ttl` after a write
    // made behind its back (these tests write straight to the database).
    let app = spawn_app_with(with_signing_key).await;
    let deleted = app.create_user("gone");
    let inactive = app.create_inactive_user("sleepy");
    app.delete_user(deleted);
    let now = app.now();
    let cases = [(deleted, "deleted user"), (inactive, "inactive user")];
    for (id, case) in cases {
        let token = sign_valid(&keyward_claims("refresh", id, now, 3600));
        assert_unauthorized(
            app.post_token(REFRESH, "refresh", &token).await,
            &json!({"detail": "No active account found for the given token."}),
            case,
        )
        .await;
    }
    assert_eq!(app.token_counts(), (0, 0), "nothing was rotated");
}

#[actix_web::test]
async fn an_inactive_user_may_refresh_when_check_user_is_active_is_off() {
    let app = spawn_app_with(|s| {
        with_signing_key(s);
        s.check_user_is_active = false;
    })
    .await;
    let id = app.create_inactive_user("sleepy");
    let token = sign_valid(&keyward_claims("refresh", id, app.now(), 3600));
    let (status, body) = app.refresh(&token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_web::test]
async fn refresh_copies_login_claims_into_the_new_tokens() {
    let app =
        spawn_app_with(|s| s.token_user_claims = vec!["username".into(), "is_staff".into()]).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in ["access", "refresh"] {
        let claims = claims_of(&text(&body, key));
        assert_eq!(claims["username"], "alice", "{key}");
        assert_eq!(claims["is_staff"], false, "{key}");
    }
}

#[actix_web::test]
async fn a_missing_or_blank_refresh_field_is_a_400() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "This field is required.", "missing"),
        (
            json!({"refresh": ""}),
            "This field may not be blank.",
            "blank",
        ),
        (
            json!({"refresh": null}),
            "This field may not be null.",
            "null",
        ),
        (
            json!({"refresh": ["a.b.c"]}),
            "Not a valid string.",
            "a list",
        ),
    ];
    for (request, message, case) in cases {
        let (status, body) = json_of(app.post_json(REFRESH, &request).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, json!({"refresh": [message]}), "{case}");
    }
}

/// Fires `n` refreshes of one token at once: exactly one may win (keyward makes rotation
/// atomic, unlike simplejwt's race). With the strict default (`refresh_reuse_interval` 0) the
/// losers presented a token that had been rotated, which ends the session: the winner's token
/// is refused afterwards.
async fn concurrent_refreshes_have_exactly_one_winner(n: usize) {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let answers = join_all((0..n).map(|_| app.refresh(&refresh))).await;

    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one refresh succeeds: {statuses:?}"
    );
    let blacklisted = json!({"detail": "Token is blacklisted", "code": "token_not_valid"});
    let losers: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
        .collect();
    assert_eq!(losers.len(), n - 1);
    for (status, body) in &losers {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body, &blacklisted);
    }
    assert_eq!(
        app.token_counts(),
        (2, 2),
        "one rotation recorded: the login's token and the winner's, both blacklisted"
    );
    let again = app
        .post_token(REFRESH, "refresh", &text(winners[0], "refresh"))
        .await;
    assert_token_not_valid(
        again,
        "Token is blacklisted",
        "the winner's token after reuse",
    )
    .await;
}

#[actix_web::test]
async fn eight_concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    concurrent_refreshes_have_exactly_one_winner(8).await;
}

#[actix_web::test]
async fn thirty_two_concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    concurrent_refreshes_have_exactly_one_winner(32).await;
}

#[actix_web::test]
async fn refresh_is_post_only_and_describes_its_field() {
    let app = spawn_app().await;
    assert_post_only(&app, REFRESH, "Token Refresh", &[("refresh", "Refresh")]).await;
}

#[actix_web::test]
async fn a_refresh_token_with_a_stale_stamp_is_refused_and_blacklisted() {
    // The stamp changes on a password change; a token minted before it must die.
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let mut claims = keyward_claims("refresh", id, app.now(), 3600);
    claims["stamp"] = json!("stamp-before-the-password-change");
    let token = sign_valid(&claims);
    assert_unauthorized(
        app.post_token(REFRESH, "refresh", &token).await,
        &json!({"detail": "The user's password has been changed."}),
        "stale stamp",
    )
    .await;
    assert_eq!(
        app.token_counts(),
        (1, 1),
        "the stale token is now blacklisted"
    );
    let again = app.post_token(REFRESH, "refresh", &token).await;
    assert_token_not_valid(again, "Token is blacklisted", "the stale token again").await;
}

#[actix_web::test]
async fn custom_claims_of_a_refresh_token_are_copied_but_its_id_and_times_are_not() {
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let now = app.now();
    let mut claims = keyward_claims("refresh", id, now - 600, 3600);
    claims["name"] = json!("Alice Liddell");
    let old = claims.clone();
    let (status, body) = app.refresh(&sign_valid(&claims)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (key, lifetime) in [("access", 300), ("refresh", 86_400)] {
        let new = claims_of(&text(&body, key));
        assert_eq!(new["name"], "Alice Liddell", "{key}: custom claim copied");
        assert_eq!(new["user_id"], old["user_id"], "{key}");
        assert_ne!(new["jti"], old["jti"], "{key}: own id");
        let iat = new["iat"].as_i64().unwrap_or_default();
        assert!(
            iat >= now,
            "{key}: iat is the refresh time, not the parent's"
        );
        assert_eq!(
            new["exp"].as_i64().unwrap_or_default() - iat,
            lifetime,
            "{key}"
        );
    }
}

#[actix_web::test]
async fn a_validly_signed_refresh_token_without_a_user_id_is_refused_not_refreshed() {
    // simplejwt refreshes it into a pair that stands for nobody; keyward refuses it as a
    // protected route refuses such an access token.
    let app = spawn_app_with(with_signing_key).await;
    let id = app.create_user("alice");
    let now = app.now();
    let control = sign_valid(&keyward_claims("refresh", id, now, 3600));
    let (status, body) = app.refresh(&control).await;
    assert_eq!(status, StatusCode::OK, "the same token with a user: {body}");
    let expected = json!({
        "detail": "Token contained no recognizable user identification",
        "code": "token_not_valid",
    });
    let mut without = keyward_claims("refresh", id, now, 3600);
    without.as_object_mut().map(|c| c.remove("user_id"));
    let mut null = keyward_claims("refresh", id, now, 3600);
    null["user_id"] = Value::Null;
    for (claims, case) in [(without, "no user_id claim"), (null, "user_id null")] {
        let token = sign_valid(&claims);
        assert_unauthorized(
            app.post_token(REFRESH, "refresh", &token).await,
            &expected,
            case,
        )
        .await;
    }
    assert_eq!(
        app.token_counts(),
        (2, 1),
        "only the control was rotated (recorded and blacklisted, its successor recorded)"
    );
}
