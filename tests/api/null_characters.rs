//! A NUL character (`\0`) in any text value is refused before it reaches the database, with
//! DRF's "Null characters are not allowed." on the field: PostgreSQL would answer 500, SQLite
//! would store it. Token paths answer as for any unusable token.

use diesel::prelude::*;
use keyward::db::schema::{groups, permissions, users};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console_client::{BAD_CREDENTIALS, ConsoleClient, superuser};
use crate::helpers::{PASSWORD, TestApp, assert_token_not_valid, json_of, spawn_app_with};
use crate::tokens::{keyward_claims, sign_valid, with_signing_key};

const NULL: &str = "Null characters are not allowed.";

/// Every stored text value that could have come from a client.
fn stored_text(app: &TestApp) -> Vec<String> {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => {
            let mut out: Vec<String> = Vec::new();
            let rows: Vec<(String, String, String, String)> = users::table
                .select((users::username, users::email, users::first_name, users::last_name))
                .load(c)
                .unwrap_or_else(|e| panic!("users: {e}"));
            for (a, b, d, e) in rows {
                out.extend([a, b, d, e]);
            }
            out.extend(
                groups::table
                    .select(groups::name)
                    .load::<String>(c)
                    .unwrap_or_else(|e| panic!("groups: {e}")),
            );
            let perms: Vec<(String, String)> = permissions::table
                .select((permissions::codename, permissions::name))
                .load(c)
                .unwrap_or_else(|e| panic!("permissions: {e}"));
            for (a, b) in perms {
                out.extend([a, b]);
            }
            out
        })
    })
}

fn assert_no_nul_stored(app: &TestApp, case: &str) {
    let bad: Vec<String> = stored_text(app)
        .into_iter()
        .filter(|t| t.contains('\0'))
        .collect();
    assert!(bad.is_empty(), "{case}: stored {bad:?}");
}

fn user_count(app: &TestApp) -> i64 {
    app.with_db(|conn| keyward::with_conn!(conn, c => users::table.count().get_result::<i64>(c)))
        .unwrap_or_else(|e| panic!("count: {e}"))
}

async fn assert_field_refused(response: reqwest::Response, field: &str, case: &str) {
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
    assert_eq!(body[field], json!([NULL]), "{case}: {body}");
}

async fn app_with_root() -> (TestApp, String) {
    let app = spawn_app_with(|s| {
        s.sliding_tokens = true;
        with_signing_key(s);
    })
    .await;
    app.create_superuser("root");
    let access = app.access_for("root").await;
    (app, access)
}

#[actix_web::test]
async fn login_refuses_a_nul_in_the_username_or_password_as_drf_does() {
    let (app, _) = app_with_root().await;
    for path in ["/api/token/", "/api/token/sliding/"] {
        let cases = [
            (
                json!({"username": "ro\u{0}ot", "password": PASSWORD}),
                "username",
            ),
            (
                json!({"username": "\u{0}", "password": PASSWORD}),
                "username",
            ),
            (
                json!({"username": "root", "password": "x\u{0}"}),
                "password",
            ),
        ];
        for (body, field) in cases {
            let case = format!("{path} {body}");
            assert_field_refused(app.post_json(path, &body).await, field, &case).await;
        }
        let form = [("username", "ro\u{0}ot"), ("password", PASSWORD)];
        let case = format!("{path} form-encoded");
        assert_field_refused(app.post_form(path, &form).await, "username", &case).await;
    }
}

#[actix_web::test]
async fn token_fields_and_a_signed_jti_holding_a_nul_are_refused_without_a_server_error() {
    let (app, _) = app_with_root().await;
    let id = app.create_user("alice");
    let now = app.now();
    let tokens_before = app.token_counts();
    for (path, field) in [
        ("/api/token/refresh/", "refresh"),
        ("/api/token/verify/", "token"),
        ("/api/token/blacklist/", "refresh"),
        ("/api/token/sliding/refresh/", "token"),
    ] {
        let body = json!({ field: "abc\u{0}def" });
        assert_field_refused(app.post_json(path, &body).await, field, path).await;
    }
    for (path, kind) in [
        ("/api/token/refresh/", "refresh"),
        ("/api/token/verify/", "refresh"),
        ("/api/token/blacklist/", "refresh"),
        ("/api/token/sliding/refresh/", "sliding"),
    ] {
        let mut claims = keyward_claims(kind, id, now, 3600);
        claims["jti"] = Value::from("abc\u{0}def");
        if kind == "sliding" {
            claims["refresh_exp"] = Value::from(now + 3600);
        }
        let field = if path.contains("sliding") || path.contains("verify") {
            "token"
        } else {
            "refresh"
        };
        let response = app.post_token(path, field, &sign_valid(&claims)).await;
        assert_token_not_valid(response, "Token is invalid", path).await;
    }
    let mut claims = keyward_claims("access", id, now, 300);
    claims["jti"] = Value::from("\u{0}");
    let response = app
        .get("/api/me/", Some(&format!("Bearer {}", sign_valid(&claims))))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "protected route"
    );
    assert_eq!(app.token_counts(), tokens_before, "nothing recorded");
}

#[actix_web::test]
async fn signup_refuses_a_nul_in_any_field_and_stores_nothing() {
    let (app, _) = app_with_root().await;
    let before = user_count(&app);
    let good = json!({"username": "newbie", "email": "n@example.com", "password": PASSWORD});
    for field in ["username", "email", "password"] {
        let mut body = good.clone();
        body[field] = Value::from(format!("{}\u{0}", good[field].as_str().unwrap_or_default()));
        let response = app.post_json("/api/signup/", &body).await;
        assert_field_refused(response, field, &format!("signup {field}")).await;
    }
    assert_eq!(user_count(&app), before, "no account created");
    assert_no_nul_stored(&app, "signup");
}

