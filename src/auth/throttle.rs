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

use crate::config::Settings;

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
