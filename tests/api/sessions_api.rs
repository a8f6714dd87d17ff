//! The sessions API: a user's own sessions under `/api/me/sessions/` (list, end one, end all
//! others) and an admin's view of anyone's under `/api/users/{id}/sessions/`. An ended
//! session's access token is refused at once everywhere, its refresh token too.

use std::time::Duration;

use reqwest::header::ALLOW;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app, spawn_app_with};
use crate::tokens::claims_of;

const PHONE: &str = "Keyward-Phone/1.0 (Android 15)";
const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) Laptop/2.0";
const ONLY_SUPERUSERS: &str =
    "Only superusers can change superuser accounts or the superuser flag.";
const DENIED: &str = "You do not have permission to perform this action.";

/// One login: its tokens and its session id (the `sid` claim).
pub struct Device {
    pub refresh: String,
    pub access: String,
    pub sid: String,
}

/// Logs in with [`PASSWORD`], sending `agent` as the `User-Agent`.
pub async fn login_from(app: &TestApp, username: &str, agent: &str) -> Device {
    let response = app
        .client
        .post(app.url("/api/token/"))
        .header("user-agent", agent)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "login of {username}: {body}");
    let token = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let (refresh, access) = (token("refresh"), token("access"));
    let sid = claims_of(&access)["sid"]
        .as_str()
        .unwrap_or_else(|| panic!("no sid claim in {access}"))
        .to_owned();
    assert_eq!(claims_of(&refresh)["sid"], sid.as_str(), "one session");
    Device {
        refresh,
        access,
        sid,
    }
}

/// `GET` a sessions list as the holder of `access`; panics unless it is 200 with a list.
async fn sessions(app: &TestApp, path: &str, access: &str) -> Vec<Value> {
    let (status, body) = json_of(app.get_as(path, access).await).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("GET {path} is not a list: {body}"))
        .clone()
}

fn ids(list: &[Value]) -> Vec<&str> {
    list.iter()
        .map(|s| s["id"].as_str().unwrap_or(""))
        .collect()
}

