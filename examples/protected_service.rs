//! A downstream actix-web service that uses keyward as a library: keyward's token API and
//! admin API mounted beside the service's own routes, which are protected with keyward's
//! extractors.
//!
//! ```sh
//! cargo run --example protected_service        # listens on 127.0.0.1:8080, SQLite ./keyward.db
//! ```
//!
//! Then log in at `POST /api/token/` and call `GET /reports/` with the access token: a user
//! needs the permission `reports.view_report` (create it with `POST /api/permissions/` as a
//! superuser and grant it with `PATCH /api/users/{id}/`).

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use keyward::auth::{Allowed, AuthUser, IsAuthenticatedOrReadOnly, RequirePermissions, StaffUser};
use keyward::clock::Clock;
use keyward::config::Settings;
use keyward::startup::Keyward;

keyward::permission_list!(ViewReports = ["reports.view_report"]);

/// **Permissions:** `reports.view_report`.
async fn reports(guard: Allowed<RequirePermissions<ViewReports>>) -> HttpResponse {
    let who = guard.caller().map_or("", |c| c.user.username.as_str());
    HttpResponse::Ok().json(serde_json::json!({ "reports": ["q1", "q2"], "for": who }))
}

/// **Permissions:** anyone may read; writing needs a login.
async fn notes(guard: Allowed<IsAuthenticatedOrReadOnly>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "authenticated": guard.caller().is_some() }))
}

/// **Permissions:** staff.
async fn staff_only(_: StaffUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "ok": true }))
}

/// **Permissions:** authenticated.
async fn whoami(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok()
        .json(serde_json::json!({ "id": user.user.id, "username": user.user.username }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut settings = Settings::load(None).map_err(std::io::Error::other)?;
    settings.bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    keyward::telemetry::init(&settings.log_format);
    // Bind first: a busy address is reported before the database is touched.
    let listener = std::net::TcpListener::bind(&settings.bind)?;
    let keyward = Keyward::start(&settings, Clock::default())
        .await
        .map_err(std::io::Error::other)?;
    println!("listening on http://{}", settings.bind);
    let state = keyward.clone();
    HttpServer::new(move || {
        App::new()
            .wrap(from_fn(keyward::api::add_challenge))
            .configure(|cfg| keyward.register(cfg))
            .configure(keyward.api())
            .route("/reports/", web::get().to(reports))
            .route("/notes/", web::get().to(notes))
            .route("/notes/", web::post().to(notes))
            .route("/staff/", web::get().to(staff_only))
            .route("/whoami/", web::get().to(whoami))
    })
    .listen(listener)?
    .run()
    .await?;
    // Stopped (Ctrl-C, SIGTERM): on SQLite, leave every write in the database file itself.
    web::block(move || state.shutdown())
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)
}
