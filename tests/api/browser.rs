//! The console in a real headless Chromium, driven through chromedriver (WebDriver). These
//! tests need Debian's `chromium` and `chromium-driver`. Without them they fail when
//! `REQUIRE_BROWSER_TESTS=1` (CI sets it) and otherwise say loudly that they did not
//! run, so `cargo test` works on a machine without a browser.
//! Screenshots of the main pages go to `target/tmp/console-screenshots/`.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app};

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    port: u16,
    home: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMEDRIVER") {
        let path = PathBuf::from(path);
        return path.exists().then_some(path);
    }
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Starts chromedriver, or `None` when this machine has none and the run does not require it.
async fn start_driver() -> Option<Driver> {
    let Some(binary) = chromedriver() else {
        let required = std::env::var("REQUIRE_BROWSER_TESTS").as_deref() == Ok("1");
        assert!(
            !required,
            "chromedriver not found and REQUIRE_BROWSER_TESTS=1: apt-get install chromium chromium-driver"
        );
        // Written to the process's stderr directly, past the test harness's capture.
        let _ = writeln!(
            std::io::stderr(),
            "*** BROWSER TEST NOT RUN: chromedriver not found (apt-get install chromium chromium-driver; \
             REQUIRE_BROWSER_TESTS=1 makes this a failure) ***"
        );
        return None;
    };
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("TMPDIR", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}"));
    let driver = Driver { child, port, home };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(driver);
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(driver: &Driver) -> Client {
    open_browser(driver, None).await
}

/// A headless Chromium session; `logging` sets `goog:loggingPrefs` (to read its console log).
async fn open_browser(driver: &Driver, logging: Option<serde_json::Value>) -> Client {
    let profile = driver
        .home
        .path()
        .join(format!("profile-{}", uuid::Uuid::new_v4().simple()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-crash-reporter", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(mut caps) = caps else {
        unreachable!()
    };
    if let Some(logging) = logging {
        caps.insert("goog:loggingPrefs".into(), logging);
    }
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("cannot open a browser session: {e}"))
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

async fn shoot(b: &Client, name: &str) {
    let png = b
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    assert!(
        png.starts_with(b"\x89PNG"),
        "screenshot {name} is not a PNG"
    );
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png)
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn fill(b: &Client, id: &str, value: &str) {
    let field = b
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("field #{id}: {e}"));
    field.clear().await.unwrap_or_else(|e| panic!("{e}"));
    field
        .send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Clicks something that loads a new page and waits until the new page is there.
async fn navigate(b: &Client, css: &str) {
    let old = b
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    click(b, css).await;
    settle(b, old).await;
}

async fn settle(b: &Client, old: fantoccini::elements::Element) {
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main"))
        .await
        .unwrap_or_else(|e| panic!("page did not load: {e}"));
}

async fn page_text(b: &Client) -> String {
    b.find(Locator::Css("body"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default()
}

async fn path(b: &Client) -> String {
    b.current_url()
        .await
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

async fn sign_in(b: &Client, app: &TestApp, username: &str) {
    b.goto(&app.url("/admin/"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        path(b).await,
        "/admin/login/",
        "an anonymous visit goes to the sign-in page"
    );
    fill(b, "username", username).await;
    fill(b, "password", PASSWORD).await;
    navigate(b, "#sign-in").await;
}

#[actix_web::test]
async fn an_admin_manages_a_user_and_revokes_their_tokens_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user_with(
        "root",
        PASSWORD,
        UserFlags {
            staff: true,
            superuser: true,
            ..UserFlags::default()
        },
    );
    let b = browser(&driver).await;

    b.goto(&app.url("/admin/"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    shoot(&b, "01-login").await;
    sign_in(&b, &app, "root").await;
    assert_eq!(path(&b).await, "/admin/");
    assert!(page_text(&b).await.contains("Signed in as root"));
    shoot(&b, "02-dashboard").await;

    // A custom permission, then a user who holds it.
    navigate(&b, "a[href='/admin/permissions/']").await;
    fill(&b, "codename", "reports.view_report").await;
    fill(&b, "perm-name", "Can view report").await;
    navigate(&b, "#add-permission").await;
    assert!(
        page_text(&b)
            .await
            .contains("The permission reports.view_report was added.")
    );
    shoot(&b, "03-permissions").await;

    // A group holding that permission.
    navigate(&b, "a[href='/admin/groups/']").await;
    navigate(&b, "#add-group").await;
    fill(&b, "name", "analysts").await;
    click(&b, "input[name='permissions'][value='reports.view_report']").await;
    navigate(&b, "#save").await;
    let text = page_text(&b).await;
    assert!(
        text.contains("The group “analysts” was added.") && text.contains("reports.view_report"),
        "{text}"
    );
    shoot(&b, "03b-groups").await;

    navigate(&b, "a[href='/admin/users/']").await;
    shoot(&b, "03c-users").await;
    navigate(&b, "#add-user").await;
    fill(&b, "username", "carol").await;
    fill(&b, "email", "carol@example.com").await;
    fill(&b, "password", PASSWORD).await;
    click(&b, "#user_permissions option[value='reports.view_report']").await;
    navigate(&b, "#save").await;
    let text = page_text(&b).await;
    assert!(text.contains("The user “carol” was added."), "{text}");
    shoot(&b, "04-user-form").await;

    // carol logs in through the API and holds the permission.
    let (refresh, access) = app.login("carol", PASSWORD).await;
    let check = app
        .get(
            "/api/auth/check?permission=reports.view_report",
            Some(&format!("Bearer {access}")),
        )
        .await;
    assert_eq!(check.status(), StatusCode::OK);

    // Revoke her refresh token from the token list.
    navigate(&b, "a[href='/admin/tokens/']").await;
    fill(&b, "q", "carol").await;
    navigate(&b, "form.filters button").await;
    shoot(&b, "05-tokens").await;
    click(&b, "input[name='ids']").await;
    navigate(&b, "#revoke-selected").await;
    assert!(page_text(&b).await.contains("1 token(s) revoked."));
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Token is blacklisted")),
        "the API refuses the revoked token at once"
    );
    navigate(&b, "a[href='/admin/blacklist/']").await;
    assert!(page_text(&b).await.contains("carol"));
    shoot(&b, "06-blacklist").await;

    // "Revoke all tokens of this user" kills her new access token too.
    let (_, second_access) = app.login("carol", PASSWORD).await;
    assert_eq!(app.me(&second_access).await.status(), StatusCode::OK);
    navigate(&b, "a[href='/admin/users/']").await;
    let old = b
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.find(Locator::LinkText("carol"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&b, old).await;
    assert!(page_text(&b).await.contains("User carol"));
    let old = b
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    click(&b, "#revoke-all").await;
    b.accept_alert()
        .await
        .unwrap_or_else(|e| panic!("the confirmation dialog: {e}"));
    settle(&b, old).await;
    assert!(
        page_text(&b)
            .await
            .contains("All tokens of this user were revoked")
    );
    let (status, body) = json_of(app.me(&second_access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "password_changed");

    // Sign out.
    navigate(&b, "#logout").await;
    assert_eq!(path(&b).await, "/admin/login/");
    assert!(page_text(&b).await.contains("You are signed out."));
    b.goto(&app.url("/admin/users/"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(path(&b).await, "/admin/login/", "the session is gone");
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn a_forged_form_without_the_sessions_csrf_token_is_refused_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user_with(
        "root",
        PASSWORD,
        UserFlags {
            staff: true,
            superuser: true,
            ..UserFlags::default()
        },
    );
    let victim = app.create_user("dave");
    let (refresh, _) = app.login("dave", PASSWORD).await;
    let b = browser(&driver).await;
    sign_in(&b, &app, "root").await;
    assert_eq!(path(&b).await, "/admin/");

    // A form built by a script with a guessed token, posted from the signed-in browser.
    let script = format!(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/admin/users/{victim}/revoke-tokens/';\
         const i = document.createElement('input'); i.name = 'csrf_token'; i.value = 'forged'; f.appendChild(i);\
         document.body.appendChild(f); f.submit();"
    );
    let old = b
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.execute(&script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&b, old).await;
    let text = page_text(&b).await;
    assert!(text.contains("CSRF verification failed"), "{text}");
    shoot(&b, "07-csrf-refused").await;
    let (status, _) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "nothing was revoked");
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

#[actix_web::test]
async fn a_non_staff_user_is_refused_like_a_wrong_password_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user("erin");
    let b = browser(&driver).await;
    sign_in(&b, &app, "erin").await;
    assert_eq!(path(&b).await, "/admin/login/");
    let refused = page_text(&b).await;
    assert!(
        refused.contains("Please enter the correct username and password for a staff account"),
        "{refused}"
    );
    shoot(&b, "08-login-refused").await;
    fill(&b, "username", "erin").await;
    fill(&b, "password", "not-her-password").await;
    navigate(&b, "#sign-in").await;
    let wrong = b
        .find(Locator::Id("login-error"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    let staff = b.goto(&app.url("/admin/login/")).await;
    assert!(staff.is_ok());
    assert!(
        refused.contains(&wrong),
        "same message for non-staff and wrong password: {wrong}"
    );
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}

/// A browser whose console messages can be read with [`console_log`].
async fn browser_with_console_log(driver: &Driver) -> Client {
    open_browser(driver, Some(json!({"browser": "ALL"}))).await
}

async fn console_log(driver: &Driver, b: &Client) -> Vec<String> {
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
