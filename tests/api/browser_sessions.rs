//! A user's token sessions in the console, in a real headless Chromium (see [`crate::browser`]
//! for the driver): an admin opens a user signed in on two devices, ends one session, confirms
//! the dialog, and sees the list shrink while the API refuses that session's token.

use fantoccini::{Client, Locator};

use crate::browser::{click, open_browser, page_text, path, settle, shoot, sign_in, start_driver};
use crate::console_client::superuser;
use crate::helpers::spawn_app;
use crate::sessions_api::{assert_refused, assert_works, login_from};

const PHONE: &str = "Keyward-Phone/1.0 (Android 15)";
const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) Laptop/2.0";

/// The session rows the user page shows.
async fn session_rows(b: &Client) -> usize {
    b.find_all(Locator::Css("#session-list tr.session"))
        .await
        .unwrap_or_else(|e| panic!("session rows: {e}"))
        .len()
}

#[actix_web::test]
async fn an_admin_ends_one_of_a_users_two_sessions_in_the_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    superuser(&app, "root");
    let alice = app.create_user("alice");
    let phone = login_from(&app, "alice", PHONE).await;
    app.clock.advance(std::time::Duration::from_secs(60));
    let laptop = login_from(&app, "alice", LAPTOP).await;
    let b = open_browser(&driver, None).await;
    sign_in(&b, &app, "root").await;
    assert_eq!(path(&b).await, "/admin/");

    b.goto(&app.url(&format!("/admin/users/{alice}/#sessions")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(session_rows(&b).await, 2);
    let text = page_text(&b).await;
    assert!(text.contains(PHONE) && text.contains(LAPTOP), "{text}");
    shoot(&b, "09-user-sessions").await;

    let old = b
        .find(Locator::Css("html"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    click(&b, &format!("#end-session-{}", phone.sid)).await;
    b.accept_alert()
        .await
        .unwrap_or_else(|e| panic!("the confirmation dialog: {e}"));
    settle(&b, old).await;
    assert_eq!(
        path(&b).await,
        format!("/admin/users/{alice}/"),
        "back on the user page"
    );
    assert_eq!(session_rows(&b).await, 1, "the list shrank");
    let text = page_text(&b).await;
    assert!(
        text.contains("The session was ended; its tokens stop working now."),
        "{text}"
    );
    assert!(
        text.contains(LAPTOP) && !text.contains(PHONE),
        "the phone's row is gone: {text}"
    );
    shoot(&b, "10-user-session-ended").await;
    assert_refused(&app, &phone, "the session ended in the browser").await;
    assert_works(&app, &laptop, "the other session").await;
    b.close().await.unwrap_or_else(|e| panic!("{e}"));
}
