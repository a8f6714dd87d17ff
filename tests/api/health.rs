//! Liveness, readiness and the JSON 404 for unknown paths.

use reqwest::StatusCode;
use reqwest::header::ALLOW;
use serde_json::json;

use crate::helpers::{json_of, on_postgres, spawn_app, wait_until_listening};

#[actix_web::test]
async fn health_answers_ok_without_credentials() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.get("/health", None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[actix_web::test]
async fn readiness_reports_the_database_and_how_other_instances_changes_arrive() {
    let app = spawn_app().await;
    // PostgreSQL: at once, through the change listener; SQLite: one instance, nothing to hear.
    let propagation = if on_postgres() {
        wait_until_listening(&app.propagation).await;
        "listening"
    } else {
        "single-instance"
    };
    let (status, body) = json_of(app.get("/health/ready", None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ready", "database": "ok", "propagation": propagation})
    );
}

#[actix_web::test]
async fn health_ignores_even_a_bad_token() {
    let app = spawn_app().await;
    for path in ["/health", "/health/ready"] {
        let response = app.get(path, Some("Bearer garbage")).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[actix_web::test]
async fn health_endpoints_answer_head_and_refuse_post_with_allow() {
    let app = spawn_app().await;
    for path in ["/health", "/health/ready"] {
        let head = app
            .client
            .head(app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("HEAD {path}: {e}"));
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");

        let response = app.post_json(path, &json!({})).await;
        let allow = response.headers().get(ALLOW).cloned();
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "POST {path}");
        assert_eq!(body, json!({"detail": "Method \"POST\" not allowed."}));
        assert_eq!(
            allow.as_ref().and_then(|v| v.to_str().ok()),
            Some("GET, HEAD, OPTIONS"),
            "POST {path}: Allow"
        );
    }
}

#[actix_web::test]
async fn unknown_paths_are_a_json_not_found_whatever_the_method() {
    let app = spawn_app().await;
    let cases = [
        ("GET", "/nope", "an unknown path"),
        ("GET", "/api/", "the API root"),
        ("GET", "/api/tokens/", "a near miss"),
        ("POST", "/api/nope/", "POST to an unknown path"),
        ("GET", "/health/live", "under /health"),
    ];
    for (method, path, case) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let response = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{case}");
        assert_eq!(body, json!({"detail": "Not found."}), "{case}");
    }
}
