//! CORS and the cookie transport seen by a real headless Chromium: pages of a second origin
//! (another port of 127.0.0.1: another origin, the same site, so the browser does send the
//! SameSite=Strict cookie) call keyward with `fetch`.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{open_browser, start_driver};
use crate::helpers::{PASSWORD, TestApp, spawn_app_with};
use crate::second_origin::{Site, serve};

const PAGE: &str = "<!doctype html><html><head><title>page</title></head><body><main>a page of another origin</main></body></html>";

/// Runs `body` (an async function body that may use `kw`, keyward's address, and returns a
/// value) in the page, and returns what it returned (or `{"error": ...}` if it threw).
async fn run(b: &Client, kw: &str, body: &str) -> Value {
    let script = format!(
        "const kw = arguments[0]; const done = arguments[arguments.length - 1];\
         (async () => {{ {body} }})().then(done, (e) => done({{error: e.name + ': ' + e.message}}));"
    );
    b.execute_async(&script, vec![json!(kw)])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}"))
}

/// `fetch` helpers for the page's scripts.
const HELPERS: &str = "const post = async (path, body) => {\
     const r = await fetch(kw + path, {method: 'POST', credentials: 'include',\
       headers: body ? {'content-type': 'application/json'} : {}, body: body ? JSON.stringify(body) : undefined});\
     return [r.status, await r.json()]; };";

async fn cookie_app(listed: &Site) -> TestApp {
    let origin = listed.origin("127.0.0.1");
    spawn_app_with(move |s| {
        s.token_transport = "cookie".into();
        s.refresh_cookie_secure = false; // plain http on loopback, as in development
        s.cors_allowed_origins = vec![origin];
    })
    .await
}

