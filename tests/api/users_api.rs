//! `/api/users/`: DRF pagination, search, filters and ordering; the model-permission guard;
//! create, retrieve, update and delete with DRF's validation messages.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, UserFlags, challenge_of, json_of, spawn_app};

const DENIED: &str = "You do not have permission to perform this action.";
const NO_USER: &str = "No User matches the given query.";

/// The usernames of a list response, in order.
pub fn usernames(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `GET /api/users/?<query>` as `access`, which must succeed; the usernames listed.
async fn list(app: &TestApp, access: &str, query: &[(&str, &str)]) -> Vec<String> {
    let query = serde_urlencoded::to_string(query).unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = json_of(app.get_as(&format!("/api/users/?{query}"), access).await).await;
    assert_eq!(status, StatusCode::OK, "?{query}: {body}");
    usernames(&body)
}

/// Creates a user through the API as `access`; returns the new user's view.
pub async fn create(app: &TestApp, access: &str, body: Value) -> Value {
    let (status, view) = json_of(app.post_as("/api/users/", access, &body).await).await;
    assert_eq!(status, StatusCode::CREATED, "create {body}: {view}");
    view
}

/// A superuser `root` and their access token.
async fn root(app: &TestApp) -> String {
    app.create_superuser("root");
    app.access_for("root").await
}

/// The query pairs of an absolute link to `/api/users/`.
fn link_query(app: &TestApp, link: &Value) -> Vec<(String, String)> {
    let link = link
        .as_str()
        .unwrap_or_else(|| panic!("not a link: {link}"));
    let prefix = app.url("/api/users/");
    let query = link
        .strip_prefix(prefix.as_str())
        .unwrap_or_else(|| panic!("{link} is not an absolute link to {prefix}"));
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).unwrap_or_else(|e| panic!("{link}: {e}"));
    pairs.sort();
    pairs
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[actix_web::test]
async fn the_user_list_is_paginated_as_drf_does_with_absolute_links() {
    let app = spawn_app().await;
    let access = root(&app).await;
    for name in ["u1", "u2", "u3", "u4"] {
        app.create_user(name);
    }

    let (status, body) = json_of(app.get_as("/api/users/?page=2&page_size=2", &access).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["count", "next", "previous", "results"]);
    assert_eq!(body["count"], 5, "root and four users");
    assert_eq!(
        usernames(&body),
        ["u2", "u3"],
        "by id: root, u1 | u2, u3 | u4"
    );
    assert_eq!(
        link_query(&app, &body["next"]),
        pairs(&[("page", "3"), ("page_size", "2")])
    );
    assert_eq!(
        link_query(&app, &body["previous"]),
        pairs(&[("page_size", "2")]),
        "the link to page 1 drops the page parameter, as DRF does"
    );

    let (_, last) = json_of(app.get_as("/api/users/?page=3&page_size=2", &access).await).await;
    assert_eq!(usernames(&last), ["u4"]);
    assert_eq!(last["next"], Value::Null);
    assert_eq!(
        link_query(&app, &last["previous"]),
        pairs(&[("page", "2"), ("page_size", "2")])
    );

    let (_, first) = json_of(app.get_as("/api/users/", &access).await).await;
    assert_eq!(first["count"], 5);
    assert_eq!(first["next"], Value::Null, "all five fit the default page");
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(usernames(&first), ["root", "u1", "u2", "u3", "u4"]);
}

#[actix_web::test]
async fn a_page_past_the_end_or_not_a_page_number_is_404_invalid_page() {
    let app = spawn_app().await;
    let access = root(&app).await;
    app.create_user("u1");
    let cases = [
        ("page=2&page_size=2", "one page past the end"),
        ("page=99", "far past the end"),
        ("page=0", "zero"),
        ("page=-1", "negative"),
        ("page=two", "not a number"),
        ("page=9223372036854775807", "the largest page number"),
        ("page=99999999999999999999", "a page number past i64"),
    ];
    for (query, case) in cases {
        let (status, body) =
            json_of(app.get_as(&format!("/api/users/?{query}"), &access).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{case}: {body}");
        assert_eq!(body, json!({"detail": "Invalid page."}), "{case}");
    }
}

#[actix_web::test]
async fn search_matches_username_email_and_names_case_insensitively() {
    let app = spawn_app().await;
    let access = root(&app).await;
    create(
        &app,
        &access,
        json!({"username": "Alice", "email": "alice@example.com"}),
    )
    .await;
    create(
        &app,
        &access,
        json!({"username": "bob", "email": "Bob.Builder@Site.example"}),
    )
    .await;
    create(
        &app,
        &access,
        json!({"username": "carol", "first_name": "Carolina"}),
    )
    .await;
    create(
        &app,
        &access,
        json!({"username": "dave", "last_name": "Wonderland"}),
    )
    .await;
    let cases: [(&str, &[&str], &str); 6] = [
        ("alice", &["Alice"], "username, other case"),
        ("BUILDER", &["bob"], "email, other case"),
        ("site.EXAMPLE", &["bob"], "email domain"),
        ("caroLINA", &["carol"], "first name"),
        ("wonder", &["dave"], "last name"),
        ("nobody-at-all", &[], "no match"),
    ];
    for (search, expected, case) in cases {
        assert_eq!(
            list(&app, &access, &[("search", search)]).await,
            expected,
            "{case}"
        );
    }
    let (_, body) = json_of(app.get_as("/api/users/?search=example", &access).await).await;
    assert_eq!(body["count"], 2, "count follows the search: {body}");
}

#[actix_web::test]
async fn a_search_containing_percent_or_underscore_is_literal() {
    let app = spawn_app().await;
    let access = root(&app).await;
    create(&app, &access, json!({"username": "a_b"})).await;
    create(&app, &access, json!({"username": "axb"})).await;
    create(
        &app,
        &access,
        json!({"username": "carl", "first_name": "100% sure"}),
    )
    .await;
    create(
        &app,
        &access,
        json!({"username": "dora", "first_name": "1000 sure"}),
    )
    .await;
    let cases: [(&str, &[&str], &str); 5] = [
        ("a_b", &["a_b"], "an underscore is not 'any character'"),
        ("_", &["a_b"], "a lone underscore"),
        ("0%", &["carl"], "a percent sign is not 'anything'"),
        ("%", &["carl"], "a lone percent sign"),
        ("\\", &[], "the escape character itself"),
    ];
    for (search, expected, case) in cases {
        assert_eq!(
            list(&app, &access, &[("search", search)]).await,
            expected,
            "{case}"
        );
    }
}

#[actix_web::test]
async fn filters_narrow_the_list_by_flags_and_group() {
    let app = spawn_app().await;
    let access = root(&app).await;
    app.create_user("plain");
    app.create_inactive_user("sleepy");
    app.create_user_with(
        "staffer",
        PASSWORD,
        UserFlags {
            staff: true,
            ..UserFlags::default()
        },
    );
    let editor = app.create_user("editor");
    let editors = app.create_group("editors", &[]);
    app.add_to_group(editor, editors);
    app.create_group("empty", &[]);
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: [Case; 9] = [
        (&[("is_active", "false")], &["sleepy"], "inactive users"),
        (
            &[("is_active", "true")],
            &["root", "plain", "staffer", "editor"],
            "active users",
        ),
        (&[("is_staff", "true")], &["staffer"], "staff"),
        (&[("is_superuser", "true")], &["root"], "superusers"),
        (
            &[
                ("is_superuser", "false"),
                ("is_staff", "false"),
                ("is_active", "true"),
            ],
            &["plain", "editor"],
            "filters combine",
        ),
        (&[("group", "editors")], &["editor"], "members of a group"),
        (&[("group", "empty")], &[], "a group without members"),
        (&[("group", "nosuch")], &[], "an unknown group"),
        (
            &[("group", "editors"), ("search", "plain")],
            &[],
            "group and search combine",
        ),
    ];
    for (query, expected, case) in cases {
        assert_eq!(list(&app, &access, query).await, expected, "{case}");
    }
}

#[actix_web::test]
async fn ordering_sorts_by_username_or_by_date_joined_newest_first() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let carol = app.create_user("carol");
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let now = app.clock.now();
    app.set_date_joined(bob, now - time::Duration::days(30));
    app.set_date_joined(carol, now - time::Duration::days(20));
    app.set_date_joined(alice, now - time::Duration::days(10));
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "username",
            &["alice", "bob", "carol", "root"],
            "by username",
        ),
        (
            "-username",
            &["root", "carol", "bob", "alice"],
            "by username, descending",
        ),
        (
            "-date_joined",
            &["root", "alice", "carol", "bob"],
            "newest first",
        ),
        (
            "date_joined",
            &["bob", "carol", "alice", "root"],
            "oldest first",
        ),
    ];
    for (ordering, expected, case) in cases {
        assert_eq!(
            list(&app, &access, &[("ordering", ordering)]).await,
            expected,
            "{case}"
        );
    }
    assert_eq!(
        list(&app, &access, &[]).await,
        ["root", "carol", "alice", "bob"],
        "by id without ordering"
    );
}

