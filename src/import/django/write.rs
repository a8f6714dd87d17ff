//! The writes of an import: each batch in one transaction of keyward's database.

use std::collections::HashMap;

use time::PrimitiveDateTime;

use super::ImportError;
use super::plan::LinkPlan;
use crate::db::DbConn;
use crate::db::models::import::{self, ImportedUser, LinkTable, UserFields};
use crate::db::models::token::NewOutstanding;
use crate::db::models::{group, permission};

/// Creates permissions `(codename, name)`; returns their ids by codename.
pub fn permissions(
    target: &mut DbConn,
    create: &[(String, String)],
) -> Result<HashMap<String, i64>, ImportError> {
    target.write(|c| {
        let mut ids = HashMap::new();
        for (codename, name) in create {
            let row = permission::insert(c, codename, name)?;
            ids.insert(row.codename, row.id);
        }
        Ok(ids)
    })
}

/// Creates groups; returns their ids by name.
pub fn groups(target: &mut DbConn, names: &[String]) -> Result<HashMap<String, i64>, ImportError> {
    target.write(|c| {
        let mut ids = HashMap::new();
        for name in names {
            let row = group::insert(c, name)?;
            ids.insert(row.name, row.id);
        }
        Ok(ids)
    })
}

/// Applies a link plan (inside the caller's transaction).
pub fn links(c: &mut DbConn, table: LinkTable, plan: &LinkPlan) -> Result<(), ImportError> {
    import::remove_links(c, table, &plan.remove)?;
    import::add_links(c, table, &plan.add)?;
    Ok(())
}

/// What one batch of users changes.
#[derive(Debug, Default)]
pub struct UserBatch {
    /// keyward users deleted to free a username (`--on-conflict=overwrite`).
    pub delete: Vec<i64>,
    pub create: Vec<ImportedUser>,
    pub update: Vec<(i64, UserFields)>,
    pub groups: LinkPlan,
    pub permissions: LinkPlan,
}

pub fn users(target: &mut DbConn, batch: &UserBatch) -> Result<(), ImportError> {
    target.write(|c| {
        if !batch.delete.is_empty() {
            import::delete_users(c, &batch.delete)?;
        }
        import::insert_users(c, &batch.create)?;
        for (id, fields) in &batch.update {
            import::update_user(c, *id, fields)?;
        }
        links(c, LinkTable::UserGroups, &batch.groups)?;
        links(c, LinkTable::UserPermissions, &batch.permissions)
    })
}

/// What one batch of tokens changes.
#[derive(Debug, Default)]
pub struct TokenBatch {
    pub create: Vec<NewOutstanding>,
    /// Blacklist entries for tokens keyward already holds (by keyward id).
    pub blacklist: Vec<(i64, PrimitiveDateTime)>,
    /// Blacklist entries for tokens created by this batch (by jti).
    pub blacklist_created: Vec<(String, PrimitiveDateTime)>,
}

pub fn tokens(target: &mut DbConn, batch: &TokenBatch) -> Result<(), ImportError> {
    target.write(|c| {
        import::insert_tokens(c, &batch.create)?;
        let mut entries = batch.blacklist.clone();
        if !batch.blacklist_created.is_empty() {
            let jtis: Vec<String> = batch
                .blacklist_created
                .iter()
                .map(|(j, _)| j.clone())
                .collect();
            let ids: HashMap<String, i64> = import::tokens_by_jtis(c, &jtis)?
                .into_iter()
                .map(|t| (t.jti, t.id))
                .collect();
            for (jti, at) in &batch.blacklist_created {
                if let Some(&id) = ids.get(jti) {
                    entries.push((id, *at));
                }
            }
        }
        import::blacklist_tokens(c, &entries)?;
        Ok(())
    })
}
