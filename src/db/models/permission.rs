//! Permissions (`app.codename`), built in (seeded by migrations) or custom.

use diesel::prelude::*;
use serde::Serialize;

use super::{Page, contains_pattern, lower};
use crate::db::schema::{group_permissions, permissions, user_permissions};
use crate::db::{DbConn, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = permissions)]
pub struct Permission {
    pub id: i64,
    pub codename: String,
    pub name: String,
}

/// A page of permissions (by codename), optionally matching `search`, and the total.
pub fn list(
    conn: &mut DbConn,
    search: Option<&str>,
    page: Page,
) -> Result<(Vec<Permission>, i64), DbError> {
    let pattern = search.map(contains_pattern);
    Ok(crate::with_conn!(conn, c => {
        let filtered = || {
            let mut query = permissions::table.into_boxed();
            if let Some(p) = &pattern {
                query = query.filter(
                    lower(permissions::codename).like(p.clone()).escape('\\')
                        .or(lower(permissions::name).like(p.clone()).escape('\\')),
                );
            }
            query
        };
        let total: i64 = filtered().count().get_result(c)?;
        let rows = filtered()
            .order(permissions::codename.asc())
            .limit(page.limit)
            .offset(page.offset)
            .select(Permission::as_select())
            .load(c)?;
        Ok::<_, diesel::result::Error>((rows, total))
    })?)
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Permission>, DbError> {
    Ok(
        crate::with_conn!(conn, c => permissions::table.find(id).select(Permission::as_select()).first(c).optional())?,
    )
}

/// The permissions named by `codenames` that exist.
pub fn by_codenames(conn: &mut DbConn, codenames: &[String]) -> Result<Vec<Permission>, DbError> {
    Ok(crate::with_conn!(conn, c => permissions::table
        .filter(permissions::codename.eq_any(codenames))
        .select(Permission::as_select())
        .load(c))?)
}

pub fn insert(conn: &mut DbConn, codename: &str, name: &str) -> Result<Permission, DbError> {
    Ok(
        crate::with_conn!(conn, c => diesel::insert_into(permissions::table)
        .values((permissions::codename.eq(codename), permissions::name.eq(name)))
        .returning(Permission::as_returning())
        .get_result(c))?,
    )
}

/// Deletes a permission and every grant of it.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    crate::with_conn!(conn, c => {
        diesel::delete(user_permissions::table.filter(user_permissions::permission_id.eq(id))).execute(c)?;
        diesel::delete(group_permissions::table.filter(group_permissions::permission_id.eq(id))).execute(c)?;
        diesel::delete(permissions::table.find(id)).execute(c)
    })
    .map(|n| n == 1)
    .map_err(DbError::from)
}
