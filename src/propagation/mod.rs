//! How changes made by one keyward instance reach the others sharing its PostgreSQL database.
//!
//! Two paths, one fast and one bounded:
//! - **Notifications.** Database triggers announce every change that alters what a request may
//!   do (revocations and their lifting, session ends, user, group and permission changes) in
//!   the writing transaction; rotated refresh tokens are announced by their instance right
//!   after the commit. Each instance listens on one connection of its own and applies what it
//!   hears at once ([`applier`]), catching up from the database on every (re)connect.
//! - **Polling**, always running, the bound whenever notifications cannot arrive: the
//!   revocation sync every `blacklist_sync_interval` and the user cache's `user_cache_ttl`.
//!
//! SQLite serves a single instance: nothing to propagate.

pub mod applier;
pub mod notice;

use crate::db::listener::{Listener, ListenerStats};

/// How this instance learns of changes made by others.
#[derive(Debug, Clone)]
pub enum Propagation {
    /// SQLite: one instance, nothing to learn.
    SingleInstance,
    /// PostgreSQL: notifications while the listener is up, polling otherwise.
    Notifications(Listener),
}

impl Propagation {
    /// `listening`, `polling` (the listener is down: changes arrive within the polling bounds)
    /// or `single-instance`, as `/health/ready` reports it.
    pub fn state(&self) -> &'static str {
        match self {
            Self::SingleInstance => "single-instance",
            Self::Notifications(listener) if listener.stats().is_listening() => "listening",
            Self::Notifications(_) => "polling",
        }
    }

    /// The listener's state and counters, on PostgreSQL.
    pub fn listener(&self) -> Option<&ListenerStats> {
        match self {
            Self::SingleInstance => None,
            Self::Notifications(listener) => Some(listener.stats()),
        }
    }
}