/// Asserts that every use of the device's tokens is refused: a protected route, the check
/// endpoint, verify and refresh.
pub async fn assert_refused(app: &TestApp, device: &Device, case: &str) {
    let (status, body) = json_of(app.me(&device.access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: /api/me/ {body}");
    assert_eq!(
        body["messages"][0]["message"], "Token is blacklisted",
        "{case}: /api/me/"
    );
    let (status, body) = json_of(app.get_as("/api/auth/check", &device.access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: check {body}");
    let (status, body) = app.verify(&device.access).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        ),
        "{case}: verify"
    );
    let (status, body) = app.refresh(&device.refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: refresh {body}");
}

/// Asserts that the device's access token and refresh token still work.
pub async fn assert_works(app: &TestApp, device: &Device, case: &str) {
    let (status, body) = json_of(app.me(&device.access).await).await;
    assert_eq!(status, StatusCode::OK, "{case}: /api/me/ {body}");
    let (status, body) = json_of(app.get_as("/api/auth/check", &device.access).await).await;
    assert_eq!(status, StatusCode::OK, "{case}: check {body}");
    let (status, body) = app.verify(&device.access).await;
    assert_eq!(status, StatusCode::OK, "{case}: verify {body}");
}

/// Asserts that the device's refresh token still works (it rotates: the device is updated).
async fn assert_refreshes(app: &TestApp, device: &mut Device, case: &str) {
    let (status, body) = app.refresh(&device.refresh).await;
    assert_eq!(status, StatusCode::OK, "{case}: refresh {body}");
    device.access = body["access"].as_str().unwrap_or_default().to_owned();
    if let Some(next) = body["refresh"].as_str() {
        device.refresh = next.to_owned();
    }
}

fn timestamp(value: &Value, case: &str) -> time::OffsetDateTime {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{case}: not a string: {value}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{case}: {text} is not RFC 3339: {e}"))
}

#[actix_web::test]
async fn a_user_sees_each_login_as_a_session_and_ending_one_refuses_its_tokens_at_once() {
    let app = spawn_app().await;
    app.create_user("alice");
    let before = app.now();
    let phone = login_from(&app, "alice", PHONE).await;
    app.clock.advance(Duration::from_secs(5));
    let mut laptop = login_from(&app, "alice", LAPTOP).await;

    let list = sessions(&app, "/api/me/sessions/", &laptop.access).await;
    assert_eq!(
        ids(&list),
        [laptop.sid.as_str(), phone.sid.as_str()],
        "newest first"
    );
    let (newest, oldest) = (&list[0], &list[1]);
    assert_eq!(newest["user_agent"], LAPTOP);
    assert_eq!(oldest["user_agent"], PHONE);
    assert_eq!(
        list.iter()
            .map(|s| s["current"].clone())
            .collect::<Vec<_>>(),
        [json!(true), json!(false)],
        "only the caller's own session is current"
    );
    for session in &list {
        assert_eq!(session["kind"], "pair");
        assert_eq!(session["client_address"], "127.0.0.1");
        let created = timestamp(&session["created"], "created");
        assert!(created.unix_timestamp() >= before, "{session}");
        assert_eq!(
            session["last_refreshed"], session["created"],
            "not refreshed yet"
        );
        let expires = timestamp(&session["expires"], "expires");
        // The deadline is whole seconds; the start keeps its fraction.
        let lifetime = (expires - created).whole_seconds();
        assert!(
            (30 * 24 * 3600 - 1..=30 * 24 * 3600).contains(&lifetime),
            "the absolute deadline is session_max_lifetime after the start: {lifetime} s"
        );
        let mut keys: Vec<&str> = session
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "client_address",
                "created",
                "current",
                "expires",
                "id",
                "kind",
                "last_refreshed",
                "user_agent"
            ]
        );
    }
    let from_phone = sessions(&app, "/api/me/sessions", &phone.access).await;
    assert_eq!(from_phone[1]["id"], phone.sid.as_str());
    assert_eq!(from_phone[1]["current"], true, "the phone's view");
    assert_eq!(from_phone[0]["current"], false);

    let response = app
        .delete_as(&format!("/api/me/sessions/{}/", phone.sid), &laptop.access)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.text().await.unwrap_or_default(), "");
    assert_refused(&app, &phone, "the ended phone session").await;
    assert_works(&app, &laptop, "the laptop").await;
    app.clock.advance(Duration::from_secs(5));
    assert_refreshes(&app, &mut laptop, "the laptop").await;
    let list = sessions(&app, "/api/me/sessions/", &laptop.access).await;
    assert_eq!(ids(&list), [laptop.sid.as_str()]);
    assert_ne!(
        list[0]["last_refreshed"], list[0]["created"],
        "a refresh moves last_refreshed on"
    );

    let again = app
        .delete_as(&format!("/api/me/sessions/{}/", phone.sid), &laptop.access)
        .await;
    let (status, body) = json_of(again).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
        "an ended session is no longer one of the caller's live sessions"
    );
}

#[actix_web::test]
async fn ending_someone_elses_session_is_a_404_that_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("alice");
    app.create_user("bob");
    let alice = login_from(&app, "alice", LAPTOP).await;
    let mut bob = login_from(&app, "bob", PHONE).await;

    for (sid, case) in [
        (bob.sid.as_str(), "bob's session"),
        ("0123456789abcdef0123456789abcdef", "an unknown id"),
        ("not-a-session", "a malformed id"),
    ] {
        let response = app
            .delete_as(&format!("/api/me/sessions/{sid}/"), &alice.access)
            .await;
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
            "{case}"
        );
    }
    assert_works(&app, &bob, "bob after alice's attempt").await;
    assert_refreshes(&app, &mut bob, "bob after alice's attempt").await;
    let list = sessions(&app, "/api/me/sessions/", &alice.access).await;
    assert_eq!(ids(&list), [alice.sid.as_str()], "alice sees only her own");
}

#[actix_web::test]
async fn revoke_others_ends_every_session_but_the_current_one() {
    let app = spawn_app().await;
    app.create_user("alice");
    app.create_user("bob");
    let first = login_from(&app, "alice", PHONE).await;
    let mut current = login_from(&app, "alice", LAPTOP).await;
    let third = login_from(&app, "alice", "curl/8.5").await;
    let bob = login_from(&app, "bob", PHONE).await;

    let (status, body) = json_of(
        app.post_as(
            "/api/me/sessions/revoke-others/",
            &current.access,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ended": 2})));
    assert_refused(&app, &first, "the first session").await;
    assert_refused(&app, &third, "the third session").await;
    assert_works(&app, &current, "the current session").await;
    assert_works(&app, &bob, "another user's session").await;
    assert_refreshes(&app, &mut current, "the current session").await;
    let list = sessions(&app, "/api/me/sessions/", &current.access).await;
    assert_eq!(ids(&list), [current.sid.as_str()]);
    assert_eq!(list[0]["current"], true);

    let (status, body) = json_of(
        app.post_as(
            "/api/me/sessions/revoke-others",
            &current.access,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"ended": 0})),
        "nothing left to end"
    );
}

