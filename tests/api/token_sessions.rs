//! Sessions: every login is a family of tokens sharing one session id. Ending a session
//! refuses its access tokens at once; a rotated refresh token presented again ends the
//! session (unless it comes within `refresh_reuse_interval`); a session cannot outlive
//! `session_max_lifetime` nor stay idle past `session_idle_timeout`.

use std::time::Duration;

use diesel::prelude::*;
use futures_util::future::join_all;
use keyward::audit::EventKind;
use keyward::db::models::token_session::{self, TokenSession};
use keyward::db::schema::{blacklisted_tokens, outstanding_tokens};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::audit_log::{events, of_kind, one};
use crate::console_client::{ConsoleClient, superuser, token_id};
use crate::helpers::{
    PASSWORD, TestApp, another_instance, json_of, spawn_app, spawn_app_with, token_payload,
};
use crate::tokens::{keyward_claims, sign_valid, with_signing_key};

fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

fn expired() -> Value {
    json!({"detail": "Token is expired", "code": "token_not_valid"})
}

fn claim(token: &str, name: &str) -> Value {
    token_payload(token)[name].clone()
}

fn sid_of(token: &str) -> String {
    claim(token, "sid").as_str().unwrap_or_default().to_owned()
}

fn text(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_default().to_owned()
}

fn session(app: &TestApp, id: &str) -> TokenSession {
    app.with_db(|conn| token_session::find(conn, id))
        .unwrap_or_else(|e| panic!("session {id}: {e}"))
        .unwrap_or_else(|| panic!("no session {id}"))
}

/// The status of `GET /api/me/` with `access`.
async fn me_status(app: &TestApp, access: &str) -> StatusCode {
    app.me(access).await.status()
}

async fn login_with_agent(app: &TestApp, agent: &str) -> (String, String) {
    let response = app
        .client
        .post(app.url("/api/token/"))
        .header("user-agent", agent)
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (text(&body, "refresh"), text(&body, "access"))
}

