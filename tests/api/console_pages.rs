//! Console pages for groups and permissions over HTTP, and the console's 404 pages.

use reqwest::StatusCode;

use crate::console_client::{
    ConsoleClient, Page, group_named, group_permissions, memberships, permission_named, seed_group,
    staff_with, superuser,
};
use crate::helpers::{Seeder, spawn_app};

/// Asserts the console's own 404 page: its style, its words, nothing of the server's insides.
fn assert_console_404(page: &Page, case: &str) {
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{case}: {}", page.body);
    assert!(page.has("Page not found"), "{case}: {}", page.body);
    assert!(
        page.has("href=\"/admin/static/admin.css\""),
        "{case}: console style"
    );
    assert!(page.has("Back to the dashboard"), "{case}");
    for leak in [
        "panicked",
        "backtrace",
        "src/",
        ".rs:",
        "diesel",
        "NotFound",
    ] {
        assert!(!page.has(leak), "{case}: no {leak:?} in {}", page.body);
    }
}

#[actix_web::test]
async fn unknown_console_addresses_are_a_404_page_in_console_style() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let mut visitor = ConsoleClient::new(&app);
    assert_console_404(&visitor.get("/admin/nope/").await, "signed out");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    for path in [
        "/admin/nope/",
        "/admin/users/999999/",
        "/admin/users/abc/",
        "/admin/users/999999/password/",
        "/admin/users/999999/delete/",
        "/admin/groups/999999/",
        "/admin/tokens/999999/",
        "/admin/tokens/not-a-number/",
        "/admin/tokens/revoke/",
    ] {
        assert_console_404(&browser.get(path).await, &format!("GET {path}"));
    }
    for path in [
        "/admin/users/999999/revoke-tokens/",
        "/admin/groups/999999/delete/",
        "/admin/permissions/999999/delete/",
    ] {
        assert_console_404(&browser.submit(path, &[]).await, &format!("POST {path}"));
    }
}

#[actix_web::test]
async fn a_group_is_added_edited_and_deleted_with_its_permissions() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let member = staff_with(&app, "member", &[]);
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let page = browser
        .submit(
            "/admin/groups/add/",
            &[("name", ""), ("permissions", "auth.view_user")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.has("id=\"name-errors\"") && page.has("This field is required."));
    let page = browser
        .submit(
            "/admin/groups/add/",
            &[("name", "auditors"), ("permissions", "nope.nothing")],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "an unknown permission: {}",
        page.body
    );
    assert!(group_named(&app, "auditors").is_none());

    browser
        .submit(
            "/admin/groups/add/",
            &[
                ("name", "auditors"),
                ("permissions", "auth.view_user"),
                ("permissions", "token_blacklist.view_outstandingtoken"),
            ],
        )
        .await
        .assert_redirect("/admin/groups/", "added");
    let group = group_named(&app, "auditors").unwrap_or_else(|| panic!("auditors"));
    assert_eq!(
        group_permissions(&app, group.id),
        ["auth.view_user", "token_blacklist.view_outstandingtoken"]
    );
    let list = browser.get("/admin/groups/").await;
    assert!(list.has("The group “auditors” was added."));
    assert!(list.links_to(&format!("/admin/groups/{}/", group.id)));
    assert!(list.has("<span class=\"mono\">auth.view_user</span>"));
    let taken = browser
        .submit("/admin/groups/add/", &[("name", "auditors")])
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST, "a taken name");

    // A member gains the group's rights on their next request.
    app.with_db(|conn| {
        Seeder { conn }.exec(&format!(
            "INSERT INTO user_groups (user_id, group_id) VALUES ({member}, {})",
            group.id
        ))
    });
    let mut member_browser = ConsoleClient::signed_in(&app, "member").await;
    assert_eq!(
        member_browser.get("/admin/users/").await.status,
        StatusCode::OK
    );

    let form = browser.get(&format!("/admin/groups/{}/", group.id)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.has("value=\"auth.view_user\" checked"));
    browser
        .submit(
            &format!("/admin/groups/{}/", group.id),
            &[("name", "readers"), ("permissions", "auth.view_group")],
        )
        .await
        .assert_redirect(&format!("/admin/groups/{}/", group.id), "edited");
    assert!(group_named(&app, "auditors").is_none());
    assert_eq!(group_permissions(&app, group.id), ["auth.view_group"]);
    assert_eq!(
        member_browser.get("/admin/users/").await.status,
        StatusCode::FORBIDDEN,
        "the member lost auth.view_user with the edit"
    );
    assert_eq!(
        member_browser.get("/admin/groups/").await.status,
        StatusCode::OK
    );

    let confirm = browser
        .get(&format!("/admin/groups/{}/delete/", group.id))
        .await;
    assert!(confirm.has("Delete the group “readers”?"));
    browser
        .submit(&format!("/admin/groups/{}/delete/", group.id), &[])
        .await
        .assert_redirect("/admin/groups/", "deleted");
    assert!(group_named(&app, "readers").is_none());
    assert!(memberships(&app, member).groups.is_empty());
    assert_eq!(
        member_browser.get("/admin/groups/").await.status,
        StatusCode::FORBIDDEN,
        "the member lost the group's rights"
    );
    assert!(
        browser
            .get("/admin/groups/")
            .await
            .has("The group was deleted.")
    );
}

