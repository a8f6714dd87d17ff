//! `[paths]`: every endpoint where the settings put it. An old project's spellings work by
//! configuration alone, the default paths stop answering once moved, a moved endpoint keeps
//! its `OPTIONS`, its 405 with `Allow` and both spellings of its trailing slash, the console
//! and the health checks move too, the refresh cookie follows the refresh path, and a bad
//! table is refused at start with a line naming the setting.

use reqwest::StatusCode;
use reqwest::header::ALLOW;
use serde_json::{Value, json};

use crate::cli::Sandbox;
use crate::console_client::{ConsoleClient, Page, staff_with};
use crate::helpers::{PASSWORD, TestApp, bearer, json_of, spawn_app_with, test_settings};

/// The spellings of a project that served simplejwt's views at its own paths.
async fn old_project() -> TestApp {
    spawn_app_with(|s| {
        s.paths.token_obtain = "/gettoken/".into();
        s.paths.token_verify = "/verifytoken/".into();
        s.paths.token_refresh = "/refreshtoken/".into();
    })
    .await
}

#[actix_web::test]
async fn an_old_projects_paths_obtain_verify_and_refresh_by_configuration_alone() {
    let app = old_project().await;
    app.create_user("alice");
    let login = json!({"username": "alice", "password": PASSWORD});
    for obtain in ["/gettoken/", "/gettoken"] {
        let (status, pair) = json_of(app.post_json(obtain, &login).await).await;
        assert_eq!(status, StatusCode::OK, "{obtain}: {pair}");
        let (access, refresh) = (pair["access"].as_str(), pair["refresh"].as_str());
        let (Some(access), Some(refresh)) = (access, refresh) else {
            panic!("{obtain}: no pair in {pair}");
        };
        let verified = app.post_token("/verifytoken/", "token", access).await;
        let (status, body) = json_of(verified).await;
        assert_eq!((status, body), (StatusCode::OK, json!({})), "{obtain}");
        let refreshed = app.post_token("/refreshtoken/", "refresh", refresh).await;
        let (status, body) = json_of(refreshed).await;
        assert_eq!(status, StatusCode::OK, "{obtain}: {body}");
        assert!(body["access"].is_string(), "{obtain}: {body}");
    }
}

#[actix_web::test]
async fn the_default_paths_stop_answering_once_moved() {
    let app = old_project().await;
    app.create_user("alice");
    let login = json!({"username": "alice", "password": PASSWORD});
    for path in [
        "/api/token/",
        "/api/token",
        "/api/token/verify/",
        "/api/token/refresh/",
    ] {
        let (status, body) = json_of(app.post_json(path, &login).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body, json!({"detail": "Not found."}), "{path}");
    }
    // What was not moved stays where it was.
    let (status, _) = json_of(app.post_json("/api/token/blacklist/", &json!({})).await).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "logout stays at its default path"
    );
}

#[actix_web::test]
async fn a_moved_path_keeps_options_and_the_405_with_allow() {
    let app = old_project().await;
    for path in ["/gettoken/", "/gettoken"] {
        let options = app.send(reqwest::Method::OPTIONS, path).await;
        let allow = options.headers().get(ALLOW).cloned();
        let (status, body) = json_of(options).await;
        assert_eq!(status, StatusCode::OK, "OPTIONS {path}: {body}");
        assert_eq!(body["name"], "Token Obtain Pair", "OPTIONS {path}");
        assert_eq!(
            allow.as_ref().and_then(|v| v.to_str().ok()),
            Some("POST, OPTIONS")
        );

        let get = app.get(path, None).await;
        let allow = get.headers().get(ALLOW).cloned();
        let (status, body) = json_of(get).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
        assert_eq!(body, json!({"detail": "Method \"GET\" not allowed."}));
        assert_eq!(
            allow.as_ref().and_then(|v| v.to_str().ok()),
            Some("POST, OPTIONS"),
            "GET {path}"
        );
    }
}

#[actix_web::test]
async fn moved_health_checks_answer_at_their_paths_only() {
    let app = spawn_app_with(|s| {
        s.paths.health = "/livez".into();
        s.paths.health_ready = "/readyz".into();
    })
    .await;
    for (path, status) in [
        ("/livez", StatusCode::OK),
        ("/readyz", StatusCode::OK),
        ("/health", StatusCode::NOT_FOUND),
        ("/health/ready", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(app.get(path, None).await.status(), status, "{path}");
    }
    let post = app.post_json("/livez", &json!({})).await;
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        post.headers().get(ALLOW).and_then(|v| v.to_str().ok()),
        Some("GET, HEAD, OPTIONS")
    );
}

