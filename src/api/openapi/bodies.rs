//! The shapes of the bodies the handlers read field by field (through [`crate::api::body`],
//! which takes JSON, form and multipart alike) and of the answers they build as JSON values,
//! for the OpenAPI description. The types the handlers serialize themselves (`UserView`,
//! `UserAdminView`, `GroupView`, `SessionView`) carry their own schemas.

#![allow(dead_code)] // Read by the OpenAPI derive only.

use std::collections::BTreeMap;

use utoipa::ToSchema;

use crate::api::groups::GroupView;
use crate::api::users::UserAdminView;

/// A sign-in.
#[derive(ToSchema)]
pub struct Credentials {
    /// The username (or, with `login_fields`, the email address).
    pub username: String,
    pub password: String,
}

/// A token pair. With `token_transport = "cookie"` the refresh token is in the refresh
/// cookie instead, and `refresh` is absent.
#[derive(ToSchema)]
pub struct TokenPair {
    pub refresh: Option<String>,
    pub access: String,
}

/// A refresh token. With `token_transport = "cookie"` it may come in the refresh cookie
/// instead.
#[derive(ToSchema)]
pub struct RefreshToken {
    pub refresh: String,
}

/// Any token.
#[derive(ToSchema)]
pub struct Token {
    pub token: String,
}

/// Nothing: `{}`.
#[derive(ToSchema)]
pub struct Empty {}

/// A new account.
#[derive(ToSchema)]
pub struct Signup {
    pub username: String,
    pub email: String,
    pub password: String,
}

/// A password change.
#[derive(ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// How many sessions were ended.
#[derive(ToSchema)]
pub struct Ended {
    pub ended: i64,
}

/// DRF's error: `detail`, with a `code` where simplejwt sends one.
#[derive(ToSchema)]
pub struct Detail {
    pub detail: String,
    pub code: Option<String>,
}

/// DRF's validation error: each bad field with its messages.
#[derive(ToSchema)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// A user as the admin API takes it (create, `PUT`; `PATCH` takes any of the fields).
#[derive(ToSchema)]
pub struct UserInput {
    pub username: String,
    pub email: Option<String>,
    pub password: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
    /// Group names.
    pub groups: Option<Vec<String>>,
    /// Permission codenames (`app_label.codename`).
    pub user_permissions: Option<Vec<String>>,
}

/// A group as the admin API takes it.
#[derive(ToSchema)]
pub struct GroupInput {
    pub name: String,
    /// Permission codenames.
    pub permissions: Option<Vec<String>>,
}

/// A permission.
#[derive(ToSchema)]
pub struct Permission {
    pub id: i64,
    /// `app_label.codename`.
    pub codename: String,
    pub name: String,
}

/// A new permission.
#[derive(ToSchema)]
pub struct PermissionInput {
    /// `app_label.codename`, each part a lower-case identifier.
    pub codename: String,
    pub name: String,
}

/// A page of users (DRF's `PageNumberPagination`).
#[derive(ToSchema)]
pub struct UserPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<UserAdminView>,
}

/// A page of groups.
#[derive(ToSchema)]
pub struct GroupPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<GroupView>,
}

/// A page of permissions.
#[derive(ToSchema)]
pub struct PermissionPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<Permission>,
}

/// The check endpoint's answer.
#[derive(ToSchema)]
pub struct Checked {
    /// The user's id, as a string.
    pub user_id: String,
    pub username: String,
    /// The permissions asked for, all held.
    pub granted: Vec<String>,
}

/// Liveness.
#[derive(ToSchema)]
pub struct Live {
    /// `ok`.
    pub status: String,
}

/// Readiness.
#[derive(ToSchema)]
pub struct Ready {
    /// `ready` or `unavailable`.
    pub status: String,
    /// `ok` or `unreachable`.
    pub database: String,
    /// `listening`, `polling` or `single-instance`.
    pub propagation: String,
}
