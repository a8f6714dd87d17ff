//! Console pages for users over HTTP: the dashboard's figures, the list's search, filters and
//! pages, adding (with inline field errors), editing, setting a password and deleting.

use std::time::Duration;

use reqwest::StatusCode;

use crate::console_client::{
    ConsoleClient, memberships, seed_group, superuser, user_named, user_row,
};
use crate::helpers::{PASSWORD, UserFlags, spawn_app};

const NEW_PASSWORD: &str = "quince-lantern-58";

#[actix_web::test]
async fn the_dashboard_counts_users_and_tokens() {
    let app = spawn_app().await;
    superuser(&app, "root");
    app.create_user("alice");
    app.create_user("bob");
    let inactive = UserFlags {
        active: false,
        ..UserFlags::default()
    };
    app.create_user_with("carol", PASSWORD, inactive);
    let (first, _) = app.login("alice", PASSWORD).await;
    app.login("alice", PASSWORD).await;
    app.login("bob", PASSWORD).await;
    let (status, body) = app.logout(&first).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let page = browser.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for (id, expected) in [
        ("count-users", 4),
        ("count-active", 3),
        ("count-staff", 1),
        ("count-live", 2),
        ("count-blacklisted", 1),
        ("count-issued", 3),
        ("count-revoked", 1),
    ] {
        assert_eq!(page.number_of(id), expected, "#{id}");
    }
    assert!(page.has("Recent sign-ins"));
    assert!(
        page.has("<a href=\"/admin/users/"),
        "root's console sign-in is listed"
    );

    // A day later every refresh token has expired and none was issued or revoked since.
    app.clock.advance(Duration::from_secs(25 * 3600));
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let page = browser.get("/admin/").await;
    for (id, expected) in [
        ("count-users", 4),
        ("count-live", 0),
        ("count-blacklisted", 1),
        ("count-issued", 0),
        ("count-revoked", 0),
    ] {
        assert_eq!(page.number_of(id), expected, "a day later: #{id}");
    }
}

#[actix_web::test]
async fn the_users_list_searches_filters_and_pages() {
    let app = spawn_app().await;
    superuser(&app, "root");
    for n in 1..=30 {
        app.create_user(&format!("user{n:02}"));
    }
    let inactive = UserFlags {
        active: false,
        ..UserFlags::default()
    };
    app.create_user_with("zed", PASSWORD, inactive);
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let first = browser.get("/admin/users/").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.has("32 users"));
    assert!(first.has("Page 1 of 2"));
    assert!(first.link("prev").is_none());
    let next = first
        .link("next")
        .unwrap_or_else(|| panic!("no Next link: {}", first.body));
    assert_eq!(next, "/admin/users/?o=username&page=2");
    assert!(first.has(">root</a>") && first.has(">user24</a>"));
    assert!(!first.has(">user25</a>"), "25 a page");

    let second = browser.get(&next).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.has("Page 2 of 2"));
    for name in ["user25", "user30", "zed"] {
        assert!(second.has(&format!(">{name}</a>")), "{name} on page 2");
    }
    assert!(!second.has(">user01</a>"));
    assert!(second.link("next").is_none());
    assert_eq!(
        second.link("prev").as_deref(),
        Some("/admin/users/?o=username&page=1")
    );

    let search = browser.get("/admin/users/?q=user1").await;
    assert!(search.has("10 users"), "user10..user19");
    assert!(
        search.has("value=\"user1\""),
        "the search box keeps the query"
    );
    assert!(!search.has(">user20</a>"));

    let inactive_only = browser.get("/admin/users/?is_active=0").await;
    assert!(inactive_only.has("1 user<"), "{}", inactive_only.body);
    assert!(inactive_only.has(">zed</a>"));
    let superusers = browser.get("/admin/users/?is_superuser=1").await;
    assert!(superusers.has("1 user<") && superusers.has(">root</a>"));

    let kept = browser.get("/admin/users/?q=user&is_active=1").await;
    assert!(kept.has("30 users"));
    assert_eq!(
        kept.link("next").as_deref(),
        Some("/admin/users/?q=user&is_active=1&o=username&page=2"),
        "the filters stay in the page links"
    );
    let newest = browser.get("/admin/users/?o=-date_joined&q=user").await;
    let (a, b) = (
        newest.body.find(">user30</a>"),
        newest.body.find(">user01</a>"),
    );
    assert!(a.is_some() && (b.is_none() || a < b), "newest first");
}

