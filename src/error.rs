//! The JSON API's errors and their HTTP mapping, in DRF's shapes: `{"detail": ...}` with a
//! `code` where simplejwt sends one, and `{"field": ["message"]}` for validation. Server faults
//! are opaque: the cause is logged, never sent.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::json;

use crate::db::DbError;
use crate::jwt::TokenError;

/// Field name -> messages, DRF's validation error body.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// One failed attempt of `AUTH_TOKEN_CLASSES`, as in simplejwt's `messages` list.
#[derive(Debug, Clone, Serialize)]
pub struct TokenClassMessage {
    pub token_class: &'static str,
    pub token_type: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with per-field messages.
    #[error("invalid input")]
    Validation(FieldErrors),
    /// 400 `{"detail": ...}`: the body could not be parsed.
    #[error("parse error: {0}")]
    Parse(String),
    /// 401 without a `code` (DRF's plain `AuthenticationFailed`).
    #[error("authentication failed: {0}")]
    AuthenticationFailed(&'static str),
    /// 401 `{"detail", "code"}`.
    #[error("authentication failed: {detail}")]
    AuthenticationCode { detail: String, code: &'static str },
    /// 401 `{"detail":"Authentication credentials were not provided."}`.
    #[error("not authenticated")]
    NotAuthenticated,
    /// 401 from a token endpoint: `{"detail": <TokenError>, "code": "token_not_valid"}`.
    #[error("invalid token: {0}")]
    InvalidToken(TokenError),
    /// 401 from a protected route: no token class accepted the token.
    #[error("token not valid for any token type")]
    NoValidTokenType(Vec<TokenClassMessage>),
    /// 403.
    #[error("permission denied")]
    PermissionDenied(String),
    /// 403 `{"detail", "code"}` (a refused cross-site request: `csrf_failed`).
    #[error("forbidden: {detail}")]
    Forbidden { detail: String, code: &'static str },
    /// 404.
    #[error("not found")]
    NotFound,
    /// 404 naming the model looked up (`No User matches the given query.`).
    #[error("no {0} matches")]
    NoMatch(&'static str),
    /// 404 for a page past the end (`Invalid page.`).
    #[error("invalid page")]
    InvalidPage,
    /// 405 with the methods allowed.
    #[error("method {method} not allowed")]
    MethodNotAllowed { method: String, allow: &'static str },
    /// 408: the client did not send its request (body) within `request_timeout`.
    #[error("request timed out")]
    RequestTimeout,
    /// 413.
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    /// 415.
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`, DRF's `Throttled`: too many failed sign-ins.
    #[error("throttled for {0:?}")]
    Throttled(std::time::Duration),
    /// 503: the database or an actor is unavailable right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// `error`'s answer, setting `cookies` too (removing a refused refresh cookie).
    #[error("{error}")]
    WithCookies {
        error: Box<ApiError>,
        cookies: Vec<actix_web::cookie::Cookie<'static>>,
    },
    /// 500: a bug; the cause is logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(name: &str, message: &str) -> Self {
        Self::Validation(BTreeMap::from([(
            name.to_owned(),
            vec![message.to_owned()],
        )]))
    }

    pub fn permission_denied() -> Self {
        Self::PermissionDenied("You do not have permission to perform this action.".into())
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => Self::NotFound,
            DbError::Unavailable(why) => Self::Unavailable(why),
            DbError::Conflict(what) => Self::Internal(format!("unexpected conflict: {what}")),
            DbError::Other(why) => Self::Internal(why),
        }
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(err: actix::MailboxError) -> Self {
        Self::Unavailable(format!("actor unavailable: {err}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::Parse(_) => StatusCode::BAD_REQUEST,
            Self::AuthenticationFailed(_)
            | Self::AuthenticationCode { .. }
            | Self::NotAuthenticated
            | Self::InvalidToken(_)
            | Self::NoValidTokenType(_) => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied(_) | Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NoMatch(_) | Self::InvalidPage => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::WithCookies { error, .. } => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::WithCookies { error, cookies } = self {
            let mut response = error.error_response();
            for cookie in cookies {
                // Cookies built by keyward from checked settings always encode.
                let _ = response.add_cookie(cookie);
            }
            return response;
        }
        let status = self.status_code();
        match self {
            Self::Unavailable(why) => tracing::warn!(cause = %why, "answering 503"),
            Self::Internal(why) => tracing::error!(cause = %why, "answering 500"),
            _ => {}
        }
        let body = match self {
            Self::Validation(fields) => json!(fields),
            Self::Parse(detail) => json!({ "detail": detail }),
            Self::AuthenticationFailed(detail) => json!({ "detail": detail }),
            Self::AuthenticationCode { detail, code } => json!({ "detail": detail, "code": code }),
            Self::NotAuthenticated => {
                json!({ "detail": "Authentication credentials were not provided." })
            }
            Self::InvalidToken(err) => {
                json!({ "detail": err.to_string(), "code": "token_not_valid" })
            }
            Self::NoValidTokenType(messages) => json!({
                "detail": "Given token not valid for any token type",
                "code": "token_not_valid",
                "messages": messages,
            }),
            Self::PermissionDenied(detail) => json!({ "detail": detail }),
            Self::Forbidden { detail, code } => json!({ "detail": detail, "code": code }),
            Self::NotFound => json!({ "detail": "Not found." }),
            Self::NoMatch(model) => {
                json!({ "detail": format!("No {model} matches the given query.") })
            }
            Self::InvalidPage => json!({ "detail": "Invalid page." }),
            Self::MethodNotAllowed { method, .. } => {
                json!({ "detail": format!("Method \"{method}\" not allowed.") })
            }
            Self::RequestTimeout => json!({ "detail": "Request timed out." }),
            Self::PayloadTooLarge { limit } => json!({
                "detail": format!("Request body is larger than {limit} bytes."),
                "code": "payload_too_large",
            }),
            Self::UnsupportedMediaType(media) => {
                json!({ "detail": format!("Unsupported media type \"{media}\" in request.") })
            }
            Self::Throttled(wait) => json!({ "detail": throttled_detail(retry_after(*wait)) }),
            Self::Unavailable(_) => json!({
                "detail": "Service temporarily unavailable, try again later.",
                "code": "service_unavailable",
            }),
            Self::Internal(_) => {
                json!({ "detail": "A server error occurred.", "code": "server_error" })
            }
            // Answered above, by the error it carries.
            Self::WithCookies { .. } => json!({}),
        };
        let mut response = HttpResponse::build(status);
        if let Self::MethodNotAllowed { allow, .. } = self {
            response.insert_header((header::ALLOW, *allow));
        }
        if let Self::Unavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if let Self::RequestTimeout = self {
            // The rest of the body may never come: the connection cannot be reused.
            response.force_close();
        }
        if let Self::Throttled(wait) = self {
            response.insert_header((header::RETRY_AFTER, retry_after(*wait).to_string()));
        }
        response.json(body)
    }
}

/// Whole seconds to wait, rounded up (DRF's `math.ceil(wait)`), at least one.
pub fn retry_after(wait: std::time::Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// DRF's `Throttled` message.
fn throttled_detail(secs: u64) -> String {
    let unit = if secs == 1 { "second" } else { "seconds" };
    format!("Request was throttled. Expected available in {secs} {unit}.")
}
