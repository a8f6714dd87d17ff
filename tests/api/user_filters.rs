//! `GET /api/users/?username=<name>`: an exact match (Django's `filterset_fields`), and a 400
//! naming the parameter for a boolean filter value keyward cannot read, instead of a list of
//! everyone.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, json_of, spawn_app};
use crate::users_api::usernames;

async fn root(app: &TestApp) -> String {
    app.create_superuser("root");
    app.access_for("root").await
}

async fn list(
    app: &TestApp,
    access: &str,
    query: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let query = serde_urlencoded::to_string(query).unwrap_or_else(|e| panic!("{e}"));
    json_of(app.get_as(&format!("/api/users/?{query}"), access).await).await
}

#[actix_web::test]
async fn the_username_filter_is_an_exact_match() {
    let app = spawn_app().await;
    let access = root(&app).await;
    for name in ["ann", "anna", "Ann", "joanne"] {
        app.create_user(name);
    }
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: [Case; 6] = [
        (&[("username", "ann")], &["ann"], "exactly that name"),
        (
            &[("username", "Ann")],
            &["Ann"],
            "case matters, as in Django's exact",
        ),
        (&[("username", "an")], &[], "no substring match"),
        (&[("username", "nobody")], &[], "an unknown name"),
        (
            &[("username", "")],
            &["root", "ann", "anna", "Ann", "joanne"],
            "empty means not filtered",
        ),
        (
            &[("username", "anna"), ("search", "ann")],
            &["anna"],
            "combines with search",
        ),
    ];
    for (query, expected, case) in cases {
        let (status, body) = list(&app, &access, query).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(usernames(&body), expected, "{case}");
        assert_eq!(body["count"], expected.len(), "{case}");
    }
}

#[actix_web::test]
async fn an_unreadable_boolean_filter_is_a_400_naming_it() {
    let app = spawn_app().await;
    let access = root(&app).await;
    for (query, field, value) in [
        (&[("is_active", "maybe")][..], "is_active", "maybe"),
        (&[("is_staff", "2")][..], "is_staff", "2"),
        (
            &[("is_superuser", "yes please")][..],
            "is_superuser",
            "yes please",
        ),
    ] {
        let (status, body) = list(&app, &access, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        let message =
            format!("Select a valid choice. {value} is not one of the available choices.");
        assert_eq!(body, json!({ field: [message] }), "{query:?}");
    }
    let (status, body) = list(
        &app,
        &access,
        &[("is_active", "maybe"), ("is_staff", "no way")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["is_active"].is_array() && body["is_staff"].is_array(),
        "both named: {body}"
    );
    for value in ["true", "TRUE", "1", "yes", "false", "0", "no", ""] {
        let (status, body) = list(&app, &access, &[("is_active", value)]).await;
        assert_eq!(status, StatusCode::OK, "{value:?}: {body}");
    }
}
