//! Group and permission administration on the user manager. A change to a group's
//! permissions (or a permission's removal) affects many users, so it clears the whole user
//! cache: the next request of each member sees the new rights.

use std::collections::BTreeMap;

use actix::prelude::*;

use super::user_admin::CANNOT_GRANT;
use super::user_manager::{UserError, UserManager, field_error};
use crate::auth::Acting;
use crate::db::models::Page;
use crate::db::models::group::{self, Group};
use crate::db::models::permission::{self, Permission};
use crate::db::{DbConn, DbError};

pub const GROUP_TAKEN: &str = "group with this name already exists.";
pub const PERMISSION_TAKEN: &str = "permission with this codename already exists.";
pub const BUILT_IN: &str = "Built-in permissions cannot be deleted.";
pub const SUPERUSERS_ONLY: &str = "Only superusers can create or delete permissions.";

/// A group with its permissions' codenames.
#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub group: Group,
    pub permissions: Vec<String>,
}

fn group_records(conn: &mut DbConn, groups: Vec<Group>) -> Result<Vec<GroupRecord>, DbError> {
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let mut perms: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (id, codename) in group::permissions_of(conn, &ids)? {
        perms.entry(id).or_default().push(codename);
    }
    Ok(groups
        .into_iter()
        .map(|g| GroupRecord {
            permissions: perms.remove(&g.id).unwrap_or_default(),
            group: g,
        })
        .collect())
}

fn group_record(conn: &mut DbConn, id: i64) -> Result<GroupRecord, UserError> {
    let found = group::find(conn, id)?.ok_or(UserError::NotFound)?;
    group_records(conn, vec![found])?
        .pop()
        .ok_or(UserError::NotFound)
}

/// The permissions named, refusing unknown ones and (for non-superusers) ones the admin lacks.
fn grantable(
    conn: &mut DbConn,
    by: &Acting,
    codenames: &[String],
    already: &[String],
) -> Result<Vec<Permission>, UserError> {
    let found = permission::by_codenames(conn, codenames)?;
    if let Some(missing) = codenames
        .iter()
        .find(|c| !found.iter().any(|p| &p.codename == *c))
    {
        return Err(field_error(
            "permissions",
            format!("Object with codename={missing} does not exist."),
        ));
    }
    let escalates = found
        .iter()
        .any(|p| !already.contains(&p.codename) && !by.user().has_perm(&p.codename));
    if escalates && !by.is_superuser() {
        return Err(UserError::Forbidden(CANNOT_GRANT));
    }
    Ok(found)
}

fn map_group_conflict(err: DbError) -> UserError {
    match err {
        DbError::Conflict(_) => field_error("name", GROUP_TAKEN.to_owned()),
        other => other.into(),
    }
}

#[derive(Message)]
#[rtype(result = "Result<(Vec<GroupRecord>, i64), UserError>")]
pub struct ListGroups {
    pub by: Acting,
    pub search: Option<String>,
    pub page: Page,
}

impl Handler<ListGroups> for UserManager {
    type Result = Result<(Vec<GroupRecord>, i64), UserError>;

    fn handle(&mut self, msg: ListGroups, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        let mut conn = self.conn()?;
        let (rows, total) = group::list(&mut conn, msg.search.as_deref(), msg.page)?;
        Ok((group_records(&mut conn, rows)?, total))
    }
}

#[derive(Message)]
#[rtype(result = "Result<GroupRecord, UserError>")]
pub struct GetGroup {
    pub by: Acting,
    pub id: i64,
}

impl Handler<GetGroup> for UserManager {
    type Result = Result<GroupRecord, UserError>;

    fn handle(&mut self, msg: GetGroup, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        group_record(&mut *self.conn()?, msg.id)
    }
}

#[derive(Message)]
#[rtype(result = "Result<GroupRecord, UserError>")]
pub struct CreateGroup {
    pub by: Acting,
    pub name: String,
    pub permissions: Vec<String>,
}

impl Handler<CreateGroup> for UserManager {
    type Result = Result<GroupRecord, UserError>;

    fn handle(&mut self, msg: CreateGroup, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let perms = grantable(&mut conn, &msg.by, &msg.permissions, &[])?;
        let id = conn.write(|conn| {
            let created = group::insert(conn, &msg.name).map_err(map_group_conflict)?;
            group::set_permissions(
                conn,
                created.id,
                &perms.iter().map(|p| p.id).collect::<Vec<_>>(),
            )?;
            Ok::<_, UserError>(created.id)
        })?;
        group_record(&mut conn, id)
    }
}

/// Renames a group and/or replaces its permissions.
#[derive(Message)]
#[rtype(result = "Result<GroupRecord, UserError>")]
pub struct UpdateGroup {
    pub by: Acting,
    pub id: i64,
    pub name: Option<String>,
    pub permissions: Option<Vec<String>>,
}

