//! `token_transport = "cookie"` over HTTP: the refresh token leaves the bodies for an HttpOnly
//! cookie per path that reads it, refresh and logout read it back, and only pages of trusted
//! origins may use it (the `Origin` check). A real browser doing the same from another origin
//! is in `browser_cors.rs`.

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, bearer, json_of, spawn_app, spawn_app_with, token_payload,
};

const SPA: &str = "http://localhost:5173";
const COOKIE: &str = "keyward_refresh";

async fn cookie_app() -> TestApp {
    spawn_app_with(|s| {
        s.token_transport = "cookie".into();
        s.cors_allowed_origins = vec![SPA.into()];
        s.sliding_tokens = true;
    })
    .await
}

/// One `Set-Cookie` of an answer, its attributes as written.
#[derive(Debug)]
struct SetCookie {
    value: String,
    attributes: Vec<String>,
}

impl SetCookie {
    fn path(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| a.strip_prefix("Path="))
    }

    fn has(&self, attribute: &str) -> bool {
        self.attributes.iter().any(|a| a == attribute)
    }
}

/// The `Set-Cookie` headers naming the refresh cookie.
fn refresh_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| {
            let mut parts = line.split(';').map(str::trim);
            let value = parts
                .next()?
                .strip_prefix(&format!("{COOKIE}="))?
                .to_owned();
            Some(SetCookie {
                value,
                attributes: parts.map(str::to_owned).collect(),
            })
        })
        .collect()
}

async fn send(request: RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let response: Response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    let headers = response.headers().clone();
    let (status, body) = json_of(response).await;
    (status, headers, body)
}

fn post(app: &TestApp, path: &str, origin: Option<&str>, cookie: Option<&str>) -> RequestBuilder {
    let mut request = app.client.post(app.url(path));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE}={cookie}"));
    }
    request
}

/// Signs in from the SPA; the answer's body and its refresh cookies.
async fn sign_in(app: &TestApp, username: &str) -> (Value, Vec<SetCookie>) {
    let request = post(app, "/api/token/", Some(SPA), None)
        .json(&json!({"username": username, "password": PASSWORD}));
    let (status, headers, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (body, refresh_cookies(&headers))
}

#[actix_web::test]
async fn sign_in_puts_the_refresh_token_in_an_http_only_cookie_for_refresh_and_logout() {
    let app = cookie_app().await;
    app.create_user("alice");
    let (body, cookies) = sign_in(&app, "alice").await;

    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["access"],
        "the body keeps only the access token: {body}"
    );
    let paths: Vec<Option<&str>> = cookies.iter().map(SetCookie::path).collect();
    assert_eq!(
        paths,
        [Some("/api/token/refresh"), Some("/api/token/blacklist")]
    );
    let refresh = &cookies[0].value;
    assert_eq!(&cookies[1].value, refresh, "the same token for both paths");
    let claims = token_payload(refresh);
    let access = token_payload(body["access"].as_str().unwrap_or_default());
    assert_eq!(claims["token_type"], "refresh");
    assert_eq!(claims["sid"], access["sid"], "one session");
    let expires = time::OffsetDateTime::from_unix_timestamp(claims["exp"].as_i64().unwrap_or(0))
        .unwrap_or_else(|e| panic!("{e}"));
    let expires = expires
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    for cookie in &cookies {
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
            assert!(cookie.has(attribute), "{attribute}: {cookie:?}");
        }
        let expiry = cookie
            .attributes
            .iter()
            .find_map(|a| a.strip_prefix("Expires="))
            .unwrap_or_default();
        // RFC 2822 writes "+0000" where cookies write "GMT"; the date and time are the same.
        assert_eq!(
            expiry.trim_end_matches(" GMT"),
            expires.trim_end_matches(" +0000"),
            "the cookie expires with its token"
        );
    }
}

#[actix_web::test]
async fn refresh_reads_the_cookie_and_rotates_it() {
    let app = cookie_app().await;
    app.create_user("alice");
    let (_, cookies) = sign_in(&app, "alice").await;
    let first = cookies[0].value.clone();

    let (status, headers, body) =
        send(post(&app, "/api/token/refresh/", Some(SPA), Some(&first))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh").is_none(), "{body}");
    let access = body["access"].as_str().unwrap_or_default().to_owned();
    let rotated = refresh_cookies(&headers);
    assert_eq!(rotated.len(), 2, "{rotated:?}");
    let second = rotated[0].value.clone();
    assert_ne!(second, first, "rotation sets a new refresh token");
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);

    // The rotated token again: reuse, the session ends (as with the body transport).
    let (status, _, body) = send(post(&app, "/api/token/refresh/", Some(SPA), Some(&first))).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Token is blacklisted"))
    );
    let (status, _, _) = send(post(&app, "/api/token/refresh/", Some(SPA), Some(&second))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the whole session ended");
}

