//! keyward's side of an import from another system (`keyward import-django`): the rows an
//! import compares against and the batched writes it makes. Ids of users are kept as the
//! source issued them; groups and permissions are matched by name and codename.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::group::Group;
use super::permission::Permission;
use super::token::NewOutstanding;
use super::user::User;
use crate::db::schema::{
    blacklisted_tokens, group_permissions, groups, outstanding_tokens, permissions, user_groups,
    user_permissions, users,
};
use crate::db::{DbConn, DbError};

/// A user's fields as the source has them (everything but the id and keyward's security stamp).
#[derive(Debug, Clone, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserFields {
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

impl UserFields {
    /// The fields of a stored user, for comparison.
    pub fn of(user: &User) -> Self {
        Self {
            username: user.username.clone(),
            email: user.email.clone(),
            password: user.password.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            is_active: user.is_active,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            date_joined: user.date_joined,
            last_login: user.last_login,
        }
    }
}

/// A user inserted with the id the source gave it.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct ImportedUser {
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

impl ImportedUser {
    pub fn new(id: i64, fields: UserFields, security_stamp: String) -> Self {
        Self {
            id,
            username: fields.username,
            email: fields.email,
            password: fields.password,
            first_name: fields.first_name,
            last_name: fields.last_name,
            is_active: fields.is_active,
            is_staff: fields.is_staff,
            is_superuser: fields.is_superuser,
            date_joined: fields.date_joined,
            last_login: fields.last_login,
            security_stamp,
        }
    }
}

/// A (left id, right id) pair of a link table.
pub type Link = (i64, i64);

/// An outstanding token as stored, by jti, and whether it is blacklisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: i64,
    pub jti: String,
    pub blacklisted: bool,
}

pub fn users_by_ids(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<User>, DbError> {
    Ok(crate::with_conn!(conn, c => users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(c))?)
}

pub fn users_by_usernames(conn: &mut DbConn, names: &[String]) -> Result<Vec<User>, DbError> {
    Ok(crate::with_conn!(conn, c => users::table
        .filter(users::username.eq_any(names))
        .select(User::as_select())
        .load(c))?)
}

pub fn insert_users(conn: &mut DbConn, rows: &[ImportedUser]) -> Result<usize, DbError> {
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(crate::with_conn!(conn, c => diesel::insert_into(users::table).values(rows).execute(c))?)
}

/// Replaces a user's fields (the security stamp is kept).
pub fn update_user(conn: &mut DbConn, id: i64, fields: &UserFields) -> Result<(), DbError> {
    crate::with_conn!(conn, c => diesel::update(users::table.find(id)).set(fields).execute(c))?;
    Ok(())
}

/// Deletes users (their links go with them; their tokens keep no user).
pub fn delete_users(conn: &mut DbConn, ids: &[i64]) -> Result<usize, DbError> {
    Ok(
        crate::with_conn!(conn, c => diesel::delete(users::table.filter(users::id.eq_any(ids))).execute(c))?,
    )
}

/// The (user, group) links of these users.
pub fn user_groups_of(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<Link>, DbError> {
    Ok(crate::with_conn!(conn, c => user_groups::table
        .filter(user_groups::user_id.eq_any(ids))
        .select((user_groups::user_id, user_groups::group_id))
        .load(c))?)
}

/// The (user, permission) links of these users.
pub fn user_permissions_of(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<Link>, DbError> {
    Ok(crate::with_conn!(conn, c => user_permissions::table
        .filter(user_permissions::user_id.eq_any(ids))
        .select((user_permissions::user_id, user_permissions::permission_id))
        .load(c))?)
}

/// Every (group, permission) link.
pub fn group_permission_links(conn: &mut DbConn) -> Result<Vec<Link>, DbError> {
    Ok(crate::with_conn!(conn, c => group_permissions::table
        .select((group_permissions::group_id, group_permissions::permission_id))
        .load(c))?)
}

/// Which links a table holds, for [`add_links`] and [`remove_links`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTable {
    UserGroups,
    UserPermissions,
    GroupPermissions,
}

pub fn add_links(conn: &mut DbConn, table: LinkTable, links: &[Link]) -> Result<usize, DbError> {
    if links.is_empty() {
        return Ok(0);
    }
    Ok(crate::with_conn!(conn, c => match table {
        LinkTable::UserGroups => diesel::insert_into(user_groups::table)
            .values(links.iter().map(|&(u, g)| (user_groups::user_id.eq(u), user_groups::group_id.eq(g))).collect::<Vec<_>>())
            .execute(c),
        LinkTable::UserPermissions => diesel::insert_into(user_permissions::table)
            .values(links.iter().map(|&(u, p)| (user_permissions::user_id.eq(u), user_permissions::permission_id.eq(p))).collect::<Vec<_>>())
            .execute(c),
        LinkTable::GroupPermissions => diesel::insert_into(group_permissions::table)
            .values(links.iter().map(|&(g, p)| (group_permissions::group_id.eq(g), group_permissions::permission_id.eq(p))).collect::<Vec<_>>())
            .execute(c),
    })?)
}

pub fn remove_links(conn: &mut DbConn, table: LinkTable, links: &[Link]) -> Result<usize, DbError> {
    let mut removed = 0;
    for &(a, b) in links {
        removed += crate::with_conn!(conn, c => match table {
            LinkTable::UserGroups => diesel::delete(user_groups::table.find((a, b))).execute(c),
            LinkTable::UserPermissions => diesel::delete(user_permissions::table.find((a, b))).execute(c),
            LinkTable::GroupPermissions => diesel::delete(group_permissions::table.find((a, b))).execute(c),
        })?;
    }
    Ok(removed)
}

pub fn all_permissions(conn: &mut DbConn) -> Result<Vec<Permission>, DbError> {
    Ok(crate::with_conn!(conn, c => permissions::table.select(Permission::as_select()).load(c))?)
}

pub fn all_groups(conn: &mut DbConn) -> Result<Vec<Group>, DbError> {
    Ok(crate::with_conn!(conn, c => groups::table.select(Group::as_select()).load(c))?)
}

/// The outstanding tokens with these jtis.
pub fn tokens_by_jtis(conn: &mut DbConn, jtis: &[String]) -> Result<Vec<StoredToken>, DbError> {
    let rows: Vec<(i64, String, Option<i64>)> = crate::with_conn!(conn, c => outstanding_tokens::table
        .left_join(blacklisted_tokens::table)
        .filter(outstanding_tokens::jti.eq_any(jtis))
        .select((outstanding_tokens::id, outstanding_tokens::jti, blacklisted_tokens::id.nullable()))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(id, jti, entry)| StoredToken {
            id,
            jti,
            blacklisted: entry.is_some(),
        })
        .collect())
}

pub fn insert_tokens(conn: &mut DbConn, rows: &[NewOutstanding]) -> Result<usize, DbError> {
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(outstanding_tokens::table).values(rows).execute(c))?,
    )
}