async fn open_page(b: &Client, site: &Site, host: &str) {
    b.goto(&format!("{}/", site.origin(host)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn a_page_of_a_listed_origin_signs_in_refreshes_and_logs_out_through_the_cookie() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let site = serve(vec![("/", "text/html", PAGE.into())], None).await;
    let app = cookie_app(&site).await;
    app.create_user("alice");
    let b = open_browser(&driver, None).await;
    open_page(&b, &site, "127.0.0.1").await;

    let script = format!(
        "{HELPERS}\
         const out = {{}};\
         out.login = await post('/api/token/', {{username: 'alice', password: '{PASSWORD}'}});\
         const me = await fetch(kw + '/api/me/', {{headers: {{authorization: 'Bearer ' + out.login[1].access}}}});\
         out.me = [me.status, await me.json()];\
         out.refresh = await post('/api/token/refresh/');\
         out.scriptSees = document.cookie;\
         out.logout = await post('/api/token/blacklist/');\
         out.after = await post('/api/token/refresh/');\
         return out;"
    );
    let out = run(&b, &app.address, &script).await;
    assert!(out.get("error").is_none(), "{out}");
    assert_eq!(out["login"][0], 200, "{out}");
    let keys: Vec<&String> = out["login"][1]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["access"],
        "the page gets only the access token: {out}"
    );
    assert_eq!(out["me"], json!([200, out["me"][1]]));
    assert_eq!(out["me"][1]["username"], "alice");
    assert_eq!(out["refresh"][0], 200, "the browser sent the cookie: {out}");
    assert_ne!(out["refresh"][1]["access"], out["login"][1]["access"]);
    assert_eq!(
        out["scriptSees"], "",
        "no script of the page can read the refresh cookie"
    );
    assert_eq!(out["logout"], json!([200, {}]));
    assert_eq!(
        out["after"],
        json!([400, {"refresh": ["This field is required."]}]),
        "logout removed the cookie from the browser"
    );
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn a_page_of_an_unlisted_origin_can_neither_read_answers_nor_use_the_cookie() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let listed = serve(vec![("/", "text/html", PAGE.into())], None).await;
    let other = serve(vec![("/", "text/html", PAGE.into())], None).await;
    let app = cookie_app(&listed).await;
    app.create_user("alice");
    let b = open_browser(&driver, None).await;

    // alice signs in on the listed page: the browser now holds her refresh cookie.
    open_page(&b, &listed, "127.0.0.1").await;
    let login = format!(
        "{HELPERS} return await post('/api/token/', {{username: 'alice', password: '{PASSWORD}'}});"
    );
    let out = run(&b, &app.address, &login).await;
    assert_eq!(out[0], 200, "{out}");
    let access = out[1]["access"].as_str().unwrap_or_default().to_owned();
    let counts = app.token_counts();

    // Another origin's scripts cannot read any answer: the browser refuses them.
    open_page(&b, &other, "127.0.0.1").await;
    let script = format!(
        "{HELPERS}\
         const attempt = async (f) => {{ try {{ await f(); return 'read'; }} catch (e) {{ return e.name; }} }};\
         return {{\
           me: await attempt(() => fetch(kw + '/api/me/', {{headers: {{authorization: 'Bearer {access}'}}}})),\
           login: await attempt(() => post('/api/token/', {{username: 'alice', password: '{PASSWORD}'}})),\
           refresh: await attempt(() => fetch(kw + '/api/token/refresh/', {{method: 'POST', credentials: 'include'}})),\
         }};"
    );
    let out = run(&b, &app.address, &script).await;
    assert_eq!(
        out,
        json!({"me": "TypeError", "login": "TypeError", "refresh": "TypeError"})
    );

    // A form posted from that page does reach keyward with the cookie (same site), and is
    // refused by the Origin check; the browser shows keyward's answer.
    let form = format!(
        "const f = document.createElement('form'); f.method = 'post';\
         f.action = '{}/api/token/refresh/'; document.body.appendChild(f); f.submit();",
        app.address
    );
    b.execute(&form, vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = b
        .wait()
        .for_element(Locator::Css("pre"))
        .await
        .unwrap_or_else(|e| panic!("keyward's answer: {e}"))
        .text()
        .await
        .unwrap_or_default();
    let expected = json!({
        "detail": format!(
            "CSRF Failed: Origin checking failed - {} does not match any trusted origins.",
            other.origin("127.0.0.1")
        ),
        "code": "csrf_failed",
    });
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap_or_default(),
        expected,
        "{text}"
    );
    assert_eq!(
        app.token_counts(),
        counts,
        "nothing was rotated or blacklisted"
    );

    // The session is intact: the listed page still refreshes.
    open_page(&b, &listed, "127.0.0.1").await;
    let out = run(
        &b,
        &app.address,
        &format!("{HELPERS} return await post('/api/token/refresh/');"),
    )
    .await;
    assert_eq!(out[0], 200, "{out}");
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn with_the_body_transport_a_listed_page_reads_answers_and_another_cannot() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let site = serve(vec![("/", "text/html", PAGE.into())], None).await;
    let origin = site.origin("127.0.0.1");
    let app = spawn_app_with(move |s| s.cors_allowed_origins = vec![origin]).await;
    app.create_user("alice");
    let b = open_browser(&driver, None).await;
    let script = format!(
        "try {{\
           const r = await fetch(kw + '/api/token/', {{method: 'POST', headers: {{'content-type': 'application/json'}},\
             body: JSON.stringify({{username: 'alice', password: '{PASSWORD}'}})}});\
           const body = await r.json();\
           return [r.status, Object.keys(body)];\
         }} catch (e) {{ return e.name; }}"
    );

    open_page(&b, &site, "127.0.0.1").await;
    let out = run(&b, &app.address, &script).await;
    assert_eq!(out, json!([200, ["refresh", "access"]]), "simplejwt's pair");

    // localhost and 127.0.0.1 are different origins.
    open_page(&b, &site, "localhost").await;
    let out = run(&b, &app.address, &script).await;
    assert_eq!(out, json!("TypeError"));
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}
