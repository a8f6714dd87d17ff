//! Password hashes. keyward writes one format: bcrypt over the hex SHA-256 of the password, as
//! Django's `BCryptSHA256PasswordHasher` writes it (`bcrypt_sha256$...`), so bytes past bcrypt's
//! 72 still count. It verifies every format Django writes (PBKDF2, Argon2, scrypt, bcrypt, and
//! the weak legacy ones), so users imported from Django sign in with their passwords; a hash in
//! any other format, or at a lower cost, is then rewritten ([`PasswordHasher::must_update`]).
//!
//! A stored hash names its own work factor. Hashes come from the database, not the request, but
//! a work factor past [`limits`] is refused rather than run, and a malformed hash never panics.
//! Every comparison is constant-time. Hashing is slow by design: call it from the user
//! manager's threads only.

mod argon2_hasher;
mod bcrypt_hasher;
mod legacy;
mod pbkdf2_hasher;
mod scrypt_hasher;
#[cfg(test)]
mod vectors;

use subtle::ConstantTimeEq;

use super::hash_format::{HashFormat, LegacyFormat};

/// The work a stored hash may ask for before it is refused instead of run.
pub mod limits {
    /// Longest stored hash read (Django's `password` column holds 128 characters).
    pub const MAX_STORED_LEN: usize = 256;
    /// PBKDF2 iterations (Django 5.2 writes 1 000 000, Django 6.0 1 200 000).
    pub const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;
    /// Argon2 memory in KiB (Django writes 102 400, 100 MiB).
    pub const ARGON2_MAX_MEMORY_KIB: u32 = 512 * 1024;
    /// Argon2 memory times passes, in KiB (Django writes 204 800).
    pub const ARGON2_MAX_WORK: u64 = 4 * 1024 * 1024;
    /// Argon2 lanes (Django writes 8).
    pub const ARGON2_MAX_LANES: u32 = 64;
    /// scrypt memory, `128 * n * r` bytes (Django writes 16 MiB).
    pub const SCRYPT_MAX_MEMORY: u64 = 256 * 1024 * 1024;
    /// scrypt work, `n * r * p` (Django writes 2^14 * 8 * 5).
    pub const SCRYPT_MAX_WORK: u64 = 1 << 22;
    /// bcrypt cost, unless the configured cost is higher (Django writes 12).
    pub const BCRYPT_MAX_COST: u32 = 16;
}

const BCRYPT_SHA256: &str = "bcrypt_sha256$";

