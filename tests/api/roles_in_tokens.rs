//! Roles in tokens: with `token_groups_claim` and `token_permissions_claim` set, tokens carry
//! the user's group names and effective permissions (frozen at login); off by default.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with, token_payload};

/// A user in two groups with one direct permission (also held through a group).
fn member(app: &TestApp) {
    let id = app.create_user("member");
    let editors = app.create_group("editors", &["auth.change_user", "auth.view_user"]);
    let auditors = app.create_group("auditors", &["auth.view_group"]);
    app.create_group("others", &["auth.delete_user"]);
    app.add_to_group(id, editors);
    app.add_to_group(id, auditors);
    app.grant(
        id,
        &["auth.view_user", "token_blacklist.view_outstandingtoken"],
    );
}

#[actix_web::test]
async fn with_role_claims_the_access_token_carries_group_names_and_effective_permissions() {
    let app = spawn_app_with(|s| {
        s.token_groups_claim = Some("groups".into());
        s.token_permissions_claim = Some("permissions".into());
    })
    .await;
    member(&app);
    let (refresh, access) = app.login("member", PASSWORD).await;
    let expected_groups = json!(["auditors", "editors"]);
    let expected_permissions = json!([
        "auth.change_user",
        "auth.view_group",
        "auth.view_user",
        "token_blacklist.view_outstandingtoken"
    ]);
    for (kind, token) in [("access", &access), ("refresh", &refresh)] {
        let payload = token_payload(token);
        assert_eq!(payload["token_type"], kind);
        assert_eq!(payload["groups"], expected_groups, "{kind}: sorted names");
        assert_eq!(
            payload["permissions"], expected_permissions,
            "{kind}: direct and inherited, once each, sorted; not other groups'"
        );
    }
    let (_, refreshed) = app.refresh(&refresh).await;
    let payload = token_payload(refreshed["access"].as_str().unwrap_or_default());
    assert_eq!(
        payload["groups"], expected_groups,
        "a refreshed access token"
    );
    assert_eq!(payload["permissions"], expected_permissions);
}

#[actix_web::test]
async fn role_claims_take_the_names_configured() {
    let app = spawn_app_with(|s| {
        s.token_groups_claim = Some("roles".into());
        s.token_permissions_claim = None;
    })
    .await;
    member(&app);
    let (_, access) = app.login("member", PASSWORD).await;
    let payload = token_payload(&access);
    assert_eq!(payload["roles"], json!(["auditors", "editors"]));
    for absent in ["groups", "permissions"] {
        assert!(payload.get(absent).is_none(), "{absent} in {payload}");
    }
}

#[actix_web::test]
async fn a_user_without_groups_or_permissions_gets_empty_role_claims() {
    let app = spawn_app_with(|s| {
        s.token_groups_claim = Some("groups".into());
        s.token_permissions_claim = Some("permissions".into());
    })
    .await;
    app.create_user("plain");
    let (_, access) = app.login("plain", PASSWORD).await;
    let payload = token_payload(&access);
    assert_eq!(payload["groups"], json!([]));
    assert_eq!(payload["permissions"], json!([]));
}

#[actix_web::test]
async fn role_claims_are_off_by_default() {
    let app = spawn_app().await;
    member(&app);
    let (refresh, access) = app.login("member", PASSWORD).await;
    for token in [&access, &refresh] {
        let payload = token_payload(token);
        let mut keys: Vec<&str> = payload
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["exp", "iat", "jti", "sid", "stamp", "token_type", "user_id"],
            "{payload}"
        );
    }
    let (status, _) = json_of(app.me(&access).await).await;
    assert_eq!(status, reqwest::StatusCode::OK);
}