#[actix_web::test]
async fn every_token_of_a_login_carries_its_session_and_rotation_keeps_it() {
    let app = spawn_app().await;
    let alice = app.create_user("alice");
    let (refresh, access) = login_with_agent(&app, "Phone/1.0").await;
    let sid = sid_of(&refresh);
    assert_eq!(sid.len(), 32, "a random id of 32 hex digits: {sid}");
    assert!(sid.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(sid_of(&access), sid, "the access token names the session");
    let (other, _) = app.login("alice", PASSWORD).await;
    assert_ne!(sid_of(&other), sid, "each login is a session of its own");

    let row = session(&app, &sid);
    assert_eq!(row.user_id, alice);
    assert_eq!(row.kind, "pair");
    assert_eq!(row.user_agent, "Phone/1.0");
    assert_eq!(row.client_address, "127.0.0.1");
    assert_eq!(
        Some(row.current_jti.as_str()),
        claim(&refresh, "jti").as_str()
    );
    assert!(row.ended_at.is_none());

    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (next, next_access) = (text(&body, "refresh"), text(&body, "access"));
    assert_eq!(sid_of(&next), sid, "rotation keeps the session");
    assert_eq!(sid_of(&next_access), sid);
    let row = session(&app, &sid);
    assert_eq!(Some(row.current_jti.as_str()), claim(&next, "jti").as_str());
    assert_eq!(
        row.previous_jti.as_deref(),
        claim(&refresh, "jti").as_str(),
        "the session remembers the token it rotated"
    );
}

/// A session's refresh token whose outstanding row is gone (flushed, or minted by another
/// system with the same key) still rotates: it is recorded again and blacklisted with the
/// rotation, the successor is recorded, and the old token is then refused.
#[actix_web::test]
async fn a_session_token_missing_from_the_outstanding_list_rotates_and_is_blacklisted() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let jti = claim(&refresh, "jti")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let removed = app
        .with_db(|conn| {
            keyward::with_conn!(conn, c => diesel::delete(
                outstanding_tokens::table.filter(outstanding_tokens::jti.eq(&jti))
            ).execute(c))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(removed, 1);

    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = claim(&text(&body, "refresh"), "jti")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (old_blacklisted, next_recorded) = app.with_db(|conn| {
        keyward::with_conn!(conn, c => {
            let old: i64 = blacklisted_tokens::table
                .inner_join(outstanding_tokens::table)
                .filter(outstanding_tokens::jti.eq(&jti))
                .count()
                .get_result(c)
                .unwrap_or(-1);
            let next: i64 = outstanding_tokens::table
                .filter(outstanding_tokens::jti.eq(&next))
                .count()
                .get_result(c)
                .unwrap_or(-1);
            (old, next)
        })
    });
    assert_eq!(
        old_blacklisted, 1,
        "the spent token is recorded and blacklisted"
    );
    assert_eq!(next_recorded, 1, "its successor is recorded");
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, blacklisted());
}

#[actix_web::test]
async fn reusing_a_rotated_refresh_token_ends_the_session_and_every_descendant() {
    let app = spawn_app().await;
    let alice = app.create_user("alice");
    let (stolen, _) = app.login("alice", PASSWORD).await;
    let (_, laptop) = app.login("alice", PASSWORD).await;
    let sid = sid_of(&stolen);
    let (status, body) = app.refresh(&stolen).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (newer, newer_access) = (text(&body, "refresh"), text(&body, "access"));
    assert_eq!(me_status(&app, &newer_access).await, StatusCode::OK);

    let (status, body) = app.refresh(&stolen).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, blacklisted()));
    let row = session(&app, &sid);
    assert_eq!(row.end_reason.as_deref(), Some("refresh_reuse"));
    assert!(row.ended_at.is_some());

    assert_eq!(
        app.refresh(&newer).await,
        (StatusCode::UNAUTHORIZED, blacklisted()),
        "the newer refresh token died with the session"
    );
    assert_eq!(
        me_status(&app, &newer_access).await,
        StatusCode::UNAUTHORIZED,
        "the newer access token died with the session, at once"
    );
    assert_eq!(
        app.verify(&newer_access).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    assert_eq!(
        me_status(&app, &laptop).await,
        StatusCode::OK,
        "another session of the user lives on"
    );
    assert_eq!(
        app.token_counts(),
        (3, 2),
        "login x2 + one rotation; both of the family blacklisted"
    );
    let events = events(&app).await;
    let incident = one(&events, EventKind::RefreshReuse);
    assert_eq!(incident.session_id.as_deref(), Some(sid.as_str()));
    assert_eq!(incident.subject_id, Some(alice));
    assert_eq!(incident.client_address, "127.0.0.1");
    let (status, _) = app.refresh(&stolen).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        of_kind(
            &crate::audit_log::events(&app).await,
            EventKind::RefreshReuse
        )
        .len(),
        1,
        "one incident: the session had ended already"
    );
}

#[actix_web::test]
async fn a_logout_is_recorded_as_the_end_of_its_session() {
    let app = spawn_app().await;
    let alice = app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    assert_eq!(app.logout(&refresh).await.0, StatusCode::OK);
    let events = events(&app).await;
    let ended = one(&events, EventKind::SessionEnded);
    assert_eq!(ended.session_id.as_deref(), Some(sid_of(&refresh).as_str()));
    assert_eq!(
        (ended.actor_id, ended.subject_id),
        (Some(alice), Some(alice))
    );
    assert_eq!(ended.detail, "logout");
    assert_eq!(
        ended.username, "alice",
        "named when written, though logged by id"
    );
}

#[actix_web::test]
async fn within_the_reuse_interval_concurrent_refreshes_share_one_new_pair() {
    let app = spawn_app_with(|s| s.refresh_reuse_interval = Duration::from_secs(10)).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let sid = sid_of(&refresh);
    let answers = join_all((0..8).map(|_| app.refresh(&refresh))).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::OK),
        "every tab gets an answer: {statuses:?}"
    );
    let first = &answers[0].1;
    for (_, body) in &answers {
        assert_eq!(body, first, "the same new pair for every retry");
    }
    assert!(session(&app, &sid).ended_at.is_none(), "no reuse was seen");
    assert_eq!(app.token_counts(), (2, 1), "one rotation recorded");

    // A retry a moment later, one at a time, still gets the same pair.
    app.clock.advance(Duration::from_secs(5));
    assert_eq!(app.refresh(&refresh).await, (StatusCode::OK, first.clone()));
    let (status, body) = app.refresh(&text(first, "refresh")).await;
    assert_eq!(status, StatusCode::OK, "the shared new token works: {body}");
}

