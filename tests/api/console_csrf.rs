//! CSRF on every state-changing console form: a POST with a valid session cookie but a missing,
//! empty, wrong or foreign `csrf_token` is a 403 page and changes nothing in the store; the
//! same POST with the session's token goes through.

use diesel::prelude::*;
use keyward::db::schema::{
    blacklisted_tokens, group_permissions, groups, permissions, user_groups, user_permissions,
    users,
};
use reqwest::StatusCode;

use crate::console_client::{
    ConsoleClient, Page, is_blacklisted, seed_group, session_count, superuser, token_id,
};
use crate::helpers::{PASSWORD, Seeder, TestApp, json_of};

/// A user row: id, username, email, is_active, is_staff, is_superuser, hash, stamp.
type UserState = (i64, String, String, bool, bool, bool, String, String);

/// Everything a console form could change, as stored now.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<UserState>,
    memberships: Vec<(i64, i64)>,
    direct: Vec<(i64, i64)>,
    groups: Vec<(i64, String)>,
    grants: Vec<(i64, i64)>,
    permissions: Vec<(i64, String)>,
    blacklisted: Vec<i64>,
    sessions: i64,
}

fn snapshot(app: &TestApp) -> Snapshot {
    let snapshot = app.with_db(|conn| {
        keyward::with_conn!(conn, c => {
            let users = users::table
                .order(users::id)
                .select((users::id, users::username, users::email, users::is_active, users::is_staff, users::is_superuser, users::password, users::security_stamp))
                .load(c)?;
            let memberships = user_groups::table
                .order((user_groups::user_id, user_groups::group_id))
                .select((user_groups::user_id, user_groups::group_id))
                .load(c)?;
            let direct = user_permissions::table
                .order((user_permissions::user_id, user_permissions::permission_id))
                .select((user_permissions::user_id, user_permissions::permission_id))
                .load(c)?;
            let groups = groups::table.order(groups::id).select((groups::id, groups::name)).load(c)?;
            let grants = group_permissions::table
                .order((group_permissions::group_id, group_permissions::permission_id))
                .select((group_permissions::group_id, group_permissions::permission_id))
                .load(c)?;
            let permissions = permissions::table
                .order(permissions::id)
                .select((permissions::id, permissions::codename))
                .load(c)?;
            let blacklisted = blacklisted_tokens::table
                .order(blacklisted_tokens::token_id)
                .select(blacklisted_tokens::token_id)
                .load(c)?;
            Ok::<_, diesel::result::Error>(Snapshot { users, memberships, direct, groups, grants, permissions, blacklisted, sessions: 0 })
        })
    });
    let mut snapshot = snapshot.unwrap_or_else(|e| panic!("snapshot: {e}"));
    snapshot.sessions = session_count(app);
    snapshot
}

