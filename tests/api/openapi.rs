//! The OpenAPI description at `/api/schema/`: a valid OpenAPI 3.1 document (parsed by the
//! `oas3` crate, and checked here: every `$ref` resolves, every path parameter is declared,
//! operation ids are unique, security names a declared scheme) that lists every endpoint the
//! router registers, read from the same registrations ([`keyward::api::routes`]), at its
//! configured path.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, json_of, spawn_app_with};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn schema_of(app: &TestApp, path: &str) -> Value {
    let response = app.get(path, None).await;
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, schema) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    assert_eq!(content_type.as_deref(), Some("application/json"));
    schema
}

/// Every `$ref` in `value`, with where it was found.
fn refs<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push((at.clone(), target)),
                    _ => refs(inner, format!("{at}/{key}"), found),
                }
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                refs(inner, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// What a validator checks beyond parsing: each problem as a line.
fn problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let version = schema["openapi"].as_str().unwrap_or_default();
    if !version.starts_with("3.1") {
        problems.push(format!("openapi is {version:?}, not 3.1.x"));
    }
    for field in ["title", "version"] {
        if !schema["info"][field].is_string() {
            problems.push(format!("info.{field} is missing"));
        }
    }
    let mut found = Vec::new();
    refs(schema, String::new(), &mut found);
    for (at, target) in found {
        let resolved = target
            .strip_prefix('#')
            .and_then(|pointer| schema.pointer(pointer));
        if resolved.is_none() {
            problems.push(format!("{at}: $ref {target} does not resolve"));
        }
    }
    let schemes = &schema["components"]["securitySchemes"];
    let mut ids = Vec::new();
    let paths = schema["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        let params: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, operation) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                problems.push(format!("{path}: {method} is not an HTTP method"));
                continue;
            }
            let here = format!("{method} {path}");
            if operation["responses"]
                .as_object()
                .is_none_or(|r| r.is_empty())
            {
                problems.push(format!("{here}: no responses"));
            }
            match operation["operationId"].as_str() {
                Some(id) if ids.contains(&id.to_owned()) => {
                    problems.push(format!("{here}: operationId {id} is used twice"));
                }
                Some(id) => ids.push(id.to_owned()),
                None => problems.push(format!("{here}: no operationId")),
            }
            let declared: Vec<&Value> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .collect();
            for name in &params {
                let ok = declared
                    .iter()
                    .any(|p| p["name"] == *name && p["required"] == true);
                if !ok {
                    problems.push(format!("{here}: path parameter {name} is not declared"));
                }
            }
            for p in &declared {
                let name = p["name"].as_str().unwrap_or_default();
                if !params.contains(&name) {
                    problems.push(format!("{here}: parameter {name} is not in the path"));
                }
            }
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    if schemes.get(scheme).is_none() {
                        problems.push(format!("{here}: security scheme {scheme} is undeclared"));
                    }
                }
            }
        }
    }
    problems
}

