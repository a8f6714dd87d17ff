//! The admin console at `/admin/` (`paths.console`): server-rendered askama pages over the
//! same actor messages as the REST API. Sessions are server-side; every state-changing form is
//! a CSRF-checked POST; GET never changes state.

mod assets;
mod audit;
mod csrf;
mod dashboard;
mod error;
mod events;
mod form;
mod groups;
mod headers;
mod layout;
mod locks;
mod login;
mod mount;
mod permissions;
mod session;
mod token_sessions;
mod tokens;
mod user_actions;
mod users;

use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, web};

pub use error::ConsoleError;
pub use headers::CONTENT_SECURITY;
pub use session::ConsoleSettings;

async fn not_found() -> Result<actix_web::HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound)
}

async fn to_dashboard(req: HttpRequest) -> actix_web::HttpResponse {
    users::see_other(format!("{}/", mount::root(&req)))
}

/// Registers the console's routes under `root` (`/admin`: [`crate::config::Paths::console_root`]).
pub fn config(root: String) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| routes(cfg, &root)
}

fn routes(cfg: &mut web::ServiceConfig, root: &str) {
    cfg.service(
        web::resource(root)
            .wrap(headers::security_headers())
            .route(web::get().to(to_dashboard)),
    )
    .service(
        web::scope(root)
            .wrap(from_fn(mount::mounted_errors))
            .wrap(headers::security_headers())
            .configure(assets::config)
            .route("/", web::get().to(dashboard::show))
            .route("/login/", web::get().to(login::show))
            .route("/login/", web::post().to(login::submit))
            .route("/logout/", web::post().to(login::logout))
            .route("/users/", web::get().to(users::list))
            .route("/users/add/", web::get().to(users::add_form))
            .route("/users/add/", web::post().to(users::add))
            .route("/users/{id}/", web::get().to(users::edit_form))
            .route("/users/{id}/", web::post().to(users::edit))
            .route(
                "/users/{id}/password/",
                web::get().to(user_actions::password_form),
            )
            .route(
                "/users/{id}/password/",
                web::post().to(user_actions::set_password),
            )
            .route(
                "/users/{id}/revoke-tokens/",
                web::post().to(user_actions::revoke_tokens),
            )
            .route(
                "/users/{id}/sessions/end-all/",
                web::post().to(token_sessions::end_all),
            )
            .route(
                "/users/{id}/sessions/{sid}/end/",
                web::post().to(token_sessions::end_one),
            )
            .route(
                "/users/{id}/delete/",
                web::get().to(user_actions::delete_form),
            )
            .route("/users/{id}/delete/", web::post().to(user_actions::delete))
            .route("/groups/", web::get().to(groups::list))
            .route("/groups/add/", web::get().to(groups::add_form))
            .route("/groups/add/", web::post().to(groups::add))
            .route("/groups/{id}/", web::get().to(groups::edit_form))
            .route("/groups/{id}/", web::post().to(groups::edit))
            .route("/groups/{id}/delete/", web::get().to(groups::delete_form))
            .route("/groups/{id}/delete/", web::post().to(groups::delete))
            .route("/permissions/", web::get().to(permissions::list))
            .route("/permissions/add/", web::post().to(permissions::add))
            .route(
                "/permissions/{id}/delete/",
                web::post().to(permissions::delete),
            )
            .route("/tokens/", web::get().to(tokens::list))
            .route("/tokens/revoke/", web::post().to(tokens::revoke_selected))
            .route("/tokens/{id}/", web::get().to(tokens::detail))
            .route("/tokens/{id}/revoke/", web::post().to(tokens::revoke_one))
            .route("/tokens/{id}/unrevoke/", web::post().to(tokens::unrevoke))
            .route("/blacklist/", web::get().to(tokens::blacklist))
            .route("/events/", web::get().to(events::list))
            .route("/locks/", web::get().to(locks::list))
            .route("/locks/{key}/lift/", web::post().to(locks::lift))
            .default_service(web::to(not_found)),
    );
}
