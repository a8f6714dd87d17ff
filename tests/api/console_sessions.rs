//! Console sessions over HTTP: renewal at sign-in, logout (a CSRF-checked POST), the idle and
//! absolute timeouts on keyward's clock, and the end of a session as soon as its admin is no
//! longer active staff or their security stamp changes.

use std::time::Duration;

use diesel::prelude::*;
use keyward::db::schema::admin_sessions;
use keyward::db::stored_time;
use reqwest::StatusCode;
use serde_json::json;
use time::PrimitiveDateTime;

use crate::console_client::{ConsoleClient, session_count, staff_with, superuser, user_row};
use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app};

const MINUTE: Duration = Duration::from_secs(60);
const NEW_PASSWORD: &str = "marmalade-orbit-77";

/// Asserts that the browser's session still opens the dashboard.
async fn assert_signed_in(browser: &mut ConsoleClient<'_>, case: &str) {
    let page = browser.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK, "{case}: {:?}", page.location);
}

/// As [`assert_signed_in`], then waits until the session's activity is stored. keyward records
/// activity without holding up the page (at most once a minute); a test that moves the clock
/// by minutes between requests must not outrun that write.
async fn assert_active(app: &TestApp, browser: &mut ConsoleClient<'_>, case: &str) {
    let requested = stored_time(app.clock.now());
    assert_signed_in(browser, case).await;
    for _ in 0..500 {
        let seen: Vec<PrimitiveDateTime> = app
            .with_db(|conn| {
                keyward::with_conn!(conn, c => admin_sessions::table
                    .select(admin_sessions::last_seen_at)
                    .load(c))
            })
            .unwrap_or_else(|e| panic!("sessions: {e}"));
        if seen.iter().any(|t| *t >= requested) {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{case}: the session's activity was never recorded");
}

/// Asserts that the browser is sent to the sign-in page, now and on the next request.
async fn assert_signed_out(browser: &mut ConsoleClient<'_>, case: &str) {
    for attempt in ["first", "second"] {
        browser.get("/admin/users/").await.assert_redirect(
            "/admin/login/?next=%2Fadmin%2Fusers%2F",
            &format!("{case} ({attempt} request)"),
        );
    }
}

/// `PATCH /api/users/{id}/` with a bearer token.
async fn patch_user(app: &TestApp, access: &str, id: i64, body: serde_json::Value) {
    let response = app
        .client
        .patch(app.url(&format!("/api/users/{id}/")))
        .bearer_auth(access)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PATCH /api/users/{id}/: {e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_web::test]
async fn signing_in_again_renews_the_session_and_ends_the_old_one_at_once() {
    let app = spawn_app().await;
    staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    // Several rounds: the old token must be dead by the time the new cookie arrives, not a
    // moment later.
    for round in 1..=20 {
        let first = browser.cookie("keyward_session").unwrap_or_default();
        let first_csrf = browser.csrf().to_owned();
        let form = ConsoleClient::new(&app).get("/admin/login/").await.csrf();
        browser.set_cookie("keyward_login_csrf", Some(&form));
        let fields = [
            ("csrf_token", form.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ];
        browser
            .post("/admin/login/", &fields)
            .await
            .assert_redirect(
                "/admin/",
                &format!("round {round}: sign-in with a live session"),
            );
        let mut old = ConsoleClient::new(&app);
        old.set_cookie("keyward_session", Some(&first));
        assert_signed_out(&mut old, &format!("round {round}: the replaced cookie")).await;

        let second = browser.cookie("keyward_session").unwrap_or_default();
        assert_ne!(first, second, "round {round}: a new session token");
        browser.refresh_csrf().await;
        assert_ne!(
            first_csrf,
            browser.csrf(),
            "round {round}: and a new CSRF token"
        );
        assert_eq!(session_count(&app), 1, "round {round}: one session row");
    }
}

#[actix_web::test]
async fn logout_is_a_csrf_checked_post_that_ends_the_session() {
    let app = spawn_app().await;
    staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    let cookie = browser.cookie("keyward_session").unwrap_or_default();

    let get = browser.get("/admin/logout/").await;
    assert!(
        matches!(
            get.status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ),
        "GET is no way to sign out: {}",
        get.status
    );
    assert_signed_in(&mut browser, "after GET /admin/logout/").await;

    for (fields, case) in [
        (vec![], "no token"),
        (vec![("csrf_token", "forged")], "a wrong token"),
    ] {
        browser
            .post("/admin/logout/", &fields)
            .await
            .assert_csrf_refused(case);
        assert_signed_in(&mut browser, case).await;
    }

    let page = browser.submit("/admin/logout/", &[]).await;
    page.assert_redirect("/admin/login/?signed_out=1", "logout");
    let removal = page.set_cookie("keyward_session").unwrap_or_default();
    assert!(
        removal.to_ascii_lowercase().contains("max-age=0"),
        "the cookie is removed: {removal}"
    );
    assert!(browser.cookie("keyward_session").is_none());
    let notice = browser.get("/admin/login/?signed_out=1").await;
    assert!(notice.has("You are signed out."), "{}", notice.body);
    assert_eq!(session_count(&app), 0);

    let mut replay = ConsoleClient::new(&app);
    replay.set_cookie("keyward_session", Some(&cookie));
    assert_signed_out(&mut replay, "the cookie after logout").await;
}

#[actix_web::test]
async fn an_idle_session_ends_after_the_idle_timeout() {
    let app = spawn_app().await;
    assert_eq!(app.settings.admin_session_idle_timeout, 30 * MINUTE);
    staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    // Activity every ten minutes keeps it alive well past thirty minutes after sign-in.
    for step in 1..=6 {
        app.clock.advance(10 * MINUTE);
        assert_active(&app, &mut browser, &format!("{} minutes in", step * 10)).await;
    }
    app.clock.advance(31 * MINUTE);
    assert_signed_out(&mut browser, "31 idle minutes").await;

    let mut again = ConsoleClient::signed_in(&app, "alice").await;
    app.clock.advance(30 * MINUTE);
    assert_signed_out(&mut again, "exactly the idle timeout").await;
}

#[actix_web::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = spawn_app().await;
    assert_eq!(app.settings.admin_session_lifetime, 12 * 60 * MINUTE);
    staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    for step in 1..72 {
        app.clock.advance(10 * MINUTE);
        assert_active(&app, &mut browser, &format!("{} minutes in", step * 10)).await;
    }
    app.clock.advance(10 * MINUTE);
    assert_signed_out(&mut browser, "twelve hours after sign-in").await;
}

#[actix_web::test]
async fn deactivating_the_admin_through_the_api_ends_their_console_session() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let alice = staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    let (_, access) = app.login("root", PASSWORD).await;

    patch_user(&app, &access, alice, json!({"is_active": false})).await;
    assert_signed_out(&mut browser, "after PATCH is_active=false").await;
    let page = browser.sign_in("alice", PASSWORD, "/admin/").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "an inactive admin cannot sign in"
    );
    assert_eq!(session_count(&app), 0);
}

#[actix_web::test]
async fn losing_staff_status_in_the_console_ends_the_console_session() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let alice = staff_with(&app, "alice", &[]);
    let mut admin = ConsoleClient::signed_in(&app, "root").await;
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;

    let page = admin
        .submit(
            &format!("/admin/users/{alice}/"),
            &[("username", "alice"), ("is_active", "on")],
        )
        .await;
    page.assert_redirect(&format!("/admin/users/{alice}/"), "is_staff unticked");
    let row = user_row(&app, alice).unwrap_or_else(|| panic!("alice"));
    assert!(row.is_active && !row.is_staff, "{row:?}");
    assert_signed_out(&mut browser, "no longer staff").await;
    assert_signed_in(&mut admin, "the acting superuser").await;
}

