//! Forwarding headers (`X-Forwarded-*`, `Forwarded`) count only from a peer listed in
//! `trusted_proxies`: pagination links and the console cookie's `Secure` flag follow them then,
//! and only then.

use reqwest::StatusCode;

use crate::helpers::{TestApp, bearer, json_of, spawn_app, spawn_app_with};

const FORGED: [(&str, &str); 2] = [
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
];

/// Page 1 of `/api/users/` with one user a page, sent with `headers`; returns `next`.
async fn next_link(app: &TestApp, headers: &[(&str, &str)]) -> String {
    app.create_superuser("root");
    app.create_user("second");
    let access = app.access_for("root").await;
    let mut request = app
        .client
        .get(app.url("/api/users/?page_size=1"))
        .header("authorization", bearer(&access));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["next"].as_str().map(str::to_owned).unwrap_or_else(|| {
        panic!("no next link: {body}");
    })
}

#[actix_web::test]
async fn a_forged_x_forwarded_host_from_an_untrusted_peer_is_not_in_next_links() {
    let app = spawn_app().await;
    let next = next_link(&app, &FORGED).await;
    assert_eq!(next, app.url("/api/users/?page_size=1&page=2"));
}

#[actix_web::test]
async fn a_forged_forwarded_header_from_an_untrusted_peer_is_not_in_next_links() {
    let app = spawn_app().await;
    let next = next_link(
        &app,
        &[("forwarded", "for=203.0.113.9;host=evil.example;proto=https")],
    )
    .await;
    assert_eq!(next, app.url("/api/users/?page_size=1&page=2"));
}

#[actix_web::test]
async fn a_trusted_proxys_x_forwarded_host_and_proto_make_the_next_links() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let next = next_link(
        &app,
        &[
            ("x-forwarded-host", "auth.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(
        next,
        "https://auth.example.com/api/users/?page_size=1&page=2"
    );
}

#[actix_web::test]
async fn a_trusted_range_counts_too() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.0/8".into()]).await;
    let next = next_link(&app, &[("forwarded", "host=auth.example.com;proto=https")]).await;
    assert_eq!(
        next,
        "https://auth.example.com/api/users/?page_size=1&page=2"
    );
}

/// The `Set-Cookie` of the sign-in form's CSRF cookie, sent with `headers`.
async fn login_form_cookie(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let mut request = app.client.get(app.url("/admin/login/"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("keyward_login_csrf="))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no login CSRF cookie"))
}

fn is_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

#[actix_web::test]
async fn the_console_cookie_is_secure_only_when_a_trusted_proxy_says_https() {
    let untrusted = spawn_app().await;
    let cookie = login_form_cookie(&untrusted, &FORGED).await;
    assert!(!is_secure(&cookie), "an untrusted peer's word: {cookie}");

    let trusted = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let cookie = login_form_cookie(&trusted, &FORGED).await;
    assert!(is_secure(&cookie), "the trusted proxy's word: {cookie}");
    let cookie = login_form_cookie(&trusted, &[]).await;
    assert!(!is_secure(&cookie), "plain HTTP through it: {cookie}");
}

#[test]
fn trusted_proxies_must_be_addresses_or_ranges() {
    for bad in ["proxy.internal", "10.0.0.0/33", "127.0.0.1:8080"] {
        let settings = keyward::config::Settings {
            trusted_proxies: vec![bad.into()],
            ..keyward::config::Settings::default()
        };
        let error = settings.validate().err().map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .unwrap_or_default()
                .contains("trusted_proxies"),
            "{bad}: {error:?}"
        );
    }
}
