//! Rewriting a password hash in keyward's format once a sign-in has proved the password
//! (Django's `must_update`: any other format, or a lower bcrypt cost). It runs on the user
//! manager's threads after the sign-in has answered, and replaces the hash only if it is still
//! the one verified, so a password changed meanwhile is kept. The security stamp stays: it is
//! the same password, so no session or token ends. A failure is logged (the user id, never the
//! hash) and the hash is left as it was: the next sign-in tries again.

use actix::prelude::*;

use super::user_manager::{UserError, UserManager};
use crate::auth::HashFormat;
use crate::db::models::user;

/// Rehash the password of `user_id`, which verified against `verified`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Rehash {
    pub user_id: i64,
    /// The stored hash the password was verified against.
    pub verified: String,
    pub password: String,
}

impl Handler<Rehash> for UserManager {
    type Result = ();

    fn handle(&mut self, msg: Rehash, _: &mut Self::Context) {
        let user_id = msg.user_id;
        let from = HashFormat::of(&msg.verified).algorithm();
        match self.rehash(&msg) {
            Ok(true) => tracing::info!(user_id, from, "password hash rewritten as bcrypt_sha256"),
            Ok(false) => tracing::info!(
                user_id,
                from,
                "password changed since the sign-in: its rehash was not stored"
            ),
            Err(err) => tracing::warn!(
                user_id,
                from,
                error = %err,
                "could not rewrite the password hash as bcrypt_sha256; the next sign-in tries again"
            ),
        }
    }
}

impl UserManager {
    fn rehash(&self, msg: &Rehash) -> Result<bool, UserError> {
        let hash = self.hasher.hash(&msg.password)?;
        let mut conn = self.conn()?;
        conn.write(|conn| {
            Ok(user::rehash_password(
                conn,
                msg.user_id,
                &msg.verified,
                &hash,
            )?)
        })
    }

    /// After a sign-in verified `password` against `verified`: queues its rehash on these
    /// threads when the hash needs one.
    pub(super) fn queue_rehash(
        &self,
        ctx: &SyncContext<Self>,
        user_id: i64,
        verified: &str,
        password: &str,
    ) {
        if !self.hasher.must_update(verified) {
            return;
        }
        let me = ctx.address();
        if !me.connected() {
            tracing::warn!(
                user_id,
                "the user manager is stopping: the password rehash waits for the next sign-in"
            );
            return;
        }
        me.do_send(Rehash {
            user_id,
            verified: verified.to_owned(),
            password: password.to_owned(),
        });
    }
}
