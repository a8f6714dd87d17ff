//! The security events page in a real headless Chromium (see `browser.rs` for how these
//! tests are gated): reached from the navigation, filtered by user, kind and time.

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::audit_log::flush;
use crate::browser::{
    click, fill, navigate, open_browser, page_text, shoot, sign_in, start_driver,
};
use crate::console_client::superuser;
use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// The kinds of the event rows shown, in order.
async fn shown_kinds(b: &Client) -> Vec<String> {
    let mut kinds = Vec::new();
    for row in b
        .find_all(Locator::Css("#events tbody tr[data-kind]"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    {
        kinds.push(
            row.attr("data-kind")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
        );
    }
    kinds
}

async fn api_sign_in(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.post_json(
        "/api/token/",
        &json!({"username": username, "password": password}),
    )
    .await
    .status()
}

#[actix_web::test]
async fn an_admin_filters_the_security_events_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    superuser(&app, "root");
    app.create_user("alice");
    app.create_user("bob");
    for (user, password, status) in [
        ("alice", "not-it-1", StatusCode::UNAUTHORIZED),
        ("alice", "not-it-2", StatusCode::UNAUTHORIZED),
        ("alice", PASSWORD, StatusCode::OK),
        ("bob", "not-it-3", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(api_sign_in(&app, user, password).await, status);
    }
    flush(&app).await;

    let b = open_browser(&driver, None).await;
    sign_in(&b, &app, "root").await;
    flush(&app).await;
    navigate(&b, "a[href='/admin/events/']").await;
    let text = page_text(&b).await;
    assert!(
        text.contains("Security events") && text.contains("5 events"),
        "{text}"
    );
    assert_eq!(
        shown_kinds(&b).await,
        [
            "login_succeeded",
            "login_failed",
            "login_succeeded",
            "login_failed",
            "login_failed"
        ],
        "root's console sign-in first, then the API's, newest first"
    );
    shoot(&b, "09-events").await;

    fill(&b, "user", "alice").await;
    click(&b, "#kind option[value='login_failed']").await;
    navigate(&b, "#filter").await;
    assert_eq!(shown_kinds(&b).await, ["login_failed", "login_failed"]);
    let text = page_text(&b).await;
    assert!(
        text.contains("2 events") && text.contains("Failed sign-in"),
        "{text}"
    );
    let url = b
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    assert!(
        url.contains("user=alice") && url.contains("kind=login_failed"),
        "{url}"
    );
    shoot(&b, "10-events-filtered").await;

    // A time range entirely before the events: nothing matches.
    b.execute(
        "document.getElementById('until').value = '2000-01-01T00:00';",
        vec![],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    navigate(&b, "#filter").await;
    assert!(shown_kinds(&b).await.is_empty());
    assert!(page_text(&b).await.contains("No events match."));
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

/// A reused refresh token is an incident: the dashboard lists it, and its link opens the
/// events of that kind.
#[actix_web::test]
async fn a_reused_refresh_token_shows_on_the_dashboard_and_leads_to_its_events() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    superuser(&app, "root");
    app.create_user("alice");
    let (refresh, _) = app.login("alice", PASSWORD).await;
    assert_eq!(app.refresh(&refresh).await.0, StatusCode::OK, "rotation");
    assert_eq!(
        app.refresh(&refresh).await.0,
        StatusCode::UNAUTHORIZED,
        "the rotated token presented again"
    );
    flush(&app).await;

    let b = open_browser(&driver, None).await;
    sign_in(&b, &app, "root").await;
    let incidents = b
        .find(Locator::Css("#incidents"))
        .await
        .unwrap_or_else(|e| panic!("no incidents table on the dashboard: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        incidents.contains("Refresh token reused") && incidents.contains("alice"),
        "{incidents}"
    );
    shoot(&b, "11-dashboard-incident").await;

    navigate(&b, "#incidents tbody a").await;
    assert_eq!(shown_kinds(&b).await, ["refresh_reuse"]);
    let text = page_text(&b).await;
    assert!(text.contains("1 event") && text.contains("alice"), "{text}");
    let url = b
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    assert!(url.contains("kind=refresh_reuse"), "{url}");
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}
