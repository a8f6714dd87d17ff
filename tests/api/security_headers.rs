//! Response headers: every console answer (pages, error pages, redirects, assets) carries a
//! strict content security policy, refuses framing and sniffing, keeps the referrer on the
//! site and is not stored by caches; every API answer refuses sniffing, and every answer that
//! carries or judges a token is not stored either (RFC 6749 section 5.1).

use diesel::prelude::*;
use keyward::db::schema::outstanding_tokens;
use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::console_client::{ConsoleClient, staff_with, superuser};
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

const CONSOLE_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Asserts the console's headers (and `Cache-Control: no-store` unless `cache` says otherwise).
fn assert_console_headers(response: &Response, cache: &str, case: &str) {
    let headers = response.headers();
    for (name, value) in CONSOLE_HEADERS
        .into_iter()
        .chain([("cache-control", cache)])
    {
        assert_eq!(header(headers, name), Some(value), "{case}: {name}");
        assert_eq!(
            headers.get_all(name).iter().count(),
            1,
            "{case}: one {name}"
        );
    }
}

/// (method, path, session cookie, form, expected status, what kind of answer)
type ConsoleCase<'a> = (
    Method,
    String,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    StatusCode,
    &'a str,
);

/// A console request with the session cookie of `session` (none when signed out).
async fn console(
    app: &TestApp,
    method: Method,
    path: &str,
    session: Option<&str>,
    form: &[(&str, &str)],
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(session) = session {
        request = request.header("cookie", format!("keyward_session={session}"));
    }
    if !form.is_empty() {
        request = request.form(form);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[actix_web::test]
async fn every_kind_of_console_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    superuser(&app, "root");
    staff_with(&app, "clerk", &[]);
    let bob = app.create_user("bob");
    let group = app.create_group("analysts", &[]);
    app.login("bob", PASSWORD).await;
    let token: i64 = app.with_db(|conn| {
        keyward::with_conn!(conn, c => outstanding_tokens::table
            .select(outstanding_tokens::id)
            .first(c))
        .unwrap_or_else(|e| panic!("{e}"))
    });
    let root = ConsoleClient::signed_in(&app, "root").await;
    let root_session = root.cookie("keyward_session");
    let csrf = root.csrf().to_owned();
    let clerk = ConsoleClient::signed_in(&app, "clerk").await;
    let clerk_session = clerk.cookie("keyward_session");
    let (root_session, clerk_session) = (root_session.as_deref(), clerk_session.as_deref());

    let get = Method::GET;
    let post = Method::POST;
    let cases: Vec<ConsoleCase> = vec![
        (
            get.clone(),
            "/admin".into(),
            None,
            vec![],
            StatusCode::SEE_OTHER,
            "redirect to the dashboard",
        ),
        (
            get.clone(),
            "/admin/".into(),
            None,
            vec![],
            StatusCode::SEE_OTHER,
            "redirect to sign-in",
        ),
        (
            get.clone(),
            "/admin/login/".into(),
            None,
            vec![],
            StatusCode::OK,
            "sign-in page",
        ),
        (
            post.clone(),
            "/admin/login/".into(),
            None,
            vec![("username", "root"), ("password", PASSWORD)],
            StatusCode::FORBIDDEN,
            "sign-in without its CSRF cookie",
        ),
        (
            get.clone(),
            "/admin/nope/".into(),
            None,
            vec![],
            StatusCode::NOT_FOUND,
            "404 page, signed out",
        ),
        (
            get.clone(),
            "/admin/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "dashboard",
        ),
        (
            get.clone(),
            "/admin/users/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "user list",
        ),
        (
            get.clone(),
            "/admin/users/add/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "user form",
        ),
        (
            get.clone(),
            format!("/admin/users/{bob}/"),
            root_session,
            vec![],
            StatusCode::OK,
            "user edit form",
        ),
        (
            get.clone(),
            format!("/admin/users/{bob}/password/"),
            root_session,
            vec![],
            StatusCode::OK,
            "password form",
        ),
        (
            get.clone(),
            format!("/admin/users/{bob}/delete/"),
            root_session,
            vec![],
            StatusCode::OK,
            "confirmation page",
        ),
        (
            get.clone(),
            "/admin/groups/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "group list",
        ),
        (
            get.clone(),
            format!("/admin/groups/{group}/"),
            root_session,
            vec![],
            StatusCode::OK,
            "group form",
        ),
        (
            get.clone(),
            "/admin/permissions/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "permission list",
        ),
        (
            get.clone(),
            "/admin/tokens/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "token list",
        ),
        (
            get.clone(),
            format!("/admin/tokens/{token}/"),
            root_session,
            vec![],
            StatusCode::OK,
            "token detail",
        ),
        (
            get.clone(),
            "/admin/blacklist/".into(),
            root_session,
            vec![],
            StatusCode::OK,
            "blacklist",
        ),
        (
            get.clone(),
            "/admin/users/999999/".into(),
            root_session,
            vec![],
            StatusCode::NOT_FOUND,
            "404 page",
        ),
        (
            get.clone(),
            "/admin/users/".into(),
            clerk_session,
            vec![],
            StatusCode::FORBIDDEN,
            "403 page",
        ),
        (
            post.clone(),
            format!("/admin/users/{bob}/revoke-tokens/"),
            root_session,
            vec![("csrf_token", "forged")],
            StatusCode::FORBIDDEN,
            "CSRF failure page",
        ),
        (
            post.clone(),
            format!("/admin/users/{bob}/revoke-tokens/"),
            root_session,
            vec![("csrf_token", csrf.as_str())],
            StatusCode::SEE_OTHER,
            "redirect after a form",
        ),
        (
            Method::PUT,
            "/admin/users/".into(),
            root_session,
            vec![],
            StatusCode::NOT_FOUND,
            "404 page for another method",
        ),
        (
            post.clone(),
            "/admin/logout/".into(),
            root_session,
            vec![("csrf_token", csrf.as_str())],
            StatusCode::SEE_OTHER,
            "sign-out",
        ),
    ];
    for (method, path, session, form, status, case) in cases {
        let response = console(&app, method.clone(), &path, session, &form).await;
        let case = format!("{case} ({method} {path})");
        assert_eq!(response.status(), status, "{case}");
        assert_console_headers(&response, "no-store", &case);
    }
    for asset in ["/admin/static/admin.css", "/admin/static/admin.js"] {
        let response = console(&app, Method::GET, asset, None, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert_console_headers(&response, "public, max-age=3600", asset);
    }
}

#[actix_web::test]
async fn the_console_pages_need_nothing_the_policy_forbids() {
    // default-src 'self' refuses inline scripts and styles, and other origins: the pages use
    // only the console's own stylesheet and script.
    let app = spawn_app().await;
    superuser(&app, "root");
    let bob = app.create_user("bob");
    app.login("bob", PASSWORD).await;
    let mut root = ConsoleClient::signed_in(&app, "root").await;
    let mut visitor = ConsoleClient::new(&app);
    let mut pages = vec![
        visitor.get("/admin/login/").await,
        visitor.get("/admin/nope/").await,
    ];
    for path in [
        "/admin/".to_owned(),
        "/admin/users/".to_owned(),
        format!("/admin/users/{bob}/"),
        "/admin/groups/add/".to_owned(),
        "/admin/permissions/".to_owned(),
        "/admin/tokens/".to_owned(),
    ] {
        pages.push(root.get(&path).await);
    }
    for page in pages {
        assert!(
            page.has("href=\"/admin/static/admin.css\""),
            "{}",
            page.body
        );
        for inline in [
            "<style",
            " style=",
            "<script>",
            " onclick=",
            " onsubmit=",
            " onchange=",
            "javascript:",
            "http://",
            "https://",
        ] {
            assert!(!page.has(inline), "{inline:?} in {}", page.body);
        }
    }
}

#[actix_web::test]
async fn api_answers_refuse_sniffing_and_token_answers_are_not_stored() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    app.create_user("alice");
    let login = json!({"username": "alice", "password": PASSWORD});
    let response = app.post_json("/api/token/", &login).await;
    let pair: serde_json::Value = {
        assert_token_answer(&response, "obtain");
        response.json().await.unwrap_or_default()
    };
    let refresh = pair["refresh"].as_str().unwrap_or_default().to_owned();
    let access = pair["access"].as_str().unwrap_or_default().to_owned();

    let response = app.post_json("/api/token/sliding/", &login).await;
    assert_token_answer(&response, "sliding obtain");
    let sliding: serde_json::Value = response.json().await.unwrap_or_default();
    let sliding = sliding["token"].as_str().unwrap_or_default().to_owned();
    let response = app
        .post_token("/api/token/sliding/refresh/", "token", &sliding)
        .await;
    assert_token_answer(&response, "sliding refresh");
    let response = app.post_token("/api/token/verify/", "token", &access).await;
    assert_token_answer(&response, "verify");
    let response = app
        .post_token("/api/token/refresh/", "refresh", &refresh)
        .await;
    assert_token_answer(&response, "refresh");
    let rotated: serde_json::Value = response.json().await.unwrap_or_default();
    let rotated = rotated["refresh"].as_str().unwrap_or_default().to_owned();
    let response = app
        .post_token("/api/token/blacklist/", "refresh", &rotated)
        .await;
    assert_token_answer(&response, "blacklist");
    // The logout ended the session of `access`: change the password from another one.
    let (_, access) = app.login("alice", PASSWORD).await;
    let body = json!({"current_password": PASSWORD, "new_password": "orchard-lantern-58"});
    let response = app.post_as("/api/me/password/", &access, &body).await;
    assert_token_answer(&response, "password change");

    // Every other API answer, success or error, refuses sniffing too.
    let others = [
        app.get("/api/me/", None).await,
        app.post_json(
            "/api/token/",
            &json!({"username": "alice", "password": "wrong"}),
        )
        .await,
        app.get("/api/nope/", None).await,
        app.get("/health", None).await,
        app.send(Method::OPTIONS, "/api/token/").await,
    ];
    for response in others {
        let case = format!("{} {}", response.url().path(), response.status());
        assert_eq!(
            header(response.headers(), "x-content-type-options"),
            Some("nosniff"),
            "{case}"
        );
    }
}

fn assert_token_answer(response: &Response, case: &str) {
    let headers = response.headers();
    assert_eq!(response.status(), StatusCode::OK, "{case}");
    assert_eq!(header(headers, "cache-control"), Some("no-store"), "{case}");
    assert_eq!(header(headers, "pragma"), Some("no-cache"), "{case}");
    assert_eq!(
        header(headers, "x-content-type-options"),
        Some("nosniff"),
        "{case}"
    );
}
