//! The console's sign-in over HTTP: the redirect to the sign-in page, the double-submit CSRF
//! of the form, the session cookie's attributes, where `next` may lead, the single answer for
//! a wrong password and a non-staff account, and throttling.

use reqwest::StatusCode;

use crate::console_client::{
    BAD_CREDENTIALS, ConsoleClient, Page, session_count, staff_with, user_named,
};
use crate::helpers::{PASSWORD, UserFlags, spawn_app, spawn_app_with};

const THROTTLED: &str = "Too many failed sign-in attempts";

/// The attributes of a `Set-Cookie` header after `name=value`, lower-cased.
fn attributes(header: &str) -> Vec<String> {
    header
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// Asserts the console's cookie attributes: HttpOnly, SameSite=Strict, Path=/admin, and no
/// Secure flag over plain HTTP.
fn assert_console_cookie(header: &str, case: &str) {
    let attrs = attributes(header);
    for wanted in ["httponly", "samesite=strict", "path=/admin"] {
        assert!(
            attrs.iter().any(|a| a == wanted),
            "{case}: {wanted} in {header}"
        );
    }
    assert!(
        !attrs.iter().any(|a| a == "secure"),
        "{case}: no Secure over http: {header}"
    );
}

/// A sign-in page with its random CSRF token blanked, to compare two answers.
fn without_csrf(page: &Page) -> String {
    page.input_values("csrf_token")
        .iter()
        .fold(page.body.clone(), |body, token| {
            body.replace(token, "<csrf>")
        })
}

#[actix_web::test]
async fn console_pages_send_a_signed_out_visitor_to_the_sign_in_page_with_next() {
    let app = spawn_app().await;
    let mut browser = ConsoleClient::new(&app);
    for (path, location) in [
        ("/admin/", "/admin/login/?next=%2Fadmin%2F"),
        ("/admin/users/", "/admin/login/?next=%2Fadmin%2Fusers%2F"),
        (
            "/admin/users/?q=ann&page=2",
            "/admin/login/?next=%2Fadmin%2Fusers%2F%3Fq%3Dann%26page%3D2",
        ),
        (
            "/admin/tokens/7/",
            "/admin/login/?next=%2Fadmin%2Ftokens%2F7%2F",
        ),
        (
            "/admin/blacklist/",
            "/admin/login/?next=%2Fadmin%2Fblacklist%2F",
        ),
    ] {
        browser.get(path).await.assert_redirect(location, path);
    }
    browser
        .get("/admin")
        .await
        .assert_redirect("/admin/", "the bare /admin");
    let post = browser
        .post("/admin/users/add/", &[("username", "x")])
        .await;
    post.assert_redirect(
        "/admin/login/?next=%2Fadmin%2F",
        "a POST is not replayed after sign-in: next is the dashboard",
    );
    assert!(user_named(&app, "x").is_none(), "nothing was created");

    let form = browser
        .get("/admin/login/?next=%2Fadmin%2Fusers%2F%3Fq%3Dann%26page%3D2")
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.input_values("next"), ["/admin/users/?q=ann&page=2"]);
}

#[actix_web::test]
async fn a_staff_sign_in_redirects_to_next_and_sets_a_strict_http_only_session_cookie() {
    let app = spawn_app().await;
    staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::new(&app);

    let form = browser.get("/admin/login/").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let login_cookie = form
        .set_cookie("keyward_login_csrf")
        .unwrap_or_else(|| panic!("no login CSRF cookie: {:?}", form.set_cookies));
    assert_console_cookie(login_cookie, "login CSRF cookie");
    assert_eq!(
        browser.cookie("keyward_login_csrf").as_deref(),
        Some(form.csrf().as_str()),
        "double submit: the cookie and the hidden field carry the same value"
    );
    assert!(form.has("name=\"username\"") && form.has("name=\"password\""));

    let page = browser
        .post(
            "/admin/login/",
            &[
                ("csrf_token", &form.csrf()),
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", "/admin/users/?q=a"),
            ],
        )
        .await;
    page.assert_redirect("/admin/users/?q=a", "303 to next");
    let session = page
        .set_cookie("keyward_session")
        .unwrap_or_else(|| panic!("no session cookie: {:?}", page.set_cookies));
    assert_console_cookie(session, "session cookie");
    let value = browser.cookie("keyward_session").unwrap_or_default();
    assert!(value.len() >= 40, "a long random token: {value:?}");
    let removal = page
        .set_cookie("keyward_login_csrf")
        .unwrap_or_else(|| panic!("login CSRF cookie not removed: {:?}", page.set_cookies));
    assert!(
        attributes(removal).iter().any(|a| a == "max-age=0"),
        "removed: {removal}"
    );
    assert!(browser.cookie("keyward_login_csrf").is_none());

    let dashboard = browser.get("/admin/").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(dashboard.has("Signed in as <strong>alice</strong>"));
    assert_eq!(session_count(&app), 1);
    let user = user_named(&app, "alice").unwrap_or_else(|| panic!("alice"));
    assert!(
        user.last_login.is_some(),
        "a console sign-in sets last_login"
    );

    let again = browser.get("/admin/login/?next=%2Fadmin%2Fgroups%2F").await;
    again.assert_redirect(
        "/admin/groups/",
        "the sign-in page sends a signed-in admin on",
    );
}

