//! Events for ended sessions: one `session_ended` naming the session when one ended, one
//! `sessions_revoked` with the count when several did, nothing when none did.

use super::{EventKind, NewEvent};
use crate::db::models::token_session::Ended;

/// The event for `ended`, built on `base` (the request's time and client, the actor); `why`
/// says what ended them ("logout", "ended by an administrator", ...).
pub fn sessions_ended(base: NewEvent, ended: &[Ended], why: &str) -> Option<NewEvent> {
    match ended {
        [] => None,
        [one] => Some(
            base.kind_of(EventKind::SessionEnded)
                .subject_id(one.user_id)
                .session(&one.id)
                .detail(why),
        ),
        [first, ..] => Some(
            base.kind_of(EventKind::SessionsRevoked)
                .subject_id(first.user_id)
                .detail(format!("{} sessions: {why}", ended.len())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn ended(id: &str) -> Ended {
        Ended {
            id: id.into(),
            user_id: 7,
            ended_at: datetime!(2026-12-04 12:00),
            expires_at: datetime!(2026-12-05 12:00),
        }
    }

    #[test]
    fn one_session_is_named_and_several_are_counted() {
        let base = NewEvent::new(EventKind::SessionEnded, datetime!(2026-12-04 12:00 UTC));
        assert_eq!(sessions_ended(base.clone(), &[], "logout"), None);
        let one = sessions_ended(base.clone(), &[ended("a")], "logout");
        let one = one.map(|e| e.row().kind.to_owned());
        assert_eq!(one.as_deref(), Some("session_ended"));
        let many = sessions_ended(base, &[ended("a"), ended("b")], "revoke others");
        let row = many.map(|e| (e.row().kind.to_owned(), e.row().detail.to_owned()));
        assert_eq!(
            row,
            Some((
                "sessions_revoked".into(),
                "2 sessions: revoke others".into()
            ))
        );
    }
}
