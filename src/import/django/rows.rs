//! The rows a Django database answers with, as diesel reads them (`sql_query` +
//! `QueryableByName`), on either backend.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use time::PrimitiveDateTime;

#[derive(QueryableByName)]
pub(super) struct Pair {
    #[diesel(sql_type = BigInt)]
    pub(super) a: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) b: i64,
}

#[derive(QueryableByName)]
pub(super) struct UserRow {
    #[diesel(sql_type = BigInt)]
    pub(super) id: i64,
    #[diesel(sql_type = Text)]
    pub(super) username: String,
    #[diesel(sql_type = Text)]
    pub(super) email: String,
    #[diesel(sql_type = Text)]
    pub(super) password: String,
    #[diesel(sql_type = Text)]
    pub(super) first_name: String,
    #[diesel(sql_type = Text)]
    pub(super) last_name: String,
    #[diesel(sql_type = Bool)]
    pub(super) is_active: bool,
    #[diesel(sql_type = Bool)]
    pub(super) is_staff: bool,
    #[diesel(sql_type = Bool)]
    pub(super) is_superuser: bool,
    #[diesel(sql_type = Timestamp)]
    pub(super) date_joined: PrimitiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(super) last_login: Option<PrimitiveDateTime>,
}

#[derive(QueryableByName)]
pub(super) struct PermissionRow {
    #[diesel(sql_type = BigInt)]
    pub(super) id: i64,
    #[diesel(sql_type = Text)]
    pub(super) app_label: String,
    #[diesel(sql_type = Text)]
    pub(super) model: String,
    #[diesel(sql_type = Text)]
    pub(super) codename: String,
    #[diesel(sql_type = Text)]
    pub(super) name: String,
}

#[derive(QueryableByName)]
pub(super) struct GroupRow {
    #[diesel(sql_type = BigInt)]
    pub(super) id: i64,
    #[diesel(sql_type = Text)]
    pub(super) name: String,
}

#[derive(QueryableByName)]
pub(super) struct TokenRow {
    #[diesel(sql_type = BigInt)]
    pub(super) id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(super) user_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub(super) jti: String,
    #[diesel(sql_type = Text)]
    pub(super) token: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(super) created_at: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Timestamp)]
    pub(super) expires_at: PrimitiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(super) blacklisted_at: Option<PrimitiveDateTime>,
}

#[derive(QueryableByName)]
pub(super) struct Highest {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(super) v: Option<i64>,
}
