//! The JSON API, simplejwt's wire contract. Each file is one resource; each registers its
//! routes through [`config`].

mod access_log;
pub mod body;
mod challenge;
mod check;
mod cookie_transport;
mod cors;
mod endpoint;
mod fields;
mod groups;
mod headers;
mod health;
mod issue;
mod me;
mod multipart;
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

use actix_web::web;

pub use access_log::access_log;
pub use challenge::add_challenge;
pub use cookie_transport::Transport;
pub use cors::{BrowserCors, cors};
pub use headers::nosniff;
pub use origin_check::CSRF_FAILED;
pub use permissions::{BAD_CODENAME, valid_codename};
pub use request_timeout::{RequestTimeout, request_timeout};
pub use rotation_retries::RotationRetries;
pub use session_policy::SessionPolicy;
pub use signup::{INVALID_EMAIL, INVALID_USERNAME, PasswordRules, valid_email, valid_username};
pub use token::Rotation;

use crate::actors::user_manager::UserError;
use crate::error::ApiError;

/// Which optional parts of the API are mounted.
#[derive(Debug, Clone, Copy)]
pub struct Mounts {
    pub sliding_tokens: bool,
    pub signup: bool,
}

/// Registers every API route; the router tries them in this order, so the hot ones
/// (`/api/me/`, then the token views) come first.
pub fn config(mounts: Mounts) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        me::config(cfg);
        token::config(cfg);
        if mounts.sliding_tokens {
            sliding::config(cfg);
        }
        if mounts.signup {
            signup::config(cfg);
        }
        sessions::config(cfg);
        users::config(cfg);
        groups::config(cfg);
        permissions::config(cfg);
        check::config(cfg);
        health::config(cfg);
    }
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

/// `201 Created` with the new object and its `Location` (`/api/<collection>/<id>/`).
pub fn created(collection: &str, id: i64, body: impl serde::Serialize) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created()
        .insert_header(("Location", format!("/api/{collection}/{id}/")))
        .json(body)
}

/// A JSON 404 for every unknown path.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