/// Signs in to the console mounted at `/staff`; the answer to the sign-in form.
async fn staff_sign_in(browser: &mut ConsoleClient<'_>, username: &str) -> Page {
    let form = browser.get("/staff/login/").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    browser
        .post(
            "/staff/login/",
            &[
                ("csrf_token", csrf.as_str()),
                ("username", username),
                ("password", PASSWORD),
                ("next", "/staff/users/"),
            ],
        )
        .await
}

#[actix_web::test]
async fn a_moved_console_serves_its_pages_links_redirects_and_cookie_under_its_path() {
    let app = spawn_app_with(|s| s.paths.console = "/staff".into()).await;
    staff_with(&app, "root", &["auth.view_user"]);
    let mut browser = ConsoleClient::new(&app);

    browser
        .get("/staff/users/")
        .await
        .assert_redirect("/staff/login/?next=%2Fstaff%2Fusers%2F", "signed out");
    browser
        .get("/staff")
        .await
        .assert_redirect("/staff/", "the bare mount");
    let form = browser.get("/staff/login/").await;
    assert!(form.has("action=\"/staff/login/\""), "{}", form.body);
    assert!(
        form.has("href=\"/staff/static/admin.css\""),
        "{}",
        form.body
    );

    let signed_in = staff_sign_in(&mut browser, "root").await;
    signed_in.assert_redirect("/staff/users/", "next under the mount");
    let cookie = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("keyward_session="))
        .unwrap_or_else(|| panic!("no session cookie: {:?}", signed_in.set_cookies));
    assert!(cookie.contains("Path=/staff"), "{cookie}");

    let users = browser.get("/staff/users/").await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);
    for link in ["/staff/", "/staff/users/", "/staff/static/admin.js"] {
        assert!(
            users.has(&format!("\"{link}\"")),
            "{link} in {}",
            users.body
        );
    }
    assert!(!users.has("/admin/"), "no link to /admin/: {}", users.body);
    let css = browser.get("/staff/static/admin.css").await;
    assert_eq!(css.status, StatusCode::OK);

    let missing = browser.get("/staff/nothing-here/").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.has("href=\"/staff/\""), "{}", missing.body);

    for path in ["/admin/", "/admin/login/", "/admin"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
    }
}

#[actix_web::test]
async fn the_refresh_cookie_follows_the_moved_refresh_and_logout_paths() {
    const SPA: &str = "http://localhost:5173";
    let app = spawn_app_with(|s| {
        s.token_transport = "cookie".into();
        s.cors_allowed_origins = vec![SPA.into()];
        s.paths.token_refresh = "/refreshtoken/".into();
        s.paths.token_blacklist = "/logout/".into();
    })
    .await;
    app.create_user("alice");
    let response = app
        .client
        .post(app.url("/api/token/"))
        .header("origin", SPA)
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut paths = cookie_paths(&response);
    paths.sort();
    assert_eq!(paths, ["/logout", "/refreshtoken"]);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next()?.strip_prefix("keyward_refresh="))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no refresh cookie"));

    let refreshed = app
        .client
        .post(app.url("/refreshtoken/"))
        .header("origin", SPA)
        .header("cookie", format!("keyward_refresh={cookie}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut paths = cookie_paths(&refreshed);
    paths.sort();
    let (status, body) = json_of(refreshed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["access"].is_string() && body.get("refresh").is_none(),
        "{body}"
    );
    assert_eq!(paths, ["/logout", "/refreshtoken"], "the rotated cookie");
}

/// The `Path` of each refresh cookie an answer sets.
fn cookie_paths(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("keyward_refresh="))
        .filter_map(|c| {
            c.split(';')
                .find_map(|a| a.trim().strip_prefix("Path=").map(str::to_owned))
        })
        .collect()
}

