//! The browsable API in a real headless Chromium (see [`crate::browser`]): `/api/docs/` lists
//! the operations with nothing but keyward's own files and without breaking its content
//! security policy, and "Try it out" with a pasted access token calls `/api/me/`.

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::browser::{click, shoot, start_driver};
use crate::browser_security::{browser_with_console_log, console_log};
use crate::helpers::spawn_app;

async fn wait_for(b: &Client, css: &str) -> fantoccini::elements::Element {
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

/// The text of the first element matching `css`.
async fn text_of(b: &Client, css: &str) -> String {
    wait_for(b, css).await.text().await.unwrap_or_default()
}

#[actix_web::test]
async fn the_docs_page_lists_the_operations_and_tries_one_with_a_pasted_token() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user("alice");
    let access = app.access_for("alice").await;
    let b = browser_with_console_log(&driver).await;
    b.goto(&app.url("/api/docs/"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for(&b, ".opblock").await;
    let operations = b
        .find_all(Locator::Css(".opblock"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(operations.len() >= 30, "{} operations", operations.len());
    let summaries = text_of(&b, "#swagger-ui").await;
    for summary in [
        "/api/token/",
        "Sign in: a token pair",
        "/api/me/",
        "/health/ready",
    ] {
        assert!(summaries.contains(summary), "{summary} in {summaries}");
    }
    shoot(&b, "api-docs").await;

    // Authorize with the pasted access token.
    click(&b, ".auth-wrapper .authorize").await;
    wait_for(&b, ".modal-ux input")
        .await
        .send_keys(&access)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    click(&b, ".modal-ux .modal-btn.auth").await;
    click(&b, ".modal-ux .btn-done").await;

    // GET /api/me/, opened in "Try it out" (on by default), executed.
    let me = "#operations-account-me_me";
    click(&b, &format!("{me} .opblock-summary-control")).await;
    wait_for(&b, &format!("{me} .execute"))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("execute: {e}"));
    let status = text_of(
        &b,
        &format!("{me} .live-responses-table .response .response-col_status"),
    )
    .await;
    assert_eq!(status.trim(), "200", "the call with the pasted token");
    let body = text_of(
        &b,
        &format!("{me} .live-responses-table .response .microlight"),
    )
    .await;
    assert!(body.contains("\"alice\""), "{body}");

    let log = console_log(&driver, &b).await;
    let violations: Vec<&String> = log
        .iter()
        .filter(|line| line.contains("Content Security Policy") || line.contains("Refused to"))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
}
