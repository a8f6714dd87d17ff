//! The error answers operations share, for the OpenAPI description: each set is named once
//! here and listed in a handler's `responses(...)` after its own success answer. The sets
//! follow the order of the checks: the body's fields (400), who is calling (401), whether they
//! may (403), then the record or page asked for (404).

#![allow(dead_code)] // Read by the OpenAPI derive only.

use utoipa::IntoResponses;

use super::bodies::{Detail, FieldErrors};

const NOT_AUTHENTICATED: &str = "Not authenticated, or the token is not valid";
const PERMISSION_DENIED: &str = "Permission denied";
const NOT_FOUND: &str = "Not found";

/// 400: a field is missing or not valid.
#[derive(IntoResponses)]
#[response(status = 400, description = "Bad fields")]
pub struct BadFields(FieldErrors);

/// 401 from a sign-in: the credentials match no active account.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "No active account found with the given credentials"
)]
pub struct NoActiveAccount(Detail);

/// 401: the operation needs a valid token.
#[derive(IntoResponses)]
#[response(status = 401, description = NOT_AUTHENTICATED)]
pub struct NotAuthenticated(Detail);

/// 401 and 404: an operation on one of the caller's own records.
#[derive(IntoResponses)]
pub enum NotAuthenticatedOrFound {
    #[response(status = 401, description = NOT_AUTHENTICATED)]
    Unauthenticated(Detail),
    #[response(status = 404, description = NOT_FOUND)]
    Missing(Detail),
}

/// 401 and 403: the operation needs a permission.
#[derive(IntoResponses)]
pub enum NotPermitted {
    #[response(status = 401, description = NOT_AUTHENTICATED)]
    Unauthenticated(Detail),
    #[response(status = 403, description = PERMISSION_DENIED)]
    Denied(Detail),
}

/// 401, 403 and 404: the operation needs a permission and names a record (or a page).
#[derive(IntoResponses)]
pub enum NotPermittedOrFound {
    #[response(status = 401, description = NOT_AUTHENTICATED)]
    Unauthenticated(Detail),
    #[response(status = 403, description = PERMISSION_DENIED)]
    Denied(Detail),
    #[response(status = 404, description = NOT_FOUND)]
    Missing(Detail),
}
