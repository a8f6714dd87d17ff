//! Console pages for refresh tokens over HTTP: the list's filters, detail, revoking one or a
//! selection (refused by the API at once), lifting a revocation, and "revoke all tokens of
//! this user".

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console_client::{ConsoleClient, is_blacklisted, superuser, token_id};
use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app};
use crate::tokens::claims_of;

fn jti(token: &str) -> String {
    claims_of(token)["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

/// Asserts the API refuses a refresh token as blacklisted.
async fn assert_refresh_blacklisted(app: &TestApp, refresh: &str, case: &str) {
    let (status, body) = app.refresh(refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
    assert_eq!(body, blacklisted(), "{case}");
}

/// Three refresh tokens: two of alice's (the second revoked through the API), one of bob's.
struct Seeded {
    alice: i64,
    bob: i64,
    alice_live: String,
    alice_revoked: String,
    bob_live: String,
}

async fn seed(app: &TestApp) -> Seeded {
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let (alice_live, _) = app.login("alice", PASSWORD).await;
    let (alice_revoked, _) = app.login("alice", PASSWORD).await;
    let (bob_live, _) = app.login("bob", PASSWORD).await;
    let (status, body) = app.logout(&alice_revoked).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Seeded {
        alice,
        bob,
        alice_live,
        alice_revoked,
        bob_live,
    }
}

/// Which of the tokens a page lists, by jti.
fn listed<'t>(page: &crate::console_client::Page, tokens: &[&'t str]) -> Vec<&'t str> {
    tokens
        .iter()
        .copied()
        .filter(|t| page.has(&jti(t)))
        .collect()
}

#[actix_web::test]
async fn the_token_list_filters_by_status_user_and_jti() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let s = seed(&app).await;
    let all = [
        s.alice_live.as_str(),
        s.alice_revoked.as_str(),
        s.bob_live.as_str(),
    ];
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let (alice, bob) = (s.alice, s.bob);
    let prefix = &jti(&s.bob_live)[..8];

    for (query, expected, count) in [
        (String::new(), all.to_vec(), "3 tokens."),
        (format!("?user={alice}"), vec![all[0], all[1]], "2 tokens."),
        (format!("?user={bob}"), vec![all[2]], "1 token."),
        (
            "?status=active".to_owned(),
            vec![all[0], all[2]],
            "2 tokens.",
        ),
        ("?status=blacklisted".to_owned(), vec![all[1]], "1 token."),
        ("?status=expired".to_owned(), vec![], "0 tokens."),
        (
            format!("?status=active&user={alice}"),
            vec![all[0]],
            "1 token.",
        ),
        (
            format!("?status=blacklisted&user={bob}"),
            vec![],
            "0 tokens.",
        ),
        (format!("?q={prefix}"), vec![all[2]], "1 token."),
        ("?q=alic".to_owned(), vec![all[0], all[1]], "2 tokens."),
    ] {
        let page = browser.get(&format!("/admin/tokens/{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        assert_eq!(listed(&page, &all), expected, "{query}");
        assert!(page.has(count), "{query}: {count}");
    }
    let page = browser.get("/admin/tokens/?status=active").await;
    assert!(
        page.has("<option value=\"active\" selected>"),
        "the filter is kept"
    );

    let blacklist = browser.get("/admin/blacklist/").await;
    assert_eq!(blacklist.status, StatusCode::OK);
    assert!(blacklist.has("Blacklisted refresh tokens"));
    assert_eq!(listed(&blacklist, &all), vec![all[1]]);

    app.clock.advance(Duration::from_secs(25 * 3600));
    let mut browser = ConsoleClient::signed_in(&app, "root").await;
    let expired = browser.get("/admin/tokens/?status=expired").await;
    assert_eq!(
        listed(&expired, &all),
        all.to_vec(),
        "a day later all are expired"
    );
    let active = browser.get("/admin/tokens/?status=active").await;
    assert!(listed(&active, &all).is_empty());
}

#[actix_web::test]
async fn a_token_revoked_in_the_console_is_refused_by_the_api_at_once() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let s = seed(&app).await;
    let id = token_id(&app, &s.alice_live);
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let detail = browser.get(&format!("/admin/tokens/{id}/")).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.text_of("token-jti"), Some(jti(&s.alice_live)));
    assert_eq!(detail.text_of("token-status").as_deref(), Some("active"));
    assert!(detail.has("id=\"revoke-token\""));

    browser
        .submit(&format!("/admin/tokens/{id}/revoke/"), &[])
        .await
        .assert_redirect(&format!("/admin/tokens/{id}/"), "revoked");
    assert_refresh_blacklisted(&app, &s.alice_live, "right after the console revoked it").await;
    assert!(is_blacklisted(&app, id));
    let detail = browser.get(&format!("/admin/tokens/{id}/")).await;
    assert!(detail.has("The token was revoked."));
    assert_eq!(detail.text_of("token-status").as_deref(), Some("revoked"));
    assert!(!detail.has("id=\"revoke-token\"") && detail.has("id=\"unrevoke-token\""));

    let (status, body) = app.refresh(&s.bob_live).await;
    assert_eq!(status, StatusCode::OK, "other tokens are untouched: {body}");

    browser
        .submit(&format!("/admin/tokens/{id}/revoke/"), &[])
        .await
        .assert_redirect(&format!("/admin/tokens/{id}/"), "again");
    let detail = browser.get(&format!("/admin/tokens/{id}/")).await;
    assert!(detail.has("The token was already revoked."));

    let missing = browser.submit("/admin/tokens/999999/revoke/", &[]).await;
    assert_eq!(
        missing.status,
        StatusCode::NOT_FOUND,
        "revoking a token that does not exist"
    );
    assert!(missing.has("Page not found"));
}

