//! The audit log and the console: console sign-ins and actions are recorded with the admin
//! and their session; the events page lists newest first, pages, filters by user, kind and
//! time, and needs `audit.view_securityevent`; the dashboard shows recent incidents.

use keyward::audit::EventKind;
use keyward::db::models::security_event::{self, NewSecurityEvent};
use keyward::db::stored_time;
use reqwest::StatusCode;
use serde_json::json;
use time::OffsetDateTime;

use crate::audit_log::{assert_no_secret, events, flush, of_kind, one};
use crate::console_client::{
    BAD_CREDENTIALS, ConsoleClient, Page, permission_named, staff_with, superuser, token_id,
};
use crate::helpers::{PASSWORD, TestApp, spawn_app};

const VIEW: &str = "audit.view_securityevent";

/// A query, the events it lists (newest first) and what it shows.
type FilterCase<'a> = (&'a [(&'a str, &'a str)], &'a [i64], &'a str);

/// The ids of the events a page lists, in page order.
fn listed(page: &Page) -> Vec<i64> {
    page.body
        .match_indices("<tr id=\"event-")
        .filter_map(|(at, marker)| {
            let rest = &page.body[at + marker.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// Inserts an event straight into the table; returns its id.
fn seed(
    app: &TestApp,
    kind: EventKind,
    at: OffsetDateTime,
    who: (Option<i64>, Option<i64>),
    username: &str,
) -> i64 {
    let row = NewSecurityEvent {
        kind: kind.as_str(),
        at: stored_time(at),
        actor_id: who.0,
        subject_id: who.1,
        username,
        session_id: None,
        client_address: "192.0.2.7",
        user_agent: "seed",
        detail: "seeded",
    };
    app.with_db(|conn| security_event::insert_batch(conn, &[row]))
        .unwrap_or_else(|e| panic!("seed: {e}"));
    crate::audit_log::stored_events(app)
        .last()
        .map(|e| e.id)
        .unwrap_or_default()
}

fn local(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    t.format(f).unwrap_or_default()
}

#[actix_web::test]
async fn console_sign_ins_and_actions_are_recorded_with_the_admin_and_the_session() {
    let app = spawn_app().await;
    let root = superuser(&app, "root");
    let alice = app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;

    let mut stranger = ConsoleClient::new(&app);
    let refused = stranger.sign_in("mallory", "guessing-123", "/admin/").await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.has(BAD_CREDENTIALS), "the answer is as before");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let user_path = format!("/admin/users/{alice}/");
    browser
        .submit(
            &user_path,
            &[
                ("username", "alice"),
                ("email", "alice@example.com"),
                ("first_name", "Alice"),
                ("last_name", ""),
                ("is_active", "on"),
            ],
        )
        .await
        .assert_redirect(&user_path, "edited");
    let new_password = "juniper-signal-64";
    browser
        .submit(
            &format!("{user_path}password/"),
            &[("password1", new_password), ("password2", new_password)],
        )
        .await
        .assert_redirect(&user_path, "password set");
    browser
        .submit(&format!("{user_path}revoke-tokens/"), &[])
        .await
        .assert_redirect(&user_path, "revoked all");

    browser
        .submit(
            "/admin/groups/add/",
            &[("name", "ops"), ("permissions", "auth.view_user")],
        )
        .await
        .assert_redirect("/admin/groups/", "group added");
    browser
        .submit(
            "/admin/permissions/add/",
            &[
                ("codename", "reports.view_report"),
                ("name", "Can view report"),
            ],
        )
        .await
        .assert_redirect("/admin/permissions/", "permission added");
    let permission = permission_named(&app, "reports.view_report")
        .unwrap_or_else(|| panic!("added"))
        .id;
    browser
        .submit(&format!("/admin/permissions/{permission}/delete/"), &[])
        .await
        .assert_redirect("/admin/permissions/", "permission deleted");

    let (live, _) = app.login("alice", new_password).await;
    let token = token_id(&app, &live);
    let token_path = format!("/admin/tokens/{token}/");
    browser
        .submit(&format!("{token_path}revoke/"), &[])
        .await
        .assert_redirect(&token_path, "revoked one");
    browser
        .submit(&format!("{token_path}unrevoke/"), &[])
        .await
        .assert_redirect(&token_path, "lifted");
    let listed_ids = token.to_string();
    browser
        .submit(
            "/admin/tokens/revoke/",
            &[("ids", &listed_ids), ("return_to", "/admin/tokens/")],
        )
        .await
        .assert_redirect("/admin/tokens/", "revoked the selection");
    browser
        .submit(&format!("{user_path}delete/"), &[])
        .await
        .assert_redirect("/admin/users/", "deleted");

    let events = events(&app).await;
    let failed = one(&events, EventKind::LoginFailed);
    assert_eq!(
        (failed.username.as_str(), failed.detail.as_str()),
        ("mallory", "console")
    );
    let console_sign_in = of_kind(&events, EventKind::LoginSucceeded)
        .into_iter()
        .find(|e| e.detail == "console")
        .unwrap_or_else(|| panic!("root's sign-in: {events:?}"));
    assert_eq!(console_sign_in.subject_id, Some(root));

    let by_root: Vec<_> = events
        .iter()
        .filter(|e| e.actor_id == Some(root) && e.kind != "login_succeeded")
        .collect();
    let kinds: Vec<&str> = by_root.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "user_changed",
            "password_changed",
            "tokens_revoked",
            "group_created",
            "permission_created",
            "permission_deleted",
            "tokens_revoked",
            "token_unrevoked",
            "tokens_revoked",
            "user_deleted",
        ]
    );
    let session = by_root[0].session_id.clone().unwrap_or_default();
    assert!(session.starts_with("console:"), "{session}");
    assert!(
        by_root
            .iter()
            .all(|e| e.session_id.as_deref() == Some(session.as_str())),
        "one session: {by_root:?}"
    );
    let details: Vec<(&str, Option<i64>, &str)> = by_root
        .iter()
        .map(|e| (e.kind.as_str(), e.subject_id, e.detail.as_str()))
        .collect();
    assert_eq!(
        details[0],
        (
            "user_changed",
            Some(alice),
            "email:  -> alice@example.com; first_name:  -> Alice"
        )
    );
    assert_eq!(
        details[1],
        (
            "password_changed",
            Some(alice),
            "set by an administrator; 1 refresh token(s) revoked"
        )
    );
    assert_eq!(details[2].1, Some(alice));
    assert!(details[3].2.starts_with("group ops (id "), "{details:?}");
    assert!(
        details[3].2.ends_with("permissions: auth.view_user"),
        "{details:?}"
    );
    assert_eq!(
        details[6],
        (
            "tokens_revoked",
            Some(alice),
            format!(
                "token id {token} (jti {})",
                crate::tokens::claims_of(&live)["jti"]
                    .as_str()
                    .unwrap_or_default()
            )
            .as_str()
        )
    );
    assert_eq!(details[7].0, "token_unrevoked");
    assert_eq!(
        details[8].2,
        format!("1 revoked of the selected token ids {token}")
    );
    assert_eq!(by_root[9].username, "alice", "the name outlives the user");
    assert_no_secret(
        &events,
        &[PASSWORD, new_password, &refresh, &live, "guessing-123"],
    );
}

#[actix_web::test]
async fn the_events_page_lists_newest_first_in_pages_and_filters_by_user_kind_and_time() {
    let app = spawn_app().await;
    staff_with(&app, "auditor", &[VIEW]);
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let base = app.clock.now() - time::Duration::days(10);
    let hour = time::Duration::hours(1);
    let failed = seed(
        &app,
        EventKind::LoginFailed,
        base + hour,
        (None, None),
        "alice",
    );
    let signed_in = seed(
        &app,
        EventKind::LoginSucceeded,
        base + hour * 2,
        (Some(alice), Some(alice)),
        "alice",
    );
    let by_other = seed(
        &app,
        EventKind::UserChanged,
        base + hour * 3,
        (Some(9999), Some(bob)),
        "bob",
    );
    let by_alice = seed(
        &app,
        EventKind::UserChanged,
        base + hour * 4,
        (Some(alice), Some(bob)),
        "bob",
    );
    let locked = seed(
        &app,
        EventKind::LoginLocked,
        base + hour * 5,
        (None, None),
        "Alice",
    );
    for n in 0..30 {
        seed(
            &app,
            EventKind::GroupCreated,
            base + time::Duration::days(1) + time::Duration::minutes(n),
            (Some(9999), None),
            "",
        );
    }
    let mut browser = ConsoleClient::signed_in(&app, "auditor").await;
    flush(&app).await;

    let page = browser.get("/admin/events/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.text_of("event-count").as_deref(), Some("36 events"));
    let first = listed(&page);
    assert_eq!(first.len(), 25);
    assert!(
        first.windows(2).all(|w| w[0] > w[1]),
        "newest first: {first:?}"
    );
    assert!(page.has("deleted user"), "an actor that no longer exists");
    let next = page.link("next").unwrap_or_else(|| panic!("a next page"));
    let second = listed(&browser.get(&next).await);
    assert_eq!(second.len(), 11, "{second:?}");
    assert_eq!(
        second[6..],
        [locked, by_alice, by_other, signed_in, failed],
        "the oldest last"
    );

    let alice_id = alice.to_string();
    let since = local(base + hour * 2 + time::Duration::minutes(30));
    let until = local(base + hour * 4 + time::Duration::minutes(30));
    let cases: [FilterCase<'_>; 6] = [
        (
            &[("user", "alice")],
            &[locked, by_alice, signed_in, failed],
            "a username: what she did, what concerns her, what was typed as her name (any case)",
        ),
        (
            &[("user", &alice_id)],
            &[by_alice, signed_in],
            "an id: what that user did or what concerns them",
        ),
        (&[("kind", "login_failed")], &[failed], "a kind"),
        (
            &[("kind", "user_changed"), ("user", "bob")],
            &[by_alice, by_other],
            "a kind and a user",
        ),
        (
            &[("since", &since), ("until", &until)],
            &[by_alice, by_other],
            "a time range (UTC)",
        ),
        (
            &[("user", "nobody-at-all")],
            &[],
            "a name nothing was recorded under",
        ),
    ];
    for (query, expected, case) in cases {
        let query = serde_urlencoded::to_string(query).unwrap_or_default();
        let page = browser.get(&format!("/admin/events/?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{case}: {}", page.body);
        assert_eq!(listed(&page), expected, "{case}");
        let count = expected.len();
        let shown = format!("{count} event{}", if count == 1 { "" } else { "s" });
        assert_eq!(page.text_of("event-count"), Some(shown), "{case}");
    }

    let page = browser
        .get("/admin/events/?user=alice&kind=login_locked")
        .await;
    assert_eq!(page.input_values("user"), ["alice"], "the filter is kept");
    assert!(page.has("<option value=\"login_locked\" selected>"));
    let page = browser.get("/admin/events/?kind=nonsense").await;
    assert_eq!(page.text_of("event-count").as_deref(), Some("36 events"));
    let page = browser.get("/admin/events/?kind=group_created").await;
    let next = page
        .link("next")
        .unwrap_or_else(|| panic!("30 events: two pages"));
    assert!(next.contains("kind=group_created"), "{next}");
    assert_eq!(listed(&browser.get(&next).await).len(), 5);
    let page = browser.get("/admin/events/?user=a%00b").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn only_staff_holding_the_audit_permission_see_the_events() {
    let app = spawn_app().await;
    staff_with(&app, "viewer", &["auth.view_user", "auth.change_user"]);
    staff_with(&app, "auditor", &[VIEW]);
    superuser(&app, "root");
    app.create_user("alice");
    for _ in 0..5 {
        app.post_json(
            "/api/token/",
            &json!({"username": "alice", "password": "wrong-one"}),
        )
        .await;
    }
    let locked = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    flush(&app).await;

    ConsoleClient::new(&app)
        .get("/admin/events/")
        .await
        .assert_login_required("anonymous");
    let mut viewer = ConsoleClient::signed_in(&app, "viewer").await;
    let refused = viewer.get("/admin/events/").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.has(VIEW), "names the permission");
    let dashboard = viewer.get("/admin/").await;
    assert!(!dashboard.links_to("/admin/events/"), "no link");
    assert!(!dashboard.has("Recent incidents"));

    for name in ["auditor", "root"] {
        let mut browser = ConsoleClient::signed_in(&app, name).await;
        let page = browser.get("/admin/events/").await;
        assert_eq!(page.status, StatusCode::OK, "{name}: {}", page.body);
        let dashboard = browser.get("/admin/").await;
        assert!(
            dashboard.links_to("/admin/events/"),
            "{name}: in the navigation"
        );
        assert!(dashboard.has("Recent incidents"), "{name}");
        assert!(
            dashboard.links_to("/admin/events/?kind=login_locked"),
            "{name}: the lock is an incident: {}",
            dashboard.body
        );
    }
}
