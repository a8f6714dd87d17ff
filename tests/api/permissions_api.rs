//! `/api/permissions/`: the catalogue is read with `auth.view_permission`; custom permissions
//! are created and deleted by superusers only; built-in ones stay.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app};

const DENIED: &str = "You do not have permission to perform this action.";
const BAD_CODENAME: &str = "Enter a codename like app_label.action_model: lower-case letters, digits and underscores, one dot.";

const BUILT_IN: [&str; 21] = [
    "audit.view_securityevent",
    "auth.add_group",
    "auth.add_permission",
    "auth.add_user",
    "auth.change_group",
    "auth.change_permission",
    "auth.change_user",
    "auth.delete_group",
    "auth.delete_permission",
    "auth.delete_user",
    "auth.view_group",
    "auth.view_permission",
    "auth.view_user",
    "token_blacklist.add_blacklistedtoken",
    "token_blacklist.add_outstandingtoken",
    "token_blacklist.change_blacklistedtoken",
    "token_blacklist.change_outstandingtoken",
    "token_blacklist.delete_blacklistedtoken",
    "token_blacklist.delete_outstandingtoken",
    "token_blacklist.view_blacklistedtoken",
    "token_blacklist.view_outstandingtoken",
];

async fn root(app: &TestApp) -> String {
    app.create_superuser("root");
    app.access_for("root").await
}

