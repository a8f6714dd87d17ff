//! Self-service account creation.

use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};

use super::body;
use super::endpoint::{Anyone, Meta, Routes};
use super::fields::{Fields, Trim};
use super::user_view::UserView;
use crate::actors::ASK_TIMEOUT;
use crate::actors::user_manager::{RegisterUser, UserManager};
use crate::audit::{Audit, EventKind, NewEvent};
use crate::auth::policy;
use crate::clock::Clock;
use crate::config::Paths;
use crate::error::ApiError;
use crate::validation;

/// The password policy's settings, as app data.
#[derive(Debug, Clone, Copy)]
pub struct PasswordRules {
    pub min_length: usize,
}

static SIGNUP: Meta = Meta {
    name: "Sign Up",
    description: "Creates an account from a username, an email address and a password.",
    fields: &[
        ("username", "Username"),
        ("email", "Email address"),
        ("password", "Password"),
    ],
    allow: "POST, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<Anyone>(&paths.signup, &SIGNUP, |r| r.route(web::post().to(signup)));
}

pub use crate::validation::INVALID_USERNAME;
pub const INVALID_EMAIL: &str = "Enter a valid email address.";

/// Django's `UnicodeUsernameValidator`: letters, digits and @ . + - _, at most 150.
pub fn valid_username(username: &str) -> bool {
    validation::username_problem(username).is_none()
}

/// The `username` field's shape, checked on its normalised form ([`Fields::username`]).
pub fn check_username(fields: &mut Fields, username: &str) {
    if fields.has_error("username") {
        return;
    }
    if let Some(problem) = validation::username_problem(username) {
        fields.add("username", problem);
    }
}

/// A plain shape check: one `@`, something before it, a dotted domain after, no spaces.
pub fn valid_email(email: &str) -> bool {
    email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty())
        })
}

/// [`valid_email`] as a field check; an empty address is left to the required-field check.
pub fn check_email(fields: &mut Fields, email: &str) {
    if fields.has_error("email") || email.is_empty() {
        return;
    }
    if !valid_email(email) {
        fields.add("email", INVALID_EMAIL);
    }
}

/// **Permissions:** anyone (unless `allow_signup` is off). `POST {"username","email","password"}`
/// -> `201` with the new user.
#[utoipa::path(
    post,
    path = "/api/signup/",
    operation_id = "signup_signup",
    tag = "account",
    summary = "Sign up",
    request_body(content = crate::api::openapi::bodies::Signup, description = "JSON, form or multipart"),
    responses(
        (status = 201, description = "The new user", body = crate::api::user_view::UserView),
        crate::api::openapi::responses::BadFields
    )
)]
pub(super) async fn signup(
    req: HttpRequest,
    payload: web::Payload,
    users: web::Data<Addr<UserManager>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let data = body::parse(&req, payload).await?;
    let mut fields = Fields::new();
    let username = fields.username(&data);
    let email = fields.required(&data, "email", Trim::Whitespace);
    let password = fields.required(&data, "password", Trim::Keep);
    check_username(&mut fields, &username);
    check_email(&mut fields, &email);
    if !fields.has_error("password") {
        for problem in policy::violations(&password, &username, &email, rules.min_length) {
            fields.add("password", problem);
        }
    }
    fields.finish()?;
    let now = clock.now();
    let message = RegisterUser {
        username,
        email: email.to_lowercase(),
        password,
        now,
    };
    let user = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    audit.record(
        NewEvent::from_request(&req, EventKind::UserCreated)
            .at(now)
            .actor(user.id)
            .subject(user.id, &user.username)
            .detail("signed up"),
    );
    Ok(HttpResponse::Created().json(UserView::from(&*user)))
}