#[actix_web::test]
async fn logout_reads_the_cookie_ends_the_session_and_removes_the_cookie() {
    let app = cookie_app().await;
    app.create_user("alice");
    let (body, cookies) = sign_in(&app, "alice").await;
    let access = body["access"].as_str().unwrap_or_default().to_owned();
    let refresh = cookies[0].value.clone();

    let (status, headers, body) = send(post(
        &app,
        "/api/token/blacklist/",
        Some(SPA),
        Some(&refresh),
    ))
    .await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({})));
    let removed = refresh_cookies(&headers);
    let paths: Vec<Option<&str>> = removed.iter().map(SetCookie::path).collect();
    assert_eq!(
        paths,
        [Some("/api/token/refresh"), Some("/api/token/blacklist")]
    );
    for cookie in &removed {
        assert!(
            cookie.value.is_empty() && cookie.has("Max-Age=0"),
            "{cookie:?}"
        );
    }
    assert_eq!(
        app.me(&access).await.status(),
        StatusCode::UNAUTHORIZED,
        "the session ended"
    );

    // A dead cookie sent again (a stale tab) is refused, and removed once more.
    let (status, headers, body) = send(post(
        &app,
        "/api/token/blacklist/",
        Some(SPA),
        Some(&refresh),
    ))
    .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Token is blacklisted"))
    );
    assert!(refresh_cookies(&headers).iter().all(|c| c.has("Max-Age=0")));
    assert_eq!(refresh_cookies(&headers).len(), 2);
}

#[actix_web::test]
async fn the_cookie_is_used_only_by_pages_of_trusted_origins() {
    let app = cookie_app().await;
    app.create_user("alice");
    let (_, cookies) = sign_in(&app, "alice").await;
    let refresh = cookies[0].value.clone();
    let counts = app.token_counts();

    let refused = [
        (
            post(
                &app,
                "/api/token/refresh/",
                Some("https://evil.example"),
                Some(&refresh),
            ),
            "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins.",
        ),
        (
            post(
                &app,
                "/api/token/refresh/",
                Some("http://localhost:5174"),
                Some(&refresh),
            ),
            "CSRF Failed: Origin checking failed - http://localhost:5174 does not match any trusted origins.",
        ),
        (
            post(&app, "/api/token/refresh/", Some("null"), Some(&refresh)),
            "CSRF Failed: Origin checking failed - null does not match any trusted origins.",
        ),
        (
            post(&app, "/api/token/refresh/", None, Some(&refresh)),
            "CSRF Failed: Origin checking failed - no Origin or Referer header.",
        ),
        (
            post(&app, "/api/token/refresh/", None, Some(&refresh))
                .header("referer", "https://evil.example/page"),
            "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins.",
        ),
        (
            post(
                &app,
                "/api/token/blacklist/",
                Some("https://evil.example"),
                Some(&refresh),
            ),
            "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins.",
        ),
    ];
    for (request, detail) in refused {
        let (status, headers, body) = send(request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{detail}");
        assert_eq!(body, json!({"detail": detail, "code": "csrf_failed"}));
        assert!(
            refresh_cookies(&headers).is_empty(),
            "a refusal sets no cookie"
        );
    }
    assert_eq!(
        app.token_counts(),
        counts,
        "nothing was rotated or blacklisted"
    );

    // Accepted: the listed origin (above), keyward's own origin, a Referer of a listed page.
    let (status, headers, body) = send(post(
        &app,
        "/api/token/refresh/",
        Some(&app.address),
        Some(&refresh),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "same-origin: {body}");
    let next = refresh_cookies(&headers)[0].value.clone();
    let request = post(&app, "/api/token/refresh/", None, Some(&next))
        .header("referer", format!("{SPA}/account?tab=1"));
    let (status, _, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "a listed page's Referer: {body}");
}

#[actix_web::test]
async fn a_page_of_an_untrusted_origin_cannot_sign_in_but_a_script_can() {
    let app = cookie_app().await;
    app.create_user("alice");
    let credentials = json!({"username": "alice", "password": PASSWORD});
    let (status, headers, body) =
        send(post(&app, "/api/token/", Some("https://evil.example"), None).json(&credentials))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "csrf_failed");
    assert!(refresh_cookies(&headers).is_empty());
    assert_eq!(app.token_counts(), (0, 0), "no session was started");

    let (status, headers, body) =
        send(post(&app, "/api/token/", None, None).json(&credentials)).await;
    assert_eq!(status, StatusCode::OK, "no Origin: not a page ({body})");
    assert_eq!(refresh_cookies(&headers).len(), 2);
}

#[actix_web::test]
async fn without_the_cookie_the_token_may_still_come_in_the_body() {
    let app = cookie_app().await;
    app.create_user("alice");
    let (_, cookies) = sign_in(&app, "alice").await;
    let refresh = cookies[0].value.clone();

    // A mobile app or a script: no cookie, the token in the body, no Origin needed.
    let (status, headers, body) =
        send(post(&app, "/api/token/refresh/", None, None).json(&json!({"refresh": refresh})))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("refresh").is_none(),
        "the answer still uses the cookie"
    );
    assert_eq!(refresh_cookies(&headers).len(), 2);

    let (status, _, body) = send(post(&app, "/api/token/refresh/", Some(SPA), None)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"refresh": ["This field is required."]})
        )
    );
}

