//! Where the console sends a browser after sign-in: only to a console path; a `next` with
//! CR/LF, another host, or a path outside the console falls back to the dashboard, never a 500.

use reqwest::StatusCode;

use crate::console_client::{ConsoleClient, superuser};
use crate::helpers::PASSWORD;
use crate::helpers::spawn_app;

const UNUSABLE: &[(&str, &str)] = &[
    ("/admin/users/\r\nSet-Cookie: evil=1", "CR/LF"),
    ("/admin/\n", "a trailing LF"),
    ("/admin/\r", "a trailing CR"),
    ("/admin/\t", "a tab"),
    ("https://evil.example/admin/", "another host"),
    ("//evil.example/admin/", "a scheme-relative URL"),
    ("/\\evil.example/admin/", "a backslash"),
    ("/api/me/", "outside the console"),
    ("/admin/../api/me/", "climbing out of the console"),
    ("/admin/%2e%2e/api/me/", "climbing out, percent-encoded"),
    ("/admin/usérs/", "not as a browser sends it"),
    ("", "empty"),
];

#[actix_web::test]
async fn an_unusable_next_falls_back_to_the_dashboard_after_sign_in() {
    let app = spawn_app().await;
    superuser(&app, "boss");
    for (next, case) in UNUSABLE {
        let mut console = ConsoleClient::new(&app);
        let page = console.sign_in("boss", PASSWORD, next).await;
        page.assert_redirect("/admin/", case);
    }
    let mut console = ConsoleClient::new(&app);
    let page = console
        .sign_in("boss", PASSWORD, "/admin/users/?q=a%20b")
        .await;
    page.assert_redirect("/admin/users/?q=a%20b", "a console path is kept");
}

#[actix_web::test]
async fn an_unusable_next_on_the_sign_in_page_is_replaced_by_the_dashboard() {
    let app = spawn_app().await;
    superuser(&app, "boss");
    let mut anonymous = ConsoleClient::new(&app);
    let mut signed_in = ConsoleClient::signed_in(&app, "boss").await;
    for (next, case) in UNUSABLE {
        let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        let path = format!("/admin/login/?{query}");
        let page = anonymous.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{case}: {}", page.body);
        assert_eq!(page.input_values("next"), ["/admin/"], "{case}");
        signed_in.get(&path).await.assert_redirect("/admin/", case);
    }
}

#[actix_web::test]
async fn an_unusable_return_path_after_revoking_tokens_falls_back_to_the_list() {
    let app = spawn_app().await;
    superuser(&app, "boss");
    let mut console = ConsoleClient::signed_in(&app, "boss").await;
    for (to, case) in [
        ("/admin/tokens/\r\nSet-Cookie: evil=1", "CR/LF"),
        ("/admin/tokens/../../api/me/", "climbing out of the console"),
        ("/admin/tokens/\\evil", "a backslash"),
    ] {
        console
            .submit("/admin/tokens/revoke/", &[("return_to", to)])
            .await
            .assert_redirect("/admin/tokens/", case);
    }
    console
        .submit(
            "/admin/tokens/revoke/",
            &[("return_to", "/admin/blacklist/?q=a")],
        )
        .await
        .assert_redirect("/admin/blacklist/?q=a", "a list page is kept");
}
