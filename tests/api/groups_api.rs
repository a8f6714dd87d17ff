//! `/api/groups/`: CRUD of groups and their permissions under `auth.*_group`, and what a
//! change to a group does to its members' rights on their next request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, UserFlags, json_of, spawn_app};

const DENIED: &str = "You do not have permission to perform this action.";
const GROUP_TAKEN: &str = "group with this name already exists.";

async fn root(app: &TestApp) -> String {
    app.create_superuser("root");
    app.access_for("root").await
}

fn names(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `GET /api/auth/check?permission=<codename>`: whether `access` holds it now.
async fn holds(app: &TestApp, access: &str, codename: &str) -> bool {
    let response = app
        .get_as(&format!("/api/auth/check?permission={codename}"), access)
        .await;
    match response.status() {
        StatusCode::OK => true,
        StatusCode::FORBIDDEN => false,
        other => panic!("check {codename}: {other}"),
    }
}

#[actix_web::test]
async fn groups_are_created_listed_read_changed_and_deleted_with_their_permissions() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let response = app
        .post_as(
            "/api/groups/",
            &access,
            &json!({"name": " editors ", "permissions": ["auth.view_user", "auth.change_user", "auth.view_user"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let (_, created) = json_of(response).await;
    let id = created["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {created}"));
    assert_eq!(location, format!("/api/groups/{id}/"));
    assert_eq!(
        created,
        json!({"id": id, "name": "editors", "permissions": ["auth.change_user", "auth.view_user"]}),
        "trimmed name; permissions sorted, once each"
    );

    let (status, listed) = json_of(app.get_as("/api/groups/", &access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed,
        json!({"count": 1, "next": null, "previous": null, "results": [created]})
    );
    let (_, fetched) = json_of(app.get_as(&location, &access).await).await;
    assert_eq!(fetched, created);

    let (status, renamed) = json_of(
        app.patch_as(&location, &access, &json!({"name": "writers"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        renamed,
        json!({"id": id, "name": "writers", "permissions": ["auth.change_user", "auth.view_user"]}),
        "a rename keeps the permissions"
    );
    let (_, regranted) = json_of(
        app.patch_as(
            &location,
            &access,
            &json!({"permissions": ["auth.view_group"]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        regranted,
        json!({"id": id, "name": "writers", "permissions": ["auth.view_group"]}),
        "permissions are replaced, the name kept"
    );
    let (status, replaced) = json_of(
        app.put_as(
            &location,
            &access,
            &json!({"name": "authors", "permissions": []}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(
        replaced,
        json!({"id": id, "name": "authors", "permissions": []})
    );

    let response = app.delete_as(&location, &access).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let (status, body) = json_of(
            app.request_as(method.clone(), &location, Some(&access), Some(&json!({})))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} after delete");
        assert_eq!(
            body,
            json!({"detail": "No Group matches the given query."}),
            "{method}"
        );
    }
}

#[actix_web::test]
async fn the_group_list_is_paginated_by_name_and_searchable() {
    let app = spawn_app().await;
    let access = root(&app).await;
    for name in ["gamma", "alpha", "beta_team", "betaxteam"] {
        app.create_group(name, &[]);
    }
    let (_, page) = json_of(app.get_as("/api/groups/?page_size=3", &access).await).await;
    assert_eq!(page["count"], 4);
    assert_eq!(names(&page), ["alpha", "beta_team", "betaxteam"]);
    assert_eq!(
        page["next"],
        app.url("/api/groups/?page_size=3&page=2").as_str()
    );
    let cases: [(&str, &[&str], &str); 4] = [
        ("ALP", &["alpha"], "case-insensitive"),
        ("ta_", &["beta_team"], "an underscore is literal"),
        (
            "a",
            &["alpha", "beta_team", "betaxteam", "gamma"],
            "a substring",
        ),
        ("delta", &[], "no match"),
    ];
    for (search, expected, case) in cases {
        let (status, body) = json_of(
            app.get_as(&format!("/api/groups/?search={search}"), &access)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(names(&body), expected, "{case}");
    }
}

#[actix_web::test]
async fn bad_group_input_is_refused_field_by_field() {
    let app = spawn_app().await;
    let access = root(&app).await;
    app.create_group("editors", &[]);
    let long = "g".repeat(151);
    let cases = [
        (
            json!({"name": "editors"}),
            json!({"name": [GROUP_TAKEN]}),
            "duplicate name",
        ),
        (
            json!({"permissions": []}),
            json!({"name": ["This field is required."]}),
            "name missing",
        ),
        (
            json!({"name": "  "}),
            json!({"name": ["This field may not be blank."]}),
            "name blank",
        ),
        (
            json!({"name": null}),
            json!({"name": ["This field may not be null."]}),
            "name null",
        ),
        (
            json!({"name": long}),
            json!({"name": ["Ensure this field has no more than 150 characters."]}),
            "name too long",
        ),
        (
            json!({"name": "flyers", "permissions": ["auth.fly"]}),
            json!({"permissions": ["Object with codename=auth.fly does not exist."]}),
            "unknown permission",
        ),
        (
            json!({"name": "flyers", "permissions": "auth.view_user"}),
            json!({"permissions": ["Expected a list of items but got type \"str\"."]}),
            "permissions not a list",
        ),
    ];
    for (input, expected, case) in cases {
        let (status, body) = json_of(app.post_as("/api/groups/", &access, &input).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }
    let (_, listed) = json_of(app.get_as("/api/groups/", &access).await).await;
    assert_eq!(names(&listed), ["editors"], "nothing was created");

    let other = app.create_group("writers", &[]);
    let path = format!("/api/groups/{other}/");
    let cases = [
        (
            json!({"name": "editors"}),
            json!({"name": [GROUP_TAKEN]}),
            "rename onto a taken name",
        ),
        (
            json!({"permissions": ["auth.fly"]}),
            json!({"permissions": ["Object with codename=auth.fly does not exist."]}),
            "unknown permission",
        ),
        (
            json!({"name": ""}),
            json!({"name": ["This field may not be blank."]}),
            "blank name",
        ),
    ];
    for (input, expected, case) in cases {
        let (status, body) = json_of(app.patch_as(&path, &access, &input).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }
    let (status, body) = json_of(app.put_as(&path, &access, &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "PUT without a name");
    assert_eq!(body, json!({"name": ["This field is required."]}));
}

#[actix_web::test]
async fn each_group_endpoint_needs_its_model_permission() {
    let app = spawn_app().await;
    let group = app.create_group("target", &[]);
    let detail = format!("/api/groups/{group}/");
    let roles = [
        ("viewer", "auth.view_group"),
        ("adder", "auth.add_group"),
        ("changer", "auth.change_group"),
        ("deleter", "auth.delete_group"),
    ];
    for (name, codename) in roles {
        let id = app.create_user_with(
            name,
            PASSWORD,
            UserFlags {
                staff: true,
                ..UserFlags::default()
            },
        );
        app.grant(id, &[codename]);
    }
    // (who, method, path, body, expected status); the deleter goes last.
    let cases = [
        ("viewer", Method::GET, "/api/groups/", None, StatusCode::OK),
        ("viewer", Method::GET, detail.as_str(), None, StatusCode::OK),
        (
            "viewer",
            Method::POST,
            "/api/groups/",
            Some(json!({"name": "v"})),
            StatusCode::FORBIDDEN,
        ),
        (
            "viewer",
            Method::PATCH,
            detail.as_str(),
            Some(json!({"name": "v"})),
            StatusCode::FORBIDDEN,
        ),
        (
            "viewer",
            Method::DELETE,
            detail.as_str(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "adder",
            Method::GET,
            "/api/groups/",
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "adder",
            Method::POST,
            "/api/groups/",
            Some(json!({"name": "added"})),
            StatusCode::CREATED,
        ),
        (
            "adder",
            Method::PUT,
            detail.as_str(),
            Some(json!({"name": "a"})),
            StatusCode::FORBIDDEN,
        ),
        (
            "changer",
            Method::GET,
            detail.as_str(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "changer",
            Method::PUT,
            detail.as_str(),
            Some(json!({"name": "changed"})),
            StatusCode::OK,
        ),
        (
            "changer",
            Method::PATCH,
            detail.as_str(),
            Some(json!({"name": "target"})),
            StatusCode::OK,
        ),
        (
            "changer",
            Method::DELETE,
            detail.as_str(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "deleter",
            Method::POST,
            "/api/groups/",
            Some(json!({"name": "d"})),
            StatusCode::FORBIDDEN,
        ),
        (
            "deleter",
            Method::DELETE,
            detail.as_str(),
            None,
            StatusCode::NO_CONTENT,
        ),
    ];
    let mut tokens = std::collections::BTreeMap::new();
    for (name, _) in roles {
        tokens.insert(name, app.access_for(name).await);
    }
    for (who, method, path, body, expected) in cases {
        let response = app
            .request_as(method.clone(), path, Some(&tokens[who]), body.as_ref())
            .await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, expected, "{who} {method} {path}: {text}");
        if status == StatusCode::FORBIDDEN {
            assert_eq!(
                text,
                json!({"detail": DENIED}).to_string(),
                "{who} {method}"
            );
        }
    }
    let (status, _) = json_of(
        app.request_as(Method::GET, "/api/groups/", None, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous");
}

#[actix_web::test]
async fn a_group_admin_cannot_give_a_group_a_permission_they_lack() {
    let app = spawn_app().await;
    let admin = app.create_user("groupadmin");
    app.grant(
        admin,
        &["auth.view_group", "auth.add_group", "auth.change_group"],
    );
    let legacy = app.create_group("legacy", &["auth.delete_user"]);
    let access = app.access_for("groupadmin").await;
    let refused = [
        (
            Method::POST,
            "/api/groups/".to_owned(),
            json!({"name": "mine", "permissions": ["auth.delete_user"]}),
            "create a group with it",
        ),
        (
            Method::PATCH,
            format!("/api/groups/{legacy}/"),
            json!({"permissions": ["auth.delete_user", "auth.add_user"]}),
            "add another to a group",
        ),
    ];
    for (method, path, body, case) in refused {
        let (status, answer) = json_of(
            app.request_as(method, &path, Some(&access), Some(&body))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {answer}");
        assert_eq!(
            answer,
            json!({"detail": "You cannot grant permissions you do not have."}),
            "{case}"
        );
    }
    let (status, body) = json_of(
        app.post_as(
            "/api/groups/",
            &access,
            &json!({"name": "mine", "permissions": ["auth.view_group"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "one they hold: {body}");
    let (status, body) = json_of(
        app.patch_as(
            &format!("/api/groups/{legacy}/"),
            &access,
            &json!({"name": "old", "permissions": ["auth.delete_user", "auth.view_group"]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "keeping a permission the group already had is not a grant: {body}"
    );
    assert_eq!(
        body["permissions"],
        json!(["auth.delete_user", "auth.view_group"])
    );
}

#[actix_web::test]
async fn a_permission_given_to_a_group_counts_for_its_members_on_their_next_request() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let member = app.create_user("member");
    app.create_user("outsider");
    let group = app.create_group("readers", &[]);
    app.add_to_group(member, group);
    let member_access = app.access_for("member").await;
    let outsider_access = app.access_for("outsider").await;
    assert!(!holds(&app, &member_access, "auth.view_user").await);

    let path = format!("/api/groups/{group}/");
    let response = app
        .patch_as(&path, &admin, &json!({"permissions": ["auth.view_user"]}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        holds(&app, &member_access, "auth.view_user").await,
        "granted"
    );
    assert_eq!(
        app.get_as("/api/users/", &member_access).await.status(),
        StatusCode::OK
    );
    assert!(
        !holds(&app, &outsider_access, "auth.view_user").await,
        "only members"
    );

    let response = app
        .patch_as(&path, &admin, &json!({"permissions": []}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        !holds(&app, &member_access, "auth.view_user").await,
        "removed"
    );
    assert_eq!(
        app.get_as("/api/users/", &member_access).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn deleting_a_group_takes_away_what_its_members_inherited_from_it() {
    let app = spawn_app().await;
    let admin = root(&app).await;
    let member = app.create_user("member");
    let group = app.create_group("readers", &["auth.view_user", "auth.view_group"]);
    app.add_to_group(member, group);
    app.grant(member, &["auth.view_group"]);
    let access = app.access_for("member").await;
    assert!(holds(&app, &access, "auth.view_user").await);

    let response = app
        .delete_as(&format!("/api/groups/{group}/"), &admin)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        !holds(&app, &access, "auth.view_user").await,
        "inherited only: gone"
    );
    assert!(
        holds(&app, &access, "auth.view_group").await,
        "also held directly: kept"
    );
    let (_, me) = json_of(app.me(&access).await).await;
    assert_eq!(me["groups"], json!([]), "{me}");
    let (_, view) = json_of(app.get_as(&format!("/api/users/{member}/"), &admin).await).await;
    assert_eq!(view["groups"], json!([]));
    assert_eq!(view["user_permissions"], json!(["auth.view_group"]));
}

#[actix_web::test]
async fn head_on_groups_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let id = app.create_group("editors", &[]);
    for path in ["/api/groups/".to_owned(), format!("/api/groups/{id}/")] {
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
