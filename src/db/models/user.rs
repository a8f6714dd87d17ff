//! Users, and the groups and permissions that make up what a user may do.

use std::collections::BTreeSet;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{Page, contains_pattern, lower};
use crate::db::schema::{
    group_permissions, groups, permissions, user_groups, user_permissions, users,
};
use crate::db::{DbConn, DbError};
use crate::validation::{LoginFields, email_key, has_null, normalize_username};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
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
    pub security_stamp: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: PrimitiveDateTime,
    pub security_stamp: &'a str,
}

/// What a user row carries beyond itself: group names and effective permissions.
#[derive(Debug, Clone, Default)]
pub struct Memberships {
    pub groups: Vec<String>,
    pub permissions: BTreeSet<String>,
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<User>, DbError> {
    Ok(
        crate::with_conn!(conn, c => users::table.find(id).select(User::as_select()).first(c).optional())?,
    )
}

/// The user of that name, compared in NFKC form (usernames are stored normalised). A name
/// with a NUL character matches nobody: none is ever stored, and PostgreSQL refuses to compare it.
pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<User>, DbError> {
    if has_null(username) {
        return Ok(None);
    }
    let username = normalize_username(username);
    Ok(crate::with_conn!(conn, c => users::table
        .filter(users::username.eq(&username))
        .select(User::as_select())
        .first(c)
        .optional())?)
}

pub fn username_taken(conn: &mut DbConn, username: &str) -> Result<bool, DbError> {
    Ok(find_by_username(conn, username)?.is_some())
}

/// The user a sign-in's identifier names, under `login_fields`: the user with that username
/// (NFKC, exact) first, else the user with that email address (case-insensitive). It is one
/// query whether or not anyone matches. An address shared by several users (which
/// `login_fields` with `email` refuses at start) names nobody.
pub fn find_for_sign_in(
    conn: &mut DbConn,
    identifier: &str,
    fields: LoginFields,
) -> Result<Option<User>, DbError> {
    let name = normalize_username(identifier);
    if name.is_empty() || has_null(&name) || !(fields.username || fields.email) {
        return Ok(None);
    }
    let email = email_key(&name);
    let mut rows: Vec<User> = crate::with_conn!(conn, c => {
        let by_email = lower(users::email).eq(&email).and(users::email.ne(""));
        let query = match (fields.username, fields.email) {
            (true, false) => users::table.filter(users::username.eq(&name)).into_boxed(),
            (false, _) => users::table.filter(by_email).into_boxed(),
            (true, true) => users::table.filter(users::username.eq(&name).or(by_email)).into_boxed(),
        };
        query.select(User::as_select()).limit(3).load(c)
    })?;
    if fields.username
        && let Some(i) = rows.iter().position(|u| u.username == name)
    {
        return Ok(Some(rows.swap_remove(i)));
    }
    // Every row left matched by email address.
    Ok(if rows.len() == 1 { rows.pop() } else { None })
}

/// Whether a user other than `except` has this email address, compared case-insensitively;
/// an empty address is nobody's. On PostgreSQL it first takes a lock on the address until
/// the end of the transaction, so two writers that check inside [`DbConn::write`] before
/// writing the same address take turns (SQLite's writers always do).
pub fn email_taken(conn: &mut DbConn, email: &str, except: Option<i64>) -> Result<bool, DbError> {
    let key = email_key(email.trim());
    if key.is_empty() || has_null(&key) {
        return Ok(false);
    }
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(EMAIL_LOCK)
            .bind::<diesel::sql_types::Text, _>(&key)
            .execute(c)?;
    }
    let found: Option<i64> = crate::with_conn!(conn, c => {
        let mut query = users::table
            .filter(lower(users::email).eq(&key))
            .select(users::id)
            .into_boxed();
        if let Some(id) = except {
            query = query.filter(users::id.ne(id));
        }
        query.first(c).optional()
    })?;
    Ok(found.is_some())
}

/// The first key of the PostgreSQL advisory locks on email addresses (the second is a hash
/// of the address).
const EMAIL_LOCK: i32 = 0x6b77_656d;

/// One email address held by several users.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct SharedEmail {
    /// The address, lower-cased.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub email: String,
    /// How many users hold it.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub users: i64,
}

/// Email addresses held by more than one user, compared case-insensitively (empty ones
/// aside): the first `limit` in order, and how many there are in all.
pub fn shared_emails(conn: &mut DbConn, limit: u32) -> Result<(Vec<SharedEmail>, i64), DbError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    const SHARED: &str = "FROM users WHERE email <> '' GROUP BY lower(email) HAVING COUNT(*) > 1";
    let listed = format!(
        "SELECT lower(email) AS email, COUNT(*) AS users {SHARED} ORDER BY lower(email) LIMIT {limit}"
    );
    let counted = format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one {SHARED}) AS shared");
    Ok(crate::with_conn!(conn, c => {
        let shared: Vec<SharedEmail> = diesel::sql_query(&listed).load(c)?;
        let total: Count = diesel::sql_query(&counted).get_result(c)?;
        Ok::<_, diesel::result::Error>((shared, total.n))
    })?)
}

