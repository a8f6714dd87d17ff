//! The console's security headers as a browser enforces them, in a real headless Chromium
//! (see [`crate::browser`] for the driver): the console cannot be framed, its pages need
//! nothing its content security policy forbids, and Back after sign-out shows no cached page.

use std::time::Duration;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{
    Driver, click, navigate, open_browser, page_text, path, shoot, sign_in, start_driver,
};
use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app};

/// A browser whose console messages can be read with [`console_log`].
pub(crate) async fn browser_with_console_log(driver: &Driver) -> Client {
    open_browser(driver, Some(json!({"browser": "ALL"}))).await
}

pub(crate) async fn console_log(driver: &Driver, b: &Client) -> Vec<String> {
    let session = b
        .session_id()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no browser session"));
    let url = format!("http://127.0.0.1:{}/session/{session}/se/log", driver.port);
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({"type": "browser"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("browser log: {e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "browser log: {body}");
    body["value"]
        .as_array()
        .unwrap_or_else(|| panic!("browser log: {body}"))
        .iter()
        .map(|entry| format!("{} {}", entry["level"], entry["message"]))
        .collect()
}

/// A root user (staff superuser) and a browser signed in as root on the dashboard.
async fn signed_in_root(driver: &Driver, app: &TestApp) -> Client {
    app.create_user_with(
        "root",
        PASSWORD,
        UserFlags {
            staff: true,
            superuser: true,
            ..UserFlags::default()
        },
    );
    let b = browser_with_console_log(driver).await;
    sign_in(&b, app, "root").await;
    assert_eq!(path(&b).await, "/admin/");
    b
}

#[actix_web::test]
async fn a_page_of_the_same_site_cannot_frame_the_console_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    let b = signed_in_root(&driver, &app).await;
    // A page of the same origin that frames the signed-in dashboard (and, as the control, an
    // API answer, which may be framed), as a clickjacking page would.
    b.goto(&app.url("/health"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let script = "for (const [id, src] of [['console', '/admin/'], ['control', '/health']]) {\
          const f = document.createElement('iframe'); f.id = id; f.src = src;\
          f.onload = () => { f.dataset.loaded = '1'; }; document.body.appendChild(f); }";
    b.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let read = "const f = document.getElementById(arguments[0]);\
         let text = null; try { const d = f.contentDocument; text = d && d.body ? d.body.innerText : null; } catch (e) {}\
         return [f.dataset.loaded === '1', text];";
    let mut seen = json!(null);
    for _ in 0..100 {
        let control = b
            .execute(read, vec![json!("control")])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let framed = b
            .execute(read, vec![json!("console")])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        seen = json!({"control": control, "console": framed});
        if control[0] == true && framed[0] == true {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["control"][0], true, "the frames loaded: {seen}");
    assert!(
        seen["control"][1]
            .as_str()
            .is_some_and(|t| t.contains("\"status\":\"ok\"")),
        "the control frame shows its page: {seen}"
    );
    let framed = seen["console"][1].as_str().unwrap_or_default();
    assert!(
        !framed.contains("Signed in as") && !framed.contains("Revoke"),
        "the framed console shows nothing: {seen}"
    );
    shoot(&b, "09-framing-refused").await;
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn the_console_works_under_its_content_security_policy_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user("carol");
    for _ in 0..3 {
        app.login("carol", PASSWORD).await;
    }
    let b = signed_in_root(&driver, &app).await;
    for link in [
        "a[href='/admin/users/']",
        "a[href='/admin/groups/']",
        "a[href='/admin/permissions/']",
        "a[href='/admin/tokens/']",
    ] {
        navigate(&b, link).await;
        let styled = b
            .execute(
                "return getComputedStyle(document.body).fontFamily !== getComputedStyle(document.createElement('body')).fontFamily\
                 || document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0;",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(styled, true, "{link}: the stylesheet applies");
    }
    // The select-all box (admin.js) still works on the token list.
    click(&b, "input[data-select-all]").await;
    let checked = b
        .execute(
            "return Array.from(document.querySelectorAll(\"input[name='ids']\")).map(i => i.checked);",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        checked,
        json!([true, true, true]),
        "select-all checked every token"
    );
    let errors: Vec<String> = console_log(&driver, &b)
        .await
        .into_iter()
        .filter(|line| line.contains("SEVERE") || line.contains("Content Security Policy"))
        // The browser asks for a favicon on its own; the console has none (a 404).
        .filter(|line| !line.contains("/favicon.ico "))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // The control: the policy is in force, and its refusals do reach the log read above.
    b.execute(
        "const s = document.createElement('script'); s.textContent = 'document.title = \"inline ran\"';\
         document.head.appendChild(s);",
        vec![],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let title = b.title().await.unwrap_or_default();
    assert_ne!(title, "inline ran", "an inline script is refused");
    let log = console_log(&driver, &b).await;
    assert!(
        log.iter().any(|l| l.contains("Content Security Policy")),
        "the refusal is logged: {log:?}"
    );
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn after_signing_out_the_back_button_does_not_show_the_console_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    let b = signed_in_root(&driver, &app).await;
    navigate(&b, "a[href='/admin/users/']").await;
    assert!(page_text(&b).await.contains("Signed in as root"));
    navigate(&b, "#logout").await;
    assert_eq!(path(&b).await, "/admin/login/");
    b.back().await.unwrap_or_else(|e| panic!("{e}"));
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main"))
        .await
        .unwrap_or_else(|e| panic!("page did not load: {e}"));
    let text = page_text(&b).await;
    assert!(
        !text.contains("Signed in as root"),
        "Back shows no page of the ended session: {} {text}",
        path(&b).await
    );
    assert_eq!(
        path(&b).await,
        "/admin/login/",
        "Back asks to sign in again"
    );
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}