#[actix_web::test]
async fn ending_ones_own_current_session_is_a_logout() {
    let app = spawn_app().await;
    app.create_user("alice");
    let phone = login_from(&app, "alice", PHONE).await;
    let laptop = login_from(&app, "alice", LAPTOP).await;
    let response = app
        .delete_as(&format!("/api/me/sessions/{}", laptop.sid), &laptop.access)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_refused(&app, &laptop, "the ended current session").await;
    let (status, _) = json_of(app.get_as("/api/me/sessions/", &laptop.access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not even the list");
    let list = sessions(&app, "/api/me/sessions/", &phone.access).await;
    assert_eq!(ids(&list), [phone.sid.as_str()]);
}

#[actix_web::test]
async fn a_sliding_login_is_a_sliding_session() {
    let app = spawn_app_with(|s| s.sliding_tokens = true).await;
    app.create_user("alice");
    let response = app
        .client
        .post(app.url("/api/token/sliding/"))
        .header("user-agent", PHONE)
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let pair = login_from(&app, "alice", LAPTOP).await;
    let list = sessions(&app, "/api/me/sessions/", &token).await;
    let sliding_sid = claims_of(&token)["sid"].clone();
    let sliding = list
        .iter()
        .find(|s| s["id"] == sliding_sid)
        .unwrap_or_else(|| panic!("the sliding session is not listed: {list:?}"));
    assert_eq!(
        (
            &sliding["kind"],
            &sliding["current"],
            &sliding["user_agent"]
        ),
        (&json!("sliding"), &json!(true), &json!(PHONE))
    );

    let response = app
        .delete_as(&format!("/api/me/sessions/{}/", pair.sid), &token)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_refused(&app, &pair, "the pair session ended from the sliding one").await;
    let (status, body) = json_of(app.me(&token).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_web::test]
async fn the_sessions_endpoints_need_a_token_and_answer_options_and_405_like_the_others() {
    let app = spawn_app().await;
    let id = app.create_user("alice");
    let alice = login_from(&app, "alice", PHONE).await;
    let mine = format!("/api/me/sessions/{}/", alice.sid);
    let theirs = format!("/api/users/{id}/sessions/");
    let revoke_all = format!("/api/users/{id}/sessions/revoke-all/");
    for (method, path) in [
        (Method::GET, "/api/me/sessions/"),
        (Method::POST, "/api/me/sessions/revoke-others/"),
        (Method::DELETE, mine.as_str()),
        (Method::GET, theirs.as_str()),
        (Method::POST, revoke_all.as_str()),
    ] {
        let (status, body) = json_of(app.request_as(method.clone(), path, None, None).await).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Authentication credentials were not provided."})
            ),
            "anonymous {method} {path}"
        );
    }
    assert_works(&app, &alice, "after the anonymous attempts").await;

    for (method, path, allow) in [
        (Method::PUT, "/api/me/sessions/", "GET, HEAD, OPTIONS"),
        (
            Method::GET,
            "/api/me/sessions/revoke-others/",
            "POST, OPTIONS",
        ),
        (
            Method::DELETE,
            "/api/me/sessions/revoke-others/",
            "POST, OPTIONS",
        ),
        (Method::POST, mine.as_str(), "DELETE, OPTIONS"),
        (Method::GET, mine.as_str(), "DELETE, OPTIONS"),
        (Method::DELETE, theirs.as_str(), "GET, HEAD, OPTIONS"),
    ] {
        let response = app
            .request_as(method.clone(), path, Some(&alice.access), None)
            .await;
        let header = response
            .headers()
            .get(ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, header.as_deref()),
            (StatusCode::METHOD_NOT_ALLOWED, Some(allow)),
            "{method} {path}: {body}"
        );
        assert_eq!(
            body,
            json!({"detail": format!("Method \"{method}\" not allowed.")})
        );
    }
    assert_works(&app, &alice, "after the refused methods").await;

    let response = app
        .request_as(
            Method::OPTIONS,
            "/api/me/sessions/",
            Some(&alice.access),
            None,
        )
        .await;
    assert_eq!(
        response.headers().get(ALLOW).and_then(|v| v.to_str().ok()),
        Some("GET, HEAD, OPTIONS")
    );
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Session List");
    let (status, _) = json_of(
        app.request_as(Method::OPTIONS, "/api/me/sessions/", None, None)
            .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "OPTIONS authenticates first"
    );
    let (status, _) = json_of(
        app.request_as(Method::OPTIONS, &theirs, Some(&alice.access), None)
            .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "OPTIONS checks auth.view_user"
    );
}

