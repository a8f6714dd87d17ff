//! Console failures as pages in the console's style (never a stack trace), or a redirect to
//! the sign-in page.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::actors::user_manager::UserError;
use crate::db::DbError;
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session: go to the sign-in page, then back to `next`.
    #[error("sign-in required")]
    LoginRequired { next: String },
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A request the console cannot use (400 page with the reason).
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("CSRF check failed")]
    Csrf,
    #[error("not found")]
    NotFound,
    /// The form did not arrive within `request_timeout`.
    #[error("request timed out")]
    RequestTimeout,
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    root: &'a str,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ConsoleError {
    fn page(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::LoginRequired { .. } => (StatusCode::SEE_OTHER, "", String::new()),
            Self::Forbidden(why) => (StatusCode::FORBIDDEN, "Permission denied", why.clone()),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, "Bad request", why.clone()),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "CSRF verification failed",
                "The form was not sent from this console session. Reload the page and try again."
                    .into(),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address.".into(),
            ),
            Self::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "Request timed out",
                "The form did not arrive in time. Try again.".into(),
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "The database is not answering. Try again in a moment.".into(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Server error",
                "Something went wrong on our side. It has been logged.".into(),
            ),
        }
    }
}

/// Renders a template with a status; a template failure is a plain 500.
pub fn render(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "template rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain")
                .body("Server error")
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        self.page().0
    }

    /// Logs a server-side failure, and renders it under the default mount (the console's
    /// middleware renders it again under the configured one: [`super::mount`]).
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unavailable(why) => tracing::warn!(cause = %why, "console answering 503"),
            Self::Internal(why) => tracing::error!(cause = %why, "console answering 500"),
            _ => {}
        }
        self.response_at(super::mount::DEFAULT_ROOT)
    }
}

impl ConsoleError {
    /// The page (or sign-in redirect) with its links under `root`, the console's mount.
    pub fn response_at(&self, root: &str) -> HttpResponse {
        if let Self::LoginRequired { next } = self {
            let target = format!("{root}/login/?next={}", super::form::encode(next));
            return HttpResponse::SeeOther()
                .insert_header((LOCATION, target))
                .finish();
        }
        let (status, title, message) = self.page();
        let mut response = render(
            status,
            &ErrorPage {
                root,
                status: status.as_u16(),
                title,
                message: &message,
            },
        );
        if let Self::RequestTimeout = self {
            // The rest of the form may never come: the connection cannot be reused.
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        response
    }
}

impl From<DbError> for ConsoleError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => Self::NotFound,
            DbError::Unavailable(why) => Self::Unavailable(why),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<actix::MailboxError> for ConsoleError {
    fn from(err: actix::MailboxError) -> Self {
        Self::Unavailable(err.to_string())
    }
}

impl From<ApiError> for ConsoleError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::NotFound | ApiError::NoMatch(_) | ApiError::InvalidPage => Self::NotFound,
            ApiError::PermissionDenied(why) => Self::Forbidden(why),
            ApiError::Unavailable(why) => Self::Unavailable(why),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<UserError> for ConsoleError {
    fn from(err: UserError) -> Self {
        match err {
            UserError::NotFound => Self::NotFound,
            UserError::Forbidden(why) => Self::Forbidden(why.to_owned()),
            UserError::Db(db) => db.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}