/// Inserts a user; a taken username is `DbError::Conflict`.
pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> Result<User, DbError> {
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(c))?,
    )
}

pub fn superuser_exists(conn: &mut DbConn) -> Result<bool, DbError> {
    let found: Option<i64> = crate::with_conn!(conn, c => users::table
        .filter(users::is_superuser.eq(true))
        .select(users::id)
        .first(c)
        .optional())?;
    Ok(found.is_some())
}

pub fn set_last_login(conn: &mut DbConn, id: i64, at: PrimitiveDateTime) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::update(users::table.find(id)).set(users::last_login.eq(at)).execute(c))?;
    Ok(())
}

/// Replaces the password hash and the security stamp together.
pub fn set_password(conn: &mut DbConn, id: i64, hash: &str, stamp: &str) -> Result<(), DbError> {
    let updated = crate::with_conn!(conn, c => diesel::update(users::table.find(id))
        .set((users::password.eq(hash), users::security_stamp.eq(stamp)))
        .execute(c))?;
    if updated == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// Replaces the password hash with `new` if it is still `verified` (compare-and-set: a
/// password changed meanwhile is left alone); the security stamp is kept. Whether it did.
pub fn rehash_password(
    conn: &mut DbConn,
    id: i64,
    verified: &str,
    new: &str,
) -> Result<bool, DbError> {
    let updated = crate::with_conn!(conn, c => diesel::update(
        users::table.find(id).filter(users::password.eq(verified))
    )
    .set(users::password.eq(new))
    .execute(c))?;
    Ok(updated == 1)
}

/// Group names and effective permissions (direct and through groups) of one user.
pub fn memberships(conn: &mut DbConn, id: i64) -> Result<Memberships, DbError> {
    let (group_names, direct, inherited): (Vec<String>, Vec<String>, Vec<String>) = crate::with_conn!(conn, c => {
        let group_names = user_groups::table
            .inner_join(groups::table)
            .filter(user_groups::user_id.eq(id))
            .select(groups::name)
            .order(groups::name.asc())
            .load(c)?;
        let direct = user_permissions::table
            .inner_join(permissions::table)
            .filter(user_permissions::user_id.eq(id))
            .select(permissions::codename)
            .load(c)?;
        let inherited = user_groups::table
            .inner_join(group_permissions::table.on(group_permissions::group_id.eq(user_groups::group_id)))
            .inner_join(permissions::table.on(permissions::id.eq(group_permissions::permission_id)))
            .filter(user_groups::user_id.eq(id))
            .select(permissions::codename)
            .load(c)?;
        Ok::<_, diesel::result::Error>((group_names, direct, inherited))
    })?;
    Ok(Memberships {
        groups: group_names,
        permissions: direct.into_iter().chain(inherited).collect(),
    })
}

/// Which users a list shows, and in what order.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Matched against username, email, first and last name (case-insensitive, substring).
    pub search: Option<String>,
    /// Exactly this username.
    pub username: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
    /// Members of the group with this name.
    pub group: Option<String>,
    pub ordering: UserOrdering,
}

/// Sort keys of the user list; ties are broken by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserOrdering {
    #[default]
    Id,
    IdDesc,
    Username,
    UsernameDesc,
    Email,
    EmailDesc,
    DateJoined,
    DateJoinedDesc,
    LastLogin,
    LastLoginDesc,
}

impl UserOrdering {
    /// DRF's `?ordering=` value (`username`, `-date_joined`, ...).
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "id" => Self::Id,
            "-id" => Self::IdDesc,
            "username" => Self::Username,
            "-username" => Self::UsernameDesc,
            "email" => Self::Email,
            "-email" => Self::EmailDesc,
            "date_joined" => Self::DateJoined,
            "-date_joined" => Self::DateJoinedDesc,
            "last_login" => Self::LastLogin,
            "-last_login" => Self::LastLoginDesc,
            _ => return None,
        })
    }
}

/// Builds the boxed, filtered user query (for the rows and for the count).
macro_rules! filtered_users {
    ($filter:expr, $pattern:expr) => {{
        let filter: &UserFilter = $filter;
        let mut query = users::table.into_boxed();
        if let Some(p) = $pattern {
            query = query.filter(
                lower(users::username)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(users::email).like(p.clone()).escape('\\'))
                    .or(lower(users::first_name).like(p.clone()).escape('\\'))
                    .or(lower(users::last_name).like(p.clone()).escape('\\')),
            );
        }
        if let Some(name) = &filter.username {
            query = query.filter(users::username.eq(name.clone()));
        }
        if let Some(v) = filter.is_active {
            query = query.filter(users::is_active.eq(v));
        }
        if let Some(v) = filter.is_staff {
            query = query.filter(users::is_staff.eq(v));
        }
        if let Some(v) = filter.is_superuser {
            query = query.filter(users::is_superuser.eq(v));
        }
        if let Some(name) = &filter.group {
            query = query.filter(
                users::id.eq_any(
                    user_groups::table
                        .inner_join(groups::table)
                        .filter(groups::name.eq(name.clone()))
                        .select(user_groups::user_id),
                ),
            );
        }
        query
    }};
}

