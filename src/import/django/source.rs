//! What the import reads from a Django deployment, whichever way it is reached (its database
//! on PostgreSQL or SQLite, or `manage.py dumpdata`), as plain records.

use time::PrimitiveDateTime;

use super::ImportError;

/// A row of the user model (`auth_user` or a custom model with the standard fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: PrimitiveDateTime,
    pub last_login: Option<PrimitiveDateTime>,
}

/// A permission with its content type's app label (`auth_permission` + `django_content_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoPermission {
    pub id: i64,
    pub app_label: String,
    pub model: String,
    pub codename: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoGroup {
    pub id: i64,
    pub name: String,
}

/// A row of `token_blacklist_outstandingtoken`, with its blacklist entry if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoToken {
    pub id: i64,
    pub user_id: Option<i64>,
    pub jti: String,
    /// The raw token as Django keeps it: only its digest is ever stored by keyward.
    pub token: String,
    pub created_at: Option<PrimitiveDateTime>,
    pub expires_at: PrimitiveDateTime,
    pub blacklisted_at: Option<PrimitiveDateTime>,
}

/// How the highest user id Django ever issued was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdEvidence {
    /// PostgreSQL: the user table's sequence (ids of deleted users included).
    Sequence,
    /// SQLite: `sqlite_sequence` (Django's SQLite tables are AUTOINCREMENT).
    SqliteSequence,
    /// Only the highest id among the rows present (dumpdata, or a table without a sequence):
    /// a user deleted with the highest id is not seen.
    HighestRow,
}

/// What the source holds, found before anything is read.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The user model's table.
    pub user_table: String,
    /// Columns of the user table the import does not carry (reported, skipped).
    pub extra_user_columns: Vec<String>,
    /// Standard columns the user table lacks (imported as empty/false).
    pub missing_user_columns: Vec<String>,
    /// Tables (or dumpdata models) that are absent; their part of the import is skipped.
    pub missing_tables: Vec<String>,
}

/// A Django deployment being read. Users and tokens come in batches in id order; groups and
/// permissions (a few hundred rows at most) come whole.
pub trait Source {
    /// The source, for the report (passwords redacted).
    fn describe(&self) -> String;
    fn layout(&self) -> &Layout;
    /// Up to `limit` users with ids above `after`, by id.
    fn users_after(&mut self, after: i64, limit: i64) -> Result<Vec<DjangoUser>, ImportError>;
    /// (user id, group id) links of users whose id is in `(after, upto]`.
    fn user_groups(&mut self, after: i64, upto: i64) -> Result<Vec<(i64, i64)>, ImportError>;
    /// (user id, permission id) links of users whose id is in `(after, upto]`.
    fn user_permissions(&mut self, after: i64, upto: i64) -> Result<Vec<(i64, i64)>, ImportError>;
    fn permissions(&mut self) -> Result<Vec<DjangoPermission>, ImportError>;
    fn groups(&mut self) -> Result<Vec<DjangoGroup>, ImportError>;
    /// (group id, permission id) links.
    fn group_permissions(&mut self) -> Result<Vec<(i64, i64)>, ImportError>;
    /// Up to `limit` outstanding tokens with ids above `after`, by id.
    fn tokens_after(&mut self, after: i64, limit: i64) -> Result<Vec<DjangoToken>, ImportError>;
    /// The highest user id Django ever issued, and how that was found.
    fn highest_user_id(&mut self) -> Result<(i64, IdEvidence), ImportError>;
}

/// The columns of Django's `AbstractUser` the import carries.
pub const STANDARD_USER_COLUMNS: [&str; 11] = [
    "id",
    "username",
    "email",
    "password",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "last_login",
];

/// Columns without which a table is no user model.
pub const REQUIRED_USER_COLUMNS: [&str; 3] = ["id", "username", "password"];
