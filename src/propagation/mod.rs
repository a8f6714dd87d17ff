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

use std::time::Duration;

use crate::config::Settings;
use crate::db::DatabaseUrl;
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

    /// Waits, at most `bound`, until the listener is up (at once on SQLite); whether it is.
    /// An instance that serves before its listener's first catch-up would see the users it
    /// cached meanwhile dropped by it.
    pub async fn wait_until_listening(&self, bound: Duration) -> bool {
        let Some(stats) = self.listener() else {
            return true;
        };
        let started = std::time::Instant::now();
        while !stats.is_listening() {
            if started.elapsed() >= bound {
                return false;
            }
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// The listener's state and counters, on PostgreSQL.
    pub fn listener(&self) -> Option<&ListenerStats> {
        match self {
            Self::SingleInstance => None,
            Self::Notifications(listener) => Some(listener.stats()),
        }
    }
}

/// The warning for a SQLite deployment declared to have several instances (`instances`):
/// they would not see each other's changes at once, only within the polling bounds.
pub fn sqlite_instances_warning(settings: &Settings) -> Option<String> {
    let sqlite = matches!(
        DatabaseUrl::parse(&settings.database_url),
        Ok(DatabaseUrl::Sqlite(_))
    );
    (sqlite && settings.instances > 1).then(|| {
        format!(
            "instances = {}, but a SQLite database serves one keyward process: the others \
             would learn of revocations only every blacklist_sync_interval ({}) and of user \
             changes only when user_cache_ttl ({}) runs out, and all would queue on one file \
             lock; run several instances on PostgreSQL",
            settings.instances,
            seconds(settings.blacklist_sync_interval),
            seconds(settings.user_cache_ttl),
        )
    })
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_with_several_instances_is_warned_of() {
        let settings = |url: &str, instances| Settings {
            database_url: url.into(),
            instances,
            ..Settings::default()
        };
        let warning = sqlite_instances_warning(&settings("sqlite://k.db", 2));
        assert!(
            warning
                .as_deref()
                .is_some_and(|w| w.starts_with("instances = 2")
                    && w.contains("blacklist_sync_interval (5s)")),
            "{warning:?}"
        );
        assert_eq!(
            sqlite_instances_warning(&settings("sqlite://k.db", 1)),
            None
        );
        assert_eq!(
            sqlite_instances_warning(&settings("postgres://h/k", 4)),
            None
        );
    }
}
