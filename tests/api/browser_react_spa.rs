//! The React example (`examples/react-spa`, built into its `dist/`) in a real headless
//! Chromium, served from a second origin against a live keyward with 3-second access tokens:
//! sign up, the protected page calling `/api/me/` four times a second in two windows at once
//! across several expiries, both windows refreshing at the same moment, a reload, logout in
//! one window reaching the other. No request may fail (a 401 for an access token that
//! expired on its way, on a machine stalled for seconds, counts only if the client's refresh
//! and retry do not recover it), and the one session must end by the logout, never by a
//! reused refresh token. Run with each token transport.
//!
//! Build the example first: `cd clients/js && npm ci && npm run build`, then
//! `cd examples/react-spa && npm ci && npm run build` (`.ci/run` does).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::rt::time::sleep;
use fantoccini::{Client, Locator};
use keyward::audit::EventKind;
use serde_json::json;

use crate::audit_log::{events, of_kind};
use crate::browser::{fill, open_browser_with, shoot, start_driver};
use crate::helpers::{PASSWORD, spawn_app_with};
use crate::second_origin::serve;

/// The built example, or `None` (with a notice) when it is not built and not required.
fn built_example() -> Option<PathBuf> {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/react-spa/dist");
    if dist.join("index.html").is_file() {
        return Some(dist);
    }
    let build = "cd clients/js && npm ci && npm run build && cd ../../examples/react-spa && npm ci && npm run build";
    assert!(
        std::env::var("REQUIRE_BROWSER_TESTS").as_deref() != Ok("1"),
        "examples/react-spa/dist is missing and REQUIRE_BROWSER_TESTS=1: {build}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "*** BROWSER TEST NOT RUN: examples/react-spa is not built ({build}) ***"
    );
    None
}

async fn text(b: &Client, css: &str) -> String {
    match b.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until `css` shows `expected`.
async fn wait_for_text(b: &Client, css: &str, expected: &str) {
    for _ in 0..200 {
        if text(b, css).await == expected {
            return;
        }
        sleep(Duration::from_millis(50)).await;
    }
    let log = text(b, "#log").await;
    panic!(
        "{css} never showed {expected:?} (now {:?}); log:\n{log}",
        text(b, css).await
    );
}

/// Waits until the header says `state` (`signed-in`, `signed-out`).
async fn wait_for_session(b: &Client, state: &str) {
    let css = format!("#session[data-state='{state}']");
    let found = b
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&css))
        .await;
    if let Err(e) = found {
        panic!("never {state}: {e}; log:\n{}", text(b, "#log").await);
    }
}

/// What a window saw since it loaded.
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    requests: u32,
    failures: u32,
    retried: u32,
    refreshes: u32,
    adopted: u32,
}

impl Stats {
    /// Failed answers the client did not recover from with a refresh and a retry.
    fn lost(&self) -> u32 {
        self.failures.saturating_sub(self.retried)
    }
}

async fn stats(b: &Client) -> Stats {
    let number = |s: String| s.trim().parse::<u32>().unwrap_or(u32::MAX);
    Stats {
        requests: number(text(b, "#requests").await),
        failures: number(text(b, "#failures").await),
        retried: number(text(b, "#retried").await),
        refreshes: number(text(b, "#refreshes").await),
        adopted: number(text(b, "#adopted").await),
    }
}

