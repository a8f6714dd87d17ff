//! Usernames are NFKC-normalised, as Django's `normalize_username` does, at signup, creation,
//! rename, login and lookup: `ａｄｍｉｎ` (fullwidth) is `admin`.

use reqwest::StatusCode;
use serde_json::json;

use crate::console_client::{ConsoleClient, superuser, user_row};
use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app_with};
use crate::tokens::claims_of;

const FULLWIDTH_ADMIN: &str = "ａｄｍｉｎ";
const TAKEN: &str = "A user with that username already exists.";

async fn app_with_admin() -> (TestApp, i64, String) {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    let id = superuser(&app, "admin");
    let access = app.access_for("admin").await;
    (app, id, access)
}

async fn assert_taken(response: reqwest::Response, case: &str) {
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
    assert_eq!(body["username"], json!([TAKEN]), "{case}: {body}");
}

#[actix_web::test]
async fn a_fullwidth_twin_of_admin_cannot_be_created_or_renamed_to() {
    let (app, _, access) = app_with_admin().await;
    let signup =
        json!({"username": FULLWIDTH_ADMIN, "email": "f@example.com", "password": PASSWORD});
    assert_taken(app.post_json("/api/signup/", &signup).await, "signup").await;
    let create = json!({"username": FULLWIDTH_ADMIN, "password": PASSWORD});
    assert_taken(app.post_as("/api/users/", &access, &create).await, "create").await;
    let bob = app.create_user("bob");
    let rename = json!({"username": FULLWIDTH_ADMIN});
    let path = format!("/api/users/{bob}/");
    assert_taken(app.patch_as(&path, &access, &rename).await, "rename").await;

    superuser(&app, "boss");
    let mut console = ConsoleClient::signed_in(&app, "boss").await;
    let page = console
        .submit(
            "/admin/users/add/",
            &[("username", FULLWIDTH_ADMIN), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "console add: {}",
        page.body
    );
    assert!(page.has(TAKEN), "console add: {}", page.body);
    let (status, body) = json_of(app.get_as("/api/users/?search=admin", &access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 1, "one admin: {body}");
}

#[actix_web::test]
async fn logging_in_as_fullwidth_admin_logs_in_as_admin() {
    let (app, id, _) = app_with_admin().await;
    let body = json!({"username": FULLWIDTH_ADMIN, "password": PASSWORD});
    let (status, tokens) = json_of(app.post_json("/api/token/", &body).await).await;
    assert_eq!(status, StatusCode::OK, "pair: {tokens}");
    let access = tokens["access"].as_str().unwrap_or_default();
    assert_eq!(claims_of(access)["user_id"], id.to_string(), "pair");
    let (status, me) = json_of(app.me(access).await).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("admin"))
    );

    let (status, sliding) = json_of(app.post_json("/api/token/sliding/", &body).await).await;
    assert_eq!(status, StatusCode::OK, "sliding: {sliding}");
    let token = sliding["token"].as_str().unwrap_or_default();
    assert_eq!(claims_of(token)["user_id"], id.to_string(), "sliding");

    let mut console = ConsoleClient::new(&app);
    let page = console.sign_in(FULLWIDTH_ADMIN, PASSWORD, "/admin/").await;
    page.assert_redirect("/admin/", "console sign-in");
}

#[actix_web::test]
async fn new_names_are_stored_in_nfkc_form_and_found_by_any_form() {
    let (app, _, access) = app_with_admin().await;
    let signup = json!({"username": "ｂｏｂ", "email": "b@example.com", "password": PASSWORD});
    let (status, view) = json_of(app.post_json("/api/signup/", &signup).await).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_eq!(view["username"], "bob", "signup stores the NFKC form");

    let create = json!({"username": "ﬁona"});
    let (status, view) = json_of(app.post_as("/api/users/", &access, &create).await).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_eq!(view["username"], "fiona", "create stores the NFKC form");
    let id = view["id"].as_i64().unwrap_or_default();

    let path = format!("/api/users/{id}/");
    let rename = json!({"username": "ｆｉｏｎａ２"});
    let (status, view) = json_of(app.patch_as(&path, &access, &rename).await).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["username"], "fiona2", "rename stores the NFKC form");

    superuser(&app, "boss");
    let mut console = ConsoleClient::signed_in(&app, "boss").await;
    console
        .submit(
            &format!("/admin/users/{id}/"),
            &[("username", "ｆｉｏｎａ３"), ("is_active", "on")],
        )
        .await
        .assert_redirect(&format!("/admin/users/{id}/"), "console rename");
    let row = user_row(&app, id).unwrap_or_else(|| panic!("fiona vanished"));
    assert_eq!(row.username, "fiona3", "the console stores the NFKC form");

    let query = serde_urlencoded::to_string([("username", "ｆｉｏｎａ３")]).unwrap_or_default();
    let (status, body) = json_of(app.get_as(&format!("/api/users/?{query}"), &access).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["count"], 1,
        "?username= looks up the NFKC form: {body}"
    );
}
