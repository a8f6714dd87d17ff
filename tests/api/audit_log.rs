//! The audit log through the API: sign-ins (and refusals, whose answers do not change),
//! password changes, admin changes to users, groups and permissions; the writer's batches; a
//! failing write that never fails the user's action; the retention purge on the app's clock.

use std::time::Duration;

use diesel::prelude::*;
use keyward::audit::{EventKind, NewEvent};
use keyward::db::models::security_event::SecurityEvent;
use keyward::db::schema::security_events;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with};

const NO_ACCOUNT: &str = "No active account found with the given credentials";

/// Waits until the writer has stored every event recorded so far.
pub(crate) async fn flush(app: &TestApp) {
    let audit = app.audit.clone();
    let stored = actix_web::rt::task::spawn_blocking(move || audit.flush(Duration::from_secs(15)))
        .await
        .unwrap_or(false);
    assert!(stored, "the audit writer stored every event");
}

/// Every event stored, oldest first (read straight from the table).
pub(crate) fn stored_events(app: &TestApp) -> Vec<SecurityEvent> {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => security_events::table
            .order(security_events::id.asc())
            .select(SecurityEvent::as_select())
            .load(c))
    })
    .unwrap_or_else(|e| panic!("security events: {e}"))
}

/// Every event recorded so far, oldest first.
pub(crate) async fn events(app: &TestApp) -> Vec<SecurityEvent> {
    flush(app).await;
    stored_events(app)
}

pub(crate) fn of_kind(events: &[SecurityEvent], kind: EventKind) -> Vec<&SecurityEvent> {
    events.iter().filter(|e| e.kind == kind.as_str()).collect()
}

/// The only event of `kind`.
pub(crate) fn one(events: &[SecurityEvent], kind: EventKind) -> &SecurityEvent {
    match of_kind(events, kind).as_slice() {
        [event] => event,
        other => panic!("expected one {kind} event, got {other:?}"),
    }
}

/// Asserts that no stored text holds any of `secrets`.
pub(crate) fn assert_no_secret(events: &[SecurityEvent], secrets: &[&str]) {
    for event in events {
        for text in [
            &event.username,
            &event.detail,
            &event.user_agent,
            &event.client_address,
        ] {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                assert!(!text.contains(secret), "a secret in {event:?}");
            }
        }
        if let Some(session) = &event.session_id {
            assert!(secrets.iter().all(|s| !session.contains(s)), "{event:?}");
        }
    }
}

async fn obtain(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    json_of(
        app.client
            .post(app.url("/api/token/"))
            .header("user-agent", "audit-test/1.0")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /api/token/: {e}")),
    )
    .await
}