#[actix_web::test]
async fn user_admin_refuses_a_nul_in_fields_and_list_entries() {
    let (app, access) = app_with_root().await;
    app.create_group("editors", &[]);
    let before = user_count(&app);
    let cases = [
        (json!({"username": "bo\u{0}b"}), "username"),
        (
            json!({"username": "bob", "email": "b\u{0}@example.com"}),
            "email",
        ),
        (
            json!({"username": "bob", "first_name": "B\u{0}"}),
            "first_name",
        ),
        (
            json!({"username": "bob", "last_name": "\u{0}"}),
            "last_name",
        ),
        (
            json!({"username": "bob", "groups": ["editors\u{0}"]}),
            "groups",
        ),
        (
            json!({"username": "bob", "groups": ["editors", "\u{0}"]}),
            "groups",
        ),
        (
            json!({"username": "bob", "user_permissions": ["auth.view_user\u{0}"]}),
            "user_permissions",
        ),
    ];
    for (body, field) in &cases {
        let response = app.post_as("/api/users/", &access, body).await;
        assert_field_refused(response, field, &format!("create {body}")).await;
    }
    assert_eq!(user_count(&app), before, "no user created");
    let id = app.create_user("carol");
    for (body, field) in &cases {
        let path = format!("/api/users/{id}/");
        let response = app.patch_as(&path, &access, body).await;
        assert_field_refused(response, field, &format!("patch {body}")).await;
    }
    assert_no_nul_stored(&app, "user admin");
}

#[actix_web::test]
async fn group_and_permission_admin_refuse_a_nul_in_names_and_entries() {
    let (app, access) = app_with_root().await;
    let cases = [
        ("/api/groups/", json!({"name": "ed\u{0}itors"}), "name"),
        (
            "/api/groups/",
            json!({"name": "editors", "permissions": ["auth.view_user\u{0}"]}),
            "permissions",
        ),
        (
            "/api/permissions/",
            json!({"codename": "app.do\u{0}_it", "name": "Do it"}),
            "codename",
        ),
        (
            "/api/permissions/",
            json!({"codename": "app.do_it", "name": "Do\u{0}"}),
            "name",
        ),
    ];
    for (path, body, field) in &cases {
        let response = app.post_as(path, &access, body).await;
        assert_field_refused(response, field, &format!("{path} {body}")).await;
    }
    let id = app.create_group("writers", &[]);
    let response = app
        .patch_as(
            &format!("/api/groups/{id}/"),
            &access,
            &json!({"name": "\u{0}"}),
        )
        .await;
    assert_field_refused(response, "name", "rename a group").await;
    assert_no_nul_stored(&app, "group and permission admin");
}

#[actix_web::test]
async fn list_queries_refuse_a_nul_in_search_and_group() {
    let (app, access) = app_with_root().await;
    for (path, field) in [
        ("/api/users/?search=ro%00ot", "search"),
        ("/api/users/?group=%00", "group"),
        ("/api/users/?username=root%00", "username"),
        ("/api/groups/?search=%00", "search"),
        ("/api/permissions/?search=a%00", "search"),
    ] {
        assert_field_refused(app.get_as(path, &access).await, field, path).await;
    }
}

#[actix_web::test]
async fn console_sign_in_with_a_nul_is_a_plain_failed_sign_in() {
    let (app, _) = app_with_root().await;
    let mut console = ConsoleClient::new(&app);
    for username in ["ro\u{0}ot", "\u{0}"] {
        let page = console.sign_in(username, PASSWORD, "/admin/").await;
        assert_eq!(page.status, StatusCode::OK, "{username:?}: {}", page.body);
        assert!(page.has(BAD_CREDENTIALS), "{username:?}: {}", page.body);
    }
    let page = console.sign_in("root", "x\u{0}", "/admin/").await;
    assert!(page.has(BAD_CREDENTIALS), "password: {}", page.body);
}

#[actix_web::test]
async fn console_forms_and_list_searches_refuse_a_nul() {
    let (app, _) = app_with_root().await;
    superuser(&app, "boss");
    let mut console = ConsoleClient::signed_in(&app, "boss").await;
    let before = user_count(&app);
    let page = console
        .submit(
            "/admin/users/add/",
            &[
                ("username", "dave"),
                ("first_name", "D\u{0}"),
                ("password", PASSWORD),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.has(NULL), "user form: {}", page.body);
    assert_eq!(user_count(&app), before, "no user created");
    let page = console
        .submit("/admin/groups/add/", &[("name", "g\u{0}")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.has(NULL), "group form: {}", page.body);
    let page = console
        .submit(
            "/admin/permissions/add/",
            &[("codename", "app.x\u{0}"), ("name", "X")],
        )
        .await;
    assert!(page.has(NULL), "permission form: {}", page.body);
    for path in [
        "/admin/users/?q=%00",
        "/admin/groups/?q=a%00",
        "/admin/permissions/?q=%00",
        "/admin/tokens/?q=%00",
    ] {
        let page = console.get(path).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            page.body
        );
        assert!(page.has(NULL), "{path}: {}", page.body);
    }
    assert_no_nul_stored(&app, "console");
}
