//! The sign-in throttle's rules, shared by the token endpoints and the console. Each failed
//! sign-in counts against three counters:
//!
//! - the (client address, username) pair, with a low limit: guessing one account's password
//!   from one place locks that pair only, so an attacker cannot lock the owner out;
//! - the username from any address, with a higher limit: guessing spread over many addresses;
//! - the client address for any usernames, with a much higher ceiling: one address trying
//!   many accounts (password spraying).
//!
//! Usernames are counted whether or not the account exists, so the throttle reveals nothing.
//! A counter past its limit is locked for `login_lockout`, doubled for each further failure up
//! to `login_window`; a counter is forgotten `login_window` after its last failure.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::config::Settings;
use crate::db::models::login_failure::{self, NewFailure};
use crate::db::{DbConn, DbError, stored_time};

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Pair,
    Username,
    Address,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pair => "pair",
            Self::Username => "username",
            Self::Address => "address",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Pair, Self::Username, Self::Address]
            .into_iter()
            .find(|s| s.as_str() == stored)
    }
}

/// The limits and lock durations.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub per_pair: i64,
    pub per_username: i64,
    pub per_address: i64,
    pub lockout: Duration,
    pub window: Duration,
}

impl ThrottlePolicy {
    /// The policy of `settings`; `None` when `login_throttle` is off.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        settings.login_throttle.then(|| Self {
            per_pair: settings.login_attempts_per_pair.into(),
            per_username: settings.login_attempts_per_username.into(),
            per_address: settings.login_attempts_per_address.into(),
            lockout: settings.login_lockout,
            window: settings.login_window,
        })
    }

    pub fn limit(&self, scope: Scope) -> i64 {
        match scope {
            Scope::Pair => self.per_pair,
            Scope::Username => self.per_username,
            Scope::Address => self.per_address,
        }
    }

    /// How long a counter at `failures` is locked after its last failure (`None` below the
    /// limit): `lockout` at the limit, doubled for each failure past it, at most `window`.
    pub fn lock_for(&self, scope: Scope, failures: i64) -> Option<Duration> {
        let past = failures
            .checked_sub(self.limit(scope))
            .filter(|p| *p >= 0)?;
        let doublings = u32::try_from(past).unwrap_or(u32::MAX).min(30);
        Some(
            self.lockout
                .saturating_mul(1u32 << doublings)
                .min(self.window),
        )
    }
}

/// Stale counters are purged once every this many failures (per thread).
const PURGE_EVERY: u64 = 64;

/// Where an attempt stands before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// How long until the attempt may be made, when one of its counters is locked.
    pub locked_for: Option<Duration>,
    /// Whether the (address, username) pair has failures to forget on success.
    pub pair_failed: bool,
}

/// The throttle as one sign-in thread runs it over its database connection. The happy path
/// costs one read ([`Throttle::standing`]); a failure one upsert, plus one update per counter
/// it locks.
#[derive(Debug, Clone)]
pub struct Throttle {
    policy: ThrottlePolicy,
    failures_seen: u64,
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures_seen: 0,
        }
    }

    /// Counters whose last failure is at or before this are forgotten.
    fn forget_before(&self, now: OffsetDateTime) -> PrimitiveDateTime {
        stored_time(now - self.policy.window)
    }

    /// Reads the attempt's three counters.
    pub fn standing(
        &self,
        conn: &mut DbConn,
        keys: &AttemptKeys,
        now: OffsetDateTime,
    ) -> Result<Standing, DbError> {
        let rows = login_failure::find(conn, &keys.all().map(|k| k.digest.as_str()))?;
        let at = stored_time(now);
        let locked_for = rows
            .iter()
            .filter_map(|r| r.locked_until)
            .filter(|until| *until > at)
            .max()
            .map(|until| Duration::try_from(until - at).unwrap_or(Duration::ZERO));
        let forget_before = self.forget_before(now);
        let pair_failed = rows
            .iter()
            .any(|r| r.key_digest == keys.pair.digest && r.last_failed_at > forget_before);
        Ok(Standing {
            locked_for,
            pair_failed,
        })
    }

    /// Counts a failure on the attempt's three counters and locks those past their limit.
    /// Returns the longest lock it started, if any.
    pub fn count_failure(
        &mut self,
        conn: &mut DbConn,
        keys: &AttemptKeys,
        now: OffsetDateTime,
    ) -> Result<Option<Duration>, DbError> {
        let at = stored_time(now);
        let forget_before = self.forget_before(now);
        let rows: Vec<NewFailure<'_>> = keys
            .all()
            .iter()
            .map(|k| NewFailure {
                key_digest: &k.digest,
                scope: k.scope.as_str(),
                username: &k.username,
                address: &k.address,
                failures: 1,
                last_failed_at: at,
                locked_until: None,
            })
            .collect();
        let mut longest = None;
        for (digest, failures) in login_failure::record(conn, &rows, forget_before)? {
            let scope = keys
                .all()
                .iter()
                .find(|k| k.digest == digest)
                .map(|k| k.scope);
            let Some(lock) = scope.and_then(|s| self.policy.lock_for(s, failures)) else {
                continue;
            };
            login_failure::lock(conn, &digest, stored_time(now + lock))?;
            longest = longest.max(Some(lock));
        }
        if let Some(lock) = longest {
            tracing::info!(lock_secs = lock.as_secs(), "sign-in counter locked");
        }
        self.failures_seen += 1;
        if self.failures_seen.is_multiple_of(PURGE_EVERY) {
            login_failure::purge(conn, forget_before, at)?;
        }
        Ok(longest)
    }

    /// Forgets the failures of the attempt's (address, username) pair, after a success.
    pub fn forget_pair(&self, conn: &mut DbConn, keys: &AttemptKeys) -> Result<(), DbError> {
        login_failure::clear(conn, &keys.pair.digest)?;
        Ok(())
    }
}

