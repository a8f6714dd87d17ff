//! simplejwt's `JWTAuthentication` on a protected route (`GET /api/me/`): the header table,
//! the token checks, the user checks, and the challenge on every 401.

use std::time::Duration;

use diesel::prelude::*;
use keyward::db::schema::{group_permissions, groups, permissions, user_groups, user_permissions};
use keyward::jwt::{SessionClaim, Subject, TokenCodec};
use reqwest::StatusCode;
use reqwest::header::{ALLOW, WWW_AUTHENTICATE};
use serde_json::{Map, Value, json};

use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app, spawn_app_with};

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
/// The stamp `TestApp::create_user_with` stores.
const INITIAL_STAMP: &str = "initial-stamp";

fn not_provided() -> Value {
    json!({ "detail": NOT_PROVIDED })
}

fn bad_header() -> Value {
    json!({
        "detail": "Authorization header must contain two space-delimited values",
        "code": "bad_authorization_header",
    })
}

fn not_valid_for_access(message: &str) -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    })
}

/// The app's own codec, with the signing key it generated and stored. Minting through it
/// (instead of logging in) keeps the user out of the app's user cache, so a change made
/// straight in the database is what the first authenticated request sees.
fn codec_of(app: &TestApp) -> TokenCodec {
    let keys = keyward::prepare::signing_keys(&app.settings, &mut app.conn(), app.clock.now())
        .unwrap_or_else(|e| panic!("signing keys: {e}"));
    TokenCodec::new(&app.settings, keys)
}

fn subject(user_id: i64) -> Subject {
    Subject {
        user_id,
        stamp: INITIAL_STAMP.into(),
        claims: Vec::new(),
    }
}

/// A session claim for tokens minted outside the server (no session row: such tokens stand
/// for any access token the server would accept).
fn session(now: i64) -> SessionClaim<'static> {
    SessionClaim {
        id: "0123456789abcdef0123456789abcdef",
        deadline: now + 30 * 24 * 3600,
    }
}

/// An access token for `user_id`, issued at `now` (epoch seconds).
fn mint_access_at(app: &TestApp, user_id: i64, now: i64) -> String {
    let codec = codec_of(app);
    let refresh = codec
        .mint_refresh(&subject(user_id), session(now), now)
        .unwrap_or_else(|e| panic!("mint refresh: {e}"));
    codec
        .access_for(&refresh.payload, now, None)
        .unwrap_or_else(|e| panic!("mint access: {e}"))
        .token
}

fn mint_access(app: &TestApp, user_id: i64) -> String {
    mint_access_at(app, user_id, app.clock.now().unix_timestamp())
}

/// Asserts a 401 with `body` and the default challenge.
async fn assert_401(response: reqwest::Response, body: &Value, case: &str) {
    let challenge = response.headers().get(WWW_AUTHENTICATE).cloned();
    let (status, got) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {got}");
    assert_eq!(&got, body, "{case}");
    assert_eq!(
        challenge.as_ref().and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"api\""),
        "{case}: WWW-Authenticate"
    );
}

#[actix_web::test]
async fn requests_without_credentials_of_ours_are_told_credentials_were_not_provided() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let lower = format!("bearer {access}");
    let basic = "Basic YWxpY2U6dGFuZ2VyaW5lLXZveWFnZS00MQ==".to_owned();
    let cases: [(Option<&str>, &str); 6] = [
        (None, "no Authorization header"),
        (Some(""), "an empty header"),
        (Some("   "), "a header of whitespace only"),
        (Some("Wrong tok"), "another scheme"),
        (
            Some(&lower),
            "the scheme is case-sensitive, even with a valid token",
        ),
        (Some(&basic), "HTTP Basic is not ours"),
    ];
    for (header, case) in cases {
        assert_401(app.get("/api/me/", header).await, &not_provided(), case).await;
    }
}

#[actix_web::test]
async fn a_bearer_header_without_exactly_one_token_is_a_bad_authorization_header() {
    let app = spawn_app().await;
    let cases = [
        ("Bearer", "the scheme alone"),
        ("Bearer   ", "the scheme and trailing whitespace"),
        ("Bearer a b", "two tokens"),
        ("Bearer a b c", "three tokens"),
    ];
    for (header, case) in cases {
        assert_401(app.get("/api/me/", Some(header)).await, &bad_header(), case).await;
    }
}

