//! Password hashes: bcrypt over the hex SHA-256 of the password, stored in Django's
//! `bcrypt_sha256$` format, so bytes past bcrypt's 72 still count and Django's hashes verify.
//! Hashing is slow by design: call it from the user manager's threads only.

use sha2::{Digest, Sha256};

const BCRYPT_SHA256: &str = "bcrypt_sha256$";
const BCRYPT: &str = "bcrypt$";

#[derive(Debug, Clone, Copy)]
pub struct PasswordHasher {
    cost: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    pub fn new(cost: u32) -> Self {
        Self { cost }
    }

    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let hashed =
            bcrypt::hash(prehash(password), self.cost).map_err(|e| HashError(e.to_string()))?;
        Ok(format!("{BCRYPT_SHA256}{hashed}"))
    }

    /// Constant-time comparison inside bcrypt; an unknown format never matches.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        // Django's `bcrypt$` (no pre-hash) is accepted too, for imported users.
        if let Some(hash) = stored.strip_prefix(BCRYPT_SHA256) {
            bcrypt::verify(prehash(password), hash).unwrap_or(false)
        } else if let Some(hash) = stored.strip_prefix(BCRYPT) {
            bcrypt::verify(password, hash).unwrap_or(false)
        } else {
            false
        }
    }

    /// A hash of a random password at the configured cost: verified against when the user is
    /// unknown, so that answer takes as long as a wrong password.
    pub fn dummy_hash(&self) -> Result<String, HashError> {
        self.hash(&crate::auth::random_token(24))
    }
}

fn prehash(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
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
        let inner = bcrypt::hash(prehash("hunter22"), 4).unwrap_or_default();
        assert!(hasher.verify("hunter22", &format!("bcrypt_sha256${inner}")));
    }
}
