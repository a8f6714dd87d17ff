//! The console and the sign-in throttle: the list of current locks, lifting one (a
//! CSRF-checked POST), the permission both need, and a refused sign-in that changes nothing.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::console_client::{BAD_CREDENTIALS, ConsoleClient, staff_with, user_row};
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

const MANAGE: &str = "auth.change_user";

async fn api_login(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.post_json(
        "/api/token/",
        &json!({"username": username, "password": password}),
    )
    .await
    .status()
}

/// Locks the (127.0.0.1, username) pair through the API.
async fn lock_out(app: &TestApp, username: &str) {
    for _ in 0..5 {
        assert_eq!(
            api_login(app, username, "wrong").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        api_login(app, username, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The `action` of every lift form on the page.
fn lift_paths(page: &crate::console_client::Page) -> Vec<String> {
    page.body
        .match_indices("action=\"/admin/locks/")
        .map(|(at, _)| {
            let rest = &page.body[at + "action=\"".len()..];
            rest[..rest.find('"').unwrap_or(rest.len())].to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn the_console_lists_current_locks_and_lifts_one() {
    let app = spawn_app().await;
    staff_with(&app, "root", &[MANAGE]);
    app.create_user("alice");
    app.create_user("bob");
    lock_out(&app, "alice").await;
    lock_out(&app, "bob").await;

    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let page = browser.get("/admin/locks/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.links_to("/admin/locks/"), "in the navigation");
    assert_eq!(page.text_of("lock-count").as_deref(), Some("2 locks"));
    assert!(page.has("<td>alice</td>") && page.has("<td>bob</td>"));
    assert!(page.has("127.0.0.1"));
    assert!(page.has("address and username"));
    let lifts = lift_paths(&page);
    assert_eq!(lifts.len(), 2, "{lifts:?}");
    let alice_row = page.body.find("<td>alice</td>").unwrap_or_default();
    let alice_lift = lifts
        .iter()
        .find(|p| page.body[alice_row..].contains(p.as_str()))
        .cloned()
        .unwrap_or_default();

    browser
        .post(&alice_lift, &[("csrf_token", "forged")])
        .await
        .assert_csrf_refused("a lift without the session's token");
    assert_eq!(
        api_login(&app, "alice", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "still locked"
    );

    browser
        .submit(&alice_lift, &[])
        .await
        .assert_redirect("/admin/locks/", "lifted");
    let page = browser.get("/admin/locks/").await;
    assert!(page.has("The lock was lifted."), "{}", page.body);
    assert_eq!(page.text_of("lock-count").as_deref(), Some("1 lock"));
    assert!(!page.has("<td>alice</td>"));
    assert_eq!(api_login(&app, "alice", PASSWORD).await, StatusCode::OK);
    assert_eq!(
        api_login(&app, "bob", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the other lock stays"
    );

    browser
        .submit(&alice_lift, &[])
        .await
        .assert_redirect("/admin/locks/", "lifting again");
    let page = browser.get("/admin/locks/").await;
    assert!(page.has("There was no such lock."), "{}", page.body);
    for bad in ["zz".to_owned(), "a".repeat(63), "g".repeat(64)] {
        let page = browser
            .submit(&format!("/admin/locks/{bad}/lift/"), &[])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[actix_web::test]
async fn a_lock_leaves_the_list_when_it_ends() {
    let app = spawn_app().await;
    staff_with(&app, "root", &[MANAGE]);
    app.create_user("alice");
    lock_out(&app, "alice").await;
    app.clock.advance(Duration::from_secs(61));
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let page = browser.get("/admin/locks/").await;
    assert_eq!(page.text_of("lock-count").as_deref(), Some("0 locks"));
    assert!(page.has("Nothing is locked."));
}

#[actix_web::test]
async fn the_locks_page_and_lifting_need_auth_change_user() {
    let app = spawn_app().await;
    staff_with(&app, "viewer", &["auth.view_user"]);
    app.create_user("alice");
    lock_out(&app, "alice").await;
    let mut browser = ConsoleClient::signed_in(&app, "viewer").await;
    let dashboard = browser.get("/admin/").await;
    assert!(!dashboard.links_to("/admin/locks/"), "no link without it");
    let page = browser.get("/admin/locks/").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let key = "0".repeat(64);
    let page = browser
        .submit(&format!("/admin/locks/{key}/lift/"), &[])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
}

#[actix_web::test]
async fn a_console_sign_in_locked_out_by_the_api_is_refused_with_429() {
    let app = spawn_app().await;
    staff_with(&app, "root", &[]);
    lock_out(&app, "root").await;
    let page = ConsoleClient::new(&app)
        .sign_in("root", PASSWORD, "/admin/")
        .await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "one scheme for both: {}",
        page.body
    );
    assert!(page.header("retry-after").is_some());
    assert!(page.set_cookie("keyward_session").is_none());
}

#[actix_web::test]
async fn a_non_staff_users_refused_console_sign_in_changes_nothing() {
    let app = spawn_app_with(|s| s.update_last_login = true).await;
    staff_with(&app, "root", &[]);
    let carol = app.create_user("carol");

    let page = ConsoleClient::new(&app)
        .sign_in("carol", PASSWORD, "/admin/")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.text_of("login-error").as_deref(),
        Some(BAD_CREDENTIALS)
    );
    let row = user_row(&app, carol).unwrap_or_else(|| panic!("carol is gone"));
    assert_eq!(row.last_login, None, "last_login is untouched");

    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let dashboard = browser.get("/admin/").await;
    assert!(dashboard.has("Recent sign-ins"), "{}", dashboard.body);
    assert!(
        !dashboard.has("carol"),
        "carol is not among the recent sign-ins: {}",
        dashboard.body
    );
    let root =
        crate::console_client::user_named(&app, "root").unwrap_or_else(|| panic!("root is gone"));
    assert!(root.last_login.is_some(), "an accepted sign-in is recorded");

    assert_eq!(
        api_login(&app, "carol", PASSWORD).await,
        StatusCode::OK,
        "the API login still works"
    );
    let row = user_row(&app, carol).unwrap_or_else(|| panic!("carol is gone"));
    assert!(
        row.last_login.is_some(),
        "and records last_login (update_last_login)"
    );
}
