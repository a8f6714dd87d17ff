//! `GET /metrics`: off unless `metrics_bind` is set, then on a listener of its own, in
//! Prometheus' text format, behind `metrics_token` when one is set. Requests are counted by
//! route pattern, never by raw path; sign-ins, refreshes, revocations, the pool and the
//! in-memory lists show up as they change.

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::json;

use crate::cli::Sandbox;
use crate::console_client::ConsoleClient;
use crate::helpers::{PASSWORD, TestApp, UserFlags, on_postgres, spawn_app, spawn_app_with};

const TOKEN: &str = "scrape-secret-7f3a91";

async fn metrics_app() -> TestApp {
    spawn_app_with(|s| s.metrics_bind = "127.0.0.1:0".into()).await
}

/// One scrape's text.
struct Scrape(String);

impl Scrape {
    /// The sum of the samples of `name` whose labels include every one of `labels` (0 when
    /// none matches; `None` when the metric is not there at all).
    fn total(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut found = None;
        for line in self.0.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let (metric, sample_labels) = split_series(series);
            if metric != name {
                continue;
            }
            let sum = found.get_or_insert(0.0);
            if labels.iter().all(|l| sample_labels.contains(&(l.0, l.1))) {
                *sum += value
                    .parse::<f64>()
                    .unwrap_or_else(|e| panic!("{line}: {e}"));
            }
        }
        found
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.total(name, labels)
            .unwrap_or_else(|| panic!("{name} is not exported:\n{}", self.0))
    }
}

/// `name{a="x",b="y"}` -> (`name`, [(a, x), (b, y)]). Label values may hold braces (route
/// patterns do) but no quotes.
fn split_series(series: &str) -> (&str, Vec<(&str, &str)>) {
    let Some((name, rest)) = series.split_once('{') else {
        return (series, Vec::new());
    };
    let mut labels = Vec::new();
    let mut rest = rest.strip_suffix('}').unwrap_or(rest);
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some((value, tail)) = after.split_once('"') else {
            break;
        };
        labels.push((key.trim_start_matches(','), value));
        rest = tail;
    }
    (name, labels)
}