#[actix_web::test]
async fn next_outside_the_console_lands_on_the_dashboard() {
    let app = spawn_app().await;
    staff_with(&app, "alice", &[]);
    for next in [
        "https://evil.example/",
        "//evil.example/admin/",
        "//evil",
        "/\\evil.example",
        "/admin/\\evil.example",
        "/api/me/",
        "javascript:alert(1)",
        "",
    ] {
        let mut browser = ConsoleClient::new(&app);
        let page = browser.sign_in("alice", PASSWORD, next).await;
        page.assert_redirect("/admin/", &format!("next={next:?}"));
        let form = ConsoleClient::new(&app)
            .get(&format!("/admin/login/?next={}", urlencode(next)))
            .await;
        assert_eq!(
            form.input_values("next"),
            ["/admin/"],
            "the form does not carry next={next:?}"
        );
    }
}

fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .unwrap_or_default()
        .trim_start_matches("v=")
        .to_owned()
}

#[actix_web::test]
async fn a_non_staff_or_inactive_account_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    app.create_user("carol");
    let inactive = UserFlags {
        active: false,
        staff: true,
        superuser: false,
    };
    app.create_user_with("dave", PASSWORD, inactive);

    for (username, why) in [("carol", "not staff"), ("dave", "staff, but inactive")] {
        let mut right = ConsoleClient::new(&app);
        let accepted_password = right.sign_in(username, PASSWORD, "/admin/").await;
        let mut wrong = ConsoleClient::new(&app);
        let wrong_password = wrong.sign_in(username, "not-the-password", "/admin/").await;
        for (page, case) in [
            (&accepted_password, "right password"),
            (&wrong_password, "wrong password"),
        ] {
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{username} {case}: {}",
                page.body
            );
            assert_eq!(
                page.text_of("login-error").as_deref(),
                Some(BAD_CREDENTIALS),
                "{username} {case}"
            );
            assert!(
                page.set_cookie("keyward_session").is_none(),
                "{username} {case}: no session"
            );
            assert!(
                page.set_cookie("keyward_login_csrf").is_some(),
                "{username} {case}: a fresh form token"
            );
        }
        assert_eq!(
            without_csrf(&accepted_password),
            without_csrf(&wrong_password),
            "{username} ({why}): the right password reveals nothing"
        );
        assert!(right.cookie("keyward_session").is_none());
        right
            .get("/admin/")
            .await
            .assert_login_required(&format!("{username} is not signed in"));
    }
    assert_eq!(session_count(&app), 0);
}