impl Handler<UpdateGroup> for UserManager {
    type Result = Result<GroupRecord, UserError>;

    fn handle(&mut self, msg: UpdateGroup, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let current = group_record(&mut conn, msg.id)?;
        let perms = match &msg.permissions {
            Some(codenames) => Some(grantable(
                &mut conn,
                &msg.by,
                codenames,
                &current.permissions,
            )?),
            None => None,
        };
        conn.write(|conn| {
            if let Some(name) = &msg.name {
                group::rename(conn, msg.id, name).map_err(map_group_conflict)?;
            }
            if let Some(perms) = &perms {
                group::set_permissions(
                    conn,
                    msg.id,
                    &perms.iter().map(|p| p.id).collect::<Vec<_>>(),
                )?;
            }
            Ok::<_, UserError>(())
        })?;
        self.cache.clear();
        group_record(&mut conn, msg.id)
    }
}

#[derive(Message)]
#[rtype(result = "Result<(), UserError>")]
pub struct DeleteGroup {
    pub by: Acting,
    pub id: i64,
}

impl Handler<DeleteGroup> for UserManager {
    type Result = Result<(), UserError>;

    fn handle(&mut self, msg: DeleteGroup, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        let mut conn = self.conn()?;
        let deleted = conn.write(|conn| group::delete(conn, msg.id))?;
        self.cache.clear();
        if deleted {
            Ok(())
        } else {
            Err(UserError::NotFound)
        }
    }
}

#[derive(Message)]
#[rtype(result = "Result<(Vec<Permission>, i64), UserError>")]
pub struct ListPermissions {
    pub by: Acting,
    pub search: Option<String>,
    pub page: Page,
}

impl Handler<ListPermissions> for UserManager {
    type Result = Result<(Vec<Permission>, i64), UserError>;

    fn handle(&mut self, msg: ListPermissions, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        Ok(permission::list(
            &mut *self.conn()?,
            msg.search.as_deref(),
            msg.page,
        )?)
    }
}

#[derive(Message)]
#[rtype(result = "Result<Permission, UserError>")]
pub struct GetPermission {
    pub by: Acting,
    pub id: i64,
}

impl Handler<GetPermission> for UserManager {
    type Result = Result<Permission, UserError>;

    fn handle(&mut self, msg: GetPermission, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        permission::find(&mut *self.conn()?, msg.id)?.ok_or(UserError::NotFound)
    }
}

/// Creates a custom permission (superusers only).
#[derive(Message)]
#[rtype(result = "Result<Permission, UserError>")]
pub struct CreatePermission {
    pub by: Acting,
    pub codename: String,
    pub name: String,
}

impl Handler<CreatePermission> for UserManager {
    type Result = Result<Permission, UserError>;

    fn handle(&mut self, msg: CreatePermission, _: &mut Self::Context) -> Self::Result {
        if !msg.by.is_superuser() {
            return Err(UserError::Forbidden(SUPERUSERS_ONLY));
        }
        permission::insert(&mut *self.conn()?, &msg.codename, &msg.name).map_err(|e| match e {
            DbError::Conflict(_) => field_error("codename", PERMISSION_TAKEN.to_owned()),
            other => other.into(),
        })
    }
}

/// Whether a codename belongs to the permissions the migrations seed.
pub fn is_built_in(codename: &str) -> bool {
    let (app, name) = codename.split_once('.').unwrap_or_default();
    let model_of = |m: &str| {
        ["view_", "add_", "change_", "delete_"]
            .iter()
            .any(|v| name == format!("{v}{m}"))
    };
    (app == "auth" && ["user", "group", "permission"].iter().any(|m| model_of(m)))
        || (app == "token_blacklist"
            && ["outstandingtoken", "blacklistedtoken"]
                .iter()
                .any(|m| model_of(m)))
        || codename == "audit.view_securityevent"
}

/// Deletes a custom permission and every grant of it (superusers only).
#[derive(Message)]
#[rtype(result = "Result<(), UserError>")]
pub struct DeletePermission {
    pub by: Acting,
    pub id: i64,
}

impl Handler<DeletePermission> for UserManager {
    type Result = Result<(), UserError>;

    fn handle(&mut self, msg: DeletePermission, _: &mut Self::Context) -> Self::Result {
        if !msg.by.is_superuser() {
            return Err(UserError::Forbidden(SUPERUSERS_ONLY));
        }
        let mut conn = self.conn()?;
        let found = permission::find(&mut conn, msg.id)?.ok_or(UserError::NotFound)?;
        if is_built_in(&found.codename) {
            return Err(UserError::Forbidden(BUILT_IN));
        }
        conn.write(|conn| permission::delete(conn, msg.id))?;
        self.cache.clear();
        Ok(())
    }
}
