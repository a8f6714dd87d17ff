//! The JSON API, simplejwt's wire contract. Each file is one resource; each registers its
//! routes through [`config`].

mod access_log;
pub mod body;
mod challenge;
mod check;
mod cookie_transport;
mod cors;
mod docs;
mod endpoint;
mod fields;
mod groups;
mod headers;
mod health;
mod issue;
mod me;
mod multipart;
mod openapi;
mod origin_check;
mod pagination;
pub(crate) mod permissions;
mod request_timeout;
mod rotation_retries;
mod session_policy;
mod sessions;
mod signup;
mod sliding;
mod token;
mod user_view;
mod users;

use std::sync::Arc;

use actix_web::web;

pub use access_log::access_log;
pub use challenge::add_challenge;
pub use cookie_transport::Transport;
pub use cors::{BrowserCors, cors};
pub use docs::ApiDocs;
pub use endpoint::{Meta, Route, Routes};
pub use headers::nosniff;
pub use origin_check::CSRF_FAILED;
pub use permissions::{BAD_CODENAME, valid_codename};
pub use request_timeout::{RequestTimeout, request_timeout};
pub use rotation_retries::RotationRetries;
pub use session_policy::SessionPolicy;
pub use signup::{INVALID_EMAIL, INVALID_USERNAME, PasswordRules, valid_email, valid_username};
pub use token::Rotation;

use crate::actors::user_manager::UserError;
use crate::config::Paths;
use crate::error::ApiError;

/// Which optional parts of the API are mounted, and where each endpoint is.
#[derive(Debug, Clone)]
pub struct Mounts {
    pub sliding_tokens: bool,
    pub signup: bool,
    pub paths: Arc<Paths>,
}

impl Mounts {
    /// The mounts `settings` ask for (`sliding_tokens`, `allow_signup`, `[paths]`).
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            sliding_tokens: settings.sliding_tokens,
            signup: settings.allow_signup,
            paths: Arc::new(settings.paths.clone()),
        }
    }
}

/// Registers every API route, then Swagger UI's files.
pub fn config(mounts: Mounts) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        register(cfg, &mounts);
        docs::assets(cfg, &mounts.paths);
    }
}

/// Every API endpoint [`config`] registers, in the same order, from the same registrations.
pub fn routes(mounts: &Mounts) -> Vec<Route> {
    let mut routes = Vec::new();
    register(&mut routes, mounts);
    routes
}

/// The router tries resources in this order, so the hot ones (`/api/me/`, then the token
/// views) come first.
fn register(cfg: &mut impl Routes, mounts: &Mounts) {
    let paths = &mounts.paths;
    me::config(cfg, paths);
    token::config(cfg, paths);
    if mounts.sliding_tokens {
        sliding::config(cfg, paths);
    }
    if mounts.signup {
        signup::config(cfg, paths);
    }
    sessions::config(cfg, paths);
    users::config(cfg, paths);
    groups::config(cfg, paths);
    permissions::config(cfg, paths);
    check::config(cfg, paths);
    health::config(cfg, paths);
    docs::config(cfg, paths);
}

/// The API's reading of a user manager failure.
pub fn user_error(err: UserError) -> ApiError {
    match err {
        UserError::InvalidCredentials => {
            ApiError::AuthenticationFailed("No active account found with the given credentials")
        }
        UserError::Throttled(wait) => ApiError::Throttled(wait),
        UserError::Invalid(fields) => ApiError::Validation(fields),
        UserError::NotFound => ApiError::NotFound,
        UserError::Forbidden(detail) => ApiError::PermissionDenied(detail.to_owned()),
        UserError::Db(db) => db.into(),
        UserError::Hash(err) => ApiError::Internal(err.to_string()),
    }
}

/// [`user_error`], with a missing row named as DRF names it (`No User matches the given query.`).
pub fn no_match(model: &'static str) -> impl Fn(UserError) -> ApiError {
    move |err| match err {
        UserError::NotFound => ApiError::NoMatch(model),
        other => user_error(other),
    }
}

/// `201 Created` with the new object and its `Location`: its detail path (`detail` picks it
/// from the configured paths, such as `/api/users/{id}/`) with its id.
pub fn created(
    req: &actix_web::HttpRequest,
    detail: fn(&Paths) -> &String,
    id: i64,
    body: impl serde::Serialize,
) -> actix_web::HttpResponse {
    let defaults = Paths::default();
    let paths = req
        .app_data::<web::Data<Paths>>()
        .map_or(&defaults, |paths| paths.get_ref());
    let location = Paths::fill(detail(paths), &[("id", &id.to_string())]);
    actix_web::HttpResponse::Created()
        .insert_header(("Location", location))
        .json(body)
}

/// A JSON 404 for every unknown path.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