#[actix_web::test]
async fn an_anonymous_caller_gets_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let detail = format!("/api/users/{id}/");
    let cases = [
        (Method::GET, "/api/users/"),
        (Method::POST, "/api/users/"),
        (Method::GET, detail.as_str()),
        (Method::PUT, detail.as_str()),
        (Method::PATCH, detail.as_str()),
        (Method::DELETE, detail.as_str()),
    ];
    for (method, path) in cases {
        let response = app
            .request_as(method.clone(), path, None, Some(&json!({"username": "x"})))
            .await;
        let challenge = challenge_of(&response);
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"api\""),
            "{method} {path}"
        );
        assert_eq!(
            body,
            json!({"detail": "Authentication credentials were not provided."}),
            "{method} {path}"
        );
    }
    assert!(app.user_exists(id));
}

#[actix_web::test]
async fn a_user_without_view_user_gets_403_even_when_staff() {
    let app = spawn_app().await;
    let target = app.create_user("target");
    app.create_user("plain");
    app.create_user_with(
        "staffer",
        PASSWORD,
        UserFlags {
            staff: true,
            ..UserFlags::default()
        },
    );
    let detail = format!("/api/users/{target}/");
    for who in ["plain", "staffer"] {
        let access = app.access_for(who).await;
        for (method, path) in [
            (Method::GET, "/api/users/"),
            (Method::GET, detail.as_str()),
            (Method::POST, "/api/users/"),
            (Method::PATCH, detail.as_str()),
            (Method::DELETE, detail.as_str()),
        ] {
            let (status, body) = json_of(
                app.request_as(
                    method.clone(),
                    path,
                    Some(&access),
                    Some(&json!({"username": "intruder"})),
                )
                .await,
            )
            .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{who} {method} {path}: {body}"
            );
            assert_eq!(body, json!({"detail": DENIED}), "{who} {method} {path}");
        }
    }
    assert!(app.user_exists(target));
}