#[actix_web::test]
async fn a_sliding_token_stays_in_the_body_and_is_also_kept_for_the_sliding_refresh() {
    let app = cookie_app().await;
    app.create_user("alice");
    let request = post(&app, "/api/token/sliding/", Some(SPA), None)
        .json(&json!({"username": "alice", "password": PASSWORD}));
    let (status, headers, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let cookies = refresh_cookies(&headers);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(cookies[0].path(), Some("/api/token/sliding/refresh"));
    assert_eq!(
        cookies[0].value, token,
        "the page uses it as its access token too"
    );

    app.clock.advance(std::time::Duration::from_secs(60));
    let (status, headers, body) = send(post(
        &app,
        "/api/token/sliding/refresh/",
        Some(SPA),
        Some(&token),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = body["token"].as_str().unwrap_or_default();
    assert_ne!(renewed, token);
    assert_eq!(refresh_cookies(&headers)[0].value, renewed);
    let (status, _, _) = send(post(
        &app,
        "/api/token/sliding/refresh/",
        Some("https://evil.example"),
        Some(&token),
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_password_change_sets_the_new_refresh_token_in_the_cookie() {
    let app = cookie_app().await;
    app.create_user("alice");
    let (body, _) = sign_in(&app, "alice").await;
    let access = body["access"].as_str().unwrap_or_default();
    let request = post(&app, "/api/me/password/", Some(SPA), None)
        .header("authorization", bearer(access))
        .json(&json!({"current_password": PASSWORD, "new_password": "marmalade-orbit-77"}));
    let (status, headers, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("refresh").is_none() && body["access"].is_string(),
        "{body}"
    );
    let cookies = refresh_cookies(&headers);
    assert_eq!(cookies.len(), 2);
    let (status, _, _) = send(post(
        &app,
        "/api/token/refresh/",
        Some(SPA),
        Some(&cookies[0].value),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "the new cookie refreshes");
}

#[actix_web::test]
async fn secure_may_be_relaxed_for_loopback_development() {
    let app = spawn_app_with(|s| {
        s.token_transport = "cookie".into();
        s.refresh_cookie_secure = false;
        s.refresh_cookie_samesite = "Lax".into();
        s.refresh_cookie_name = "spa_refresh".into();
        s.cors_allowed_origins = vec!["http://127.0.0.1:4173".into()];
    })
    .await;
    app.create_user("alice");
    let request = post(&app, "/api/token/", None, None)
        .json(&json!({"username": "alice", "password": PASSWORD}));
    let (status, headers, _) = send(request).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<String> = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in lines {
        assert!(line.starts_with("spa_refresh="), "{line}");
        assert!(
            line.contains("SameSite=Lax") && line.contains("HttpOnly"),
            "{line}"
        );
        assert!(!line.contains("Secure"), "{line}");
    }
}

#[actix_web::test]
async fn body_transport_keeps_simplejwts_wire_and_ignores_the_cookie() {
    let app = spawn_app().await;
    app.create_user("alice");
    let request = post(&app, "/api/token/", Some(SPA), None)
        .json(&json!({"username": "alice", "password": PASSWORD}));
    let (status, headers, body) = send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("set-cookie").is_none());
    let refresh = body["refresh"].as_str().unwrap_or_default().to_owned();
    let (status, _, body) =
        send(post(&app, "/api/token/refresh/", Some(SPA), Some(&refresh))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"refresh": ["This field is required."]})
        ),
        "a cookie means nothing with the body transport"
    );
}

#[actix_web::test]
async fn a_cookie_whose_token_does_not_decode_is_refused_and_removed() {
    let app = cookie_app().await;
    for path in ["/api/token/refresh/", "/api/token/blacklist/"] {
        let (status, headers, body) = send(post(&app, path, Some(SPA), Some("not-a-token"))).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Token is invalid", "code": "token_not_valid"})
            ),
            "{path}"
        );
        let removed = refresh_cookies(&headers);
        assert_eq!(removed.len(), 2, "{path}: {removed:?}");
        assert!(
            removed.iter().all(|c| c.has("Max-Age=0")),
            "{path}: {removed:?}"
        );
    }
    let (status, headers, _) = send(post(
        &app,
        "/api/token/sliding/refresh/",
        Some(SPA),
        Some("not-a-token"),
    ))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let removed = refresh_cookies(&headers);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].path(), Some("/api/token/sliding/refresh"));
}