#[actix_web::test]
async fn revoking_a_selection_revokes_each_selected_token() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let s = seed(&app).await;
    let (first, second) = (token_id(&app, &s.alice_live), token_id(&app, &s.bob_live));
    let third = app.login("bob", PASSWORD).await.0;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let list = browser.get("/admin/tokens/?status=active").await;
    for id in [first, second] {
        assert!(
            list.has(&format!("name=\"ids\" value=\"{id}\"")),
            "a checkbox for {id}"
        );
    }
    let revoked_id = token_id(&app, &s.alice_revoked);
    assert!(!list.has(&format!("name=\"ids\" value=\"{revoked_id}\"")));
    assert_eq!(
        list.input_values("return_to"),
        ["/admin/tokens/?status=active"]
    );

    let (a, b) = (first.to_string(), second.to_string());
    browser
        .submit(
            "/admin/tokens/revoke/",
            &[
                ("ids", &a),
                ("ids", &b),
                ("return_to", "/admin/tokens/?status=active"),
            ],
        )
        .await
        .assert_redirect("/admin/tokens/?status=active", "back to the filtered list");
    assert_refresh_blacklisted(&app, &s.alice_live, "the first selected").await;
    assert_refresh_blacklisted(&app, &s.bob_live, "the second selected").await;
    let (status, body) = app.refresh(&third).await;
    assert_eq!(status, StatusCode::OK, "an unselected token: {body}");
    let page = browser.get("/admin/tokens/?status=active").await;
    assert!(page.has("2 token(s) revoked."), "{}", page.body);

    browser
        .submit(
            "/admin/tokens/revoke/",
            &[("return_to", "https://evil.example/")],
        )
        .await
        .assert_redirect("/admin/tokens/", "nothing selected; no open redirect");
    assert!(
        browser
            .get("/admin/tokens/")
            .await
            .has("No token was selected.")
    );
}

#[actix_web::test]
async fn lifting_a_revocation_lets_the_token_refresh_again() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let s = seed(&app).await;
    let id = token_id(&app, &s.alice_revoked);
    assert_refresh_blacklisted(&app, &s.alice_revoked, "revoked through the API").await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    browser
        .submit(&format!("/admin/tokens/{id}/unrevoke/"), &[])
        .await
        .assert_redirect(&format!("/admin/tokens/{id}/"), "lifted");
    assert!(!is_blacklisted(&app, id));
    let detail = browser.get(&format!("/admin/tokens/{id}/")).await;
    assert!(detail.has("The revocation was lifted."));
    assert_eq!(detail.text_of("token-status").as_deref(), Some("active"));
    let (status, body) = app.refresh(&s.alice_revoked).await;
    assert_eq!(status, StatusCode::OK, "it refreshes again: {body}");

    browser
        .submit(
            &format!("/admin/tokens/{}/unrevoke/", token_id(&app, &s.bob_live)),
            &[],
        )
        .await
        .assert_redirect(
            &format!("/admin/tokens/{}/", token_id(&app, &s.bob_live)),
            "not revoked",
        );
    assert!(
        browser
            .get("/admin/tokens/")
            .await
            .has("The token was not revoked.")
    );
}

#[actix_web::test]
async fn revoke_all_tokens_of_a_user_kills_their_access_and_refresh_tokens() {
    let app = spawn_app().await;
    superuser(&app, "root");
    let s = seed(&app).await;
    let (refresh, access) = app.login("alice", PASSWORD).await;
    let (bob_refresh, bob_access) = app.login("bob", PASSWORD).await;
    let mut browser = ConsoleClient::signed_in(&app, "root").await;

    let form = browser.get(&format!("/admin/users/{}/", s.alice)).await;
    assert!(form.has("id=\"revoke-all\""));
    browser
        .submit(&format!("/admin/users/{}/revoke-tokens/", s.alice), &[])
        .await
        .assert_redirect(&format!("/admin/users/{}/", s.alice), "revoked all");
    let shown = browser.get(&format!("/admin/users/{}/", s.alice)).await;
    assert!(
        shown.has("All tokens of this user were revoked (2 refresh token(s))"),
        "{}",
        shown.body
    );

    let (status, body) = json_of(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed.", "code": "password_changed"})
    );
    for token in [&refresh, &s.alice_live] {
        let (status, body) = app.refresh(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        // Blacklisted in the same transaction; until the in-memory list has it, the stale
        // stamp refuses the token instead.
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            [
                "Token is blacklisted",
                "The user's password has been changed."
            ]
            .contains(&detail),
            "{body}"
        );
        assert!(is_blacklisted(&app, token_id(&app, token)));
    }
    let (status, _) = json_of(app.me(&bob_access).await).await;
    assert_eq!(status, StatusCode::OK, "bob is untouched");
    let (status, _) = app.refresh(&bob_refresh).await;
    assert_eq!(status, StatusCode::OK);
    app.login("alice", PASSWORD).await;
}
