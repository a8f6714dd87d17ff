//! Console actions in the audit log: every event carries the signed-in admin as its actor
//! and the console session (`console:<id>`) it was made in.

use actix_web::HttpRequest;

use super::session::ConsoleSession;
use crate::audit::{EventKind, NewEvent};

/// An event of `kind` made by the signed-in admin in this request.
pub fn event(req: &HttpRequest, session: &ConsoleSession, kind: EventKind) -> NewEvent {
    NewEvent::from_request(req, kind)
        .actor(session.user.id)
        .session(&format!("console:{}", session.row.id))
}
