use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, json_of, multipart_body, spawn_app, spawn_app_with};
use crate::tokens::{claims_of, header_of};

const REQUIRED: &str = "This field is required.";
const BLANK: &str = "This field may not be blank.";
const NULL: &str = "This field may not be null.";
const NOT_STRING: &str = "Not a valid string.";

#[actix_web::test]
async fn login_returns_a_refresh_and_an_access_token_in_simplejwts_order() {
    let app = spawn_app().await;
    app.create_user("alice");
    let response = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap_or_default();
    assert!(text.starts_with("{\"refresh\":"), "key order: {text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(body.as_object().map(|o| o.len()), Some(2));
    assert_eq!(
        app.token_counts(),
        (1, 0),
        "the refresh token is recorded as outstanding"
    );
}

#[actix_web::test]
async fn unknown_user_wrong_password_and_inactive_user_get_one_identical_answer() {
    let app = spawn_app().await;
    app.create_user("alice");
    app.create_inactive_user("sleepy");
    let cases = [
        ("nobody", PASSWORD, "unknown user"),
        ("alice", "wrong-password-1", "wrong password"),
        ("sleepy", PASSWORD, "inactive user"),
    ];
    for (username, password, case) in cases {
        let (status, body) = json_of(
            app.post_json(
                "/api/token/",
                &json!({"username": username, "password": password}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            body,
            json!({"detail": "No active account found with the given credentials"}),
            "{case}"
        );
    }
}

#[actix_web::test]
async fn login_accepts_form_urlencoded_and_multipart_bodies() {
    let app = spawn_app().await;
    app.create_user("alice");
    let fields = [("username", "alice"), ("password", PASSWORD)];
    let (multipart_type, multipart) = multipart_body(&fields);
    let form = serde_urlencoded::to_string(fields).unwrap_or_default();
    let json_body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let cases = [
        ("application/x-www-form-urlencoded", form, "form-urlencoded"),
        (multipart_type.as_str(), multipart, "multipart"),
        (
            "application/json; charset=utf-8",
            json_body,
            "JSON with a charset",
        ),
    ];
    for (content_type, body, case) in cases {
        let (status, body) = json_of(app.post_raw("/api/token/", content_type, body).await).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert!(body["refresh"].is_string(), "{case}: {body}");
        assert!(body["access"].is_string(), "{case}: {body}");
    }
}

#[actix_web::test]
async fn bad_credential_fields_get_drfs_per_field_messages() {
    let app = spawn_app().await;
    app.create_user("alice");
    let cases = [
        (
            json!({"password": PASSWORD}),
            "username",
            REQUIRED,
            "username missing",
        ),
        (
            json!({"username": "", "password": PASSWORD}),
            "username",
            BLANK,
            "username empty",
        ),
        (
            json!({"username": "  \t", "password": PASSWORD}),
            "username",
            BLANK,
            "username only whitespace",
        ),
        (
            json!({"username": null, "password": PASSWORD}),
            "username",
            NULL,
            "username null",
        ),
        (
            json!({"username": ["alice"], "password": PASSWORD}),
            "username",
            NOT_STRING,
            "username a list",
        ),
        (
            json!({"username": true, "password": PASSWORD}),
            "username",
            NOT_STRING,
            "username a bool",
        ),
        (
            json!({"username": {"a": 1}, "password": PASSWORD}),
            "username",
            NOT_STRING,
            "username an object",
        ),
        (
            json!({"username": "alice"}),
            "password",
            REQUIRED,
            "password missing",
        ),
        (
            json!({"username": "alice", "password": ""}),
            "password",
            BLANK,
            "password empty",
        ),
        (
            json!({"username": "alice", "password": null}),
            "password",
            NULL,
            "password null",
        ),
        (
            json!({"username": "alice", "password": [PASSWORD]}),
            "password",
            NOT_STRING,
            "password a list",
        ),
        (
            json!({"username": "alice", "password": false}),
            "password",
            NOT_STRING,
            "password a bool",
        ),
    ];
    for (request, field, message, case) in cases {
        let (status, body) = json_of(app.post_json("/api/token/", &request).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, json!({ field: [message] }), "{case}");
    }
}

#[actix_web::test]
async fn two_bad_fields_are_both_named_in_one_answer() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({}),
            json!({"username": [REQUIRED], "password": [REQUIRED]}),
            "both missing",
        ),
        (
            json!({"username": null, "password": ""}),
            json!({"username": [NULL], "password": [BLANK]}),
            "null and blank",
        ),
        (
            json!({"username": [1], "password": true}),
            json!({"username": [NOT_STRING], "password": [NOT_STRING]}),
            "list and bool",
        ),
    ];
    for (request, expected, case) in cases {
        let (status, body) = json_of(app.post_json("/api/token/", &request).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }
}

#[actix_web::test]
async fn an_empty_body_is_two_missing_fields() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.post_raw("/api/token/", "application/json", "").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"username": [REQUIRED], "password": [REQUIRED]})
    );
}