#[actix_web::test]
async fn past_the_reuse_interval_a_repeat_is_a_reuse() {
    let app = spawn_app_with(|s| s.refresh_reuse_interval = Duration::from_secs(10)).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(Duration::from_secs(11));
    assert_eq!(
        app.refresh(&refresh).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    assert_eq!(
        session(&app, &sid_of(&refresh)).end_reason.as_deref(),
        Some("refresh_reuse")
    );
    assert_eq!(
        app.refresh(&text(&body, "refresh")).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
}

#[actix_web::test]
async fn no_token_outlives_session_max_lifetime_and_the_session_ends_at_it() {
    let app = spawn_app_with(|s| {
        s.session_max_lifetime = Duration::from_secs(2 * 3600);
        s.refresh_token_lifetime = Duration::from_secs(24 * 3600);
        // Tokens stay decodable a while past `exp`: the session's own deadline must refuse.
        s.leeway = Duration::from_secs(600);
    })
    .await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let iat = claim(&refresh, "iat").as_i64().unwrap_or_default();
    let deadline = iat + 2 * 3600;
    assert_eq!(
        claim(&refresh, "exp"),
        json!(deadline),
        "capped to the session"
    );
    assert_eq!(
        claim(&access, "exp"),
        json!(iat + 300),
        "a short access token is not"
    );

    app.clock.advance(Duration::from_secs(2 * 3600 - 120));
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = text(&body, "refresh");
    assert_eq!(
        claim(&next, "exp"),
        json!(deadline),
        "rotation cannot extend it"
    );
    assert_eq!(
        claim(&text(&body, "access"), "exp"),
        json!(deadline),
        "nor can the access token"
    );

    app.clock.advance(Duration::from_secs(180));
    assert_eq!(
        app.refresh(&next).await,
        (StatusCode::UNAUTHORIZED, expired())
    );
    let row = session(&app, &sid_of(&refresh));
    assert_eq!(row.end_reason.as_deref(), Some("max_lifetime"));
    let events = events(&app).await;
    assert_eq!(
        one(&events, EventKind::SessionEnded).detail,
        "past session_max_lifetime"
    );
}

#[actix_web::test]
async fn a_session_not_refreshed_within_the_idle_timeout_ends() {
    let app = spawn_app_with(|s| s.session_idle_timeout = Duration::from_secs(3600)).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    app.clock.advance(Duration::from_secs(50 * 60));
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "refreshed in time: {body}");
    let next = text(&body, "refresh");
    app.clock.advance(Duration::from_secs(50 * 60));
    let (status, body) = app.refresh(&next).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "each refresh restarts the idle clock: {body}"
    );
    let last = text(&body, "refresh");
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(
        app.refresh(&last).await,
        (StatusCode::UNAUTHORIZED, expired())
    );
    assert_eq!(
        session(&app, &sid_of(&refresh)).end_reason.as_deref(),
        Some("idle")
    );
}