#[actix_web::test]
async fn sign_ins_are_recorded_and_the_answers_stay_as_they_were() {
    let app = spawn_app().await;
    let alice = app.create_user("alice");
    app.create_inactive_user("carol");

    let (status, pair) = obtain(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let refused = json!({ "detail": NO_ACCOUNT });
    for (username, password, case) in [
        ("alice", "wrong-password", "a wrong password"),
        ("nobody", PASSWORD, "an unknown user"),
        ("carol", PASSWORD, "an inactive user"),
    ] {
        let (status, body) = obtain(&app, username, password).await;
        assert_eq!(
            (status, &body),
            (StatusCode::UNAUTHORIZED, &refused),
            "{case}: the answer reveals nothing"
        );
    }
    for _ in 0..4 {
        assert_eq!(
            obtain(&app, "alice", "wrong-password").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, _) = obtain(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the pair is locked");

    let events = events(&app).await;
    let ok = one(&events, EventKind::LoginSucceeded);
    assert_eq!(
        (ok.actor_id, ok.subject_id, ok.username.as_str()),
        (Some(alice), Some(alice), "alice")
    );
    assert_eq!(
        (
            ok.client_address.as_str(),
            ok.user_agent.as_str(),
            ok.detail.as_str()
        ),
        ("127.0.0.1", "audit-test/1.0", "token")
    );
    let failed = of_kind(&events, EventKind::LoginFailed);
    let typed: Vec<&str> = failed.iter().map(|e| e.username.as_str()).collect();
    assert_eq!(
        typed,
        [
            "alice", "nobody", "carol", "alice", "alice", "alice", "alice"
        ],
        "the usernames as typed"
    );
    assert!(
        failed
            .iter()
            .all(|e| e.subject_id.is_none() && e.actor_id.is_none() && e.detail == "token")
    );
    let locked = one(&events, EventKind::LoginLocked);
    assert_eq!(locked.username, "alice");
    assert!(
        locked.detail.starts_with("token; locked for"),
        "{}",
        locked.detail
    );
    let secrets = [
        PASSWORD,
        "wrong-password",
        pair["access"].as_str().unwrap_or("-"),
        pair["refresh"].as_str().unwrap_or("-"),
    ];
    assert_no_secret(&events, &secrets);
}

#[actix_web::test]
async fn sliding_sign_ins_are_recorded_as_such() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    let alice = app.create_user("alice");
    let (status, _) = json_of(
        app.post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_of(
        app.post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": "nope-nope"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({ "detail": NO_ACCOUNT }))
    );
    let events = events(&app).await;
    let ok = one(&events, EventKind::LoginSucceeded);
    assert_eq!(
        (ok.subject_id, ok.detail.as_str()),
        (Some(alice), "sliding")
    );
    let failed = one(&events, EventKind::LoginFailed);
    assert_eq!(
        (failed.username.as_str(), failed.detail.as_str()),
        ("alice", "sliding")
    );
}

#[actix_web::test]
async fn a_password_change_is_recorded_without_the_password() {
    let app = spawn_app().await;
    let alice = app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let new_password = "copper-lantern-93";
    let (status, pair) = json_of(
        app.post_as(
            "/api/me/password/",
            &access,
            &json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let events = events(&app).await;
    let changed = one(&events, EventKind::PasswordChanged);
    assert_eq!(
        (
            changed.actor_id,
            changed.subject_id,
            changed.username.as_str()
        ),
        (Some(alice), Some(alice), "alice")
    );
    assert_eq!(
        changed.detail,
        "changed by the user; 1 refresh token(s) revoked"
    );
    assert_no_secret(
        &events,
        &[
            PASSWORD,
            new_password,
            &access,
            pair["access"].as_str().unwrap_or("-"),
        ],
    );
}

#[actix_web::test]
async fn admin_changes_to_a_user_through_the_api_are_recorded_with_what_changed() {
    let app = spawn_app().await;
    let root = app.create_superuser("root");
    app.create_group("analysts", &[]);
    let access = app.access_for("root").await;
    let (first, second) = ("marble-kettle-52", "violet-harbour-18");

    let (status, created) = json_of(
        app.post_as(
            "/api/users/",
            &access,
            &json!({"username": "bob", "email": "bob@example.com", "password": first, "is_staff": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let bob = created["id"].as_i64().unwrap_or_default();
    let path = format!("/api/users/{bob}/");
    let (status, body) = json_of(
        app.patch_as(
            &path,
            &access,
            &json!({"is_active": false, "groups": ["analysts"], "first_name": "Bob"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = json_of(
        app.patch_as(&path, &access, &json!({"password": second}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = json_of(
        app.put_as(
            &path,
            &access,
            &json!({"username": "robert", "is_active": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deleted = app.delete_as(&path, &access).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let events = events(&app).await;
    let about_bob: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e.subject_id == Some(bob))
        .map(|e| (e.kind.as_str(), e.username.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        about_bob,
        [
            (
                "user_created",
                "bob",
                "is_active: true, is_staff: true, is_superuser: false"
            ),
            (
                "user_changed",
                "bob",
                "first_name:  -> Bob; is_active: true -> false; groups: +analysts"
            ),
            (
                "password_changed",
                "bob",
                "set by an administrator; 0 refresh token(s) revoked"
            ),
            (
                "user_changed",
                "robert",
                "username: bob -> robert; is_active: false -> true"
            ),
            ("user_deleted", "robert", "0 refresh token(s) revoked"),
        ]
    );
    assert!(
        events
            .iter()
            .filter(|e| e.subject_id == Some(bob))
            .all(|e| e.actor_id == Some(root) && e.client_address == "127.0.0.1"),
        "made by root, from here"
    );
    assert_no_secret(&events, &[first, second, &access]);
}

#[actix_web::test]
async fn group_and_permission_changes_through_the_api_are_recorded() {
    let app = spawn_app().await;
    let root = app.create_superuser("root");
    let access = app.access_for("root").await;

    let (status, permission) = json_of(
        app.post_as(
            "/api/permissions/",
            &access,
            &json!({"codename": "reports.view_report", "name": "Can view report"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{permission}");
    let permission_id = permission["id"].as_i64().unwrap_or_default();
    let (status, group) = json_of(
        app.post_as(
            "/api/groups/",
            &access,
            &json!({"name": "ops", "permissions": ["reports.view_report"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_id = group["id"].as_i64().unwrap_or_default();
    let group_path = format!("/api/groups/{group_id}/");
    let (status, body) = json_of(
        app.patch_as(
            &group_path,
            &access,
            &json!({"name": "operators", "permissions": []}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.delete_as(&group_path, &access).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete_as(&format!("/api/permissions/{permission_id}/"), &access)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let refused = app
        .delete_as(&format!("/api/groups/{group_id}/"), &access)
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "a second delete");

    let events = events(&app).await;
    let admin: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.kind != "login_succeeded")
        .map(|e| (e.kind.as_str(), e.detail.as_str()))
        .collect();
    let permission_text =
        format!("permission reports.view_report (id {permission_id}): Can view report");
    assert_eq!(
        admin,
        [
            ("permission_created", permission_text.as_str()),
            (
                "group_created",
                format!("group ops (id {group_id}); permissions: reports.view_report").as_str()
            ),
            (
                "group_changed",
                format!(
                    "group operators (id {group_id}); name: ops -> operators; permissions: -reports.view_report"
                )
                .as_str()
            ),
            (
                "group_deleted",
                format!("group operators (id {group_id})").as_str()
            ),
            ("permission_deleted", permission_text.as_str()),
        ],
        "a refused action records nothing"
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor_id == Some(root) && e.subject_id.is_none_or(|s| s == root))
    );
}

#[actix_web::test]
async fn signup_is_recorded_as_a_user_created_by_themselves() {
    let app = spawn_app().await;
    let (status, body) = json_of(
        app.post_json(
            "/api/signup/",
            &json!({"username": "dora", "email": "dora@example.com", "password": "saffron-meadow-27"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let dora = body["id"].as_i64().unwrap_or_default();
    let events = events(&app).await;
    let created = one(&events, EventKind::UserCreated);
    assert_eq!(
        (
            created.actor_id,
            created.subject_id,
            created.username.as_str(),
            created.detail.as_str()
        ),
        (Some(dora), Some(dora), "dora", "signed up")
    );
    assert_no_secret(&events, &["saffron-meadow-27"]);
}

#[actix_web::test]
async fn many_events_in_quick_succession_all_land_in_few_transactions() {
    let owned = spawn_app().await;
    let app = &owned;
    let guesses = (0..40).map(|n| {
        let body = json!({"username": format!("ghost{n}"), "password": "guess"});
        async move { app.post_json("/api/token/", &body).await.status() }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
    for n in 0..1000 {
        app.audit.record(
            NewEvent::new(EventKind::UserChanged, app.clock.now())
                .actor(n)
                .detail("bulk"),
        );
    }
    let events = events(app).await;
    assert_eq!(of_kind(&events, EventKind::LoginFailed).len(), 40);
    let bulk: Vec<i64> = events
        .iter()
        .filter(|e| e.detail == "bulk")
        .filter_map(|e| e.actor_id)
        .collect();
    assert_eq!(bulk, (0..1000).collect::<Vec<_>>(), "every one, in order");
    let stats = app.audit.stats();
    assert_eq!((stats.written, stats.dropped), (1040, 0), "{stats:?}");
    assert!(
        stats.batches * 10 <= stats.written,
        "written in batches, not one transaction each: {stats:?}"
    );
}

fn rename_table(app: &TestApp, from: &str, to: &str) {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => diesel::sql_query(format!("ALTER TABLE {from} RENAME TO {to}")).execute(c))
    })
    .unwrap_or_else(|e| panic!("rename {from}: {e}"));
}

#[actix_web::test]
async fn a_failing_audit_write_never_fails_the_action_and_its_events_land_later() {
    let app = spawn_app().await;
    let root = app.create_superuser("root");
    let alice = app.create_user("alice");
    rename_table(&app, "security_events", "security_events_away");

    let (_, access) = app.login("alice", PASSWORD).await;
    let (status, _) = json_of(
        app.post_as(
            "/api/me/password/",
            &access,
            &json!({"current_password": PASSWORD, "new_password": "copper-lantern-93"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the password change went through");
    let (status, body) = obtain(&app, "alice", PASSWORD).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({ "detail": NO_ACCOUNT })),
        "the old password is refused as always"
    );
    let root_access = app.access_for("root").await;
    let (status, body) = json_of(
        app.patch_as(
            &format!("/api/users/{alice}/"),
            &root_access,
            &json!({"last_name": "Liddell"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let audit = app.audit.clone();
    let stored = actix_web::rt::task::spawn_blocking(move || audit.flush(Duration::from_secs(5)))
        .await
        .unwrap_or(true);
    assert!(!stored, "nothing could be written");
    let stats = app.audit.stats();
    assert!(stats.failed_writes >= 1, "{stats:?}");
    assert_eq!((stats.written, stats.dropped), (0, 0), "{stats:?}");

    rename_table(&app, "security_events_away", "security_events");
    let events = events(&app).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "login_succeeded",
            "password_changed",
            "login_failed",
            "login_succeeded",
            "user_changed"
        ],
        "kept and written once the table was back"
    );
    assert_eq!(events[4].actor_id, Some(root));
}

/// Events recorded now, then the clock moved past the retention: the writer's hourly purge
/// (by the app's clock) removes them and keeps what is newer.
#[actix_web::test]
async fn the_retention_purge_runs_on_the_apps_clock() {
    let app = spawn_app().await;
    app.create_user("alice");
    app.login("alice", PASSWORD).await;
    obtain(&app, "alice", "wrong-password").await;
    assert_eq!(events(&app).await.len(), 2);

    app.clock.advance(Duration::from_secs(91 * 86_400));
    app.login("alice", PASSWORD).await;
    flush(&app).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stored_events(&app).len() > 1 && std::time::Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let left = stored_events(&app);
    let kinds: Vec<&str> = left.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["login_succeeded"], "only the newest is kept");
    assert!(app.audit.stats().purged >= 2, "{:?}", app.audit.stats());
}

#[actix_web::test]
async fn a_zero_retention_keeps_events_forever() {
    let app = spawn_app_with(|s| s.audit_retention = Duration::ZERO).await;
    app.create_user("alice");
    app.login("alice", PASSWORD).await;
    flush(&app).await;
    app.clock.advance(Duration::from_secs(10 * 365 * 86_400));
    // The writer wakes every second to see whether a purge is due.
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    app.login("alice", PASSWORD).await;
    assert_eq!(
        of_kind(&events(&app).await, EventKind::LoginSucceeded).len(),
        2
    );
    assert_eq!(app.audit.stats().purged, 0);
}