#[actix_web::test]
async fn extra_fields_are_ignored() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let request = json!({
        "username": "alice",
        "password": PASSWORD,
        "remember_me": true,
        "user_id": 99,
        "scopes": ["admin"],
    });
    let (status, body) = json_of(app.post_json("/api/token/", &request).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access"].as_str().unwrap_or_default();
    assert_eq!(
        claims_of(access)["user_id"],
        json!(id.to_string()),
        "a client-sent user_id does not reach the token"
    );
    assert!(claims_of(access).get("scopes").is_none());
}

#[actix_web::test]
async fn other_methods_get_405_with_allow_and_drfs_detail() {
    let app = spawn_app().await;
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let response = app.send(method.clone(), "/api/token/").await;
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(allow.as_deref(), Some("POST, OPTIONS"), "{method}");
        assert_eq!(
            body,
            json!({ "detail": format!("Method \"{method}\" not allowed.") }),
            "{method}"
        );
    }
}

#[actix_web::test]
async fn options_describes_the_endpoint_and_its_post_fields() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.send(Method::OPTIONS, "/api/token/").await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Token Obtain Pair");
    assert_eq!(
        body["parses"],
        json!([
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data"
        ])
    );
    for (field, label) in [("username", "Username"), ("password", "Password")] {
        assert_eq!(
            body["actions"]["POST"][field],
            json!({"type": "string", "required": true, "read_only": false, "label": label}),
            "{field}"
        );
    }
}

#[actix_web::test]
async fn text_plain_is_an_unsupported_media_type() {
    let app = spawn_app().await;
    let (status, body) = json_of(
        app.post_raw("/api/token/", "text/plain", "username=alice&password=x")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body,
        json!({"detail": "Unsupported media type \"text/plain\" in request."})
    );
}

#[actix_web::test]
async fn malformed_json_is_a_400_parse_error() {
    let app = spawn_app().await;
    let cases = [
        ("{\"username\": \"alice\",", "truncated object"),
        ("not json at all", "plain words"),
        ("{'username': 'alice'}", "single quotes"),
    ];
    for (raw, case) in cases {
        let (status, body) =
            json_of(app.post_raw("/api/token/", "application/json", raw).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with("JSON parse error - "), "{case}: {body}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{case}: {body}");
    }
}

#[actix_web::test]
async fn a_multipart_body_without_a_boundary_is_a_400_parse_error() {
    let app = spawn_app().await;
    let (_, body) = multipart_body(&[("username", "alice"), ("password", PASSWORD)]);
    let (status, body) = json_of(
        app.post_raw("/api/token/", "multipart/form-data", body)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"detail": "Multipart form parse error - Invalid boundary in multipart: None"})
    );
}