#[actix_web::test]
async fn with_the_stamp_check_off_every_revoke_all_still_ends_the_sessions_at_once() {
    let app = spawn_app_with(|s| s.check_revoke_token = false).await;
    superuser(&app, "root");
    let alice = app.create_user("alice");
    let admin = app.access_for("root").await;

    let (_, access) = app.login("alice", PASSWORD).await;
    let response = app
        .patch_as(
            &format!("/api/users/{alice}/"),
            &admin,
            &json!({"password": "orchard-lantern-58"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        me_status(&app, &access).await,
        StatusCode::UNAUTHORIZED,
        "an administrator's password change ended the session"
    );
    assert_eq!(
        session(&app, &sid_of(&access)).end_reason.as_deref(),
        Some("revoke_all")
    );

    let (_, access) = app.login("alice", "orchard-lantern-58").await;
    let mut console = ConsoleClient::signed_in(&app, "root").await;
    console
        .submit(&format!("/admin/users/{alice}/revoke-tokens/"), &[])
        .await;
    assert_eq!(
        me_status(&app, &access).await,
        StatusCode::UNAUTHORIZED,
        "the console's revoke-all ended the session"
    );
}

#[actix_web::test]
async fn a_console_revocation_ends_the_session_and_lifting_it_reopens_the_session() {
    let app = spawn_app().await;
    superuser(&app, "root");
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let id = token_id(&app, &refresh);
    let mut console = ConsoleClient::signed_in(&app, "root").await;
    console
        .submit(&format!("/admin/tokens/{id}/revoke/"), &[])
        .await;
    assert_eq!(me_status(&app, &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        session(&app, &sid_of(&refresh)).end_reason.as_deref(),
        Some("token_revoked")
    );

    console
        .submit(&format!("/admin/tokens/{id}/unrevoke/"), &[])
        .await;
    assert_eq!(
        me_status(&app, &access).await,
        StatusCode::OK,
        "lifting the revocation reopens the session"
    );
    assert!(session(&app, &sid_of(&refresh)).ended_at.is_none());
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_web::test]
async fn sliding_tokens_are_sessions_too() {
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        s.check_revoke_token = false;
        s.session_max_lifetime = Duration::from_secs(3600);
    })
    .await;
    superuser(&app, "root");
    let alice = app.create_user("alice");
    let (status, body) = json_of(
        app.post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = text(&body, "token");
    let sid = sid_of(&token);
    assert_eq!(session(&app, &sid).kind, "sliding");
    let iat = claim(&token, "iat").as_i64().unwrap_or_default();
    assert_eq!(
        claim(&token, "refresh_exp"),
        json!(iat + 3600),
        "the refresh deadline is capped to the session"
    );
    let (status, body) = json_of(
        app.post_json("/api/token/sliding/refresh/", &json!({"token": token}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = text(&body, "token");
    assert_eq!(sid_of(&renewed), sid);

    let admin = app.access_for("root").await;
    let response = app
        .patch_as(
            &format!("/api/users/{alice}/"),
            &admin,
            &json!({"password": "orchard-lantern-58"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        me_status(&app, &renewed).await,
        StatusCode::UNAUTHORIZED,
        "the sliding token's session ended"
    );
}

#[actix_web::test]
async fn tokens_issued_before_sessions_keep_working_until_they_expire() {
    let app = spawn_app_with(with_signing_key).await;
    let alice = app.create_user("alice");
    let refresh = sign_valid(&keyward_claims("refresh", alice, app.now(), 3600));
    let access = sign_valid(&keyward_claims("access", alice, app.now(), 300));
    assert_eq!(me_status(&app, &access).await, StatusCode::OK);
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = text(&body, "refresh");
    assert_eq!(claim(&next, "sid"), Value::Null, "no session is invented");
    assert_eq!(
        app.refresh(&refresh).await,
        (StatusCode::UNAUTHORIZED, blacklisted()),
        "rotated away, as before"
    );
    let (status, body) = app.refresh(&next).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.logout(&text(&body, "refresh")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
}

/// A second keyward on the same database, with its own memory.
async fn second_instance(app: &TestApp) -> String {
    another_instance(app).await.address
}

async fn me_on(app: &TestApp, address: &str, access: &str) -> StatusCode {
    app.client
        .get(format!("{address}/api/me/"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap_or_else(|e| panic!("me: {e}"))
        .status()
}

#[actix_web::test]
async fn another_instance_refuses_an_ended_sessions_access_token() {
    let app = spawn_app_with(|s| s.blacklist_sync_interval = Duration::from_secs(1)).await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let (before, before_access) = app.login("alice", PASSWORD).await;
    assert_eq!(app.logout(&before).await.0, StatusCode::OK);

    let other = second_instance(&app).await;
    assert_eq!(
        me_on(&app, &other, &before_access).await,
        StatusCode::UNAUTHORIZED,
        "sessions ended before the start are loaded"
    );
    assert_eq!(me_on(&app, &other, &access).await, StatusCode::OK);
    assert_eq!(app.logout(&refresh).await.0, StatusCode::OK);
    let started = std::time::Instant::now();
    while me_on(&app, &other, &access).await == StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the other instance learns of the logout at its next sync"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_retry_on_another_instance_within_the_interval_is_refused_but_ends_nothing() {
    let app = spawn_app_with(|s| s.refresh_reuse_interval = Duration::from_secs(10)).await;
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    let other = second_instance(&app).await;
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let response = app
        .client
        .post(format!("{other}/api/token/refresh/"))
        .json(&json!({ "refresh": refresh }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("refresh on the other instance: {e}"));
    assert_eq!(
        json_of(response).await,
        (StatusCode::UNAUTHORIZED, blacklisted()),
        "the other instance does not hold the pair"
    );
    assert!(
        session(&app, &sid_of(&refresh)).ended_at.is_none(),
        "a retry within the interval is no reuse"
    );
    let (status, body) = app.refresh(&text(&body, "refresh")).await;
    assert_eq!(status, StatusCode::OK, "the new token still works: {body}");
}

/// Deactivation ends every session by itself, not only through the stamp or the active
/// check: with the stamp check off, the sessions are recorded as ended by the administrator,
/// and reactivating the user does not bring their tokens back.
#[actix_web::test]
async fn a_deactivation_ends_the_sessions_and_a_reactivation_does_not_reopen_them() {
    let app = spawn_app_with(|s| s.check_revoke_token = false).await;
    let root = superuser(&app, "root");
    let alice = app.create_user("alice");
    let admin = app.access_for("root").await;
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let path = format!("/api/users/{alice}/");

    let response = app
        .patch_as(&path, &admin, &json!({"is_active": false}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let ended = session(&app, &sid_of(&access));
    assert_eq!(
        (ended.end_reason.as_deref(), ended.ended_by),
        (Some("revoke_all"), Some(root))
    );

    let response = app
        .patch_as(&path, &admin, &json!({"is_active": true}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "me: {body}");
    assert_eq!(body["messages"][0]["message"], "Token is blacklisted");
    let response = app.get_as("/api/auth/check", &access).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "check");
    assert_eq!(
        app.verify(&access).await,
        (StatusCode::UNAUTHORIZED, blacklisted()),
        "verify"
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "refresh: {body}");
}

/// The audit log says who ended which sessions: the user ending their others, an
/// administrator ending one, then all.
#[actix_web::test]
async fn sessions_ended_through_the_api_are_recorded_with_who_ended_them() {
    let app = spawn_app().await;
    let root = superuser(&app, "root");
    let alice = app.create_user("alice");
    let admin = app.access_for("root").await;
    let (_, current) = app.login("alice", PASSWORD).await;
    let (_, other) = app.login("alice", PASSWORD).await;
    let response = app
        .post_as("/api/me/sessions/revoke-others/", &current, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let recorded = events(&app).await;
    let by_alice = one(&recorded, EventKind::SessionEnded);
    assert_eq!(
        (by_alice.actor_id, by_alice.subject_id),
        (Some(alice), Some(alice))
    );
    assert_eq!(
        by_alice.session_id.as_deref(),
        Some(sid_of(&other).as_str())
    );

    let (_, second) = app.login("alice", PASSWORD).await;
    let (_, third) = app.login("alice", PASSWORD).await;
    let sessions = format!("/api/users/{alice}/sessions/");
    let response = app
        .delete_as(&format!("{sessions}{}/", sid_of(&current)), &admin)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let recorded = events(&app).await;
    let by_root = of_kind(&recorded, EventKind::SessionEnded)
        .into_iter()
        .find(|e| e.actor_id == Some(root))
        .unwrap_or_else(|| panic!("no session_ended by root: {recorded:?}"));
    assert_eq!(by_root.subject_id, Some(alice));
    assert_eq!(
        by_root.session_id.as_deref(),
        Some(sid_of(&current).as_str())
    );

    let response = app
        .post_as(&format!("{sessions}revoke-all/"), &admin, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let recorded = events(&app).await;
    let all = one(&recorded, EventKind::SessionsRevoked);
    assert_eq!((all.actor_id, all.subject_id), (Some(root), Some(alice)));
    assert!(all.detail.starts_with("2 sessions"), "{}", all.detail);
    for access in [second, third] {
        assert_eq!(me_status(&app, &access).await, StatusCode::UNAUTHORIZED);
    }
}

/// `session_id_claim` names the claim; the session works the same under another name.
#[actix_web::test]
async fn the_session_claim_takes_its_configured_name() {
    let app = spawn_app_with(|s| s.session_id_claim = "session".into()).await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for token in [&refresh, &access] {
        let sid = claim(token, "session");
        assert!(sid.as_str().is_some_and(|s| s.len() >= 16), "{sid}");
        assert_eq!(claim(token, "sid"), Value::Null, "no sid claim");
    }
    assert_eq!(claim(&refresh, "session"), claim(&access, "session"));
    assert_eq!(me_status(&app, &access).await, StatusCode::OK);
    assert_eq!(app.logout(&refresh).await.0, StatusCode::OK);
    assert_eq!(
        me_status(&app, &access).await,
        StatusCode::UNAUTHORIZED,
        "the logout ended the session named by the configured claim"
    );
}