/// One counter: its scope, whose it is (for the console) and the digest it is stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterKey {
    pub digest: String,
    pub scope: Scope,
    /// The username as counted (lower-cased), shortened for display; empty for an address.
    pub username: String,
    /// The client address as counted; empty for a username.
    pub address: String,
}

/// The longest username kept for display (Django's limit is 150).
const SHOWN_USERNAME: usize = 150;

impl CounterKey {
    fn new(scope: Scope, username: &str, address: &str) -> Self {
        let mut hasher = Sha256::new();
        for part in [scope.as_str(), username, address] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        Self {
            digest: hex::encode(hasher.finalize()),
            scope,
            username: username
                .chars()
                .take(SHOWN_USERNAME)
                .map(|c| if c == '\0' { '\u{fffd}' } else { c })
                .collect(),
            address: address.to_owned(),
        }
    }
}

/// The three counters one sign-in attempt touches.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    pub pair: CounterKey,
    pub username: CounterKey,
    pub address: CounterKey,
}

impl AttemptKeys {
    /// Usernames are counted case-insensitively; an IPv6 client is counted by its /64, which
    /// one subscriber usually holds whole.
    pub fn new(username: &str, address: Option<IpAddr>) -> Self {
        let username = username.to_lowercase();
        let address = counted_address(address);
        Self {
            pair: CounterKey::new(Scope::Pair, &username, &address),
            username: CounterKey::new(Scope::Username, &username, ""),
            address: CounterKey::new(Scope::Address, "", &address),
        }
    }

    pub fn all(&self) -> [&CounterKey; 3] {
        [&self.pair, &self.username, &self.address]
    }
}

fn counted_address(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let net = ipnet::Ipv6Net::new(v6, 64).map(|n| n.trunc());
            net.map_or_else(|_| v6.to_string(), |n| n.to_string())
        }
        Some(v4) => v4.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            per_pair: 5,
            per_username: 20,
            per_address: 100,
            lockout: Duration::from_secs(60),
            window: Duration::from_secs(3600),
        }
    }

    #[test]
    fn a_counter_locks_at_its_limit_and_the_lock_doubles_up_to_the_window() {
        let p = policy();
        assert_eq!(p.lock_for(Scope::Pair, 4), None);
        assert_eq!(p.lock_for(Scope::Pair, 5), Some(Duration::from_secs(60)));
        assert_eq!(p.lock_for(Scope::Pair, 6), Some(Duration::from_secs(120)));
        assert_eq!(p.lock_for(Scope::Pair, 10), Some(Duration::from_secs(1920)));
        assert_eq!(p.lock_for(Scope::Pair, 11), Some(Duration::from_secs(3600)));
        assert_eq!(
            p.lock_for(Scope::Pair, i64::MAX),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(p.lock_for(Scope::Username, 19), None);
        assert_eq!(
            p.lock_for(Scope::Address, 100),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn keys_ignore_case_and_group_ipv6_by_its_64() {
        let a = AttemptKeys::new("Alice", "2001:db8:1:2::5".parse().ok());
        let b = AttemptKeys::new("alice", "2001:db8:1:2:ffff::9".parse().ok());
        assert_eq!(a.pair, b.pair);
        assert_eq!(a.address.address, "2001:db8:1:2::/64");
        let mapped = AttemptKeys::new("alice", "::ffff:192.0.2.1".parse().ok());
        assert_eq!(mapped.address.address, "192.0.2.1");
        let other = AttemptKeys::new("alice", "192.0.2.2".parse().ok());
        assert_ne!(mapped.pair.digest, other.pair.digest);
        assert_eq!(mapped.username.digest, other.username.digest);
    }

    #[test]
    fn the_parts_of_a_key_cannot_run_into_each_other() {
        let a = CounterKey::new(Scope::Pair, "ab", "c");
        let b = CounterKey::new(Scope::Pair, "a", "bc");
        assert_ne!(a.digest, b.digest);
        let nul = CounterKey::new(Scope::Username, "a\0b", "");
        assert_eq!(nul.username, "a\u{fffd}b", "a NUL is never stored");
    }
}