/// Checks that `access` may read users but not write them.
async fn can_read_but_not_write(app: &TestApp, access: &str, target: i64, case: &str) {
    let detail = format!("/api/users/{target}/");
    let (status, body) = json_of(app.get_as("/api/users/", access).await).await;
    assert_eq!(status, StatusCode::OK, "{case}: list: {body}");
    let (status, body) = json_of(app.get_as(&detail, access).await).await;
    assert_eq!(status, StatusCode::OK, "{case}: retrieve: {body}");
    assert_eq!(body["username"], "target", "{case}");
    let writes = [
        (Method::POST, "/api/users/", "add_user"),
        (Method::PUT, detail.as_str(), "change_user"),
        (Method::PATCH, detail.as_str(), "change_user"),
        (Method::DELETE, detail.as_str(), "delete_user"),
    ];
    for (method, path, needs) in writes {
        let (status, body) = json_of(
            app.request_as(
                method.clone(),
                path,
                Some(access),
                Some(&json!({"username": "newname"})),
            )
            .await,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{case}: {method} {path} needs {needs}: {body}"
        );
        assert_eq!(body, json!({"detail": DENIED}), "{case}: {method}");
    }
    assert!(app.user_exists(target), "{case}");
}

#[actix_web::test]
async fn view_user_granted_directly_lets_a_user_read_but_not_write() {
    let app = spawn_app().await;
    let target = app.create_user("target");
    let reader = app.create_user("reader");
    app.grant(reader, &["auth.view_user"]);
    let access = app.access_for("reader").await;
    can_read_but_not_write(&app, &access, target, "direct grant").await;
}

