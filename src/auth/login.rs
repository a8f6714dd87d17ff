//! One sign-in, as the token endpoints and the console make it: the throttle is asked first
//! (a locked attempt is refused whatever its password, so the lock means something), then the
//! password is checked, then the outcome is counted. Unknown and known usernames take the same
//! path.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::{Addr, MailboxError};
use time::OffsetDateTime;

use super::UserSnapshot;
use super::throttle::AttemptKeys;
use crate::actors::ASK_TIMEOUT;
use crate::actors::login_guard::{CheckLogin, ClearPair, LoginGuard, RecordFailure};
use crate::actors::user_manager::{Authenticate, LoginPurpose, UserError, UserManager};
use crate::db::DbError;

/// The sign-in throttle, as app data: the login guard, or nothing when `login_throttle` is off.
#[derive(Clone, Default)]
pub struct LoginThrottle(Option<Addr<LoginGuard>>);

impl LoginThrottle {
    pub fn new(guard: Option<Addr<LoginGuard>>) -> Self {
        Self(guard)
    }

    /// The guard, for the console's list of locks (`None` when throttling is off).
    pub fn guard(&self) -> Option<&Addr<LoginGuard>> {
        self.0.as_ref()
    }
}

/// A sign-in attempt (no `Debug`: it holds a password).
pub struct Attempt {
    pub username: String,
    pub password: String,
    /// The client's address (see [`crate::client::ClientView`]).
    pub address: Option<IpAddr>,
    pub purpose: LoginPurpose,
    pub now: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many failures: try again after this long.
    #[error("throttled for {0:?}")]
    Throttled(Duration),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
}

impl LoginError {
    /// Whether this is the one answer for a wrong password, an unknown user and the rest.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::User(UserError::InvalidCredentials))
    }
}

impl LoginThrottle {
    /// Checks the attempt against the throttle and the password; counts a failure.
    pub async fn sign_in(
        &self,
        users: &Addr<UserManager>,
        attempt: Attempt,
    ) -> Result<Arc<UserSnapshot>, LoginError> {
        let now = attempt.now;
        let Some(guard) = &self.0 else {
            return authenticate(users, attempt).await;
        };
        let keys = Arc::new(AttemptKeys::new(&attempt.username, attempt.address));
        let standing = guard
            .send(CheckLogin {
                keys: Arc::clone(&keys),
                now,
            })
            .timeout(ASK_TIMEOUT)
            .await??;
        if let Some(wait) = standing.locked_for {
            return Err(LoginError::Throttled(wait));
        }
        match authenticate(users, attempt).await {
            Ok(user) => {
                if standing.pair_failed {
                    guard.send(ClearPair(keys)).timeout(ASK_TIMEOUT).await??;
                }
                Ok(user)
            }
            Err(refused) if refused.is_refusal() => {
                let locked = guard
                    .send(RecordFailure { keys, now })
                    .timeout(ASK_TIMEOUT)
                    .await??;
                if let Some(lock) = locked {
                    tracing::info!(lock_secs = lock.as_secs(), "sign-in counter locked");
                }
                Err(refused)
            }
            Err(other) => Err(other),
        }
    }
}

async fn authenticate(
    users: &Addr<UserManager>,
    attempt: Attempt,
) -> Result<Arc<UserSnapshot>, LoginError> {
    Ok(users
        .send(Authenticate {
            username: attempt.username,
            password: attempt.password,
            purpose: attempt.purpose,
            now: attempt.now,
        })
        .timeout(ASK_TIMEOUT)
        .await??)
}