#[actix_web::test]
async fn a_valid_access_token_is_accepted_however_the_header_is_spaced_and_the_path_spelled() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let cases = [
        ("/api/me/", format!("Bearer {access}"), "one space"),
        ("/api/me/", format!("Bearer  \t{access} "), "any whitespace"),
        ("/api/me", format!("Bearer {access}"), "no trailing slash"),
    ];
    for (path, header, case) in cases {
        let (status, body) = json_of(app.get(path, Some(&header)).await).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(body["username"], "alice", "{case}");
    }
}

#[actix_web::test]
async fn a_token_that_does_not_decode_is_not_valid_for_any_token_type() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;

    let (head, rest) = access.split_once('.').unwrap_or_default();
    let (payload, signature) = rest.split_once('.').unwrap_or_default();
    let flipped = {
        let mut sig: Vec<char> = signature.chars().collect();
        sig[0] = if sig[0] == 'A' { 'B' } else { 'A' };
        sig.into_iter().collect::<String>()
    };
    let tampered_signature = format!("{head}.{payload}.{flipped}");
    let unsigned = {
        use base64::Engine;
        let none = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"JWT"}"#);
        format!("{none}.{payload}.")
    };
    let claims: Map<String, Value> = {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    };
    let foreign_key =
        jsonwebtoken::EncodingKey::from_secret(&[7u8; 64]).unwrap_or_else(|e| panic!("key: {e}"));
    let other_key = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &foreign_key)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &foreign_key,
    )
    .unwrap_or_else(|e| panic!("encode: {e}"));
    let future = mint_access_at(&app, id, app.clock.now().unix_timestamp() + 3600);

    let cases = [
        ("garbage".to_owned(), "not a JWT"),
        (format!("{head}.{payload}"), "two segments"),
        (tampered_signature, "a changed signature"),
        (unsigned, "alg none"),
        (other_key, "signed with another key"),
        (hs512, "another algorithm"),
        (future, "issued in the future"),
    ];
    for (token, case) in cases {
        assert_401(
            app.me(&token).await,
            &not_valid_for_access("Token is invalid"),
            case,
        )
        .await;
    }
}

#[actix_web::test]
async fn an_access_token_past_its_lifetime_is_refused_as_expired() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;

    app.clock.advance(Duration::from_secs(290));
    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "still valid before the 300 s lifetime: {body}"
    );

    app.clock.advance(Duration::from_secs(11));
    assert_401(
        app.me(&access).await,
        &not_valid_for_access("Token is expired"),
        "past exp",
    )
    .await;
}

#[actix_web::test]
async fn a_refresh_token_is_refused_as_the_wrong_type() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    assert_401(
        app.me(&refresh).await,
        &not_valid_for_access("Token has wrong type"),
        "refresh token as access",
    )
    .await;
}

#[actix_web::test]
async fn a_sliding_token_is_the_wrong_type_unless_sliding_tokens_are_accepted() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let sliding = codec_of(&app)
        .mint_sliding(
            &subject(id),
            session(app.clock.now().unix_timestamp()),
            app.clock.now().unix_timestamp(),
        )
        .unwrap_or_else(|e| panic!("mint sliding: {e}"))
        .token;
    assert_401(
        app.me(&sliding).await,
        &not_valid_for_access("Token has wrong type"),
        "sliding token while only access tokens are accepted",
    )
    .await;
}

#[actix_web::test]
async fn with_sliding_tokens_on_a_refusal_lists_every_token_class_tried() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let cases = [
        ("garbage".to_owned(), "Token is invalid", "garbage"),
        (refresh, "Token has wrong type", "a refresh token"),
    ];
    for (token, message, case) in cases {
        let expected = json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [
                {"token_class": "AccessToken", "token_type": "access", "message": message},
                {"token_class": "SlidingToken", "token_type": "sliding", "message": message},
            ],
        });
        assert_401(app.me(&token).await, &expected, case).await;
    }
}

#[actix_web::test]
async fn a_token_without_a_user_id_claim_is_refused() {
    let app = spawn_app().await;
    let access = codec_of(&app)
        .access_for(&Map::new(), app.clock.now().unix_timestamp(), None)
        .unwrap_or_else(|e| panic!("mint: {e}"))
        .token;
    assert_401(
        app.me(&access).await,
        &json!({
            "detail": "Token contained no recognizable user identification",
            "code": "token_not_valid",
        }),
        "no user_id claim",
    )
    .await;
}