#[actix_web::test]
async fn view_user_granted_through_a_group_lets_a_user_read_but_not_write() {
    let app = spawn_app().await;
    let target = app.create_user("target");
    let reader = app.create_user("reader");
    let readers = app.create_group("readers", &["auth.view_user"]);
    app.add_to_group(reader, readers);
    let access = app.access_for("reader").await;
    can_read_but_not_write(&app, &access, target, "through a group").await;
}

#[actix_web::test]
async fn add_user_lets_a_user_create_users() {
    let app = spawn_app().await;
    let clerk = app.create_user("clerk");
    app.grant(clerk, &["auth.add_user"]);
    let access = app.access_for("clerk").await;
    let view = create(
        &app,
        &access,
        json!({"username": "hired", "password": PASSWORD}),
    )
    .await;
    assert_eq!(view["username"], "hired");
    let (status, _) = json_of(app.get_as("/api/users/", &access).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "adding is not viewing");
    app.login("hired", PASSWORD).await;
}

#[actix_web::test]
async fn a_superuser_can_list_create_read_replace_patch_and_delete() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let view = create(&app, &access, json!({"username": "temp"})).await;
    let detail = format!("/api/users/{}/", view["id"]);
    let steps = [
        (Method::GET, "/api/users/", None, StatusCode::OK),
        (Method::GET, detail.as_str(), None, StatusCode::OK),
        (
            Method::PUT,
            detail.as_str(),
            Some(json!({"username": "temp2"})),
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            detail.as_str(),
            Some(json!({"is_staff": true, "is_superuser": true})),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            detail.as_str(),
            None,
            StatusCode::NO_CONTENT,
        ),
    ];
    for (method, path, body, expected) in steps {
        let response = app
            .request_as(method.clone(), path, Some(&access), body.as_ref())
            .await;
        assert_eq!(response.status(), expected, "{method} {path}");
    }
}

#[actix_web::test]
async fn creating_a_user_answers_201_with_location_and_the_view_without_the_password() {
    let app = spawn_app().await;
    let access = root(&app).await;
    app.create_group("editors", &["auth.view_group"]);
    let response = app
        .post_as(
            "/api/users/",
            &access,
            &json!({
                "username": "newbie",
                "email": "  Newbie@Example.COM ",
                "password": "orchard-lantern-58",
                "first_name": "New",
                "last_name": "Bie",
                "groups": ["editors"],
                "user_permissions": ["auth.view_user"],
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let text = response.text().await.unwrap_or_default();
    let view: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let id = view["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {view}"));
    assert_eq!(location, format!("/api/users/{id}/"));
    let keys: Vec<&String> = view
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
            "last_login",
            "groups",
            "user_permissions"
        ]
    );
    let hash = app.password_hash(id);
    assert!(!text.contains(&hash), "the hash leaked: {text}");
    assert!(!text.contains("orchard-lantern-58"), "the password leaked");
    assert_eq!(
        view["email"], "newbie@example.com",
        "trimmed and lower-cased"
    );
    assert_eq!(view["is_active"], true);
    assert_eq!(view["is_staff"], false);
    assert_eq!(view["is_superuser"], false);
    assert_eq!(view["last_login"], Value::Null);
    assert_eq!(view["groups"], json!(["editors"]));
    assert_eq!(view["user_permissions"], json!(["auth.view_user"]));

    let (status, fetched) = json_of(app.get_as(&location, &access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, view, "the Location shows what was created");
    app.login("newbie", "orchard-lantern-58").await;
}

#[actix_web::test]
async fn a_user_created_without_a_password_cannot_log_in() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let view = create(&app, &access, json!({"username": "nopass"})).await;
    let hash = app.password_hash(view["id"].as_i64().unwrap_or_default());
    assert!(hash.starts_with('!'), "an unusable password: {hash}");
    for password in ["", "!", &hash] {
        let (status, _) = json_of(
            app.post_json(
                "/api/token/",
                &json!({"username": "nopass", "password": password}),
            )
            .await,
        )
        .await;
        assert_ne!(status, StatusCode::OK, "logged in with {password:?}");
    }
}

