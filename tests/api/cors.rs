//! CORS over HTTP: what a listed origin, an unlisted one and no origin get; the settings'
//! checks. The same seen from a real page of another origin is in `browser_cors.rs`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::cli::Sandbox;
use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with};

const SPA: &str = "http://localhost:5173";

async fn spa_app(cookie: bool) -> TestApp {
    spawn_app_with(|s| {
        s.cors_allowed_origins = vec![SPA.into()];
        s.cors_max_age = Duration::from_secs(600);
        if cookie {
            s.token_transport = "cookie".into();
        }
    })
    .await
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("OPTIONS {path}: {e}"))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The names of the `access-control-*` headers of an answer.
fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

fn list(value: Option<String>) -> Vec<String> {
    let mut items: Vec<String> = value
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    items.sort();
    items
}

async fn get_me_from(app: &TestApp, origin: Option<&str>, access: &str) -> Response {
    let mut request = app
        .client
        .get(app.url("/api/me/"))
        .header("authorization", format!("Bearer {access}"));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /api/me/: {e}"))
}

#[actix_web::test]
async fn a_listed_origin_gets_the_preflight_and_the_answers_headers() {
    let app = spa_app(false).await;
    let response = preflight(&app, "/api/token/", SPA, "POST").await;
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    assert_eq!(
        header(h, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );
    assert_eq!(
        list(header(h, "access-control-allow-methods")),
        ["delete", "get", "patch", "post", "put"]
    );
    assert_eq!(
        list(header(h, "access-control-allow-headers")),
        ["authorization", "content-type"]
    );
    assert_eq!(header(h, "access-control-max-age").as_deref(), Some("600"));
    assert_eq!(
        header(h, "access-control-allow-credentials"),
        None,
        "no credentials with body transport"
    );

    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let response = get_me_from(&app, Some(SPA), &access).await;
    let h = response.headers().clone();
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["username"].as_str()),
        (StatusCode::OK, Some("alice"))
    );
    assert_eq!(
        header(&h, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );
    assert_eq!(
        list(header(&h, "access-control-expose-headers")),
        ["retry-after", "www-authenticate"],
        "a page may read the challenge and the throttle's wait"
    );
    assert!(list(header(&h, "vary")).contains(&"origin".to_owned()));

    // An error answer carries them too, so the page can read keyward's JSON body.
    let response = get_me_from(&app, Some(SPA), "garbage").await;
    let h = response.headers().clone();
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_not_valid"))
    );
    assert_eq!(
        header(&h, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );
}

#[actix_web::test]
async fn an_unlisted_origin_gets_no_cors_header_and_the_same_answer() {
    let app = spa_app(true).await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;

    for (path, method) in [("/api/token/", "POST"), ("/api/me/", "GET")] {
        let plain = json_of(app.send(Method::OPTIONS, path).await).await;
        let response = preflight(&app, path, "https://evil.example", method).await;
        assert_eq!(
            cors_headers(response.headers()),
            Vec::<String>::new(),
            "{path}"
        );
        assert_eq!(
            json_of(response).await,
            plain,
            "{path}: a preflight from an unlisted origin gets keyward's own OPTIONS answer"
        );
    }

    for origin in ["https://evil.example", "http://localhost:5174", "null"] {
        let response = get_me_from(&app, Some(origin), &access).await;
        assert_eq!(
            cors_headers(response.headers()),
            Vec::<String>::new(),
            "{origin}"
        );
        assert_eq!(
            header(response.headers(), "vary").as_deref(),
            Some("Origin")
        );
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, body["username"].as_str()),
            (StatusCode::OK, Some("alice")),
            "{origin}"
        );
    }
    let response = get_me_from(&app, None, &access).await;
    assert_eq!(cors_headers(response.headers()), Vec::<String>::new());
}

#[actix_web::test]
async fn without_listed_origins_nothing_changes() {
    let app = spawn_app().await;
    let response = preflight(&app, "/api/token/", SPA, "POST").await;
    assert_eq!(cors_headers(response.headers()), Vec::<String>::new());
    assert_eq!(header(response.headers(), "vary"), None);
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("Token Obtain Pair"))
    );

    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;
    let response = get_me_from(&app, Some(SPA), &access).await;
    assert_eq!(cors_headers(response.headers()), Vec::<String>::new());
    assert_eq!(header(response.headers(), "vary"), None);
}