/// A state-changing console route, a form that would pass every other check, and where its
/// success redirects.
struct Case {
    path: String,
    fields: Vec<(&'static str, String)>,
    success: String,
}

fn case(path: String, fields: &[(&'static str, &str)], success: String) -> Case {
    Case {
        path,
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        success,
    }
}

/// Ids of what the cases act on.
struct Seeded {
    bob: i64,
    group: i64,
    permission: i64,
    live_token: i64,
    revoked_token: i64,
    bob_access: String,
}

async fn seed(app: &TestApp) -> Seeded {
    let bob = app.create_user("bob");
    let group = seed_group(app, "editors");
    app.with_db(|conn| {
        let mut seeder = Seeder { conn };
        seeder.exec("INSERT INTO permissions (codename, name) VALUES ('reports.view_report', 'Can view report')");
        seeder.exec(&format!("INSERT INTO group_permissions (group_id, permission_id) SELECT {group}, id FROM permissions WHERE codename = 'auth.view_user'"));
        seeder.exec(&format!(
            "INSERT INTO user_groups (user_id, group_id) VALUES ({bob}, {group})"
        ));
    });
    let permission = crate::console_client::permission_named(app, "reports.view_report")
        .unwrap_or_else(|| panic!("seeded permission"))
        .id;
    let (live, bob_access) = app.login("bob", PASSWORD).await;
    let (revoked, _) = app.login("bob", PASSWORD).await;
    let (status, body) = app.logout(&revoked).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Seeded {
        bob,
        group,
        permission,
        live_token: token_id(app, &live),
        revoked_token: token_id(app, &revoked),
        bob_access,
    }
}

/// Every POST route of `src/admin/mod.rs` but sign-in, in an order in which each still has
/// something to act on when it is finally sent with the right token.
fn cases(s: &Seeded) -> Vec<Case> {
    let (bob, group, perm) = (s.bob, s.group, s.permission);
    let (live, revoked) = (s.live_token, s.revoked_token);
    let password = "quince-lantern-58";
    vec![
        case(
            "/admin/users/add/".into(),
            &[
                ("username", "mallory"),
                ("password", password),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("is_superuser", "on"),
            ],
            "/admin/users/{new}/".into(),
        ),
        case(
            format!("/admin/users/{bob}/"),
            &[
                ("username", "bobby"),
                ("email", "bob@example.com"),
                ("is_staff", "on"),
                ("is_superuser", "on"),
            ],
            format!("/admin/users/{bob}/"),
        ),
        case(
            format!("/admin/tokens/{live}/revoke/"),
            &[],
            format!("/admin/tokens/{live}/"),
        ),
        case(
            format!("/admin/tokens/{revoked}/unrevoke/"),
            &[],
            format!("/admin/tokens/{revoked}/"),
        ),
        case(
            "/admin/tokens/revoke/".into(),
            &[
                ("ids", &live.to_string()),
                ("ids", &revoked.to_string()),
                ("return_to", "/admin/tokens/"),
            ],
            "/admin/tokens/".into(),
        ),
        case(
            format!("/admin/users/{bob}/password/"),
            &[("password1", password), ("password2", password)],
            format!("/admin/users/{bob}/"),
        ),
        case(
            format!("/admin/users/{bob}/revoke-tokens/"),
            &[],
            format!("/admin/users/{bob}/"),
        ),
        case(
            "/admin/groups/add/".into(),
            &[("name", "auditors"), ("permissions", "auth.view_user")],
            "/admin/groups/".into(),
        ),
        case(
            format!("/admin/groups/{group}/"),
            &[("name", "writers"), ("permissions", "reports.view_report")],
            format!("/admin/groups/{group}/"),
        ),
        case(
            "/admin/permissions/add/".into(),
            &[
                ("codename", "reports.export_report"),
                ("name", "Can export report"),
            ],
            "/admin/permissions/".into(),
        ),
        case(
            format!("/admin/permissions/{perm}/delete/"),
            &[],
            "/admin/permissions/".into(),
        ),
        case(
            format!("/admin/groups/{group}/delete/"),
            &[],
            "/admin/groups/".into(),
        ),
        case(
            format!("/admin/users/{bob}/delete/"),
            &[],
            "/admin/users/".into(),
        ),
        case(
            "/admin/logout/".into(),
            &[],
            "/admin/login/?signed_out=1".into(),
        ),
    ]
}

async fn post_with(browser: &mut ConsoleClient<'_>, case: &Case, token: Option<&str>) -> Page {
    let mut fields: Vec<(&str, &str)> = case.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(token) = token {
        fields.push(("csrf_token", token));
    }
    browser.post(&case.path, &fields).await
}

#[actix_web::test]
async fn every_console_post_without_the_sessions_csrf_token_is_a_403_that_changes_nothing() {
    let app = crate::helpers::spawn_app().await;
    superuser(&app, "root");
    let seeded = seed(&app).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let other = ConsoleClient::signed_in(&app, "root").await;
    let foreign = other.csrf().to_owned();
    let login_form = ConsoleClient::new(&app).get("/admin/login/").await.csrf();
    let cases = cases(&seeded);
    let before = snapshot(&app);

    for case in &cases {
        for (token, why) in [
            (None, "no csrf_token"),
            (Some(""), "an empty csrf_token"),
            (Some("forged-token"), "a made-up csrf_token"),
            (Some(foreign.as_str()), "the token of another session"),
            (Some(login_form.as_str()), "a sign-in form's token"),
        ] {
            let label = format!("POST {} with {why}", case.path);
            post_with(&mut browser, case, token)
                .await
                .assert_csrf_refused(&label);
            assert_eq!(snapshot(&app), before, "{label}: nothing changed");
        }
    }
    let (status, me) = json_of(app.me(&seeded.bob_access).await).await;
    assert_eq!(status, StatusCode::OK, "bob's tokens still work: {me}");
    assert_eq!(me["username"], "bob");
    assert!(!is_blacklisted(&app, seeded.live_token));
    assert!(is_blacklisted(&app, seeded.revoked_token));

    // The same forms with the session's own token are accepted (and the session survived
    // every refusal above).
    let token = browser.csrf().to_owned();
    for case in &cases {
        let page = post_with(&mut browser, case, Some(&token)).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "POST {} with the right token: {}",
            case.path,
            page.body
        );
        let location = page.location.clone().unwrap_or_default();
        if case.success.contains("{new}") {
            assert!(location.starts_with("/admin/users/"), "{location}");
        } else {
            assert_eq!(location, case.success, "POST {}", case.path);
        }
    }
    assert_ne!(snapshot(&app), before);
}

#[actix_web::test]
async fn a_csrf_refusal_is_a_console_page_that_keeps_the_session() {
    let app = crate::helpers::spawn_app().await;
    superuser(&app, "root");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let page = browser
        .post(
            "/admin/groups/add/",
            &[("name", "x"), ("csrf_token", "nope")],
        )
        .await;
    page.assert_csrf_refused("groups/add");
    assert!(
        page.has("Reload the page and try again."),
        "the page explains: {}",
        page.body
    );
    assert!(
        page.has("href=\"/admin/static/admin.css\""),
        "console style"
    );
    assert!(
        page.set_cookie("keyward_session").is_none(),
        "the session stays"
    );
    let dashboard = browser.get("/admin/").await;
    assert_eq!(dashboard.status, StatusCode::OK);
}

#[actix_web::test]
async fn every_form_of_a_session_carries_that_sessions_token() {
    let app = crate::helpers::spawn_app().await;
    let root = superuser(&app, "root");
    let seeded = seed(&app).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let token = browser.csrf().to_owned();
    for path in [
        "/admin/".to_owned(),
        "/admin/users/".to_owned(),
        "/admin/users/add/".to_owned(),
        format!("/admin/users/{root}/"),
        format!("/admin/users/{}/password/", seeded.bob),
        format!("/admin/users/{}/delete/", seeded.bob),
        "/admin/groups/add/".to_owned(),
        format!("/admin/groups/{}/", seeded.group),
        format!("/admin/groups/{}/delete/", seeded.group),
        "/admin/permissions/".to_owned(),
        "/admin/tokens/".to_owned(),
        format!("/admin/tokens/{}/", seeded.live_token),
        format!("/admin/tokens/{}/", seeded.revoked_token),
        "/admin/blacklist/".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.body);
        let forms = page.body.matches("method=\"post\"").count();
        let tokens = page.input_values("csrf_token");
        assert_eq!(tokens.len(), forms, "GET {path}: one token per form");
        assert!(
            tokens.iter().all(|t| *t == token),
            "GET {path}: every form carries the session's token"
        );
    }
}