#[actix_web::test]
async fn a_non_superuser_cannot_build_a_group_with_permissions_they_lack() {
    let app = spawn_app().await;
    staff_with(
        &app,
        "lead",
        &["auth.view_group", "auth.add_group", "auth.view_user"],
    );
    let mut browser = ConsoleClient::signed_in(&app, "lead").await;
    let page = browser
        .submit(
            "/admin/groups/add/",
            &[("name", "power"), ("permissions", "auth.delete_user")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(group_named(&app, "power").is_none());
    browser
        .submit(
            "/admin/groups/add/",
            &[("name", "viewers"), ("permissions", "auth.view_user")],
        )
        .await
        .assert_redirect("/admin/groups/", "permissions the lead holds");
}

#[actix_web::test]
async fn a_superuser_adds_and_deletes_a_custom_permission() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let group = seed_group(&app, "reporters");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let list = browser.get("/admin/permissions/").await;
    assert!(list.has("21 permissions"), "the built-in catalogue");
    assert!(list.has("id=\"permission-form\""));
    for (fields, field) in [
        (
            vec![("codename", "no-dot"), ("name", "Bad")],
            "codename-errors",
        ),
        (
            vec![("codename", "reports.view_report"), ("name", "")],
            "name-errors",
        ),
        (
            vec![("codename", "auth.view_user"), ("name", "Again")],
            "codename-errors",
        ),
    ] {
        let page = browser.submit("/admin/permissions/add/", &fields).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{fields:?}: {}",
            page.body
        );
        assert!(
            page.has(&format!("id=\"{field}\"")),
            "{fields:?}: {}",
            page.body
        );
    }
    assert!(permission_named(&app, "reports.view_report").is_none());

    browser
        .submit(
            "/admin/permissions/add/",
            &[
                ("codename", "reports.view_report"),
                ("name", "Can view report"),
            ],
        )
        .await
        .assert_redirect("/admin/permissions/", "added");
    let custom = permission_named(&app, "reports.view_report").unwrap_or_else(|| panic!("created"));
    let list = browser.get("/admin/permissions/").await;
    assert!(list.has("The permission reports.view_report was added."));
    assert!(list.has("22 permissions"));
    assert!(
        list.has(
            "<td class=\"mono\">reports.view_report</td><td>Can view report</td><td>custom</td>"
        )
    );
    let delete = format!("/admin/permissions/{}/delete/", custom.id);
    assert!(list.has(&format!("action=\"{delete}\"")), "a delete form");

    browser
        .submit(
            &format!("/admin/groups/{group}/"),
            &[
                ("name", "reporters"),
                ("permissions", "reports.view_report"),
            ],
        )
        .await
        .assert_redirect(&format!("/admin/groups/{group}/"), "granted to a group");
    browser
        .submit(&delete, &[])
        .await
        .assert_redirect("/admin/permissions/", "deleted");
    assert!(permission_named(&app, "reports.view_report").is_none());
    assert!(group_permissions(&app, group).is_empty(), "and its grants");
    assert!(
        browser
            .get("/admin/permissions/")
            .await
            .has("21 permissions")
    );

    let built_in = permission_named(&app, "auth.view_user").unwrap_or_else(|| panic!("built in"));
    let page = browser
        .submit(&format!("/admin/permissions/{}/delete/", built_in.id), &[])
        .await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "built-ins stay: {}",
        page.body
    );
    assert!(permission_named(&app, "auth.view_user").is_some());
}
