//! What an instance does with the change notifications it hears: user changes leave the user
//! cache, revocation changes go to the token blacklist (in the order heard), and on every
//! (re)connect memory is caught up from the database. It also hands the listener this
//! instance's rotated tokens to announce.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;

use super::notice::{Change, Notice, rotated_payloads};
use crate::actors::announced::{Announced, CaughtUp};
use crate::actors::rotated_tokens::RotatedTokens;
use crate::actors::token_blacklist::{Lists, TokenBlacklist};
use crate::auth::UserCache;
use crate::clock::Clock;
use crate::db::listener::{Heard, Subscriber};
use crate::db::models::revocation::Revocations;
use crate::db::models::{token, token_session};
use crate::db::{DbConn, DbError, stored_time};

pub struct Applier {
    pub blacklist: Addr<TokenBlacklist>,
    pub cache: Arc<UserCache>,
    pub lists: Lists,
    pub rotated: Arc<RotatedTokens>,
    pub clock: Clock,
}

impl Applier {
    fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

impl Subscriber for Applier {
    /// Reads every live revocation and recent session end, and forgets every cached user: what
    /// was missed while not listening is in what the database holds now.
    fn catch_up(&mut self, conn: &mut DbConn) -> Result<(), DbError> {
        let before = self.lists.keys();
        let now = self.clock.now();
        let at = stored_time(now);
        let loaded = Revocations {
            tokens: token::revoked_live(conn, at, None)?,
            sessions: token_session::ended_recently(
                conn,
                at,
                stored_time(now - self.lists.ended.window()),
                None,
            )?,
        };
        self.cache.clear();
        self.blacklist.do_send(CaughtUp { before, loaded });
        Ok(())
    }

    fn notified(&mut self, payload: &str) -> Heard {
        let Some(notice) = Notice::parse(payload) else {
            tracing::warn!(payload, "change notification not understood; catching up");
            return Heard::CatchUp;
        };
        match notice.change {
            Change::User(id) => self.cache.invalidate(id),
            Change::AllUsers => self.cache.clear(),
            Change::Lists(changes) => self.blacklist.do_send(Announced(changes)),
            Change::Resync => return Heard::CatchUp,
        }
        let lag = u64::try_from(self.now_ms() - notice.sent_ms).ok();
        Heard::Applied {
            lag: lag.map(Duration::from_millis),
        }
    }

    fn outgoing(&mut self) -> Vec<String> {
        self.rotated
            .take()
            .map(|batch| rotated_payloads(batch.since_ms, &batch.tokens))
            .unwrap_or_default()
    }
}
