//! Users and their links, in batches by id (one transaction each), keeping Django's ids; and
//! keyward's user id sequence moved past every id Django issued.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::catalog::IdMap;
use super::plan::{self, Conflict, OnConflict, UserStep};
use super::source::{DjangoUser, Source};
use super::{ImportError, Options, Report, write};
use crate::auth::{UNSTAMPED, django_revoke_claim};
use crate::db::DbConn;
use crate::db::models::import::{self, ImportedUser, Link};
use crate::db::models::user::User;

/// Reads every Django user once and fails, before anything is written, if any collides with
/// a keyward user.
pub fn refuse_conflicts(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
) -> Result<(), ImportError> {
    let mut after = 0;
    let mut count = 0;
    let mut examples: Vec<String> = Vec::new();
    loop {
        let batch = source.users_after(after, options.batch_size)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let (by_id, by_name) = keyward_rows(target, &batch)?;
        for conflict in plan::conflicts(&batch, &by_id, &by_name) {
            count += 1;
            if examples.len() < 5 {
                examples.push(conflict.to_string());
            }
        }
    }
    if count > 0 {
        return Err(ImportError::Conflicts {
            count,
            examples: examples.join("; "),
        });
    }
    Ok(())
}

/// keyward's users with the ids, and with the usernames, of a batch.
fn keyward_rows(
    target: &mut DbConn,
    batch: &[DjangoUser],
) -> Result<(Vec<User>, Vec<User>), ImportError> {
    let ids: Vec<i64> = batch.iter().map(|u| u.id).collect();
    let names: Vec<String> = batch.iter().map(|u| u.username.clone()).collect();
    Ok((
        import::users_by_ids(target, &ids)?,
        import::users_by_usernames(target, &names)?,
    ))
}

/// Imports every user; returns the ids of Django users skipped for a conflict.
pub fn import(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
    groups: &IdMap,
    permissions: &IdMap,
    report: &mut Report,
) -> Result<HashSet<i64>, ImportError> {
    let mut skipped = HashSet::new();
    let mut after = 0;
    loop {
        let batch = source.users_after(after, options.batch_size)?;
        let Some(last) = batch.last() else {
            return Ok(skipped);
        };
        let upto = last.id;
        let (by_id, by_name) = keyward_rows(target, &batch)?;
        let mut changes = write::UserBatch::default();
        let conflicts = plan::conflicts(&batch, &by_id, &by_name);
        resolve(
            &conflicts,
            &by_name,
            &batch,
            options,
            &mut skipped,
            &mut changes,
            report,
        )?;
        let deleted: HashSet<i64> = changes.delete.iter().copied().collect();
        let existing: HashMap<i64, &User> = by_id
            .iter()
            .filter(|u| !deleted.contains(&u.id))
            .map(|u| (u.id, u))
            .collect();
        let mut kept = Vec::with_capacity(batch.len());
        for user in &batch {
            report.users.seen += 1;
            if skipped.contains(&user.id) {
                continue;
            }
            kept.push(user.id);
            let (password, format) =
                plan::stored_password(&user.password, options.allow_legacy_hashes);
            *report.hash_formats.entry(format.algorithm()).or_default() += 1;
            if format.is_legacy() && !options.allow_legacy_hashes {
                report.legacy_refused += 1;
            }
            match plan::user_step(
                plan::fields(user, password),
                existing.get(&user.id).copied(),
            ) {
                UserStep::Create(fields) => {
                    report.users.created += 1;
                    changes
                        .create
                        .push(ImportedUser::new(user.id, fields, stamp(user, options)));
                }
                UserStep::Update(fields) => {
                    report.users.updated += 1;
                    changes.update.push((user.id, fields));
                }
                UserStep::Unchanged => {}
            }
        }
        let mut dangling = 0;
        let wanted = own(
            source.user_groups(after, upto)?,
            &skipped,
            groups,
            &mut dangling,
        );
        let existing = import::user_groups_of(target, &kept)?;
        changes.groups = plan::links(&wanted, &existing);
        count(&mut report.user_groups, &wanted, &changes.groups);
        let wanted = own(
            source.user_permissions(after, upto)?,
            &skipped,
            permissions,
            &mut dangling,
        );
        let existing = import::user_permissions_of(target, &kept)?;
        changes.permissions = plan::links(&wanted, &existing);
        count(&mut report.user_permissions, &wanted, &changes.permissions);
        report.dangling_links += dangling;
        if !options.dry_run {
            write::users(target, &changes)?;
        }
        after = upto;
    }
}

/// Applies `--on-conflict` to a batch's conflicts.
fn resolve(
    conflicts: &[Conflict],
    by_name: &[User],
    batch: &[DjangoUser],
    options: &Options,
    skipped: &mut HashSet<i64>,
    changes: &mut write::UserBatch,
    report: &mut Report,
) -> Result<(), ImportError> {
    match options.on_conflict {
        OnConflict::Refuse => {
            if let Some(first) = conflicts.first() {
                // Checked before the first write; a conflict now means keyward changed since.
                return Err(ImportError::Conflicts {
                    count: conflicts.len(),
                    examples: first.to_string(),
                });
            }
        }
        OnConflict::Skip => {
            for conflict in conflicts {
                skipped.insert(conflict.django_id);
                report.users.skipped += 1;
                if report.skipped_users.len() < 10 {
                    report.skipped_users.push(conflict.clone());
                }
            }
        }
        OnConflict::Overwrite => {
            let holders: HashMap<&str, i64> = by_name
                .iter()
                .map(|u| (u.username.as_str(), u.id))
                .collect();
            for user in batch {
                if let Some(&holder) = holders.get(user.username.as_str())
                    && holder != user.id
                {
                    changes.delete.push(holder);
                }
            }
            report.overwritten_users += changes.delete.len();
        }
    }
    Ok(())
}

/// A batch's (user, Django id) links as (user, keyward id), without skipped users' links.
fn own(links: Vec<Link>, skipped: &HashSet<i64>, map: &IdMap, dangling: &mut usize) -> Vec<Link> {
    let mut out = Vec::with_capacity(links.len());
    for (user, other) in links {
        if skipped.contains(&user) {
            continue;
        }
        match map.get(&other) {
            Some(&id) => out.push((user, id)),
            None => *dangling += 1,
        }
    }
    out
}

fn count(counts: &mut super::report::LinkCounts, wanted: &[Link], plan: &plan::LinkPlan) {
    counts.seen += wanted.iter().collect::<BTreeSet<_>>().len();
    counts.added += plan.add.len();
    counts.removed += plan.remove.len();
}

/// Moves keyward's user id sequence past the highest id Django ever issued.
pub fn advance_ids(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
    report: &mut Report,
) -> Result<(), ImportError> {
    let (highest, evidence) = source.highest_user_id()?;
    report.highest_user_id = highest;
    report.id_evidence = Some(evidence);
    report.next_user_id_before = import::next_user_id(target)?;
    report.next_user_id_after = if options.dry_run {
        report.next_user_id_before.max(highest + 1)
    } else {
        target.write(|c| import::advance_user_ids(c, highest))?;
        import::next_user_id(target)?
    };
    Ok(())
}

/// A new user's security stamp: the one the tokens Django issued carry (see
/// [`Options::django_revoke_claims`]).
fn stamp(user: &DjangoUser, options: &Options) -> String {
    if options.django_revoke_claims {
        django_revoke_claim(&user.password)
    } else {
        UNSTAMPED.to_owned()
    }
}
