//! Ending another user's token sessions, on the user manager: the admin REST API and the
//! console. The acting admin is carried by the message and the account rule is applied here,
//! whatever the handler checked: only superusers end a superuser's sessions (as only they
//! change superuser accounts).

use actix::prelude::*;
use time::OffsetDateTime;

use super::user_admin::ONLY_SUPERUSERS;
use super::user_manager::{UserError, UserManager};
use crate::auth::Acting;
use crate::db::models::revocation::{self, Revocations, WhichSessions};
use crate::db::models::user;
use crate::db::stored_time;

/// Ends sessions of user `user_id` (one, all but one, or all) and blacklists their current
/// refresh tokens, in one transaction. Returns what ended, for the in-memory lists: nothing for
/// a session that is not one of the user's live sessions.
#[derive(Message)]
#[rtype(result = "Result<Revocations, UserError>")]
pub struct EndSessionsOf {
    pub by: Acting,
    pub user_id: i64,
    pub which: WhichSessions,
    pub now: OffsetDateTime,
}

impl Handler<EndSessionsOf> for UserManager {
    type Result = Result<Revocations, UserError>;

    fn handle(&mut self, msg: EndSessionsOf, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let target = user::find(&mut conn, msg.user_id)?.ok_or(UserError::NotFound)?;
        if target.is_superuser && !msg.by.is_superuser() {
            return Err(UserError::Forbidden(ONLY_SUPERUSERS));
        }
        Ok(conn.write(|conn| {
            revocation::end_user_sessions(
                conn,
                target.id,
                &msg.which,
                Some(msg.by.user().id),
                stored_time(msg.now),
            )
        })?)
    }
}