#[actix_web::test]
async fn a_json_body_that_is_not_an_object_is_a_non_field_error() {
    let app = spawn_app().await;
    let cases = [
        ("[\"alice\", \"secret\"]", "list"),
        ("\"alice\"", "str"),
        ("42", "int"),
    ];
    for (raw, python_type) in cases {
        let (status, body) =
            json_of(app.post_raw("/api/token/", "application/json", raw).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{python_type}: {body}");
        assert_eq!(
            body,
            json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {python_type}.")]}),
            "{python_type}"
        );
    }
}

#[actix_web::test]
async fn a_body_over_max_body_size_is_a_413_in_json() {
    let app = spawn_app_with(|s| s.max_body_size = 256).await;
    app.create_user("alice");
    let padded = |len: usize| {
        json!({"username": "alice", "password": PASSWORD, "padding": "x".repeat(len)}).to_string()
    };
    let small = padded(100);
    assert!(small.len() <= 256, "the control body fits");
    let (status, body) =
        json_of(app.post_raw("/api/token/", "application/json", small).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a body under the limit is read: {body}"
    );

    let (status, body) = json_of(
        app.post_raw("/api/token/", "application/json", padded(1000))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        json!({"detail": "Request body is larger than 256 bytes.", "code": "payload_too_large"})
    );
}

#[actix_web::test]
async fn the_path_without_its_trailing_slash_works_too() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (status, body) = json_of(
        app.post_json(
            "/api/token",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access"].is_string());
}

#[actix_web::test]
async fn tokens_carry_simplejwts_claims_and_default_lifetimes() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let before = app.now();
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let after = app.now();
    let mut jtis = Vec::new();
    for (token, token_type, lifetime) in [(&access, "access", 300), (&refresh, "refresh", 86_400)] {
        assert_eq!(
            header_of(token),
            json!({"typ": "JWT", "alg": "HS256"}),
            "{token_type}"
        );
        let claims = claims_of(token);
        assert_eq!(claims["token_type"], token_type);
        assert_eq!(
            claims["user_id"],
            json!(id.to_string()),
            "user_id is a string"
        );
        let iat = claims["iat"].as_i64().unwrap_or_default();
        let exp = claims["exp"].as_i64().unwrap_or_default();
        assert!(
            (before..=after).contains(&iat),
            "{token_type}: iat {iat} is now"
        );
        assert_eq!(exp - iat, lifetime, "{token_type} lifetime");
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        assert!(
            jti.len() == 32 && jti.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
            "{token_type}: jti {jti:?} is 32 lowercase hex digits"
        );
        let keys: Vec<&str> = claims
            .as_object()
            .map(|o| o.keys().map(String::as_str).take(4).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["token_type", "exp", "iat", "jti"],
            "{token_type}: key order"
        );
        jtis.push(jti);
    }
    assert_ne!(jtis[0], jtis[1], "each token has its own id");
}

#[actix_web::test]
async fn token_user_claims_put_the_username_in_both_tokens() {
    let app = spawn_app_with(|s| s.token_user_claims = vec!["username".into()]).await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        assert_eq!(claims_of(token)["username"], "alice", "{kind}");
    }
}

#[actix_web::test]
async fn without_token_user_claims_no_username_is_written() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        assert!(claims_of(token).get("username").is_none(), "{kind}");
    }
}

#[actix_web::test]
async fn audience_and_issuer_settings_add_aud_and_iss() {
    let app = spawn_app_with(|s| {
        s.audience = Some("https://api.example.test".into());
        s.issuer = Some("keyward-tests".into());
    })
    .await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        let claims = claims_of(token);
        assert_eq!(claims["aud"], "https://api.example.test", "{kind}");
        assert_eq!(claims["iss"], "keyward-tests", "{kind}");
        let (status, body) = app.verify(token).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({})),
            "{kind} verifies"
        );
    }
}

#[actix_web::test]
async fn without_audience_or_issuer_no_aud_or_iss_is_written() {
    let app = spawn_app().await;
    app.create_user("alice");
    let (refresh, access) = app.login("alice", PASSWORD).await;
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        let claims = claims_of(token);
        assert!(
            claims.get("aud").is_none() && claims.get("iss").is_none(),
            "{kind}"
        );
    }
}

#[actix_web::test]
async fn a_chunked_body_over_max_body_size_is_a_413_too() {
    let app = spawn_app_with(|s| s.max_body_size = 256).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let chunk = format!("{{\"padding\": \"{}\"}}", "x".repeat(400));
    let request = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let head = raw_http(&address, request).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("payload_too_large"), "{head}");
}

#[actix_web::test]
async fn a_large_declared_body_is_refused_and_the_server_keeps_answering() {
    let app = spawn_app_with(|s| s.max_body_size = 1024).await;
    app.create_user("alice");
    let big = json!({"username": "alice", "password": PASSWORD, "padding": "x".repeat(1 << 20)});
    let (status, body) = json_of(app.post_json("/api/token/", &big).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, body) = json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the next request is answered: {body}"
    );
}

/// Writes a hand-made HTTP request and returns the whole response as text.
async fn raw_http(address: &str, request: String) -> String {
    use std::io::{Read as _, Write as _};
    let address = address.to_owned();
    actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(&address)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok::<_, std::io::Error>(response)
    })
    .await
    .unwrap_or_else(|e| panic!("blocking task: {e}"))
    .unwrap_or_else(|e| panic!("raw HTTP: {e}"))
}
