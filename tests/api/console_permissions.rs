//! What a staff member may do in the console follows their permissions: pages they may not
//! open are 403 pages and missing from the navigation, saving needs the change permission, and
//! only superusers touch the superuser flag, superuser accounts and custom permissions.

use reqwest::StatusCode;

use crate::console_client::{
    ConsoleClient, memberships, permission_named, staff_with, superuser, user_named, user_row,
};
use crate::helpers::spawn_app;

const PERMISSION_DENIED: &str = "Permission denied";

#[actix_web::test]
async fn a_staff_member_without_view_user_gets_a_403_page_and_no_users_link() {
    let app = spawn_app().await;
    staff_with(&app, "eve", &[]);
    let bob = app.create_user("bob");
    let mut browser = ConsoleClient::signed_in(&app, "eve").await;

    let dashboard = browser.get("/admin/").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    for section in [
        "/admin/users/",
        "/admin/groups/",
        "/admin/permissions/",
        "/admin/tokens/",
        "/admin/blacklist/",
    ] {
        assert!(
            !dashboard.links_to(section),
            "no link to {section} in the nav"
        );
    }
    for (path, permission) in [
        ("/admin/users/".to_owned(), "auth.view_user"),
        ("/admin/users/add/".to_owned(), "auth.add_user"),
        (format!("/admin/users/{bob}/"), "auth.view_user"),
        (format!("/admin/users/{bob}/password/"), "auth.change_user"),
        (format!("/admin/users/{bob}/delete/"), "auth.delete_user"),
        ("/admin/groups/".to_owned(), "auth.view_group"),
        ("/admin/groups/add/".to_owned(), "auth.add_group"),
        ("/admin/permissions/".to_owned(), "auth.view_permission"),
        (
            "/admin/tokens/".to_owned(),
            "token_blacklist.view_outstandingtoken",
        ),
        (
            "/admin/blacklist/".to_owned(),
            "token_blacklist.view_outstandingtoken",
        ),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {path}");
        assert!(page.has(PERMISSION_DENIED), "GET {path}: {}", page.body);
        assert!(page.has(permission), "GET {path} names {permission}");
    }
    for path in [
        "/admin/users/add/".to_owned(),
        format!("/admin/users/{bob}/delete/"),
        format!("/admin/users/{bob}/revoke-tokens/"),
        "/admin/groups/add/".to_owned(),
    ] {
        let page = browser
            .submit(&path, &[("username", "mallory"), ("name", "x")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    assert!(user_named(&app, "mallory").is_none());
    assert!(user_row(&app, bob).is_some());

    let victor = staff_with(&app, "victor", &["auth.view_user"]);
    let mut viewer = ConsoleClient::signed_in(&app, "victor").await;
    let dashboard = viewer.get("/admin/").await;
    assert!(dashboard.links_to("/admin/users/"), "view_user shows Users");
    assert!(!dashboard.links_to("/admin/groups/"));
    assert_eq!(viewer.get("/admin/users/").await.status, StatusCode::OK);

    // Taking the permission away applies to the open session's next request.
    superuser(&app, "root");
    let mut admin = ConsoleClient::signed_in(&app, "root").await;
    admin
        .submit(
            &format!("/admin/users/{victor}/"),
            &[
                ("username", "victor"),
                ("is_active", "on"),
                ("is_staff", "on"),
            ],
        )
        .await
        .assert_redirect(&format!("/admin/users/{victor}/"), "view_user removed");
    assert_eq!(
        viewer.get("/admin/users/").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!viewer.get("/admin/").await.links_to("/admin/users/"));
}

#[actix_web::test]
async fn with_view_user_but_not_change_user_the_edit_form_is_read_only_and_saving_is_403() {
    let app = spawn_app().await;
    staff_with(&app, "victor", &["auth.view_user"]);
    let bob = app.create_user("bob");
    let before = user_row(&app, bob).unwrap_or_else(|| panic!("bob"));
    let mut browser = ConsoleClient::signed_in(&app, "victor").await;

    let form = browser.get(&format!("/admin/users/{bob}/")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.has("value=\"bob\""));
    assert!(!form.has("id=\"save\""), "no Save button");
    assert!(!form.has("id=\"revoke-all\""), "no revoke-all button");
    assert!(!form.links_to(&format!("/admin/users/{bob}/password/")));
    assert!(!form.links_to(&format!("/admin/users/{bob}/delete/")));
    assert!(!form.has("id=\"add-user\""));

    for (path, fields) in [
        (
            format!("/admin/users/{bob}/"),
            vec![
                ("username", "robert"),
                ("is_active", "on"),
                ("is_staff", "on"),
            ],
        ),
        (
            format!("/admin/users/{bob}/password/"),
            vec![
                ("password1", "quince-lantern-58"),
                ("password2", "quince-lantern-58"),
            ],
        ),
        (format!("/admin/users/{bob}/revoke-tokens/"), vec![]),
        (format!("/admin/users/{bob}/delete/"), vec![]),
    ] {
        let page = browser.submit(&path, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "POST {path}: {}",
            page.body
        );
        assert!(page.has(PERMISSION_DENIED), "POST {path}");
    }
    let after = user_row(&app, bob).unwrap_or_else(|| panic!("bob"));
    assert_eq!(after.username, before.username);
    assert_eq!(after.is_staff, before.is_staff);
    assert_eq!(after.password, before.password);
    assert_eq!(after.security_stamp, before.security_stamp);
}

#[actix_web::test]
async fn a_non_superuser_cannot_set_the_superuser_flag_even_with_a_forged_form() {
    let app = spawn_app().await;
    let editor = staff_with(
        &app,
        "editor",
        &["auth.view_user", "auth.change_user", "auth.add_user"],
    );
    let bob = app.create_user("bob");
    let mut browser = ConsoleClient::signed_in(&app, "editor").await;

    for path in [
        "/admin/users/add/".to_owned(),
        format!("/admin/users/{bob}/"),
    ] {
        let form = browser.get(&path).await;
        assert_eq!(form.status, StatusCode::OK, "GET {path}");
        let checkbox = form
            .body
            .split("<input")
            .find(|tag| tag.contains("name=\"is_superuser\""))
            .unwrap_or_default();
        assert!(
            checkbox.contains("disabled"),
            "GET {path}: the superuser box is disabled: {checkbox}"
        );
    }

    let forged = [
        ("username", "bob"),
        ("is_active", "on"),
        ("is_staff", "on"),
        ("is_superuser", "on"),
    ];
    browser
        .submit(&format!("/admin/users/{bob}/"), &forged)
        .await
        .assert_redirect(&format!("/admin/users/{bob}/"), "the rest is saved");
    let bob_row = user_row(&app, bob).unwrap_or_else(|| panic!("bob"));
    assert!(bob_row.is_staff, "is_staff was allowed");
    assert!(!bob_row.is_superuser, "the forged flag was ignored");

    browser
        .submit(
            &format!("/admin/users/{editor}/"),
            &[
                ("username", "editor"),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("is_superuser", "on"),
                // As the rendered form would: the permissions selected now.
                ("user_permissions", "auth.view_user"),
                ("user_permissions", "auth.change_user"),
                ("user_permissions", "auth.add_user"),
            ],
        )
        .await
        .assert_redirect(&format!("/admin/users/{editor}/"), "nor for oneself");
    assert!(!user_row(&app, editor).is_some_and(|u| u.is_superuser));

    let created = browser
        .submit(
            "/admin/users/add/",
            &[
                ("username", "mallory"),
                ("password", "quince-lantern-58"),
                ("is_active", "on"),
                ("is_superuser", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let mallory = user_named(&app, "mallory").unwrap_or_else(|| panic!("mallory"));
    assert!(!mallory.is_superuser, "created without the flag");
}

#[actix_web::test]
async fn a_non_superuser_cannot_change_a_superuser_or_grant_what_they_lack() {
    let app = spawn_app().await;
    let root = superuser(&app, "root");
    staff_with(
        &app,
        "editor",
        &["auth.view_user", "auth.change_user", "auth.delete_user"],
    );
    let bob = app.create_user("bob");
    let mut browser = ConsoleClient::signed_in(&app, "editor").await;

    for (path, fields) in [
        (
            format!("/admin/users/{root}/"),
            vec![
                ("username", "root"),
                ("is_active", "on"),
                ("is_staff", "on"),
            ],
        ),
        (
            format!("/admin/users/{root}/password/"),
            vec![
                ("password1", "quince-lantern-58"),
                ("password2", "quince-lantern-58"),
            ],
        ),
        (format!("/admin/users/{root}/revoke-tokens/"), vec![]),
        (format!("/admin/users/{root}/delete/"), vec![]),
    ] {
        let page = browser.submit(&path, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "POST {path}: {}",
            page.body
        );
        assert!(page.has("Only superusers"), "POST {path}: {}", page.body);
    }
    let root_row = user_row(&app, root).unwrap_or_else(|| panic!("root"));
    assert!(root_row.is_superuser && root_row.is_active);

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[
                ("username", "bob"),
                ("is_active", "on"),
                ("user_permissions", "auth.add_group"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.has("You cannot grant permissions you do not have."));
    assert!(memberships(&app, bob).permissions.is_empty());

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[
                ("username", "bob"),
                ("is_active", "on"),
                ("user_permissions", "auth.view_user"),
            ],
        )
        .await;
    page.assert_redirect(&format!("/admin/users/{bob}/"), "a permission editor holds");
    assert!(
        memberships(&app, bob)
            .permissions
            .contains("auth.view_user")
    );
}

#[actix_web::test]
async fn only_superusers_add_or_delete_custom_permissions() {
    let app = spawn_app().await;
    staff_with(&app, "viewer", &["auth.view_permission"]);
    app.with_db(|conn| {
        crate::helpers::Seeder { conn }.exec(
            "INSERT INTO permissions (codename, name) VALUES ('reports.view_report', 'Can view report')",
        );
    });
    let custom = permission_named(&app, "reports.view_report")
        .unwrap_or_else(|| panic!("seeded"))
        .id;
    let mut browser = ConsoleClient::signed_in(&app, "viewer").await;
    let list = browser.get("/admin/permissions/").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.has("reports.view_report"));
    assert!(!list.has("id=\"permission-form\""), "no add form");
    assert!(!list.has(&format!("/admin/permissions/{custom}/delete/")));

    let page = browser
        .submit(
            "/admin/permissions/add/",
            &[
                ("codename", "reports.export_report"),
                ("name", "Can export"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let page = browser
        .submit(&format!("/admin/permissions/{custom}/delete/"), &[])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(permission_named(&app, "reports.export_report").is_none());
    assert!(permission_named(&app, "reports.view_report").is_some());
}
