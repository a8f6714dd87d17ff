//! A user administrator who is not a superuser cannot make anyone (themselves included) more
//! powerful than they are: no superuser flag, no touching superusers, no permission they lack.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app};

const ONLY_SUPERUSERS: &str =
    "Only superusers can change superuser accounts or the superuser flag.";
const CANNOT_GRANT: &str = "You cannot grant permissions you do not have.";
const ALL_USER_PERMISSIONS: [&str; 4] = [
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
];

/// A staff user holding every `auth.*_user` permission, and their access token.
async fn user_admin(app: &TestApp) -> (i64, String) {
    let id = app.create_user_with(
        "useradmin",
        PASSWORD,
        UserFlags {
            staff: true,
            ..UserFlags::default()
        },
    );
    app.grant(id, &ALL_USER_PERMISSIONS);
    (id, app.access_for("useradmin").await)
}

/// A superuser's access token, to look at the results.
async fn auditor(app: &TestApp) -> String {
    app.create_superuser("auditor");
    app.access_for("auditor").await
}

async fn view_of(app: &TestApp, auditor: &str, id: i64) -> Value {
    let (status, body) = json_of(app.get_as(&format!("/api/users/{id}/"), auditor).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[actix_web::test]
async fn a_user_admin_cannot_create_a_superuser_or_set_the_flag() {
    let app = spawn_app().await;
    let (_, access) = user_admin(&app).await;
    let target = app.create_user("target");
    let path = format!("/api/users/{target}/");
    let cases = [
        (
            Method::POST,
            "/api/users/",
            json!({"username": "boss", "is_superuser": true}),
            "create a superuser",
        ),
        (
            Method::PATCH,
            path.as_str(),
            json!({"is_superuser": true}),
            "promote with PATCH",
        ),
        (
            Method::PUT,
            path.as_str(),
            json!({"username": "target", "is_superuser": "true"}),
            "promote with PUT",
        ),
    ];
    for (method, path, body, case) in cases {
        let (status, answer) = json_of(
            app.request_as(method, path, Some(&access), Some(&body))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {answer}");
        assert_eq!(answer, json!({"detail": ONLY_SUPERUSERS}), "{case}");
    }
    let root = auditor(&app).await;
    let target_view = view_of(&app, &root, target).await;
    assert_eq!(target_view["is_superuser"], false);
    let (_, listed) = json_of(app.get_as("/api/users/?search=boss", &root).await).await;
    assert_eq!(listed["count"], 0, "the superuser was not created");

    let (status, body) = json_of(
        app.patch_as(
            &path,
            &access,
            &json!({"is_superuser": false, "first_name": "T"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "leaving the flag as it is is fine: {body}"
    );
}

#[actix_web::test]
async fn a_user_admin_cannot_edit_or_delete_a_superuser() {
    let app = spawn_app().await;
    let (_, access) = user_admin(&app).await;
    let root = app.create_superuser("root");
    let path = format!("/api/users/{root}/");
    let cases = [
        (
            Method::PATCH,
            Some(json!({"first_name": "Pwned"})),
            "rename",
        ),
        (
            Method::PATCH,
            Some(json!({"password": "taken-over-77x"})),
            "set the password",
        ),
        (
            Method::PATCH,
            Some(json!({"is_active": false})),
            "deactivate",
        ),
        (
            Method::PATCH,
            Some(json!({"is_superuser": false})),
            "demote",
        ),
        (Method::PUT, Some(json!({"username": "root"})), "replace"),
        (Method::DELETE, None, "delete"),
    ];
    for (method, body, case) in cases {
        let (status, answer) = json_of(
            app.request_as(method, &path, Some(&access), body.as_ref())
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {answer}");
        assert_eq!(answer, json!({"detail": ONLY_SUPERUSERS}), "{case}");
    }
    let (status, _) = json_of(app.get_as(&path, &access).await).await;
    assert_eq!(status, StatusCode::OK, "reading a superuser is allowed");
    let root_view = view_of(&app, &auditor(&app).await, root).await;
    assert_eq!(root_view["first_name"], "");
    assert_eq!(root_view["is_active"], true);
    assert_eq!(root_view["is_superuser"], true);
    app.login("root", PASSWORD).await;
}

#[actix_web::test]
async fn a_user_admin_cannot_grant_a_permission_they_lack_directly_or_through_a_group() {
    let app = spawn_app().await;
    let (me, access) = user_admin(&app).await;
    let target = app.create_user("target");
    app.create_group("powerful", &["auth.delete_group"]);
    let path = format!("/api/users/{target}/");
    let own = format!("/api/users/{me}/");
    let cases = [
        (
            Method::PATCH,
            path.as_str(),
            json!({"user_permissions": ["auth.delete_group"]}),
            "a direct permission",
        ),
        (
            Method::PATCH,
            path.as_str(),
            json!({"user_permissions": ["auth.view_user", "auth.delete_group"]}),
            "one lacking permission among held ones",
        ),
        (
            Method::PATCH,
            path.as_str(),
            json!({"groups": ["powerful"]}),
            "a group that has it",
        ),
        (
            Method::PUT,
            path.as_str(),
            json!({"username": "target", "groups": ["powerful"]}),
            "a group, with PUT",
        ),
        (
            Method::POST,
            "/api/users/",
            json!({"username": "sidekick", "user_permissions": ["auth.delete_group"]}),
            "a new user with it",
        ),
        (
            Method::POST,
            "/api/users/",
            json!({"username": "sidekick", "groups": ["powerful"]}),
            "a new user in the group",
        ),
        (
            Method::PATCH,
            own.as_str(),
            json!({"groups": ["powerful"]}),
            "themselves",
        ),
    ];
    for (method, path, body, case) in cases {
        let (status, answer) = json_of(
            app.request_as(method, path, Some(&access), Some(&body))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {answer}");
        assert_eq!(answer, json!({"detail": CANNOT_GRANT}), "{case}");
    }
    let root = auditor(&app).await;
    let target_view = view_of(&app, &root, target).await;
    assert_eq!(target_view["groups"], json!([]));
    assert_eq!(target_view["user_permissions"], json!([]));
    let (_, listed) = json_of(app.get_as("/api/users/?search=sidekick", &root).await).await;
    assert_eq!(listed["count"], 0, "no user was created");
    let (status, body) = json_of(
        app.get_as("/api/auth/check?permission=auth.delete_group", &access)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "still without it: {body}");
}

#[actix_web::test]
async fn a_user_admin_can_grant_permissions_they_hold() {
    let app = spawn_app().await;
    let (_, access) = user_admin(&app).await;
    let target = app.create_user("target");
    app.create_group("readers", &["auth.view_user"]);
    let path = format!("/api/users/{target}/");
    let (status, body) = json_of(
        app.patch_as(
            &path,
            &access,
            &json!({"user_permissions": ["auth.add_user"], "groups": ["readers"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_permissions"], json!(["auth.add_user"]));
    assert_eq!(body["groups"], json!(["readers"]));
    let created = app
        .post_as(
            "/api/users/",
            &access,
            &json!({"username": "helper", "user_permissions": ["auth.view_user"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let target_access = app.access_for("target").await;
    let (status, body) = json_of(app.get_as("/api/users/", &target_access).await).await;
    assert_eq!(status, StatusCode::OK, "view_user through readers: {body}");
}

#[actix_web::test]
async fn an_admin_cannot_take_over_an_account_that_holds_rights_they_lack() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.create_user_with(
        "helpdesk",
        crate::helpers::PASSWORD,
        crate::helpers::UserFlags {
            staff: true,
            ..Default::default()
        },
    );
    app.grant(admin, &["auth.view_user", "auth.change_user"]);
    let target = app.create_user("finance");
    app.grant(target, &["auth.delete_user"]);
    let plain = app.create_user("plain");
    let (_, token) = app.login("helpdesk", crate::helpers::PASSWORD).await;
    let body = serde_json::json!({ "password": "brand-new-secret-77" });

    let response = app
        .patch_as(&format!("/api/users/{target}/"), &token, &body)
        .await;
    let (status, detail) = crate::helpers::json_of(response).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{detail}");
    assert_eq!(
        detail["detail"],
        "You cannot set the password of a user who holds permissions you do not have."
    );
    let old_login = app
        .post_json(
            "/api/token/",
            &serde_json::json!({"username": "finance", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(
        old_login.status(),
        reqwest::StatusCode::OK,
        "the password did not change"
    );

    let response = app
        .patch_as(&format!("/api/users/{plain}/"), &token, &body)
        .await;
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "an account with no extra rights can be reset"
    );
}