#[actix_web::test]
async fn the_admin_endpoints_need_view_user_to_list_and_change_user_to_end() {
    let app = spawn_app().await;
    let target = app.create_user("alice");
    app.create_user("nobody");
    let viewer = app.create_user("viewer");
    app.grant(viewer, &["auth.view_user"]);
    let changer_id = app.create_user("changer");
    app.grant(changer_id, &["auth.view_user", "auth.change_user"]);
    let mut phone = login_from(&app, "alice", PHONE).await;
    let laptop = login_from(&app, "alice", LAPTOP).await;
    let nobody = app.access_for("nobody").await;
    let viewer = app.access_for("viewer").await;
    let changer = login_from(&app, "changer", "admin-tool/1").await;
    let list_path = format!("/api/users/{target}/sessions/");
    let one_path = format!("/api/users/{target}/sessions/{}/", laptop.sid);
    let all_path = format!("/api/users/{target}/sessions/revoke-all/");

    let (status, body) = json_of(app.get_as(&list_path, &nobody).await).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": DENIED})),
        "without auth.view_user"
    );
    let list = sessions(&app, &list_path, &viewer).await;
    assert_eq!(ids(&list), [laptop.sid.as_str(), phone.sid.as_str()]);
    assert!(
        list.iter().all(|s| s["current"] == false),
        "none is the admin's own"
    );
    assert_eq!(list[0]["user_agent"], LAPTOP);

    for (who, access) in [("nobody", &nobody), ("viewer", &viewer)] {
        let (status, body) = json_of(app.delete_as(&one_path, access).await).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, json!({"detail": DENIED})),
            "DELETE as {who}"
        );
        let (status, body) = json_of(app.post_as(&all_path, access, &json!({})).await).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, json!({"detail": DENIED})),
            "revoke-all as {who}"
        );
    }
    assert_works(&app, &laptop, "after the refused attempts").await;
    assert_works(&app, &phone, "after the refused attempts").await;

    let response = app.delete_as(&one_path, &changer.access).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_refused(&app, &laptop, "the laptop session ended by an admin").await;
    assert_works(&app, &phone, "the phone").await;
    assert_refreshes(&app, &mut phone, "the phone").await;
    let list = sessions(&app, &list_path, &changer.access).await;
    assert_eq!(ids(&list), [phone.sid.as_str()]);
    let own = sessions(
        &app,
        &format!("/api/users/{changer_id}/sessions/"),
        &changer.access,
    )
    .await;
    assert_eq!(own[0]["current"], true, "an admin's own session is current");
}

#[actix_web::test]
async fn revoke_all_ends_every_session_of_the_user_at_once() {
    let app = spawn_app().await;
    let target = app.create_user("alice");
    app.create_user("bob");
    app.create_superuser("root");
    let phone = login_from(&app, "alice", PHONE).await;
    let laptop = login_from(&app, "alice", LAPTOP).await;
    let bob = login_from(&app, "bob", PHONE).await;
    let root = login_from(&app, "root", "admin-tool/1").await;

    let path = format!("/api/users/{target}/sessions/revoke-all/");
    let (status, body) = json_of(app.post_as(&path, &root.access, &json!({})).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ended": 2})));
    assert_refused(&app, &phone, "the phone").await;
    assert_refused(&app, &laptop, "the laptop").await;
    assert_works(&app, &bob, "another user").await;
    assert_works(&app, &root, "the admin").await;
    let list = sessions(&app, &format!("/api/users/{target}/sessions"), &root.access).await;
    assert!(list.is_empty(), "{list:?}");

    // alice signs in again: a new session, unaffected by the past revoke-all.
    let again = login_from(&app, "alice", PHONE).await;
    assert_works(&app, &again, "a login after revoke-all").await;
    let (status, body) = json_of(app.post_as(&path, &root.access, &json!({})).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ended": 1})));
    assert_refused(&app, &again, "the new session").await;
}

#[actix_web::test]
async fn the_admin_endpoints_answer_404_for_an_unknown_user_or_session() {
    let app = spawn_app().await;
    let alice_id = app.create_user("alice");
    let bob_id = app.create_user("bob");
    app.create_superuser("root");
    let alice = login_from(&app, "alice", PHONE).await;
    let root = login_from(&app, "root", "admin-tool/1").await;
    let no_user = json!({"detail": "No User matches the given query."});
    for (method, path) in [
        (Method::GET, "/api/users/999999/sessions/".to_owned()),
        (
            Method::DELETE,
            format!("/api/users/999999/sessions/{}/", alice.sid),
        ),
        (
            Method::POST,
            "/api/users/999999/sessions/revoke-all/".into(),
        ),
        (Method::GET, "/api/users/abc/sessions/".into()),
    ] {
        let response = app
            .request_as(method.clone(), &path, Some(&root.access), None)
            .await;
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, &body),
            (StatusCode::NOT_FOUND, &no_user),
            "{method} {path}"
        );
    }
    for (path, case) in [
        (
            format!("/api/users/{bob_id}/sessions/{}/", alice.sid),
            "alice's session under bob",
        ),
        (
            format!("/api/users/{alice_id}/sessions/0123456789abcdef0123456789abcdef/"),
            "an unknown session",
        ),
    ] {
        let (status, body) = json_of(app.delete_as(&path, &root.access).await).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
            "{case}"
        );
    }
    assert_works(&app, &alice, "alice after the 404s").await;
}