fn codenames(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|p| p["codename"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every codename listed, all pages.
async fn all_codenames(app: &TestApp, access: &str) -> Vec<String> {
    let (status, body) = json_of(app.get_as("/api/permissions/?page_size=500", access).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    codenames(&body)
}

/// A staff user holding the given permissions, and their access token.
async fn staff_with(app: &TestApp, name: &str, codenames: &[&str]) -> String {
    let id = app.create_user_with(
        name,
        PASSWORD,
        UserFlags {
            staff: true,
            ..UserFlags::default()
        },
    );
    app.grant(id, codenames);
    app.access_for(name).await
}

#[actix_web::test]
async fn listing_permissions_needs_view_permission() {
    let app = spawn_app().await;
    let plain = staff_with(&app, "plain", &[]).await;
    let viewer = staff_with(&app, "viewer", &["auth.view_permission"]).await;
    let (status, body) = json_of(
        app.request_as(Method::GET, "/api/permissions/", None, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous: {body}");
    for path in ["/api/permissions/", "/api/permissions/1/"] {
        let (status, body) = json_of(app.get_as(path, &plain).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "staff without it: {path}");
        assert_eq!(body, json!({"detail": DENIED}));
        let (status, body) = json_of(app.get_as(path, &viewer).await).await;
        assert_eq!(status, StatusCode::OK, "with it: {path}: {body}");
    }
}

#[actix_web::test]
async fn a_superuser_sees_the_twenty_one_built_in_permissions_by_codename() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let (status, body) = json_of(app.get_as("/api/permissions/", &access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 21);
    assert_eq!(body["next"], Value::Null);
    assert_eq!(codenames(&body), BUILT_IN, "sorted by codename");
    let view_user = body["results"]
        .as_array()
        .and_then(|r| r.iter().find(|p| p["codename"] == "auth.view_user"))
        .cloned()
        .unwrap_or_default();
    let id = view_user["id"].as_i64().unwrap_or_default();
    assert_eq!(
        view_user,
        json!({"id": id, "codename": "auth.view_user", "name": "Can view user"})
    );
    let (status, one) = json_of(
        app.get_as(&format!("/api/permissions/{id}/"), &access)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, view_user);
    let (status, body) = json_of(app.get_as("/api/permissions/9999/", &access).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"detail": "No Permission matches the given query."})
    );
}

#[actix_web::test]
async fn the_permission_list_is_searchable_by_codename_and_name() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "OUTSTANDING",
            &[
                "token_blacklist.add_outstandingtoken",
                "token_blacklist.change_outstandingtoken",
                "token_blacklist.delete_outstandingtoken",
                "token_blacklist.view_outstandingtoken",
            ],
            "codename, other case",
        ),
        ("can delete g", &["auth.delete_group"], "name, with a space"),
        (
            "auth.view_",
            &["auth.view_group", "auth.view_permission", "auth.view_user"],
            "a dotted prefix",
        ),
        ("nothing-like-this", &[], "no match"),
    ];
    for (search, expected, case) in cases {
        let query = serde_urlencoded::to_string([("search", search)]).unwrap_or_default();
        let (status, body) = json_of(
            app.get_as(&format!("/api/permissions/?{query}"), &access)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(codenames(&body), expected, "{case}");
        assert_eq!(body["count"], expected.len(), "{case}");
    }
}

#[actix_web::test]
async fn only_a_superuser_creates_a_custom_permission() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let holder = staff_with(
        &app,
        "holder",
        &["auth.view_permission", "auth.add_permission"],
    )
    .await;
    let body = json!({"codename": "reports.view_report", "name": "Can view report"});
    let (status, answer) = json_of(app.post_as("/api/permissions/", &holder, &body).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "staff holding add_permission: {answer}"
    );
    assert_eq!(answer, json!({"detail": DENIED}));
    let (status, _) = json_of(
        app.request_as(Method::POST, "/api/permissions/", None, Some(&body))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous");
    assert_eq!(all_codenames(&app, &access).await.len(), 21, "not created");

    let response = app.post_as("/api/permissions/", &access, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let (_, created) = json_of(response).await;
    let id = created["id"].as_i64().unwrap_or_default();
    assert_eq!(location, format!("/api/permissions/{id}/"));
    assert_eq!(
        created,
        json!({"id": id, "codename": "reports.view_report", "name": "Can view report"})
    );
    let (_, fetched) = json_of(app.get_as(&location, &holder).await).await;
    assert_eq!(fetched, created, "listed for those who can view");
    assert!(
        all_codenames(&app, &access)
            .await
            .contains(&"reports.view_report".to_owned())
    );
}

#[actix_web::test]
async fn a_bad_or_taken_codename_is_refused() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let created = app
        .post_as(
            "/api/permissions/",
            &access,
            &json!({"codename": "reports.view_report", "name": "Can view report"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let bad = |codename: &str| json!({"codename": codename, "name": "Something"});
    let cases = [
        (
            bad("reports"),
            json!({"codename": [BAD_CODENAME]}),
            "no dot",
        ),
        (
            bad("Reports.view"),
            json!({"codename": [BAD_CODENAME]}),
            "upper case",
        ),
        (
            bad("a.b.c"),
            json!({"codename": [BAD_CODENAME]}),
            "two dots",
        ),
        (bad(".view"), json!({"codename": [BAD_CODENAME]}), "no app"),
        (
            bad("app."),
            json!({"codename": [BAD_CODENAME]}),
            "no action",
        ),
        (
            bad("app.view-report"),
            json!({"codename": [BAD_CODENAME]}),
            "a dash",
        ),
        (
            bad("1app.view"),
            json!({"codename": [BAD_CODENAME]}),
            "a leading digit",
        ),
        (
            bad("app.view report"),
            json!({"codename": [BAD_CODENAME]}),
            "a space",
        ),
        (
            bad("auth.view_user"),
            json!({"codename": ["permission with this codename already exists."]}),
            "a built-in codename",
        ),
        (
            bad("reports.view_report"),
            json!({"codename": ["permission with this codename already exists."]}),
            "a custom codename again",
        ),
        (
            json!({"name": "Nameless"}),
            json!({"codename": ["This field is required."]}),
            "codename missing",
        ),
        (
            json!({"codename": "reports.export"}),
            json!({"name": ["This field is required."]}),
            "name missing",
        ),
        (
            json!({"codename": "reports.export", "name": "n".repeat(256)}),
            json!({"name": ["Ensure this field has no more than 255 characters."]}),
            "name too long",
        ),
    ];
    for (input, expected, case) in cases {
        let (status, body) = json_of(app.post_as("/api/permissions/", &access, &input).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }
    assert_eq!(all_codenames(&app, &access).await.len(), 22);
}

#[actix_web::test]
async fn deleting_a_custom_permission_answers_204_and_its_holders_lose_it() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let (_, created) = json_of(
        app.post_as(
            "/api/permissions/",
            &access,
            &json!({"codename": "reports.view_report", "name": "Can view report"}),
        )
        .await,
    )
    .await;
    let path = format!("/api/permissions/{}/", created["id"]);
    let holder = app.create_user("holder");
    let group = app.create_group("analysts", &["reports.view_report"]);
    app.add_to_group(holder, group);
    app.grant(holder, &["reports.view_report"]);
    let holder_access = app.access_for("holder").await;
    let check = "/api/auth/check?permission=reports.view_report";
    assert_eq!(
        app.get_as(check, &holder_access).await.status(),
        StatusCode::OK
    );

    let deleter = staff_with(&app, "deleter", &["auth.delete_permission"]).await;
    let (status, body) = json_of(app.delete_as(&path, &deleter).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "staff holding delete_permission: {body}"
    );

    let response = app.delete_as(&path, &access).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, body) = json_of(app.get_as(&path, &access).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"detail": "No Permission matches the given query."})
    );
    assert_eq!(
        app.get_as(check, &holder_access).await.status(),
        StatusCode::FORBIDDEN,
        "neither directly nor through the group, on the next request"
    );
    let (_, group_view) =
        json_of(app.get_as(&format!("/api/groups/{group}/"), &access).await).await;
    assert_eq!(group_view["permissions"], json!([]));
    let (status, _) = json_of(app.delete_as(&path, &access).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleting twice");
}

#[actix_web::test]
async fn a_built_in_permission_cannot_be_deleted() {
    let app = spawn_app().await;
    let access = root(&app).await;
    for codename in [
        "auth.view_user",
        "auth.delete_permission",
        "token_blacklist.delete_blacklistedtoken",
    ] {
        let id = app.permission_id(codename);
        let (status, body) = json_of(
            app.delete_as(&format!("/api/permissions/{id}/"), &access)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{codename}: {body}");
        assert_eq!(
            body,
            json!({"detail": "Built-in permissions cannot be deleted."}),
            "{codename}"
        );
    }
    assert_eq!(all_codenames(&app, &access).await, BUILT_IN);
}

#[actix_web::test]
async fn head_on_permissions_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let id = app.permission_id("auth.view_user");
    for path in [
        "/api/permissions/".to_owned(),
        format!("/api/permissions/{id}/"),
    ] {
        for (who, expected) in [
            (Some(access.as_str()), StatusCode::OK),
            (None, StatusCode::UNAUTHORIZED),
        ] {
            let response = app.request_as(Method::HEAD, &path, who, None).await;
            assert_eq!(response.status(), expected, "HEAD {path}");
            assert_eq!(response.text().await.unwrap_or_default(), "");
        }
    }
}
