//! A user's token sessions in the console over HTTP: the "Sessions" section of the user page,
//! "End" and "End all sessions" (CSRF-checked, `auth.change_user`, superuser for a superuser),
//! and the session shown on a refresh token's detail page.

use reqwest::StatusCode;

use crate::console_client::{ConsoleClient, Page, staff_with, superuser, token_id};
use crate::helpers::{TestApp, spawn_app};
use crate::sessions_api::{Device, assert_refused, assert_works, login_from};

const PHONE: &str = "Keyward-Phone/1.0 (Android 15)";
const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) Laptop/2.0";

/// The session ids listed in a user page's "Sessions" section, in page order.
fn listed(page: &Page) -> Vec<String> {
    let marker = "<tr class=\"session\" data-session=\"";
    page.body
        .match_indices(marker)
        .map(|(at, _)| {
            let rest = &page.body[at + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .collect()
}

/// The user page, which must answer 200.
async fn user_page(browser: &mut ConsoleClient<'_>, id: i64) -> Page {
    let page = browser.get(&format!("/admin/users/{id}/")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// alice with a phone and a laptop session.
async fn alice_on_two_devices(app: &TestApp) -> (i64, Device, Device) {
    let alice = app.create_user("alice");
    let phone = login_from(app, "alice", PHONE).await;
    app.clock.advance(std::time::Duration::from_secs(60));
    let laptop = login_from(app, "alice", LAPTOP).await;
    (alice, phone, laptop)
}

#[actix_web::test]
async fn the_user_page_lists_live_sessions_and_ends_one_then_all() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let (alice, phone, laptop) = alice_on_two_devices(&app).await;
    app.create_user("bob");
    let bob = login_from(&app, "bob", PHONE).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let page = user_page(&mut browser, alice).await;
    assert!(page.has("<h2 id=\"sessions\">Sessions</h2>"));
    assert_eq!(listed(&page), [laptop.sid.as_str(), phone.sid.as_str()]);
    for agent in [PHONE, LAPTOP] {
        assert!(page.has(agent), "{agent} shown: {}", page.body);
    }
    assert!(page.has("127.0.0.1"));
    assert!(page.has(&format!("id=\"end-session-{}\"", phone.sid)));
    assert!(page.has("id=\"end-all-sessions\""));

    let done = browser
        .submit(
            &format!("/admin/users/{alice}/sessions/{}/end/", phone.sid),
            &[],
        )
        .await;
    done.assert_redirect(&format!("/admin/users/{alice}/#sessions"), "End");
    assert_refused(&app, &phone, "the ended phone session").await;
    assert_works(&app, &laptop, "the laptop").await;
    let page = user_page(&mut browser, alice).await;
    assert!(
        page.has("The session was ended; its tokens stop working now."),
        "flash: {}",
        page.body
    );
    assert_eq!(listed(&page), [laptop.sid.as_str()]);
    assert!(!page.has(PHONE), "the phone is gone from the list");

    // A session of another user is not ended through alice's page.
    let other = browser
        .submit(
            &format!("/admin/users/{alice}/sessions/{}/end/", bob.sid),
            &[],
        )
        .await;
    other.assert_redirect(&format!("/admin/users/{alice}/#sessions"), "bob's sid");
    assert!(
        user_page(&mut browser, alice)
            .await
            .has("That session is not one of this user&#39;s live sessions")
    );
    assert_works(&app, &bob, "bob").await;

    let done = browser
        .submit(&format!("/admin/users/{alice}/sessions/end-all/"), &[])
        .await;
    done.assert_redirect(&format!("/admin/users/{alice}/#sessions"), "End all");
    assert_refused(&app, &laptop, "the laptop after End all").await;
    assert_works(&app, &bob, "bob after alice's End all").await;
    let page = user_page(&mut browser, alice).await;
    assert!(
        page.has("1 session(s) of this user ended; their tokens stop working now."),
        "{}",
        page.body
    );
    assert!(listed(&page).is_empty());
    assert!(page.has("No live sessions."));
    assert!(!page.has("id=\"end-all-sessions\""), "nothing left to end");
}

#[actix_web::test]
async fn ending_sessions_in_the_console_needs_the_csrf_token() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let (alice, phone, laptop) = alice_on_two_devices(&app).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let one = format!("/admin/users/{alice}/sessions/{}/end/", phone.sid);
    let all = format!("/admin/users/{alice}/sessions/end-all/");
    for (path, fields, case) in [
        (&one, vec![], "End without a token"),
        (
            &one,
            vec![("csrf_token", "forged")],
            "End with a wrong token",
        ),
        (&all, vec![], "End all without a token"),
        (
            &all,
            vec![("csrf_token", "")],
            "End all with an empty token",
        ),
    ] {
        browser.post(path, &fields).await.assert_csrf_refused(case);
    }
    assert_works(&app, &phone, "the phone after forged forms").await;
    assert_works(&app, &laptop, "the laptop after forged forms").await;
    assert_eq!(
        listed(&user_page(&mut browser, alice).await),
        [laptop.sid.as_str(), phone.sid.as_str()]
    );
}

#[actix_web::test]
async fn viewing_sessions_needs_view_user_and_ending_them_change_user() {
    let app = spawn_app().await;
    let (alice, phone, _) = alice_on_two_devices(&app).await;
    let root = superuser(&app, "root");
    let root_device = login_from(&app, "root", LAPTOP).await;
    staff_with(&app, "viewer", &["auth.view_user"]);
    staff_with(&app, "changer", &["auth.view_user", "auth.change_user"]);

    let mut viewer = ConsoleClient::signed_in(&app, "viewer").await;
    let page = user_page(&mut viewer, alice).await;
    assert_eq!(listed(&page).len(), 2, "a viewer sees the sessions");
    assert!(
        !page.has("end-session-") && !page.has("id=\"end-all-sessions\""),
        "but has no End buttons"
    );
    let refused = viewer
        .submit(
            &format!("/admin/users/{alice}/sessions/{}/end/", phone.sid),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let refused = viewer
        .submit(&format!("/admin/users/{alice}/sessions/end-all/"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_works(&app, &phone, "after the viewer's attempts").await;

    // A non-superuser with change_user sees a superuser's sessions but cannot end them.
    let mut changer = ConsoleClient::signed_in(&app, "changer").await;
    let page = user_page(&mut changer, root).await;
    assert_eq!(listed(&page), [root_device.sid.as_str()]);
    assert!(!page.has("end-session-"), "no End button on a superuser");
    let refused = changer
        .submit(
            &format!("/admin/users/{root}/sessions/{}/end/", root_device.sid),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.has("Only superusers can change superuser accounts"));
    let refused = changer
        .submit(&format!("/admin/users/{root}/sessions/end-all/"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_works(&app, &root_device, "the superuser's session").await;

    // change_user ends an ordinary user's session.
    let page = user_page(&mut changer, alice).await;
    assert!(page.has(&format!("id=\"end-session-{}\"", phone.sid)));
    changer
        .submit(
            &format!("/admin/users/{alice}/sessions/{}/end/", phone.sid),
            &[],
        )
        .await
        .assert_redirect(&format!("/admin/users/{alice}/#sessions"), "changer");
    assert_refused(&app, &phone, "ended by the changer").await;

    let missing = changer
        .submit("/admin/users/999999/sessions/end-all/", &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "an unknown user");
}

#[actix_web::test]
async fn a_refresh_tokens_detail_shows_the_session_it_carries_on() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let (alice, phone, _) = alice_on_two_devices(&app).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let first = token_id(&app, &phone.refresh);
    let page = browser.get(&format!("/admin/tokens/{first}/")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.text_of("session-id").as_deref(),
        Some(phone.sid.as_str())
    );
    assert_eq!(page.text_of("session-state").as_deref(), Some("live"));
    assert!(page.has(PHONE));
    assert!(page.links_to(&format!("/admin/users/{alice}/#sessions")));

    // After a rotation the new refresh token carries the session on; the old one does not.
    let (status, body) = app.refresh(&phone.refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = body["refresh"].as_str().unwrap_or_default().to_owned();
    let page = browser.get(&format!("/admin/tokens/{first}/")).await;
    assert!(
        page.has("This token is not the current token of a session"),
        "{}",
        page.body
    );
    let second = token_id(&app, &next);
    browser
        .submit(
            &format!("/admin/users/{alice}/sessions/{}/end/", phone.sid),
            &[],
        )
        .await
        .assert_redirect(&format!("/admin/users/{alice}/#sessions"), "End");
    let page = browser.get(&format!("/admin/tokens/{second}/")).await;
    assert_eq!(
        page.text_of("session-id").as_deref(),
        Some(phone.sid.as_str())
    );
    assert_eq!(page.text_of("session-state").as_deref(), Some("ended"));
    assert!(page.has("(ended)"), "the reason: {}", page.body);
    assert_eq!(
        page.text_of("token-status").as_deref(),
        Some("revoked"),
        "ending the session revoked its current token"
    );

    let list = browser.get(&format!("/admin/tokens/?user={alice}")).await;
    assert!(list.links_to(&format!("/admin/users/{alice}/#sessions")));
}
