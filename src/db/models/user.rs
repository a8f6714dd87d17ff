//! Users, and the groups and permissions that make up what a user may do.

use std::collections::BTreeSet;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{
    group_permissions, groups, permissions, user_groups, user_permissions, users,
};
use crate::db::{DbConn, DbError};

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

pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<User>, DbError> {
    Ok(crate::with_conn!(conn, c => users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(c)
        .optional())?)
}

pub fn username_taken(conn: &mut DbConn, username: &str) -> Result<bool, DbError> {
    Ok(find_by_username(conn, username)?.is_some())
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