async fn scrape_with(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let base = app
        .metrics_address
        .as_deref()
        .unwrap_or_else(|| panic!("metrics_bind is not set on this app"));
    let mut request = app.client.get(format!("{base}/metrics"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /metrics: {e}"))
}

async fn scrape(app: &TestApp) -> Scrape {
    let response = scrape_with(app, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape(response.text().await.unwrap_or_default())
}

#[actix_web::test]
async fn metrics_are_not_served_unless_metrics_bind_is_set() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    let response = app.send(Method::GET, "/metrics").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.text().await.unwrap_or_default();
    assert!(!body.contains("keyward_"), "{body}");
}

#[actix_web::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let app = metrics_app().await;
    let on_app = app.send(Method::GET, "/metrics").await;
    assert_eq!(on_app.status(), StatusCode::NOT_FOUND, "the API's listener");
    let base = app.metrics_address.clone().unwrap_or_default();
    let other = app
        .client
        .get(format!("{base}/api/me/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "only /metrics there");
    let text = scrape(&app).await;
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(text.value("keyward_build_info", &version), 1.0);
    let started = text.value("process_start_time_seconds", &[]);
    let now = app.now() as f64;
    assert!(
        started <= now && started > now - 600.0,
        "{started} vs {now}"
    );
}

#[actix_web::test]
async fn requests_are_counted_by_route_pattern_never_by_raw_path() {
    let app = metrics_app().await;
    app.create_user("alice");
    let access = app.access_for("alice").await;
    let me = [("route", "/api/me/"), ("method", "GET")];
    let by_id = [("route", "/api/users/{id}/"), ("method", "GET")];
    let unmatched = [("route", "unmatched")];
    let console = [("route", "/admin/users/{id}/"), ("method", "GET")];
    let before = scrape(&app).await;

    for _ in 0..3 {
        assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    }
    // The other spelling of the same resource counts under its pattern.
    let bare = app.get_as("/api/me", &access).await;
    assert_eq!(bare.status(), StatusCode::OK);
    let anonymous = app.get("/api/users/987654/", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let unknown = app.get("/no/such/place-31337", None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    app.get("/admin/users/424242/", None).await;

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        after.total(name, labels).unwrap_or_default()
            - before.total(name, labels).unwrap_or_default()
    };
    let requests = "keyward_http_requests_total";
    let ok = [me.as_slice(), &[("status", "2xx")]].concat();
    assert_eq!(grew(requests, &ok), 4.0, "GET /api/me/ and /api/me");
    assert_eq!(
        grew("keyward_http_request_duration_seconds_count", &me),
        4.0
    );
    let refused = [by_id.as_slice(), &[("status", "4xx")]].concat();
    assert_eq!(grew(requests, &refused), 1.0);
    assert_eq!(grew(requests, &unmatched), 1.0);
    assert_eq!(grew(requests, &console), 1.0, "console routes too");
    for raw in ["987654", "31337", "424242", "/no/such"] {
        assert!(!after.0.contains(raw), "{raw} leaked into a label");
    }
}

#[actix_web::test]
async fn sign_ins_are_counted_by_outcome() {
    let app = spawn_app_with(|s| {
        s.metrics_bind = "127.0.0.1:0".into();
        s.login_attempts_per_pair = 2;
    })
    .await;
    app.create_user("bob");
    let sign_ins = "keyward_sign_ins_total";
    let outcome = |o: &'static str| [("via", "token"), ("outcome", o)];
    let before = scrape(&app).await;
    assert_eq!(before.value(sign_ins, &outcome("ok")), 0.0);
    assert_eq!(before.value(sign_ins, &outcome("failed")), 0.0);

    app.login("bob", PASSWORD).await;
    let wrong = json!({"username": "bob", "password": "not-the-password"});
    for expected in [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let response = app.post_json("/api/token/", &wrong).await;
        assert_eq!(response.status(), expected);
    }

    let after = scrape(&app).await;
    assert_eq!(after.value(sign_ins, &outcome("ok")), 1.0);
    assert_eq!(after.value(sign_ins, &outcome("failed")), 2.0);
    assert_eq!(after.value(sign_ins, &outcome("throttled")), 1.0);
    assert_eq!(after.value(sign_ins, &outcome("error")), 0.0);
    let calls = "keyward_actor_call_duration_seconds_count";
    assert_eq!(after.value(calls, &[("actor", "user_manager")]), 4.0);
    assert!(after.value(calls, &[("actor", "token_blacklist")]) >= 1.0);
}

#[actix_web::test]
async fn console_sign_ins_are_counted_apart_from_the_apis() {
    let app = metrics_app().await;
    let staff = UserFlags {
        staff: true,
        ..UserFlags::default()
    };
    app.create_user_with("frank", PASSWORD, staff);
    app.create_user("gina");
    ConsoleClient::signed_in(&app, "frank").await;
    let refused = ConsoleClient::new(&app)
        .sign_in("gina", PASSWORD, "/admin/")
        .await;
    assert_eq!(refused.status, StatusCode::OK, "the form again: not staff");

    let text = scrape(&app).await;
    let console = |o: &'static str| [("via", "console"), ("outcome", o)];
    let sign_ins = "keyward_sign_ins_total";
    assert_eq!(text.value(sign_ins, &console("ok")), 1.0);
    assert_eq!(text.value(sign_ins, &console("failed")), 1.0);
    assert_eq!(text.value(sign_ins, &[("via", "token")]), 0.0);
    let login = [("route", "/admin/login/"), ("method", "POST")];
    assert_eq!(text.value("keyward_http_requests_total", &login), 2.0);
}

#[actix_web::test]
async fn refreshes_and_a_reuse_incident_are_counted() {
    let app = metrics_app().await;
    app.create_user("carol");
    let (first, _) = app.login("carol", PASSWORD).await;
    let refreshes = "keyward_refreshes_total";
    let pair = |o: &'static str| [("kind", "pair"), ("outcome", o)];
    let before = scrape(&app).await;

    let (status, _) = app.refresh(&first).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.refresh(&first).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the rotated token again");

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    assert_eq!(grew(refreshes, &pair("ok")), 1.0);
    assert_eq!(grew(refreshes, &pair("refused")), 1.0);
    assert_eq!(grew("keyward_refresh_reuse_total", &[]), 1.0);
    assert_eq!(grew("keyward_sessions_ended_total", &[]), 1.0);
    // The rotation blacklisted the first token; the reuse, the session's current one.
    assert_eq!(grew("keyward_tokens_blacklisted_total", &[]), 2.0);
}

#[actix_web::test]
async fn a_logout_grows_the_revocation_and_ended_session_gauges() {
    let app = metrics_app().await;
    app.create_user("dave");
    let (refresh, _) = app.login("dave", PASSWORD).await;
    let before = scrape(&app).await;

    let (status, _) = app.logout(&refresh).await;
    assert_eq!(status, StatusCode::OK);

    let after = scrape(&app).await;
    let grew = |name: &str| after.value(name, &[]) - before.value(name, &[]);
    assert_eq!(grew("keyward_revoked_tokens"), 1.0);
    assert_eq!(grew("keyward_ended_sessions"), 1.0);
    assert_eq!(grew("keyward_tokens_blacklisted_total"), 1.0);
    assert_eq!(grew("keyward_sessions_ended_total"), 1.0);
}

/// On PostgreSQL the change listener hears this instance's own writes too (the triggers
/// announce them to every listener); SQLite has no listener and shows none of its series.
#[actix_web::test]
async fn the_change_listener_reports_what_it_heard_and_its_lag_on_postgres_only() {
    let app = metrics_app().await;
    let listener = [
        "keyward_notification_listener_up",
        "keyward_notifications_received_total",
        "keyward_notifications_applied_total",
        "keyward_notification_listener_connects_total",
        "keyward_notification_lag_seconds_count",
    ];
    if !on_postgres() {
        let text = scrape(&app).await;
        for name in listener {
            assert_eq!(text.total(name, &[]), None, "{name} on SQLite");
        }
        return;
    }
    app.create_user("frank");
    let (refresh, _) = app.login("frank", PASSWORD).await;
    let before = scrape(&app).await;
    assert_eq!(before.value("keyward_notification_listener_up", &[]), 1.0);
    assert!(before.value("keyward_notification_listener_connects_total", &[]) >= 1.0);

    assert_eq!(app.logout(&refresh).await.0, StatusCode::OK);
    // The logout announces its revocation and its session's end; wait until both are applied.
    let mut after = scrape(&app).await;
    let grew = |text: &Scrape, name: &str| text.value(name, &[]) - before.value(name, &[]);
    for _ in 0..200 {
        if grew(&after, "keyward_notifications_applied_total") >= 2.0 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        after = scrape(&app).await;
    }
    assert!(grew(&after, "keyward_notifications_received_total") >= 2.0);
    assert!(grew(&after, "keyward_notifications_applied_total") >= 2.0);
    assert!(grew(&after, "keyward_notification_lag_seconds_count") >= 2.0);
    let within_a_second = after.value("keyward_notification_lag_seconds_bucket", &[("le", "1")])
        - before.value("keyward_notification_lag_seconds_bucket", &[("le", "1")]);
    assert!(within_a_second >= 2.0, "lags: {within_a_second}");
    assert!(after.value("keyward_notification_catch_ups_total", &[]) >= 1.0);
}

#[actix_web::test]
async fn the_pool_and_the_user_cache_are_reported() {
    let app = metrics_app().await;
    app.create_user("erin");
    let access = app.access_for("erin").await;
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    let text = scrape(&app).await;
    let size = f64::from(app.settings.database_pool_size);
    assert_eq!(text.value("keyward_db_pool_max_connections", &[]), size);
    let open = text.value("keyward_db_pool_connections", &[]);
    assert!((1.0..=size).contains(&open), "{open}");
    for gauge in [
        "keyward_db_pool_idle_connections",
        "keyward_db_pool_in_use_connections",
    ] {
        let value = text.value(gauge, &[]);
        assert!((0.0..=size).contains(&value), "{gauge}: {value}");
    }
    assert_eq!(text.value("keyward_db_up", &[]), 1.0);
    assert!(text.value("keyward_db_pool_checkouts_total", &[]) >= 1.0);
    assert!(text.value("keyward_db_pool_wait_seconds_total", &[]) >= 0.0);
    assert_eq!(text.value("keyward_db_pool_timeouts_total", &[]), 0.0);
    assert_eq!(text.value("keyward_db_pool_unavailable_total", &[]), 0.0);
    assert!(text.value("keyward_user_cache_entries", &[]) >= 1.0);
}

#[actix_web::test]
async fn with_a_metrics_token_a_scrape_without_the_right_bearer_token_is_refused() {
    let app = spawn_app_with(|s| {
        s.metrics_bind = "127.0.0.1:0".into();
        s.metrics_token = Some(SecretString::from(TOKEN));
    })
    .await;
    let refused = [
        None,
        Some("Bearer wrong".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])),
        Some(format!("bearer {TOKEN}")),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_owned()),
        Some("Bearer ".to_owned()),
    ];
    for authorization in refused {
        let response = scrape_with(&app, authorization.as_deref()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"metrics\""));
        let body = response.text().await.unwrap_or_default();
        assert!(!body.contains("keyward_"), "{authorization:?}: {body}");
    }
    let response = scrape_with(&app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap_or_default();
    assert!(body.contains("keyward_sign_ins_total"), "{body}");
}

#[test]
fn metrics_settings_are_checked_and_reported_by_keyward_check() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    let run = sandbox.ok(&["check"]);
    assert!(
        run.stdout.contains("metrics: off (metrics_bind is empty)"),
        "{run}"
    );
    let run = sandbox.run(
        &["check"],
        &[
            ("KEYWARD_METRICS_BIND", "127.0.0.1:9464"),
            ("KEYWARD_METRICS_TOKEN", TOKEN),
        ],
        None,
    );
    assert!(run.success, "{run}");
    assert!(
        run.stdout.contains(
            "metrics: GET /metrics on 127.0.0.1:9464, a bearer token (metrics_token) required"
        ),
        "{run}"
    );
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));

    let refused = [
        (
            vec![("KEYWARD_METRICS_BIND", "localhost")],
            "metrics_bind must be empty (no metrics) or an address and port",
        ),
        (
            vec![("KEYWARD_METRICS_BIND", "127.0.0.1:8000")],
            "metrics_bind must differ from bind",
        ),
        (
            vec![("KEYWARD_METRICS_TOKEN", TOKEN)],
            "metrics_token is set but metrics_bind is empty",
        ),
        (
            vec![
                ("KEYWARD_METRICS_BIND", "127.0.0.1:9464"),
                ("KEYWARD_METRICS_TOKEN", "  "),
            ],
            "metrics_token must not be empty",
        ),
    ];
    for (env, expected) in refused {
        let run = sandbox.run(&["check"], &env, None);
        assert!(!run.success, "{env:?}: {run}");
        assert!(run.stderr.contains(expected), "{env:?}: {run}");
    }

    let run = sandbox.run(
        &["check"],
        &[("KEYWARD_METRICS_BND", "127.0.0.1:9464")],
        None,
    );
    assert!(
        run.stderr.contains("did you mean `metrics_bind`?"),
        "a misspelt name is named: {run}"
    );
    assert!(run.stdout.contains("metrics: off"), "{run}");
}