#[actix_web::test]
async fn a_user_id_claim_is_read_as_a_string_or_as_a_number() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let codec = codec_of(&app);
    let now = app.clock.now().unix_timestamp();
    let stamp = app.settings.revoke_token_claim.clone();
    let cases = [
        (
            json!(id.to_string()),
            "a string, as simplejwt 5.5.1 writes it",
        ),
        (json!(id), "a number, as older simplejwt wrote it"),
    ];
    for (user_id, case) in cases {
        let mut claims = Map::new();
        claims.insert(app.settings.user_id_claim.clone(), user_id);
        claims.insert(stamp.clone(), json!(INITIAL_STAMP));
        let access = codec
            .access_for(&claims, now, None)
            .unwrap_or_else(|e| panic!("mint: {e}"))
            .token;
        let (status, body) = json_of(app.me(&access).await).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(body["id"], id, "{case}");
    }
}

#[actix_web::test]
async fn an_inactive_user_is_refused_as_inactive() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    // Deactivated before any authenticated request, so no cached snapshot says otherwise.
    app.set_active(id, false);
    assert_401(
        app.me(&mint_access(&app, id)).await,
        &json!({"detail": "User is inactive", "code": "user_inactive"}),
        "inactive user",
    )
    .await;
}

#[actix_web::test]
async fn a_user_that_no_longer_exists_is_refused_as_not_found() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let deleted = mint_access(&app, id);
    app.delete_user(id);
    let never_existed = mint_access(&app, id + 1000);
    let cases = [
        (deleted, "deleted before first use"),
        (never_existed, "an id that never existed"),
    ];
    for (token, case) in cases {
        assert_401(
            app.me(&token).await,
            &json!({"detail": "User not found", "code": "user_not_found"}),
            case,
        )
        .await;
    }
}

#[actix_web::test]
async fn with_check_user_is_active_off_an_inactive_user_is_served() {
    let app = spawn_app_with(|s| s.check_user_is_active = false).await;
    app.create_inactive_user("sleepy");
    let (_, access) = app.login("sleepy", PASSWORD).await;
    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "sleepy");
    assert_eq!(body["is_active"], false);
}

/// Puts `user_id` in a group `editors` (which may change users) and grants a direct permission.
fn grant(app: &TestApp, user_id: i64) {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => {
            let perm = |code: &str, c: &mut _| {
                permissions::table
                    .filter(permissions::codename.eq(code.to_owned()))
                    .select(permissions::id)
                    .first::<i64>(c)
            };
            diesel::insert_into(groups::table)
                .values(groups::name.eq("editors"))
                .execute(c)?;
            let group: i64 = groups::table
                .filter(groups::name.eq("editors"))
                .select(groups::id)
                .first(c)?;
            let change = perm("auth.change_user", c)?;
            let view = perm("auth.view_user", c)?;
            diesel::insert_into(user_groups::table)
                .values((user_groups::user_id.eq(user_id), user_groups::group_id.eq(group)))
                .execute(c)?;
            diesel::insert_into(group_permissions::table)
                .values((group_permissions::group_id.eq(group), group_permissions::permission_id.eq(change)))
                .execute(c)?;
            diesel::insert_into(user_permissions::table)
                .values((user_permissions::user_id.eq(user_id), user_permissions::permission_id.eq(view)))
                .execute(c)?;
            diesel::update(keyward::db::schema::users::table.find(user_id))
                .set(keyward::db::schema::users::email.eq("alice@example.com"))
                .execute(c)
        })
    })
    .unwrap_or_else(|e| panic!("grant: {e}"));
}