async fn react_spa_flow(transport: &str) {
    let Some(dist) = built_example() else {
        return;
    };
    let Some(driver) = start_driver().await else {
        return;
    };
    let site = serve(Vec::new(), Some(&dist)).await;
    let origin = site.origin("127.0.0.1");
    let cookie = transport == "cookie";
    let app = spawn_app_with(move |s| {
        s.access_token_lifetime = Duration::from_secs(3);
        s.cors_allowed_origins = vec![origin];
        if cookie {
            s.token_transport = "cookie".into();
            s.refresh_cookie_secure = false;
        }
    })
    .await;
    site.put(
        "/keyward-config.js",
        "text/javascript",
        format!(
            "window.KEYWARD_CONFIG = {};",
            json!({"url": app.address, "transport": transport, "pollMs": 250})
        ),
    );
    // Both windows stay at full speed, as two windows side by side do.
    let b = open_browser_with(
        &driver,
        None,
        &[
            "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows",
            "--disable-renderer-backgrounding",
        ],
    )
    .await;
    let page = site.origin("127.0.0.1");

    // Sign up (which signs in) and land on the protected page.
    b.goto(&format!("{page}/#/signup"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for_session(&b, "signed-out").await;
    fill(&b, "username", "alice").await;
    fill(&b, "email", "alice@example.com").await;
    fill(&b, "password", PASSWORD).await;
    b.find(Locator::Id("signup"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for_text(&b, "#me-username", "alice").await;
    let first = b.window().await.unwrap_or_else(|e| panic!("{e}"));

    // A second window: signed in from the session already there.
    let second = b
        .new_window(false)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .handle;
    b.switch_to_window(second.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.goto(&format!("{page}/#/me"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for_text(&b, "#me-username", "alice").await;

    // Several expiries while both windows keep calling /api/me/.
    sleep(Duration::from_millis(4500)).await;

    // Both windows refresh at the very same moment.
    let at = b
        .execute("return Date.now() + 1500;", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let at_once = "const at = arguments[0];\
                   setTimeout(() => window.keyward.refresh().catch(() => {}), at - Date.now());";
    b.execute(at_once, vec![at.clone()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.switch_to_window(first.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.execute(at_once, vec![at])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sleep(Duration::from_millis(3000)).await;

    let one = stats(&b).await;
    shoot(&b, &format!("spa-{transport}-first-window")).await;
    b.switch_to_window(second.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let two = stats(&b).await;
    let log = text(&b, "#log").await;
    // Every answer was a success, but for a 401 for an access token that expired on its way (a
    // machine stalled for seconds), which the client refreshed and sent again.
    assert_eq!((one.lost(), two.lost()), (0, 0), "{one:?} {two:?}\n{log}");
    assert!(
        one.requests >= 15 && two.requests >= 15,
        "both windows kept calling: {one:?} {two:?}"
    );
    assert!(
        one.refreshes + two.refreshes >= 4,
        "the tokens were refreshed across several expiries: {one:?} {two:?}"
    );
    assert!(
        one.adopted + two.adopted >= 2,
        "the windows handed refreshed tokens to each other: {one:?} {two:?}"
    );
    let calls: u32 = text(&b, "#me-calls").await.parse().unwrap_or(0);
    assert!(calls >= 15, "the protected page kept answering: {calls}");

    // A reload keeps the session.
    b.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    wait_for_text(&b, "#me-username", "alice").await;
    sleep(Duration::from_millis(2000)).await;
    let reloaded = stats(&b).await;
    assert_eq!(
        reloaded.lost(),
        0,
        "{reloaded:?}\n{}",
        text(&b, "#log").await
    );
    assert!(reloaded.requests >= 5, "{reloaded:?}");

    // Logout in the first window signs the second one out too.
    b.switch_to_window(first.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.find(Locator::Id("logout"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for_session(&b, "signed-out").await;
    let after = stats(&b).await;
    assert_eq!(after.lost(), 0, "{after:?}\n{}", text(&b, "#log").await);
    b.switch_to_window(second)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for_session(&b, "signed-out").await;
    shoot(&b, &format!("spa-{transport}-signed-out")).await;

    // keyward saw one session, refreshed many times, ended by the logout.
    let events = events(&app).await;
    assert_eq!(of_kind(&events, EventKind::LoginSucceeded).len(), 1);
    assert!(
        of_kind(&events, EventKind::RefreshReuse).is_empty(),
        "{events:?}"
    );
    let ended = of_kind(&events, EventKind::SessionEnded);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].detail, "logout", "{ended:?}");
    let (outstanding, _) = app.token_counts();
    assert!(
        outstanding >= 5,
        "one outstanding token per rotation: {outstanding}"
    );
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn the_react_example_stays_signed_in_across_expiries_in_two_windows_with_the_body_transport()
{
    react_spa_flow("body").await;
}

#[actix_web::test]
async fn the_react_example_stays_signed_in_across_expiries_in_two_windows_with_the_cookie_transport()
 {
    react_spa_flow("cookie").await;
}