#[derive(Debug, Clone, Copy)]
pub struct PasswordHasher {
    cost: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Why a stored hash could not be checked at all (it then matches no password). The message
/// names the format, never the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unverifiable {
    #[error("the stored {0} hash is malformed")]
    Malformed(&'static str),
    #[error("the stored {0} hash asks for more work than keyward allows")]
    BeyondLimits(&'static str),
    #[error("{0} hashes are not supported (the password must be reset)")]
    Unsupported(&'static str),
    #[error("the stored hash is in no known format")]
    Unknown,
}

impl PasswordHasher {
    pub fn new(cost: u32) -> Self {
        Self { cost }
    }

    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let hashed = bcrypt::hash(bcrypt_hasher::prehash(password), self.cost)
            .map_err(|e| HashError(e.to_string()))?;
        Ok(format!("{BCRYPT_SHA256}{hashed}"))
    }

    /// Whether `password` matches the stored hash; an unusable, unknown or unverifiable hash
    /// never matches.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        self.check(password, stored).unwrap_or(false)
    }

    /// As [`Self::verify`], telling a hash that could not be checked from a wrong password.
    /// Django's unusable passwords (`!...`, empty) are `Ok(false)`.
    pub fn check(&self, password: &str, stored: &str) -> Result<bool, Unverifiable> {
        let format = HashFormat::of(stored);
        if stored.len() > limits::MAX_STORED_LEN {
            return Err(Unverifiable::Malformed(format.algorithm()));
        }
        let max_cost = self.cost.max(limits::BCRYPT_MAX_COST);
        match format {
            HashFormat::BcryptSha256 => bcrypt_hasher::verify_sha256(password, stored, max_cost),
            HashFormat::Bcrypt => bcrypt_hasher::verify_plain(password, stored, max_cost),
            HashFormat::Pbkdf2Sha256 | HashFormat::Pbkdf2Sha1 => {
                pbkdf2_hasher::verify(password, stored)
            }
            HashFormat::Argon2 => argon2_hasher::verify(password, stored),
            HashFormat::Scrypt => scrypt_hasher::verify(password, stored),
            HashFormat::Legacy(LegacyFormat::Crypt) => Err(Unverifiable::Unsupported("crypt")),
            HashFormat::Legacy(legacy) => legacy::verify(legacy, password, stored),
            HashFormat::Unusable => Ok(false),
            HashFormat::Unknown => Err(Unverifiable::Unknown),
        }
    }

    /// Whether a hash that just verified should be rewritten in keyward's format (Django's
    /// `must_update`): any other format, or `bcrypt_sha256` below the configured cost.
    pub fn must_update(&self, stored: &str) -> bool {
        match HashFormat::of(stored) {
            HashFormat::BcryptSha256 => stored
                .strip_prefix(BCRYPT_SHA256)
                .and_then(bcrypt_hasher::cost)
                .is_none_or(|cost| cost < self.cost),
            _ => true,
        }
    }

    /// Whether checking this stored hash costs about as much as keyward's own (a slow
    /// hasher): a sign-in against any other also checks the dummy hash, so its answer takes as
    /// long.
    pub fn is_slow(stored: &str) -> bool {
        matches!(
            HashFormat::of(stored),
            HashFormat::BcryptSha256
                | HashFormat::Bcrypt
                | HashFormat::Pbkdf2Sha256
                | HashFormat::Pbkdf2Sha1
                | HashFormat::Argon2
                | HashFormat::Scrypt
        )
    }

    /// A hash of a random password at the configured cost: verified against when the user is
    /// unknown, so that answer takes as long as a wrong password.
    pub fn dummy_hash(&self) -> Result<String, HashError> {
        self.hash(&crate::auth::random_token(24))
    }
}

/// Constant-time equality of two encoded hashes (their lengths are not secret).
fn same(computed: &[u8], stored: &[u8]) -> bool {
    bool::from(computed.ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(4);
        let hash = hasher.hash("correct horse").unwrap_or_default();
        assert!(hash.starts_with("bcrypt_sha256$$2b$04$"), "{hash}");
        assert!(hasher.verify("correct horse", &hash));
        assert!(!hasher.verify("correct horsE", &hash));
        assert!(!hasher.verify("correct horse", "plain"));
        assert!(!hasher.must_update(&hash));
    }

    #[test]
    fn bytes_past_72_still_count() {
        let hasher = PasswordHasher::new(4);
        let long = "x".repeat(80);
        let hash = hasher.hash(&long).unwrap_or_default();
        assert!(!hasher.verify(&"x".repeat(79), &hash));
        assert!(hasher.verify(&long, &hash));
    }

    #[test]
    fn hashes_built_as_django_builds_bcrypt_sha256_verify() {
        // Django's BCryptSHA256PasswordHasher: "bcrypt_sha256$" + bcrypt(hex(sha256(password))).
        let hasher = PasswordHasher::new(4);
        let inner = bcrypt::hash(bcrypt_hasher::prehash("hunter22"), 4).unwrap_or_default();
        assert!(hasher.verify("hunter22", &format!("bcrypt_sha256${inner}")));
    }

    #[test]
    fn only_keyward_format_at_the_configured_cost_or_more_is_kept() {
        let at_4 = PasswordHasher::new(4).hash("pw").unwrap_or_default();
        let at_5 = PasswordHasher::new(5).hash("pw").unwrap_or_default();
        let hasher = PasswordHasher::new(5);
        let cases = [
            (
                at_4.as_str(),
                true,
                "bcrypt_sha256 below the configured cost",
            ),
            (at_5.as_str(), false, "bcrypt_sha256 at the configured cost"),
            (
                "bcrypt_sha256$$2b$31$x",
                false,
                "bcrypt_sha256 above the configured cost",
            ),
            (
                "bcrypt_sha256$garbage",
                true,
                "bcrypt_sha256 without a readable cost",
            ),
            ("bcrypt$$2b$12$abc", true, "plain bcrypt"),
            ("pbkdf2_sha256$1000000$salt$hash", true, "pbkdf2"),
            (
                "argon2$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
                true,
                "argon2",
            ),
            ("md5$salt$0123", true, "legacy"),
        ];
        for (stored, expected, case) in cases {
            assert_eq!(hasher.must_update(stored), expected, "{case}");
        }
    }

    #[test]
    fn unusable_unknown_and_unsupported_hashes_never_match() {
        let hasher = PasswordHasher::new(4);
        let cases: [(&str, &str, Result<bool, Unverifiable>, &str); 7] = [
            ("", "", Ok(false), "empty stored value, empty password"),
            ("!", "", Ok(false), "bare unusable marker"),
            (
                "!abcdefghijklmnopqrstuvwxyz0123456789ABCD",
                "x",
                Ok(false),
                "Django's unusable password",
            ),
            (
                "plain",
                "plain",
                Err(Unverifiable::Unknown),
                "a plain text value is not a hash",
            ),
            (
                "sha512$salt$hash",
                "x",
                Err(Unverifiable::Unknown),
                "an unknown algorithm",
            ),
            (
                "crypt$$abN0vN8QbEFKM",
                "x",
                Err(Unverifiable::Unsupported("crypt")),
                "crypt is refused",
            ),
            (
                "pbkdf2_sha256$1$s$",
                "x",
                Ok(false),
                "an empty hash part matches nothing",
            ),
        ];
        for (stored, password, expected, case) in cases {
            assert_eq!(hasher.check(password, stored), expected, "{case}");
        }
    }

    #[test]
    fn an_overlong_stored_value_is_not_read() {
        let stored = format!("pbkdf2_sha256$1$salt${}", "A".repeat(300));
        assert_eq!(
            PasswordHasher::new(4).check("x", &stored),
            Err(Unverifiable::Malformed("pbkdf2_sha256"))
        );
    }

    #[test]
    fn slow_formats_are_told_from_fast_ones() {
        assert!(PasswordHasher::is_slow("pbkdf2_sha1$1$s$h"));
        assert!(PasswordHasher::is_slow("bcrypt_sha256$$2b$04$x"));
        assert!(!PasswordHasher::is_slow("md5$salt$0123"));
        assert!(!PasswordHasher::is_slow("!unusable"));
        assert!(!PasswordHasher::is_slow("crypt$$ab01"));
    }
}