/// A page of users and the total matching the filter.
pub fn list(
    conn: &mut DbConn,
    filter: &UserFilter,
    page: Page,
) -> Result<(Vec<User>, i64), DbError> {
    let pattern = filter.search.as_deref().map(contains_pattern);
    Ok(crate::with_conn!(conn, c => {
        let total: i64 = filtered_users!(filter, pattern.as_ref()).count().get_result(c)?;
        let query = filtered_users!(filter, pattern.as_ref());
        let query = match filter.ordering {
            UserOrdering::Id => query.order(users::id.asc()),
            UserOrdering::IdDesc => query.order(users::id.desc()),
            UserOrdering::Username => query.order(users::username.asc()),
            UserOrdering::UsernameDesc => query.order(users::username.desc()),
            UserOrdering::Email => query.order(users::email.asc()).then_order_by(users::id.asc()),
            UserOrdering::EmailDesc => query.order(users::email.desc()).then_order_by(users::id.desc()),
            UserOrdering::DateJoined => query.order(users::date_joined.asc()).then_order_by(users::id.asc()),
            UserOrdering::DateJoinedDesc => query.order(users::date_joined.desc()).then_order_by(users::id.desc()),
            UserOrdering::LastLogin => query.order(users::last_login.asc()).then_order_by(users::id.asc()),
            UserOrdering::LastLoginDesc => query.order(users::last_login.desc()).then_order_by(users::id.desc()),
        };
        let rows = query.limit(page.limit).offset(page.offset).select(User::as_select()).load(c)?;
        Ok::<_, diesel::result::Error>((rows, total))
    })?)
}

/// Changes to a user row; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
    pub password: Option<String>,
    pub security_stamp: Option<String>,
}

impl UserChanges {
    fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.email.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.is_active.is_none()
            && self.is_staff.is_none()
            && self.is_superuser.is_none()
            && self.password.is_none()
            && self.security_stamp.is_none()
    }
}

/// Applies changes; a taken username is `DbError::Conflict`, a missing user `NotFound`.
pub fn update(conn: &mut DbConn, id: i64, changes: &UserChanges) -> Result<(), DbError> {
    if changes.is_empty() {
        return find(conn, id)?.map(|_| ()).ok_or(DbError::NotFound);
    }
    let n = crate::with_conn!(conn, c => diesel::update(users::table.find(id)).set(changes).execute(c))?;
    if n == 1 {
        Ok(())
    } else {
        Err(DbError::NotFound)
    }
}

pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    let n = crate::with_conn!(conn, c => diesel::delete(users::table.find(id)).execute(c))?;
    Ok(n == 1)
}

/// Replaces a user's groups.
pub fn set_groups(conn: &mut DbConn, id: i64, group_ids: &[i64]) -> Result<(), DbError> {
    crate::with_conn!(conn, c => {
        diesel::delete(user_groups::table.filter(user_groups::user_id.eq(id))).execute(c)?;
        let rows: Vec<_> = group_ids.iter().map(|g| (user_groups::user_id.eq(id), user_groups::group_id.eq(*g))).collect();
                if rows.is_empty() { Ok(0) } else { diesel::insert_into(user_groups::table).values(&rows).execute(c) }
    })?;
    Ok(())
}

/// Replaces a user's direct permissions.
pub fn set_permissions(conn: &mut DbConn, id: i64, permission_ids: &[i64]) -> Result<(), DbError> {
    crate::with_conn!(conn, c => {
        diesel::delete(user_permissions::table.filter(user_permissions::user_id.eq(id))).execute(c)?;
        let rows: Vec<_> = permission_ids
            .iter()
            .map(|p| (user_permissions::user_id.eq(id), user_permissions::permission_id.eq(*p)))
            .collect();
                if rows.is_empty() { Ok(0) } else { diesel::insert_into(user_permissions::table).values(&rows).execute(c) }
    })?;
    Ok(())
}

/// (user id, group name) for the given users, by name.
pub fn groups_of(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    Ok(crate::with_conn!(conn, c => user_groups::table
        .inner_join(groups::table)
        .filter(user_groups::user_id.eq_any(ids))
        .select((user_groups::user_id, groups::name))
        .order(groups::name.asc())
        .load(c))?)
}

/// (user id, codename) of the given users' direct permissions, by codename.
pub fn direct_permissions_of(
    conn: &mut DbConn,
    ids: &[i64],
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(crate::with_conn!(conn, c => user_permissions::table
        .inner_join(permissions::table)
        .filter(user_permissions::user_id.eq_any(ids))
        .select((user_permissions::user_id, permissions::codename))
        .order(permissions::codename.asc())
        .load(c))?)
}
