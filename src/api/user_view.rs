//! How a user is shown by the API.

use serde::Serialize;
use time::OffsetDateTime;

use crate::auth::UserSnapshot;

/// A user, as `/api/me/` and sign-up show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView<'a> {
    pub id: i64,
    pub username: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub date_joined: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login: Option<OffsetDateTime>,
    #[schema(value_type = Vec<String>)]
    pub groups: &'a [String],
    pub permissions: Vec<&'a str>,
}

impl<'a> From<&'a UserSnapshot> for UserView<'a> {
    fn from(user: &'a UserSnapshot) -> Self {
        Self {
            id: user.id,
            username: &user.username,
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
            is_active: user.is_active,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            date_joined: user.date_joined,
            last_login: user.last_login,
            groups: &user.groups,
            permissions: user.permissions.iter().map(String::as_str).collect(),
        }
    }
}