#[actix_web::test]
async fn bad_user_input_is_refused_field_by_field_and_nothing_is_created() {
    let app = spawn_app().await;
    let access = root(&app).await;
    app.create_group("editors", &[]);
    let cases = [
        (
            json!({"username": "root", "password": PASSWORD}),
            json!({"username": ["A user with that username already exists."]}),
            "username taken",
        ),
        (
            json!({}),
            json!({"username": ["This field is required."]}),
            "username missing",
        ),
        (
            json!({"username": "   "}),
            json!({"username": ["This field may not be blank."]}),
            "username blank",
        ),
        (
            json!({"username": "bad name!"}),
            json!({"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}),
            "username with a space",
        ),
        (
            json!({"username": "x", "email": "not-an-email"}),
            json!({"email": ["Enter a valid email address."]}),
            "bad email",
        ),
        (
            json!({"username": "x", "password": "password"}),
            json!({"password": ["This password is too common."]}),
            "common password",
        ),
        (
            json!({"username": "x", "password": "short"}),
            json!({"password": ["This password is too short. It must contain at least 8 characters."]}),
            "short password",
        ),
        (
            json!({"username": "x", "groups": ["ghosts"]}),
            json!({"groups": ["Object with name=ghosts does not exist."]}),
            "unknown group",
        ),
        (
            json!({"username": "x", "groups": ["editors", "ghosts"]}),
            json!({"groups": ["Object with name=ghosts does not exist."]}),
            "one unknown group among known ones",
        ),
        (
            json!({"username": "x", "user_permissions": ["auth.fly"]}),
            json!({"user_permissions": ["Object with codename=auth.fly does not exist."]}),
            "unknown permission",
        ),
        (
            json!({"username": "x", "is_staff": "maybe"}),
            json!({"is_staff": ["Must be a valid boolean."]}),
            "is_staff not a boolean",
        ),
        (
            json!({"username": "x", "is_active": [true]}),
            json!({"is_active": ["Must be a valid boolean."]}),
            "is_active a list",
        ),
        (
            json!({"username": "x", "groups": "editors"}),
            json!({"groups": ["Expected a list of items but got type \"str\"."]}),
            "groups not a list",
        ),
        (
            json!({"username": "x", "user_permissions": {"a": 1}}),
            json!({"user_permissions": ["Expected a list of items but got type \"dict\"."]}),
            "user_permissions an object",
        ),
        (
            json!({"username": "x", "groups": [1]}),
            json!({"groups": ["Not a valid string."]}),
            "a group that is not a name",
        ),
        (
            json!({"username": "bad name!", "email": "nope", "is_superuser": "perhaps"}),
            json!({
                "username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."],
                "email": ["Enter a valid email address."],
                "is_superuser": ["Must be a valid boolean."],
            }),
            "every bad field is named at once",
        ),
    ];
    for (input, expected, case) in cases {
        let (status, body) = json_of(app.post_as("/api/users/", &access, &input).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }
    assert_eq!(
        list(&app, &access, &[]).await,
        ["root"],
        "nothing was created"
    );
}

#[actix_web::test]
async fn a_missing_user_is_404_no_user_matches_the_given_query() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let cases = [
        (Method::GET, "/api/users/9999/", "retrieve an unknown id"),
        (Method::GET, "/api/users/abc/", "an id that is not a number"),
        (Method::PATCH, "/api/users/9999/", "patch an unknown id"),
        (Method::PUT, "/api/users/9999/", "put an unknown id"),
        (Method::DELETE, "/api/users/9999/", "delete an unknown id"),
    ];
    for (method, path, case) in cases {
        let (status, body) = json_of(
            app.request_as(method, path, Some(&access), Some(&json!({"username": "x"})))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{case}: {body}");
        assert_eq!(body, json!({"detail": NO_USER}), "{case}");
    }
}

#[actix_web::test]
async fn patch_changes_only_the_given_fields() {
    let app = spawn_app().await;
    let access = root(&app).await;
    app.create_group("editors", &[]);
    let before = create(
        &app,
        &access,
        json!({
            "username": "alice",
            "email": "alice@example.com",
            "password": PASSWORD,
            "first_name": "Alice",
            "last_name": "Liddell",
            "groups": ["editors"],
            "user_permissions": ["auth.view_user"],
        }),
    )
    .await;
    let path = format!("/api/users/{}/", before["id"]);
    let (status, after) = json_of(
        app.patch_as(&path, &access, &json!({"first_name": "Alicia"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let mut expected = before.clone();
    expected["first_name"] = json!("Alicia");
    assert_eq!(after, expected);
    let (_, fetched) = json_of(app.get_as(&path, &access).await).await;
    assert_eq!(fetched, expected, "stored, not only answered");
    app.login("alice", PASSWORD).await;

    let (status, after) = json_of(app.patch_as(&path, &access, &json!({})).await).await;
    assert_eq!(status, StatusCode::OK, "an empty patch: {after}");
    assert_eq!(after, expected, "an empty patch changes nothing");
}

#[actix_web::test]
async fn put_requires_a_username_and_replaces_the_given_fields() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let before = create(
        &app,
        &access,
        json!({"username": "alice", "email": "a@example.com"}),
    )
    .await;
    let path = format!("/api/users/{}/", before["id"]);
    let (status, body) = json_of(
        app.put_as(&path, &access, &json!({"first_name": "Al"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"username": ["This field is required."]}));
    let (_, unchanged) = json_of(app.get_as(&path, &access).await).await;
    assert_eq!(unchanged, before, "a refused PUT changes nothing");

    let (status, after) = json_of(
        app.put_as(
            &path,
            &access,
            &json!({"username": "alicia", "first_name": "Al"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["username"], "alicia");
    assert_eq!(after["first_name"], "Al");

    app.create_user("bob");
    let (status, body) = json_of(
        app.put_as(&path, &access, &json!({"username": "bob"}))
            .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "renaming onto a taken name"
    );
    assert_eq!(
        body,
        json!({"username": ["A user with that username already exists."]})
    );
}

#[actix_web::test]
async fn deleting_a_user_answers_204_and_the_user_is_gone() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let id = app.create_user("doomed");
    let path = format!("/api/users/{id}/");
    let response = app.delete_as(&path, &access).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.text().await.unwrap_or_default(), "", "no body");
    assert!(!app.user_exists(id));
    let (status, body) = json_of(app.get_as(&path, &access).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": NO_USER}));
    assert_eq!(list(&app, &access, &[]).await, ["root"]);
    let (status, _) = json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": "doomed", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_new_password_too_similar_to_the_stored_username_or_email_is_refused() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let view = create(
        &app,
        &access,
        json!({"username": "marguerite", "email": "daisy.flower@example.com", "password": PASSWORD}),
    )
    .await;
    let path = format!("/api/users/{}/", view["id"]);
    let too_similar = json!({"password": ["The password is too similar to the username."]});
    let cases = [
        (json!({"password": "marguerite-77"}), "the stored username"),
        (json!({"password": "Daisy.Flower#1"}), "the stored email"),
        (
            json!({"password": "newname-2024x", "username": "newname"}),
            "the username given with it",
        ),
        (
            json!({"password": "marguerite-77", "email": "other@example.com"}),
            "the stored username, with a new email",
        ),
    ];
    for (body, case) in cases {
        let (status, answer) = json_of(app.patch_as(&path, &access, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {answer}");
        assert_eq!(answer, too_similar, "{case}");
    }
    app.login("marguerite", PASSWORD).await;
    let (status, answer) = json_of(
        app.patch_as(&path, &access, &json!({"password": "orchard-lantern-58"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a password unlike both: {answer}");
    app.login("marguerite", "orchard-lantern-58").await;
}

#[actix_web::test]
async fn head_answers_like_get_as_the_allow_header_promises() {
    let app = spawn_app().await;
    let access = root(&app).await;
    let id = app.create_user("alice");
    let reader = app.create_user("plain");
    let plain = app.access_for("plain").await;
    for path in ["/api/users/".to_owned(), format!("/api/users/{id}/")] {
        let options = app
            .request_as(Method::OPTIONS, &path, Some(&access), None)
            .await;
        let allow = options
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(allow.contains("HEAD"), "{path}: Allow: {allow}");
        let cases = [
            (Some(access.as_str()), StatusCode::OK, "superuser"),
            (
                Some(plain.as_str()),
                StatusCode::FORBIDDEN,
                "without view_user",
            ),
            (None, StatusCode::UNAUTHORIZED, "anonymous"),
        ];
        for (who, expected, case) in cases {
            let response = app.request_as(Method::HEAD, &path, who, None).await;
            assert_eq!(response.status(), expected, "HEAD {path}: {case}");
            assert_eq!(
                response.text().await.unwrap_or_default(),
                "",
                "{case}: no body"
            );
        }
    }
    assert!(app.user_exists(reader));
}
