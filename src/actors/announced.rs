//! What other instances announce about revocations, applied by the token blacklist in the
//! order it was heard: revocations and ended sessions join the in-memory lists at once, lifted
//! revocations and reopened sessions leave them, and a catch-up from the database replaces
//! them.

use actix::prelude::*;

use super::revocation_lists::ListKeys;
use super::token_blacklist::TokenBlacklist;
use crate::db::models::revocation::Revocations;

/// One change to the revocation lists, as announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListChange {
    /// A token revoked until it expires (epoch seconds).
    Revoked { jti: String, expires_at: i64 },
    /// A token's revocation lifted.
    Unrevoked { jti: String },
    /// A session ended at `ended_at`, with its deadline at `deadline` (epoch seconds).
    Ended {
        session: String,
        ended_at: i64,
        deadline: i64,
    },
    /// An ended session reopened.
    Reopened { session: String },
}

/// Changes heard together, applied in order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Announced(pub Vec<ListChange>);

impl Handler<Announced> for TokenBlacklist {
    type Result = ();

    fn handle(&mut self, msg: Announced, _: &mut Self::Context) {
        for change in msg.0 {
            match change {
                ListChange::Revoked { jti, expires_at } => {
                    self.lists.revoked.insert(&jti, expires_at);
                }
                ListChange::Unrevoked { jti } => self.lift(&jti),
                ListChange::Ended {
                    session,
                    ended_at,
                    deadline,
                } => {
                    let until = self.lists.ended.until_for(ended_at, deadline);
                    self.lists.ended.insert(&session, until);
                }
                ListChange::Reopened { session } => self.reopen(&session),
            }
        }
    }
}

/// Everything the database holds (`loaded`), read after the lists held `before`: the lists
/// become what the database says (see [`super::revocation_lists::Lists::replace`]).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CaughtUp {
    pub before: ListKeys,
    pub loaded: Revocations,
}

impl Handler<CaughtUp> for TokenBlacklist {
    type Result = ();

    fn handle(&mut self, msg: CaughtUp, _: &mut Self::Context) {
        let gone = self.lists.replace(&msg.before, &msg.loaded);
        if self.is_syncing() {
            self.lifted.extend(gone);
        }
        tracing::debug!(
            revoked = self.lists.revoked.len(),
            ended_sessions = self.lists.ended.len(),
            "revocation lists caught up"
        );
    }
}