#[actix_web::test]
async fn adding_a_user_with_a_bad_email_or_weak_password_shows_the_errors_inline() {
    let app = spawn_app().await;
    superuser(&app, "root");
    seed_group(&app, "editors");
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let page = browser
        .submit(
            "/admin/users/add/",
            &[
                ("username", "newbie"),
                ("email", "not-an-email"),
                ("password", "123"),
                ("first_name", "New"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.has("Please correct the errors below."));
    let email_errors = section(&page.body, "email-errors");
    assert!(
        email_errors.contains("Enter a valid email address."),
        "{email_errors}"
    );
    let password_errors = section(&page.body, "password-errors");
    assert!(password_errors.contains("too short"), "{password_errors}");
    assert!(page.has("value=\"newbie\""), "entered values are kept");
    assert!(page.has("value=\"New\""));
    assert!(user_named(&app, "newbie").is_none());

    let page = browser
        .submit(
            "/admin/users/add/",
            &[("username", "bad name!"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(section(&page.body, "username-errors").contains("Enter a valid username"));

    let page = browser
        .submit(
            "/admin/users/add/",
            &[("username", "root"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "a taken username");
    assert!(section(&page.body, "username-errors").contains("already exists"));

    let page = browser
        .submit(
            "/admin/users/add/",
            &[
                ("username", "newbie"),
                ("email", "New@Example.com"),
                ("password", NEW_PASSWORD),
                ("is_active", "on"),
                ("groups", "editors"),
                ("user_permissions", "auth.view_user"),
            ],
        )
        .await;
    let created = user_named(&app, "newbie").unwrap_or_else(|| panic!("created: {}", page.body));
    page.assert_redirect(&format!("/admin/users/{}/", created.id), "added");
    assert_eq!(created.email, "new@example.com");
    assert!(created.is_active && !created.is_staff && !created.is_superuser);
    let m = memberships(&app, created.id);
    assert_eq!(m.groups, ["editors"]);
    assert!(m.permissions.contains("auth.view_user"));
    let form = browser.get(&format!("/admin/users/{}/", created.id)).await;
    assert!(form.has("The user “newbie” was added."), "flash");
    let again = browser.get(&format!("/admin/users/{}/", created.id)).await;
    assert!(!again.has("was added"), "a flash shows once");
    app.login("newbie", NEW_PASSWORD).await;
}

/// The `<ul id="{id}">...</ul>` of a page, or "".
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(start) = body.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let rest = &body[start..];
    &rest[..rest.find("</ul>").unwrap_or(rest.len())]
}

#[actix_web::test]
async fn editing_a_user_saves_fields_and_deactivating_revokes_their_tokens() {
    let app = spawn_app().await;
    superuser(&app, "root");
    seed_group(&app, "editors");
    let bob = app.create_user("bob");
    let (refresh, access) = app.login("bob", PASSWORD).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let form = browser.get(&format!("/admin/users/{bob}/")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.has("value=\"bob\"") && form.has("Last sign-in: never"));

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("first_name", "Bob"),
                ("last_name", "Builder"),
                ("is_active", "on"),
                ("groups", "editors"),
            ],
        )
        .await;
    page.assert_redirect(&format!("/admin/users/{bob}/"), "saved");
    let row = user_row(&app, bob).unwrap_or_else(|| panic!("bob"));
    assert_eq!(
        (
            row.email.as_str(),
            row.first_name.as_str(),
            row.last_name.as_str()
        ),
        ("bob@example.com", "Bob", "Builder")
    );
    assert_eq!(memberships(&app, bob).groups, ["editors"]);
    let shown = browser.get(&format!("/admin/users/{bob}/")).await;
    assert!(shown.has("The user “bob” was changed."), "{}", shown.body);
    let (status, _) = crate::helpers::json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::OK, "an ordinary edit keeps the tokens");

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[
                ("username", "bob"),
                ("first_name", "<script>alert(1)</script>"),
                ("is_active", "on"),
                ("groups", "editors"),
            ],
        )
        .await;
    page.assert_redirect(&format!("/admin/users/{bob}/"), "markup in a name");
    let list = browser.get("/admin/users/?q=bob").await;
    assert!(!list.has("<script>alert(1)</script>"), "{}", list.body);
    assert!(
        list.has("&#60;script&#62;") || list.has("&lt;script&gt;"),
        "escaped: {}",
        list.body
    );

    let page = browser
        .submit(
            &format!("/admin/users/{bob}/"),
            &[("username", "bob"), ("email", "bad")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(section(&page.body, "email-errors").contains("Enter a valid email address."));
    assert!(
        user_row(&app, bob).is_some_and(|u| u.is_active),
        "nothing saved"
    );

    let page = browser
        .submit(&format!("/admin/users/{bob}/"), &[("username", "bob")])
        .await;
    page.assert_redirect(&format!("/admin/users/{bob}/"), "deactivated");
    let shown = browser.get(&format!("/admin/users/{bob}/")).await;
    assert!(shown.has("1 token(s) revoked."), "{}", shown.body);
    assert!(!user_row(&app, bob).is_some_and(|u| u.is_active));
    let (status, _) = app.refresh(&refresh).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the refresh token is dead"
    );
    assert_eq!(
        browser.get("/admin/users/999999/").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn setting_a_password_checks_both_fields_and_retires_the_old_tokens() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let bob = app.create_user("bob");
    let (refresh, _) = app.login("bob", PASSWORD).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let path = format!("/admin/users/{bob}/password/");

    let form = browser.get(&path).await;
    assert!(form.has("Set the password of bob"));
    for (fields, field, message) in [
        (
            vec![("password1", ""), ("password2", "")],
            "password1-errors",
            "This field is required.",
        ),
        (
            vec![
                ("password1", NEW_PASSWORD),
                ("password2", "something-else-99"),
            ],
            "password2-errors",
            "didn’t match",
        ),
        (
            vec![("password1", "bob"), ("password2", "bob")],
            "password1-errors",
            "too short",
        ),
    ] {
        let page = browser.submit(&path, &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(
            section(&page.body, field).contains(message),
            "{message}: {}",
            page.body
        );
    }
    app.login("bob", PASSWORD).await;

    browser
        .submit(
            &path,
            &[("password1", NEW_PASSWORD), ("password2", NEW_PASSWORD)],
        )
        .await
        .assert_redirect(&format!("/admin/users/{bob}/"), "set");
    let shown = browser.get(&format!("/admin/users/{bob}/")).await;
    assert!(
        shown.has("The password of “bob” was changed; 2 token(s) revoked."),
        "{}",
        shown.body
    );
    app.login("bob", NEW_PASSWORD).await;
    let (status, _) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn deleting_a_user_asks_first_then_removes_them() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let bob = app.create_user("bob");
    let (refresh, _) = app.login("bob", PASSWORD).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let confirm = browser.get(&format!("/admin/users/{bob}/delete/")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.has("Delete the user “bob”?"));
    assert!(user_row(&app, bob).is_some(), "GET changes nothing");

    browser
        .submit(&format!("/admin/users/{bob}/delete/"), &[])
        .await
        .assert_redirect("/admin/users/", "deleted");
    assert!(user_row(&app, bob).is_none());
    let list = browser.get("/admin/users/").await;
    assert!(list.has("The user “bob” was deleted."));
    assert!(!list.has(">bob</a>"));
    let (status, _) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let again = browser
        .submit(&format!("/admin/users/{bob}/delete/"), &[])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "already gone");
}