#[actix_web::test]
async fn a_created_object_is_located_at_its_moved_detail_path() {
    let app = spawn_app_with(|s| {
        s.paths.users = "/api/accounts/".into();
        s.paths.user = "/api/accounts/{id}/".into();
    })
    .await;
    app.create_superuser("root");
    let access = app.access_for("root").await;
    let body = json!({"username": "bob", "password": "long-enough-1"});
    let created = app.post_as("/api/accounts/", &access, &body).await;
    let location = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, user): (StatusCode, Value) = json_of(created).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let expected = format!("/api/accounts/{}/", user["id"]);
    assert_eq!(location.as_deref(), Some(expected.as_str()));
    let fetched = app.get(&expected, Some(&bearer(&access))).await.status();
    assert_eq!(fetched, StatusCode::OK);
    let old = app
        .get("/api/users/", Some(&bearer(&access)))
        .await
        .status();
    assert_eq!(old, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_bad_paths_table_stops_the_server_with_a_line_naming_the_setting() {
    let sandbox = Sandbox::new();
    let cases = [
        (
            "[paths]\ntoken_obtain = \"gettoken/\"\n",
            "configuration: paths.token_obtain must start with '/', got \"gettoken/\"",
        ),
        (
            "[paths]\ntoken_verify = \"/api/token/refresh\"\n",
            "configuration: paths.token_refresh and paths.token_verify are the same path",
        ),
        (
            "[paths]\nuser = \"/api/users/{pk}/\"\n",
            "configuration: paths.user must hold the parameters {id} (once each)",
        ),
        (
            "[paths]\nme = \"/admin/me/\"\n",
            "configuration: paths.me (\"/admin/me/\") is under the console's path",
        ),
        (
            "[paths]\ntokn_obtain = \"/gettoken/\"\n",
            "unknown setting `tokn_obtain` in [paths] in ",
        ),
    ];
    for (file, expected) in cases {
        sandbox.write("keyward.toml", file);
        for command in [["check"].as_slice(), ["serve"].as_slice()] {
            let run = sandbox.run(command, &[("KEYWARD_BIND", "127.0.0.1:0")], None);
            assert!(!run.success, "{command:?} with {file}: {run}");
            assert!(run.stderr.contains(expected), "{command:?} {file}: {run}");
            assert!(
                !run.stderr.contains("panicked"),
                "{command:?} {file}: {run}"
            );
        }
    }
    let run = sandbox.run(&["check"], &[], None);
    assert!(
        run.stderr.contains("did you mean `token_obtain`?"),
        "a misspelt key in [paths] gets the closest one: {run}"
    );
}

#[actix_web::test]
async fn paths_are_set_from_the_environment_and_reported_by_check() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["check"], &[], None);
    assert!(
        run.success && run.stdout.contains("paths: defaults\n"),
        "{run}"
    );

    let moved = [
        ("KEYWARD_PATHS__TOKEN_OBTAIN", "/gettoken/"),
        ("KEYWARD_PATHS__CONSOLE", "/staff"),
    ];
    let run = sandbox.run(&["check"], &moved, None);
    assert!(run.success, "{run}");
    assert!(
        run.stdout
            .contains("paths: 2 moved (token_obtain = /gettoken/, console = /staff)"),
        "{run}"
    );
    assert!(!run.stderr.contains("ignoring"), "known variables: {run}");

    let run = sandbox.run(
        &["check"],
        &[("KEYWARD_PATHS__TOKEN_OBTAIN", "gettoken")],
        None,
    );
    assert!(!run.success, "{run}");
    assert!(
        run.stderr
            .contains("paths.token_obtain must start with '/'"),
        "{run}"
    );

    let typo = [("KEYWARD_PATHS__TOKN_OBTAIN", "/x/")];
    let run = sandbox.run(&["check"], &typo, None);
    assert!(
        run.stderr.contains(
            "ignoring KEYWARD_PATHS__TOKN_OBTAIN: unknown setting `paths__tokn_obtain`; \
             did you mean `paths__token_obtain`?"
        ),
        "{run}"
    );
}

#[actix_web::test]
async fn a_bad_paths_setting_is_an_error_from_build_not_a_panic() {
    let (_db, url) = crate::helpers::test_database();
    let mut settings = test_settings(url);
    settings.paths.me = "/api/token/".into();
    let error = keyward::startup::Application::build(settings)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| panic!("a duplicate path must be refused"));
    assert!(
        error.contains("paths.token_obtain and paths.me are the same path"),
        "{error}"
    );
}
