//! The event a sign-in attempt leaves, whatever its outcome. A refused attempt records the
//! username as typed (the log is for administrators; the answer to the client stays the same
//! for every refusal).

use std::sync::Arc;

use actix_web::HttpRequest;
use time::OffsetDateTime;

use super::{EventKind, NewEvent};
use crate::actors::user_manager::UserError;
use crate::auth::UserSnapshot;

/// The event of a sign-in at `now` through `via` (`token`, `sliding`, `console`); `None`
/// when the attempt failed for another reason (the database), which says nothing of the
/// credentials.
pub fn sign_in_event(
    req: &HttpRequest,
    typed: &str,
    outcome: &Result<Arc<UserSnapshot>, UserError>,
    via: &str,
    now: OffsetDateTime,
) -> Option<NewEvent> {
    let event = |kind| NewEvent::from_request(req, kind).at(now);
    match outcome {
        Ok(user) => Some(
            event(EventKind::LoginSucceeded)
                .actor(user.id)
                .subject(user.id, &user.username)
                .detail(via),
        ),
        Err(UserError::InvalidCredentials) => {
            Some(event(EventKind::LoginFailed).username(typed).detail(via))
        }
        Err(UserError::Throttled(wait)) => Some(
            event(EventKind::LoginLocked)
                .username(typed)
                .detail(format!(
                    "{via}; locked for {} s more",
                    wait.as_secs().max(1)
                )),
        ),
        Err(_) => None,
    }
}