#[actix_web::test]
async fn only_a_superuser_ends_a_superusers_sessions() {
    let app = spawn_app().await;
    let root_id = app.create_superuser("root");
    app.create_superuser("other-root");
    let admin = app.create_user("admin");
    app.grant(admin, &["auth.view_user", "auth.change_user"]);
    let root = login_from(&app, "root", LAPTOP).await;
    let admin = login_from(&app, "admin", "admin-tool/1").await;
    let other = login_from(&app, "other-root", "admin-tool/2").await;

    let list = sessions(
        &app,
        &format!("/api/users/{root_id}/sessions/"),
        &admin.access,
    )
    .await;
    assert_eq!(ids(&list), [root.sid.as_str()], "viewing is allowed");
    let one = format!("/api/users/{root_id}/sessions/{}/", root.sid);
    let all = format!("/api/users/{root_id}/sessions/revoke-all/");
    let (status, body) = json_of(app.delete_as(&one, &admin.access).await).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": ONLY_SUPERUSERS})),
        "DELETE"
    );
    let (status, body) = json_of(app.post_as(&all, &admin.access, &json!({})).await).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": ONLY_SUPERUSERS})),
        "revoke-all"
    );
    assert_works(&app, &root, "the superuser after the refusals").await;

    let response = app.delete_as(&one, &other.access).await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "another superuser"
    );
    assert_refused(&app, &root, "ended by another superuser").await;
}

#[actix_web::test]
async fn an_idle_session_is_not_listed() {
    let app = spawn_app_with(|s| s.session_idle_timeout = Duration::from_secs(3600)).await;
    app.create_user("alice");
    let idle = login_from(&app, "alice", PHONE).await;
    let mut kept = login_from(&app, "alice", LAPTOP).await;
    app.clock.advance(Duration::from_secs(40 * 60));
    assert_refreshes(&app, &mut kept, "after 40 minutes").await;
    app.clock.advance(Duration::from_secs(40 * 60));
    assert_refreshes(&app, &mut kept, "after 80 minutes").await;
    let list = sessions(&app, "/api/me/sessions/", &kept.access).await;
    assert_eq!(
        ids(&list),
        [kept.sid.as_str()],
        "the phone, not refreshed for 80 minutes, is idle"
    );
    let (status, _) = app.refresh(&idle.refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "and cannot refresh");
}

#[actix_web::test]
async fn a_session_past_its_deadline_is_not_listed() {
    let app = spawn_app_with(|s| s.session_max_lifetime = Duration::from_secs(3600)).await;
    app.create_user("alice");
    let old = login_from(&app, "alice", PHONE).await;
    app.clock.advance(Duration::from_secs(30 * 60));
    let mut young = login_from(&app, "alice", LAPTOP).await;
    app.clock.advance(Duration::from_secs(40 * 60));
    assert_refreshes(&app, &mut young, "within its hour").await;
    let list = sessions(&app, "/api/me/sessions/", &young.access).await;
    assert_eq!(
        ids(&list),
        [young.sid.as_str()],
        "the phone's session is 70 minutes old"
    );
    let (status, body) = json_of(
        app.post_as("/api/me/sessions/revoke-others/", &young.access, &json!({}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"ended": 0})),
        "a session past its deadline is not counted as ended"
    );
    let (status, _) = app.refresh(&old.refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "and cannot refresh");
}
