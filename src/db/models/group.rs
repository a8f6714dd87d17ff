//! Groups and the permissions they grant their members.

use diesel::prelude::*;
use serde::Serialize;

use super::{Page, contains_pattern, lower};
use crate::db::schema::{group_permissions, groups, permissions, user_groups};
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: i64,
    pub name: String,
}

/// A page of groups (by name), optionally matching `search`, and the total.
pub fn list(
    conn: &mut DbConn,
    search: Option<&str>,
    page: Page,
) -> Result<(Vec<Group>, i64), DbError> {
    let pattern = search.map(contains_pattern);
    Ok(crate::with_conn!(conn, c => {
        let filtered = || {
            let mut query = groups::table.into_boxed();
            if let Some(p) = &pattern {
                query = query.filter(lower(groups::name).like(p.clone()).escape('\\'));
            }
            query
        };
        let total: i64 = filtered().count().get_result(c)?;
        let rows = filtered()
            .order(groups::name.asc())
            .limit(page.limit)
            .offset(page.offset)
            .select(Group::as_select())
            .load(c)?;
        Ok::<_, diesel::result::Error>((rows, total))
    })?)
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Group>, DbError> {
    Ok(
        crate::with_conn!(conn, c => groups::table.find(id).select(Group::as_select()).first(c).optional())?,
    )
}

/// The groups named by `names` that exist.
pub fn by_names(conn: &mut DbConn, names: &[String]) -> Result<Vec<Group>, DbError> {
    Ok(
        crate::with_conn!(conn, c => groups::table.filter(groups::name.eq_any(names)).select(Group::as_select()).load(c))?,
    )
}

pub fn insert(conn: &mut DbConn, name: &str) -> Result<Group, DbError> {
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(groups::table)
        .values(groups::name.eq(name))
        .returning(Group::as_returning())
        .get_result(c))?,
    )
}

pub fn rename(conn: &mut DbConn, id: i64, name: &str) -> Result<(), DbError> {
    let n = crate::with_conn!(conn, c => diesel::update(groups::table.find(id)).set(groups::name.eq(name)).execute(c))?;
    if n == 1 {
        Ok(())
    } else {
        Err(DbError::NotFound)
    }
}

pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    crate::with_conn!(conn, c => {
        diesel::delete(group_permissions::table.filter(group_permissions::group_id.eq(id))).execute(c)?;
        diesel::delete(user_groups::table.filter(user_groups::group_id.eq(id))).execute(c)?;
        diesel::delete(groups::table.find(id)).execute(c)
    })
    .map(|n| n == 1)
    .map_err(DbError::from)
}

/// (group id, codename) for the given groups, by codename.
pub fn permissions_of(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    Ok(crate::with_conn!(conn, c => group_permissions::table
        .inner_join(permissions::table)
        .filter(group_permissions::group_id.eq_any(ids))
        .select((group_permissions::group_id, permissions::codename))
        .order(permissions::codename.asc())
        .load(c))?)
}

/// Replaces a group's permissions.
pub fn set_permissions(conn: &mut DbConn, id: i64, permission_ids: &[i64]) -> Result<(), DbError> {
    crate::with_conn!(conn, c => {
        diesel::delete(group_permissions::table.filter(group_permissions::group_id.eq(id))).execute(c)?;
        let rows: Vec<_> = permission_ids
            .iter()
            .map(|p| (group_permissions::group_id.eq(id), group_permissions::permission_id.eq(*p)))
            .collect();
                if rows.is_empty() { Ok(0) } else { diesel::insert_into(group_permissions::table).values(&rows).execute(c) }
    })?;
    Ok(())
}