#[actix_web::test]
async fn a_wildcard_lets_any_origin_read_answers_without_credentials() {
    let app = spawn_app_with(|s| s.cors_allowed_origins = vec!["*".into()]).await;
    let response = preflight(&app, "/api/me/", "https://anywhere.example", "GET").await;
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    assert_eq!(
        header(h, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(header(h, "access-control-allow-credentials"), None);
}

#[actix_web::test]
async fn cookie_transport_allows_credentials_for_listed_origins() {
    let app = spa_app(true).await;
    let response = preflight(&app, "/api/token/refresh/", SPA, "POST").await;
    assert_eq!(
        header(response.headers(), "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    app.create_user("alice");
    let response = app
        .client
        .post(app.url("/api/token/"))
        .header("origin", SPA)
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let h = response.headers();
    assert_eq!(
        header(h, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );
    assert_eq!(
        header(h, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
}

#[test]
fn browser_settings_are_refused_with_a_clear_reason() {
    use keyward::config::Settings;
    let cookie = |s: &mut Settings| s.token_transport = "cookie".into();
    let origins = |list: &[&str]| list.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>();
    type Case = (&'static str, Box<dyn Fn(&mut Settings)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "a wildcard with cookie transport",
            Box::new(move |s| {
                cookie(s);
                s.cors_allowed_origins = origins(&["*"]);
            }),
            "cors_allowed_origins = [\"*\"] cannot be used with token_transport = \"cookie\"",
        ),
        (
            "a wildcard beside an origin",
            Box::new(move |s| s.cors_allowed_origins = origins(&["*", SPA])),
            "\"*\" must be the only entry",
        ),
        (
            "a path",
            Box::new(move |s| s.cors_allowed_origins = origins(&["https://app.example.com/spa"])),
            "cors_allowed_origins: \"https://app.example.com/spa\" is not an origin",
        ),
        (
            "a trailing slash",
            Box::new(move |s| s.cors_allowed_origins = origins(&["https://app.example.com/"])),
            "ends with a slash",
        ),
        (
            "no scheme",
            Box::new(move |s| s.cors_allowed_origins = origins(&["app.example.com"])),
            "write scheme://host[:port]",
        ),
        (
            "a subdomain wildcard",
            Box::new(move |s| s.cors_allowed_origins = origins(&["https://*.example.com"])),
            "has a wildcard",
        ),
        (
            "Secure off for a remote origin",
            Box::new(move |s| {
                cookie(s);
                s.refresh_cookie_secure = false;
                s.cors_allowed_origins =
                    origins(&["http://localhost:5173", "https://app.example.com"]);
            }),
            "refresh_cookie_secure = false is only for development on this machine: every entry \
             of cors_allowed_origins must be http://localhost",
        ),
        (
            "Secure off on a public address",
            Box::new(move |s| {
                cookie(s);
                s.refresh_cookie_secure = false;
                s.bind = "0.0.0.0:8000".into();
            }),
            "bind must be a loopback address",
        ),
        (
            "SameSite=None without Secure",
            Box::new(move |s| {
                cookie(s);
                s.refresh_cookie_samesite = "None".into();
                s.refresh_cookie_secure = false;
            }),
            "refresh_cookie_samesite = \"None\" needs refresh_cookie_secure = true",
        ),
        (
            "an unknown SameSite",
            Box::new(move |s| {
                cookie(s);
                s.refresh_cookie_samesite = "strict".into();
            }),
            "refresh_cookie_samesite must be \"Strict\", \"Lax\" or \"None\", got \"strict\"",
        ),
        (
            "an unknown transport",
            Box::new(move |s| s.token_transport = "header".into()),
            "token_transport must be \"body\" or \"cookie\", got \"header\"",
        ),
        (
            "a __Host- cookie",
            Box::new(move |s| {
                cookie(s);
                s.refresh_cookie_name = "__Host-refresh".into();
            }),
            "the __Host- prefix needs Path=/",
        ),
        (
            "a cookie name with a space",
            Box::new(move |s| {
                cookie(s);
                s.refresh_cookie_name = "my refresh".into();
            }),
            "refresh_cookie_name \"my refresh\" is not a cookie name",
        ),
        (
            "a lower-case method",
            Box::new(move |s| s.cors_allowed_methods = origins(&["get"])),
            "cors_allowed_methods: \"get\" is not an HTTP method",
        ),
        (
            "a header with a space",
            Box::new(move |s| s.cors_allowed_headers = origins(&["X Token"])),
            "cors_allowed_headers: \"X Token\" is not a header name",
        ),
    ];
    for (case, configure, expected) in cases {
        let mut settings = Settings::default();
        configure(&mut settings);
        let err = settings
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(expected), "{case}: {err:?}");
    }

    let mut development = Settings::default();
    cookie(&mut development);
    development.refresh_cookie_secure = false;
    development.cors_allowed_origins = origins(&[
        "http://localhost:5173",
        "http://127.0.0.1:4173",
        "http://[::1]:3000",
    ]);
    assert!(
        development.validate().is_ok(),
        "loopback development is allowed"
    );
}

#[test]
fn keyward_check_reads_the_origins_from_the_environment() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    let run = sandbox.run(
        &["check"],
        &[
            (
                "KEYWARD_CORS_ALLOWED_ORIGINS",
                "[http://localhost:5173, https://app.example.com]",
            ),
            ("KEYWARD_TOKEN_TRANSPORT", "cookie"),
        ],
        None,
    );
    assert!(run.success, "two origins: {run}");
    let run = sandbox.run(
        &["check"],
        &[
            ("KEYWARD_CORS_ALLOWED_ORIGINS", "[\"*\"]"),
            ("KEYWARD_TOKEN_TRANSPORT", "cookie"),
        ],
        None,
    );
    assert!(!run.success, "{run}");
    assert!(
        run.stderr
            .contains("cannot be used with token_transport = \"cookie\""),
        "{run}"
    );
}

/// The CORS layer leaves the JSON of every other answer alone.
#[actix_web::test]
async fn a_listed_origins_error_answers_keep_keywards_bodies() {
    let app = spa_app(true).await;
    let response = app
        .client
        .post(app.url("/api/token/"))
        .header("origin", SPA)
        .json(&json!({"username": "nobody", "password": "wrong-password-1"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, body): (StatusCode, Value) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "No active account found with the given credentials"})
    );
}