#[actix_web::test]
async fn a_password_change_of_the_admin_ends_their_console_session() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let alice = staff_with(&app, "alice", &[]);

    // Alice changes her own password through the API.
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    let (_, access) = app.login("alice", PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/me/password/"))
        .bearer_auth(&access)
        .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /api/me/password/: {e}"));
    assert_eq!(response.status(), StatusCode::OK);
    assert_signed_out(&mut browser, "after her own password change").await;

    // A superuser sets it in the console.
    let mut browser = ConsoleClient::new(&app);
    browser
        .sign_in("alice", NEW_PASSWORD, "/admin/")
        .await
        .assert_redirect("/admin/", "signed in with the new password");
    let mut admin = ConsoleClient::signed_in(&app, "root").await;
    admin
        .submit(
            &format!("/admin/users/{alice}/password/"),
            &[("password1", PASSWORD), ("password2", PASSWORD)],
        )
        .await
        .assert_redirect(&format!("/admin/users/{alice}/"), "password set");
    assert_signed_out(&mut browser, "after a superuser set her password").await;
    assert_signed_in(&mut admin, "the acting superuser").await;

    // "Revoke all tokens" changes the stamp too.
    let mut browser = ConsoleClient::signed_in(&app, "alice").await;
    admin
        .submit(&format!("/admin/users/{alice}/revoke-tokens/"), &[])
        .await
        .assert_redirect(&format!("/admin/users/{alice}/"), "revoke all");
    assert_signed_out(&mut browser, "after revoke all").await;
}

#[actix_web::test]
async fn a_superuser_changing_their_own_password_in_the_console_must_sign_in_again() {
    let app = spawn_app().await;
    let root = superuser(&app, "root");
    let mut admin = ConsoleClient::signed_in(&app, "root").await;
    admin
        .submit(
            &format!("/admin/users/{root}/password/"),
            &[("password1", NEW_PASSWORD), ("password2", NEW_PASSWORD)],
        )
        .await
        .assert_redirect(&format!("/admin/users/{root}/"), "own password set");
    assert_signed_out(&mut admin, "the stamp changed").await;
    admin
        .sign_in("root", NEW_PASSWORD, "/admin/")
        .await
        .assert_redirect("/admin/", "the new password signs in");
}
