//! Permissions and groups: matched to keyward's by codename and by name, created when
//! missing; a group's permissions are made those it has in Django.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::source::{DjangoPermission, Source};
use super::{ImportError, Options, plan, write};
use crate::db::DbConn;
use crate::db::models::import::{self, Link, LinkTable};

/// Django id -> keyward id. In a dry run, rows not created yet have negative placeholders.
pub type IdMap = HashMap<i64, i64>;

pub fn permissions(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
    report: &mut super::Report,
) -> Result<IdMap, ImportError> {
    let found = source.permissions()?;
    let user_table = report.layout.user_table.clone();
    let user_model = found
        .iter()
        .find(|p| format!("{}_{}", p.app_label, p.model) == user_table)
        .map(|p| (p.app_label.clone(), p.model.clone()));
    let user_model = user_model.as_ref().map(|(a, m)| (a.as_str(), m.as_str()));
    let existing: HashMap<String, i64> = import::all_permissions(target)?
        .into_iter()
        .map(|p| (p.codename, p.id))
        .collect();
    let mut map = IdMap::new();
    let mut wanted: Vec<(i64, String)> = Vec::new();
    let mut create: Vec<(String, String)> = Vec::new();
    for permission in &found {
        report.permissions.seen += 1;
        if !is_default(permission) {
            report.custom_permissions += 1;
        }
        let codename = plan::codename(permission, user_model);
        match existing.get(&codename) {
            Some(&id) => {
                map.insert(permission.id, id);
            }
            None => {
                if !create.iter().any(|(c, _)| *c == codename) {
                    create.push((codename.clone(), permission.name.clone()));
                }
                wanted.push((permission.id, codename));
            }
        }
    }
    report.permissions.created = create.len();
    let created = if options.dry_run {
        placeholders(create.iter().map(|(c, _)| c.clone()))
    } else {
        write::permissions(target, &create)?
    };
    for (django_id, codename) in wanted {
        if let Some(&id) = created.get(&codename) {
            map.insert(django_id, id);
        }
    }
    Ok(map)
}

pub fn groups(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
    permissions: &IdMap,
    report: &mut super::Report,
) -> Result<IdMap, ImportError> {
    let found = source.groups()?;
    let existing: HashMap<String, i64> = import::all_groups(target)?
        .into_iter()
        .map(|g| (g.name, g.id))
        .collect();
    let mut map = IdMap::new();
    let mut create = Vec::new();
    for group in &found {
        report.groups.seen += 1;
        match existing.get(&group.name) {
            Some(&id) => {
                map.insert(group.id, id);
            }
            None => create.push(group.clone()),
        }
    }
    report.groups.created = create.len();
    let names: Vec<String> = create.iter().map(|g| g.name.clone()).collect();
    let created = if options.dry_run {
        placeholders(names.into_iter())
    } else {
        write::groups(target, &names)?
    };
    for group in create {
        if let Some(&id) = created.get(&group.name) {
            map.insert(group.id, id);
        }
    }
    let wanted = mapped(
        &source.group_permissions()?,
        &map,
        permissions,
        &mut report.dangling_links,
    );
    let ours: HashSet<i64> = map.values().copied().collect();
    let existing: Vec<Link> = import::group_permission_links(target)?
        .into_iter()
        .filter(|(g, _)| ours.contains(g))
        .collect();
    let plan = plan::links(&wanted, &existing);
    report.group_permissions.seen = wanted.iter().collect::<BTreeSet<_>>().len();
    report.group_permissions.added = plan.add.len();
    report.group_permissions.removed = plan.remove.len();
    if !options.dry_run {
        target.write(|c| write::links(c, LinkTable::GroupPermissions, &plan))?;
    }
    Ok(map)
}

/// Links of Django ids as links of keyward ids; those naming a missing row are counted and dropped.
pub fn mapped(links: &[Link], left: &IdMap, right: &IdMap, dangling: &mut usize) -> Vec<Link> {
    let mut out = Vec::with_capacity(links.len());
    for (a, b) in links {
        match (left.get(a), right.get(b)) {
            (Some(&a), Some(&b)) => out.push((a, b)),
            _ => *dangling += 1,
        }
    }
    out
}

/// Placeholder ids for rows a dry run would create.
fn placeholders(names: impl Iterator<Item = String>) -> HashMap<String, i64> {
    names.zip(1_i64..).map(|(name, i)| (name, -i)).collect()
}

/// One of the four permissions Django creates for every model.
fn is_default(p: &DjangoPermission) -> bool {
    ["add", "change", "delete", "view"]
        .iter()
        .any(|verb| p.codename == format!("{verb}_{}", p.model))
}
