//! The two in-memory lists request handlers read, revoked jtis and ended sessions, and the ways
//! the token blacklist changes them together.

use std::collections::HashSet;
use std::sync::Arc;

use super::ended_sessions::EndedSessions;
use super::expiring_ids::{IdKey, key};
use super::revoked::RevokedSet;
use crate::db::models::revocation::Revocations;

/// The in-memory lists request handlers read.
#[derive(Clone)]
pub struct Lists {
    pub revoked: Arc<RevokedSet>,
    pub ended: Arc<EndedSessions>,
}

/// The keys both lists held at one moment.
#[derive(Debug, Clone, Default)]
pub struct ListKeys {
    pub revoked: HashSet<IdKey>,
    pub ended: HashSet<IdKey>,
}

impl Lists {
    /// Adds what the database has revoked.
    pub fn remember(&self, revocations: &Revocations) {
        self.remember_except(revocations, &HashSet::new());
    }

    /// Adds what the database has revoked, but for the ids in `lifted` (revocations lifted
    /// since the rows were read).
    pub fn remember_except(&self, revocations: &Revocations, lifted: &HashSet<IdKey>) {
        let kept = |id: &str| lifted.is_empty() || !lifted.contains(&key(id));
        for row in revocations.tokens.iter().filter(|row| kept(&row.jti)) {
            self.revoked
                .insert(&row.jti, row.expires_at.assume_utc().unix_timestamp());
        }
        for session in revocations.sessions.iter().filter(|s| kept(&s.id)) {
            self.ended.insert(&session.id, self.ended.until(session));
        }
    }

    /// What both lists hold now.
    pub fn keys(&self) -> ListKeys {
        ListKeys {
            revoked: self.revoked.keys(),
            ended: self.ended.keys(),
        }
    }

    /// Brings the lists to what the database holds (`loaded`, all of it), given what they held
    /// before it was read (`before`): an id held then but not in the database was lifted (or has
    /// expired) and leaves; ids added since `before` stay (they are newer than the read).
    /// Returns the keys that left.
    pub fn replace(&self, before: &ListKeys, loaded: &Revocations) -> Vec<IdKey> {
        let revoked: HashSet<IdKey> = loaded.tokens.iter().map(|r| key(&r.jti)).collect();
        let ended: HashSet<IdKey> = loaded.sessions.iter().map(|s| key(&s.id)).collect();
        let mut gone = Vec::new();
        for k in before.revoked.difference(&revoked) {
            self.revoked.remove_key(k);
            gone.push(*k);
        }
        for k in before.ended.difference(&ended) {
            self.ended.remove_key(k);
            gone.push(*k);
        }
        self.remember(loaded);
        gone
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::db::models::token::Revoked;
    use crate::db::models::token_session::Ended;

    fn lists() -> Lists {
        Lists {
            revoked: Arc::new(RevokedSet::default()),
            ended: Arc::new(EndedSessions::new(std::time::Duration::from_secs(300), 0)),
        }
    }

    fn revoked(jti: &str) -> Revoked {
        Revoked {
            jti: jti.into(),
            expires_at: datetime!(2100-01-01 0:00),
        }
    }

    fn ended(id: &str) -> Ended {
        Ended {
            id: id.into(),
            user_id: 1,
            ended_at: datetime!(2099-12-31 0:00),
            expires_at: datetime!(2100-01-01 0:00),
        }
    }

    #[test]
    fn a_replace_drops_what_was_lifted_and_keeps_what_came_after_the_read() {
        let lists = lists();
        lists.remember(&Revocations {
            tokens: vec![revoked("kept"), revoked("lifted")],
            sessions: vec![ended("open-again"), ended("still-ended")],
        });
        let before = lists.keys();
        lists.revoked.insert("newer", 4_102_444_800);
        let loaded = Revocations {
            tokens: vec![revoked("kept"), revoked("from-the-database")],
            sessions: vec![ended("still-ended")],
        };
        let gone = lists.replace(&before, &loaded);
        assert_eq!(gone.len(), 2);
        for jti in ["kept", "from-the-database", "newer"] {
            assert!(lists.revoked.contains(jti), "{jti}");
        }
        assert!(!lists.revoked.contains("lifted"));
        assert!(lists.ended.contains("still-ended"));
        assert!(!lists.ended.contains("open-again"));
    }

    #[test]
    fn ids_lifted_since_a_read_are_not_added_back_by_it() {
        let lists = lists();
        let lifted = HashSet::from([key("lifted"), key("reopened")]);
        lists.remember_except(
            &Revocations {
                tokens: vec![revoked("lifted"), revoked("revoked")],
                sessions: vec![ended("reopened")],
            },
            &lifted,
        );
        assert!(lists.revoked.contains("revoked"));
        assert!(!lists.revoked.contains("lifted"));
        assert!(!lists.ended.contains("reopened"));
    }
}