/// Every (path, method) the router serves besides `OPTIONS` and `HEAD` (which follow `GET`).
fn routed(settings: &keyward::config::Settings) -> Vec<(String, String)> {
    let mounts = keyward::api::Mounts::from_settings(settings);
    keyward::api::routes(&mounts)
        .iter()
        .flat_map(|route| {
            route
                .methods()
                .filter(|m| *m != "OPTIONS" && *m != "HEAD")
                .map(|m| (route.path.clone(), m.to_ascii_lowercase()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Asserts the schema describes exactly the routes the router serves.
fn assert_describes_every_route(schema: &Value, settings: &keyward::config::Settings) {
    let routes = routed(settings);
    assert!(routes.len() > 30, "{routes:?}");
    for (path, method) in &routes {
        assert!(
            schema["paths"][path][method].is_object(),
            "{method} {path} is served but not described"
        );
    }
    for (path, item) in schema["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            let served = routes.iter().any(|(p, m)| p == path && m == method);
            assert!(served, "{method} {path} is described but not served");
        }
    }
}

#[actix_web::test]
async fn the_schema_is_valid_openapi_3_1_and_describes_every_route() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    let schema = schema_of(&app, "/api/schema/").await;
    let parsed = oas3::from_json(schema.to_string());
    assert!(parsed.is_ok(), "oas3 refuses it: {parsed:?}");
    assert_eq!(problems(&schema), Vec::<String>::new());
    assert_describes_every_route(&schema, &app.settings);
    for path in [
        "/api/token/sliding/",
        "/api/signup/",
        "/api/schema/",
        "/api/docs/",
    ] {
        assert!(schema["paths"][path].is_object(), "{path}");
    }
    let me = &schema["paths"]["/api/me/"]["get"];
    assert_eq!(me["security"], serde_json::json!([{"bearer": []}]), "{me}");
    assert_eq!(
        schema["components"]["securitySchemes"]["bearer"],
        serde_json::json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "An access token from the token endpoint."})
    );
    let obtain = &schema["paths"]["/api/token/"]["post"];
    assert!(
        obtain.get("security").is_none(),
        "sign-in needs no token: {obtain}"
    );
}

#[actix_web::test]
async fn the_schema_follows_the_configured_paths_and_mounts() {
    let app = spawn_app_with(|s| {
        s.allow_signup = false;
        s.paths.token_obtain = "/gettoken/".into();
        s.paths.user = "/api/accounts/{id}/".into();
        s.paths.schema = "/openapi.json".into();
    })
    .await;
    let schema = schema_of(&app, "/openapi.json").await;
    assert_eq!(problems(&schema), Vec::<String>::new());
    assert_describes_every_route(&schema, &app.settings);
    for (path, described) in [
        ("/gettoken/", true),
        ("/api/token/", false),
        ("/api/accounts/{id}/", true),
        ("/api/users/{id}/", false),
        ("/openapi.json", true),
        ("/api/schema/", false),
        ("/api/signup/", false),
        ("/api/token/sliding/", false),
    ] {
        assert_eq!(schema["paths"][path].is_object(), described, "{path}");
    }
    assert_eq!(
        app.get("/api/schema/", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn another_auth_header_is_described_as_the_header_to_send() {
    let app = spawn_app_with(|s| {
        s.auth_header_name = "X-Token".into();
        s.auth_header_types = vec!["JWT".into()];
    })
    .await;
    let schema = schema_of(&app, "/api/schema/").await;
    assert_eq!(
        schema["components"]["securitySchemes"]["bearer"],
        serde_json::json!({"type": "apiKey", "in": "header", "name": "X-Token",
                           "description": "`JWT <access token>`"})
    );
}

#[actix_web::test]
async fn the_docs_page_and_its_files_are_served_by_keyward_under_the_consoles_policy() {
    let app = spawn_app_with(|_| {}).await;
    let bare = app.get("/api/docs", None).await;
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        bare.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/api/docs/"),
        "its files are named relative to the page"
    );
    for (path, content_type) in [
        ("/api/docs/", "text/html"),
        ("/api/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/api/docs/swagger-ui.css", "text/css"),
        ("/api/docs/swagger-initializer.js", "text/javascript"),
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert!(
            header("content-type").starts_with(content_type),
            "{path}: {}",
            header("content-type")
        );
        let policy = header("content-security-policy");
        assert!(
            policy.starts_with("default-src 'self'; frame-ancestors 'none'; img-src 'self' data:; style-src 'self' 'sha256-"),
            "{path}: {policy}"
        );
        let body = response.text().await.unwrap_or_default();
        assert!(
            !body.contains("https://cdn") && !body.contains("unpkg.com"),
            "{path}"
        );
        if path.ends_with("initializer.js") {
            assert!(body.contains("\"url\": \"/api/schema/\""), "{body}");
        }
    }
    let missing = app.get("/api/docs/no-such-file.js", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
