//! The console in a real headless Chromium, driven through chromedriver (WebDriver). These
//! tests need Debian's `chromium` and `chromium-driver`. Without them they fail when
//! `REQUIRE_BROWSER_TESTS=1` (CI sets it) and otherwise say loudly that they did not
//! run, so `cargo test` works on a machine without a browser.
//! Screenshots of the main pages go to `target/tmp/console-screenshots/`.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app};

/// A chromedriver process, killed on drop.
pub(crate) struct Driver {
    child: Child,
    pub(crate) port: u16,
    pub(crate) home: tempfile::TempDir,
}

impl Drop for Driver {
    /// Ends chromedriver and every Chromium process it started (they share its process
    /// group), so no browser outlives its test.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
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
pub(crate) async fn start_driver() -> Option<Driver> {
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
        .process_group(0)
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
pub(crate) async fn open_browser(driver: &Driver, logging: Option<serde_json::Value>) -> Client {
    open_browser_with(driver, logging, &[]).await
}

/// As [`open_browser`], with more command-line switches for Chromium.
pub(crate) async fn open_browser_with(
    driver: &Driver,
    logging: Option<serde_json::Value>,
    switches: &[&str],
) -> Client {
    let profile = driver
        .home
        .path()
        .join(format!("profile-{}", uuid::Uuid::new_v4().simple()));
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-crash-reporter".into(),
        "--window-size=1280,900".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend(switches.iter().map(|s| (*s).to_owned()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "args": args }
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

pub(crate) async fn shoot(b: &Client, name: &str) {
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

pub(crate) async fn fill(b: &Client, id: &str, value: &str) {
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

pub(crate) async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Clicks something that loads a new page and waits until the new page is there.
pub(crate) async fn navigate(b: &Client, css: &str) {
    let old = b
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    click(b, css).await;
    settle(b, old).await;
}

pub(crate) async fn settle(b: &Client, old: fantoccini::elements::Element) {
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

pub(crate) async fn page_text(b: &Client) -> String {
    b.find(Locator::Css("body"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default()
}

pub(crate) async fn path(b: &Client) -> String {
    b.current_url()
        .await
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

pub(crate) async fn sign_in(b: &Client, app: &TestApp, username: &str) {
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
