//! Signing in, on the user manager's threads. The throttle's counters are read just before the
//! password is checked and a failure is counted right after, on the same thread and
//! connection: a flood of concurrent guesses cannot all pass a check made before any of them
//! was counted (at most one guess per user manager thread slips past a limit). A locked
//! attempt costs one read and no bcrypt, whether or not the account exists.

use std::net::IpAddr;
use std::sync::Arc;

use actix::prelude::*;
use time::OffsetDateTime;

use super::user_manager::{UserError, UserManager};
use crate::auth::throttle::AttemptKeys;
use crate::auth::{PasswordHasher, UserSnapshot};
use crate::db::models::user::{self, User};
use crate::db::{DbConn, stored_time};
use crate::validation::normalize_username;

/// What a sign-in is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginPurpose {
    /// The token endpoints: `last_login` is set when `update_last_login` is on.
    Token,
    /// The console: active staff only, and `last_login` is always set.
    Console,
}

/// Checks a username (or, per `login_fields`, an email address) and password, through the
/// sign-in throttle, which counts the identifier as typed (NFKC, lower-cased). The password is
/// verified even when the user is unknown (against a dummy hash) or inactive, so every
/// refusal costs the same. A refused sign-in changes nothing but the throttle's counters.
#[derive(Message)]
#[rtype(result = "Result<Arc<UserSnapshot>, UserError>")]
pub struct Authenticate {
    /// The `username` field as sent: a username or, per `login_fields`, an email address.
    pub username: String,
    pub password: String,
    /// The client's address, as [`crate::client::ClientView`] sees it.
    pub address: Option<IpAddr>,
    pub purpose: LoginPurpose,
    pub now: OffsetDateTime,
}

impl Handler<Authenticate> for UserManager {
    type Result = Result<Arc<UserSnapshot>, UserError>;

    fn handle(&mut self, msg: Authenticate, ctx: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let generation = self.cache.generation();
        let keys = self
            .throttle
            .is_some()
            .then(|| AttemptKeys::new(&normalize_username(&msg.username), msg.address));
        let standing = match (&self.throttle, &keys) {
            (Some(throttle), Some(keys)) => Some(throttle.standing(&mut conn, keys, msg.now)?),
            _ => None,
        };
        if let Some(wait) = standing.and_then(|s| s.locked_for) {
            return Err(UserError::Throttled(wait));
        }
        let mut row = match self.check(&mut conn, &msg) {
            Ok(row) => row,
            Err(UserError::InvalidCredentials) => {
                if let (Some(throttle), Some(keys)) = (&mut self.throttle, &keys) {
                    throttle.count_failure(&mut conn, keys, msg.now)?;
                }
                return Err(UserError::InvalidCredentials);
            }
            Err(other) => return Err(other),
        };
        self.queue_rehash(ctx, row.id, &row.password, &msg.password);
        if let (Some(throttle), Some(keys)) = (&self.throttle, &keys)
            && standing.is_some_and(|s| s.pair_failed)
        {
            throttle.forget_pair(&mut conn, keys)?;
        }
        if self.update_last_login || msg.purpose == LoginPurpose::Console {
            let at = stored_time(msg.now);
            user::set_last_login(&mut conn, row.id, at)?;
            self.cache.invalidate(row.id);
            row.last_login = Some(at);
            return self.load(&mut conn, row, self.cache.generation());
        }
        self.load(&mut conn, row, generation)
    }
}

impl UserManager {
    /// The user whose password this is, if they may sign in for this purpose.
    fn check(&self, conn: &mut DbConn, msg: &Authenticate) -> Result<User, UserError> {
        let found = user::find_for_sign_in(conn, &msg.username, self.login_fields)?;
        let hash = found
            .as_ref()
            .map_or(&*self.dummy_hash, |u| u.password.as_str());
        let password_ok = self.password_matches(found.as_ref().map(|u| u.id), &msg.password, hash);
        let row = found
            .filter(|_| password_ok)
            .ok_or(UserError::InvalidCredentials)?;
        let inactive = !row.is_active && self.check_user_is_active;
        let console = msg.purpose == LoginPurpose::Console;
        if inactive || (console && !(row.is_staff && row.is_active)) {
            return Err(UserError::InvalidCredentials);
        }
        Ok(row)
    }

    /// Checks a password against a stored hash. A hash cheaper to check than keyward's own
    /// (a legacy one, an unusable or unreadable one) also costs a check of the dummy hash, so
    /// that refusal takes as long as the others. A hash that cannot be checked is logged.
    fn password_matches(&self, user_id: Option<i64>, password: &str, stored: &str) -> bool {
        let verdict = self.hasher.check(password, stored);
        if verdict.is_err() || !PasswordHasher::is_slow(stored) {
            let _ = self.hasher.verify(password, &self.dummy_hash);
        }
        match verdict {
            Ok(matched) => matched,
            Err(reason) => {
                if let Some(user_id) = user_id {
                    tracing::warn!(
                        user_id,
                        %reason,
                        "a stored password hash cannot be checked: the user cannot sign in until their password is reset"
                    );
                }
                false
            }
        }
    }
}