#[actix_web::test]
async fn a_sign_in_without_the_login_csrf_pair_is_a_403_and_not_a_failed_attempt() {
    let app = spawn_app().await;
    staff_with(&app, "alice", &[]);
    let form = |csrf: Option<&'static str>| {
        let mut fields = vec![
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", "/admin/"),
        ];
        if let Some(token) = csrf {
            fields.push(("csrf_token", token));
        }
        fields
    };
    let cases: [(Option<&str>, Option<&'static str>, &str); 6] = [
        (None, Some("abc"), "a field but no cookie"),
        (None, None, "neither cookie nor field"),
        (Some("abc"), None, "a cookie but no field"),
        (Some("abc"), Some("abd"), "cookie and field differ"),
        (Some("abc"), Some(""), "an empty field"),
        (Some(""), Some(""), "both empty"),
    ];
    for (cookie, field, case) in cases {
        let mut browser = ConsoleClient::new(&app);
        browser.set_cookie("keyward_login_csrf", cookie);
        let page = browser.post("/admin/login/", &form(field)).await;
        page.assert_csrf_refused(case);
        assert!(page.set_cookie("keyward_session").is_none(), "{case}");
        assert!(browser.cookie("keyward_session").is_none(), "{case}");
    }
    let mut stale = ConsoleClient::new(&app);
    let old_form = stale.get("/admin/login/").await;
    let _ = stale.get("/admin/login/").await;
    stale
        .post(
            "/admin/login/",
            &[
                ("csrf_token", &old_form.csrf()),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_csrf_refused("the token of an older form, after the cookie was renewed");

    assert_eq!(session_count(&app), 0);
    let page = ConsoleClient::new(&app)
        .sign_in("alice", PASSWORD, "/admin/")
        .await;
    page.assert_redirect(
        "/admin/",
        "CSRF refusals are not counted as failed sign-ins",
    );
}

#[actix_web::test]
async fn after_five_failures_the_next_attempt_is_throttled_even_with_the_right_password() {
    let app = spawn_app().await;
    assert_eq!(app.settings.login_attempts_per_pair, 5, "the default");
    staff_with(&app, "alice", &[]);
    staff_with(&app, "bob", &[]);
    let mut browser = ConsoleClient::new(&app);
    for attempt in 1..=5 {
        let page = browser.sign_in("alice", "wrong-password", "/admin/").await;
        assert_eq!(page.status, StatusCode::OK, "attempt {attempt}");
        assert_eq!(
            page.text_of("login-error").as_deref(),
            Some(BAD_CREDENTIALS),
            "attempt {attempt}"
        );
    }
    for (username, case) in [
        (
            "alice",
            "the address and username pair has used up its attempts",
        ),
        ("ALICE", "usernames are counted case-insensitively"),
    ] {
        let page = browser.sign_in(username, PASSWORD, "/admin/").await;
        assert_eq!(
            page.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{case}: {}",
            page.body
        );
        let error = page.text_of("login-error").unwrap_or_default();
        assert!(error.starts_with(THROTTLED), "{case}: {error}");
        assert!(error.contains("minute"), "{case}: says how long: {error}");
        assert!(page.set_cookie("keyward_session").is_none(), "{case}");
    }
    assert_eq!(session_count(&app), 0);
    browser
        .sign_in("bob", PASSWORD, "/admin/")
        .await
        .assert_redirect(
            "/admin/",
            "another account from the same address is not locked by alice's failures",
        );
}

#[actix_web::test]
async fn the_attempt_limit_follows_login_attempts_per_pair() {
    let app = spawn_app_with(|s| s.login_attempts_per_pair = 2).await;
    staff_with(&app, "alice", &[]);
    let mut browser = ConsoleClient::new(&app);
    for attempt in 1..=2 {
        let page = browser.sign_in("alice", "wrong-password", "/admin/").await;
        assert_eq!(page.status, StatusCode::OK, "attempt {attempt}");
    }
    let page = browser.sign_in("alice", PASSWORD, "/admin/").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert_eq!(
        page.header("retry-after").as_deref(),
        Some("60"),
        "the first lock lasts login_lockout"
    );
}

#[actix_web::test]
async fn a_success_does_not_clear_the_failures_counted_for_the_address() {
    let app = spawn_app_with(|s| s.login_attempts_per_address = 3).await;
    staff_with(&app, "alice", &[]);
    staff_with(&app, "bob", &[]);
    for _ in 0..2 {
        let page = ConsoleClient::new(&app)
            .sign_in("alice", "wrong-password", "/admin/")
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    ConsoleClient::new(&app)
        .sign_in("alice", PASSWORD, "/admin/")
        .await
        .assert_redirect("/admin/", "the third attempt, right, passes");
    let page = ConsoleClient::new(&app)
        .sign_in("bob", "wrong-password", "/admin/")
        .await;
    assert_eq!(page.status, StatusCode::OK, "the address's third failure");
    let page = ConsoleClient::new(&app)
        .sign_in("alice", PASSWORD, "/admin/")
        .await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a success does not clear the address's count: {}",
        page.body
    );
}
