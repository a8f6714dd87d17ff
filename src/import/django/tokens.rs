//! Outstanding and blacklisted refresh tokens, in batches by Django id and matched by jti.
//! Only a digest of each raw token Django kept is stored.

use std::collections::{HashMap, HashSet};

use super::source::Source;
use super::{ImportError, Options, Report, write};
use crate::db::models::import::{self, StoredToken};
use crate::db::models::token::{NewOutstanding, digest};
use crate::db::{DbConn, stored_time};

pub fn import(
    source: &mut dyn Source,
    target: &mut DbConn,
    options: &Options,
    skipped_users: &HashSet<i64>,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut after = 0;
    loop {
        let batch = source.tokens_after(after, options.batch_size)?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.id;
        let jtis: Vec<String> = batch.iter().map(|t| t.jti.clone()).collect();
        let stored: HashMap<String, StoredToken> = import::tokens_by_jtis(target, &jtis)?
            .into_iter()
            .map(|t| (t.jti.clone(), t))
            .collect();
        let mut changes = write::TokenBatch::default();
        for token in batch {
            report.tokens.seen += 1;
            let blacklisted = token.blacklisted_at.map(|t| stored_time(t.assume_utc()));
            if blacklisted.is_some() {
                report.blacklisted_seen += 1;
            }
            if token.user_id.is_some_and(|u| skipped_users.contains(&u)) {
                report.tokens.skipped += 1;
                continue;
            }
            match stored.get(&token.jti) {
                Some(known) => {
                    if let Some(at) = blacklisted
                        && !known.blacklisted
                    {
                        changes.blacklist.push((known.id, at));
                    }
                }
                None => {
                    if let Some(at) = blacklisted {
                        changes.blacklist_created.push((token.jti.clone(), at));
                    }
                    changes.create.push(NewOutstanding {
                        user_id: token.user_id,
                        token_digest: digest(&token.token),
                        created_at: token
                            .created_at
                            .map_or(options.now, |t| stored_time(t.assume_utc())),
                        expires_at: stored_time(token.expires_at.assume_utc()),
                        jti: token.jti,
                    });
                }
            }
        }
        report.tokens.created += changes.create.len();
        report.blacklisted_added += changes.blacklist.len() + changes.blacklist_created.len();
        if !options.dry_run {
            write::tokens(target, &changes)?;
        }
    }
}