/// Blacklists outstanding tokens (by keyward id) as revocations, not rotations.
pub fn blacklist_tokens(
    conn: &mut DbConn,
    entries: &[(i64, PrimitiveDateTime)],
) -> Result<usize, DbError> {
    if entries.is_empty() {
        return Ok(0);
    }
    let rows = || -> Vec<_> {
        entries
            .iter()
            .map(|&(id, at)| {
                (
                    blacklisted_tokens::token_id.eq(id),
                    blacklisted_tokens::blacklisted_at.eq(at),
                    blacklisted_tokens::rotated.eq(false),
                )
            })
            .collect()
    };
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(blacklisted_tokens::table).values(rows()).execute(c))?,
    )
}

/// The id the next user created by keyward will get at least (one past the highest id the
/// user id sequence has issued or the table holds).
pub fn next_user_id(conn: &mut DbConn) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        v: i64,
    }
    let issued: Value = match conn {
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT GREATEST(COALESCE((SELECT MAX(id) FROM users), 0), \
             (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM users_id_seq)) AS v",
        )
        .get_result(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM users), 0), \
             COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'users'), 0)) AS v",
        )
        .get_result(c)?,
    };
    Ok(issued.v + 1)
}

/// Makes keyward's user id sequence issue ids above `past` (never moves it back).
pub fn advance_user_ids(conn: &mut DbConn, past: i64) -> Result<(), DbError> {
    if next_user_id(conn)? > past {
        return Ok(());
    }
    match conn {
        DbConn::Postgres(c) => {
            diesel::sql_query("SELECT setval('users_id_seq', $1, true)")
                .bind::<diesel::sql_types::BigInt, _>(past)
                .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            let updated =
                diesel::sql_query("UPDATE sqlite_sequence SET seq = ? WHERE name = 'users'")
                    .bind::<diesel::sql_types::BigInt, _>(past)
                    .execute(c)?;
            if updated == 0 {
                diesel::sql_query("INSERT INTO sqlite_sequence (name, seq) VALUES ('users', ?)")
                    .bind::<diesel::sql_types::BigInt, _>(past)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}