#[actix_web::test]
async fn me_describes_the_caller_with_flags_groups_and_permissions_and_no_secrets() {
    let app = spawn_app().await;
    let id = app.create_user_with(
        "alice",
        PASSWORD,
        UserFlags {
            staff: true,
            ..UserFlags::default()
        },
    );
    grant(&app, id);
    let (_, access) = app.login("alice", PASSWORD).await;
    let response = app.me(&access).await;
    let text = response.text().await.unwrap_or_default();
    assert!(
        !text.contains("bcrypt") && !text.contains(INITIAL_STAMP) && !text.contains("password"),
        "no hash, stamp or password field: {text}"
    );
    let mut body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    let joined = body["date_joined"].take();
    assert!(
        joined.as_str().is_some_and(|d| time::OffsetDateTime::parse(
            d,
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()),
        "date_joined is RFC 3339: {joined}"
    );
    assert_eq!(
        body,
        json!({
            "id": id,
            "username": "alice",
            "email": "alice@example.com",
            "first_name": "",
            "last_name": "",
            "is_active": true,
            "is_staff": true,
            "is_superuser": false,
            "date_joined": null,
            "last_login": null,
            "groups": ["editors"],
            "permissions": ["auth.change_user", "auth.view_user"],
        })
    );
}

#[actix_web::test]
async fn logging_out_refuses_the_sessions_access_token_at_once_but_not_another_sessions() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let (_, laptop) = app.login("alice", PASSWORD).await;
    let (status, body) = app.logout(&refresh).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})), "logout");
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the refresh token is dead: {body}"
    );
    assert_401(
        app.me(&access).await,
        &not_valid_for_access("Token is blacklisted"),
        "the logged-out session's access token",
    )
    .await;
    let (status, body) = json_of(app.me(&laptop).await).await;
    assert_eq!(status, StatusCode::OK, "another session lives on: {body}");
}

#[actix_web::test]
async fn a_custom_header_name_and_scheme_are_read_and_named_in_the_challenge() {
    let app = spawn_app_with(|s| {
        s.auth_header_types = vec!["JWT".into()];
        s.auth_header_name = "X-Access-Token".into();
    })
    .await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let send = |name: &'static str, value: String| {
        app.client
            .get(app.url("/api/me/"))
            .header(name, value)
            .send()
    };

    let response = send("X-Access-Token", format!("JWT {access}"))
        .await
        .unwrap_or_else(|e| panic!("GET: {e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "alice");

    let cases = [
        (
            "Authorization",
            format!("Bearer {access}"),
            not_provided(),
            "the default header is not read",
        ),
        (
            "Authorization",
            format!("JWT {access}"),
            not_provided(),
            "nor with our scheme",
        ),
        (
            "X-Access-Token",
            format!("Bearer {access}"),
            not_provided(),
            "Bearer is no longer ours",
        ),
        (
            "X-Access-Token",
            "JWT".to_owned(),
            bad_header(),
            "our scheme without a token",
        ),
        (
            "X-Access-Token",
            "JWT garbage".to_owned(),
            not_valid_for_access("Token is invalid"),
            "our scheme, a bad token",
        ),
    ];
    for (name, value, expected, case) in cases {
        let response = send(name, value)
            .await
            .unwrap_or_else(|e| panic!("GET: {e}"));
        let challenge = response.headers().get(WWW_AUTHENTICATE).cloned();
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
        assert_eq!(
            challenge.as_ref().and_then(|v| v.to_str().ok()),
            Some("JWT realm=\"api\""),
            "{case}: the challenge names the first configured scheme"
        );
    }
}

#[actix_web::test]
async fn methods_other_than_get_head_and_options_are_not_allowed_on_me() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = app
            .client
            .request(method.clone(), app.url("/api/me/"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let allow = response.headers().get(ALLOW).cloned();
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(
            body,
            json!({ "detail": format!("Method \"{method}\" not allowed.") }),
            "{method}"
        );
        assert_eq!(
            allow.as_ref().and_then(|v| v.to_str().ok()),
            Some("GET, HEAD, OPTIONS"),
            "{method}: Allow"
        );
    }
}

#[actix_web::test]
async fn head_on_me_authenticates_like_get() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let head = |auth: Option<String>| {
        let mut request = app.client.head(app.url("/api/me/"));
        if let Some(value) = auth {
            request = request.header("authorization", value);
        }
        request.send()
    };
    let ok = head(Some(format!("Bearer {access}")))
        .await
        .unwrap_or_else(|e| panic!("HEAD: {e}"));
    assert_eq!(ok.status(), StatusCode::OK);
    let refused = head(None).await.unwrap_or_else(|e| panic!("HEAD: {e}"));
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"api\"")
    );
}
