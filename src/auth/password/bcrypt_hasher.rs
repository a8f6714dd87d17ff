//! Django's `BCryptSHA256PasswordHasher` (`bcrypt_sha256$` + bcrypt of the hex SHA-256 of the
//! password: keyward's own format) and `BCryptPasswordHasher` (`bcrypt$` + bcrypt of the
//! password itself, which counts only its first 72 bytes).

use sha2::{Digest, Sha256};

use super::Unverifiable;

/// The hex SHA-256 of a password, which bcrypt then hashes.
pub(super) fn prehash(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

/// The cost of a bcrypt string (`$2b$<cost>$...`).
pub(super) fn cost(bcrypt: &str) -> Option<u32> {
    let mut parts = bcrypt.split('$');
    let (Some(""), Some(_variant), Some(cost)) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    if cost.len() != 2 {
        return None;
    }
    cost.parse().ok()
}

pub(super) fn verify_sha256(
    password: &str,
    stored: &str,
    max_cost: u32,
) -> Result<bool, Unverifiable> {
    let hash = bounded(stored, "bcrypt_sha256$", "bcrypt_sha256", max_cost)?;
    bcrypt::verify(prehash(password), hash).map_err(|_| Unverifiable::Malformed("bcrypt_sha256"))
}

pub(super) fn verify_plain(
    password: &str,
    stored: &str,
    max_cost: u32,
) -> Result<bool, Unverifiable> {
    let hash = bounded(stored, "bcrypt$", "bcrypt", max_cost)?;
    bcrypt::verify(password, hash).map_err(|_| Unverifiable::Malformed("bcrypt"))
}

/// The bcrypt string after `prefix`, if its cost is within bounds.
fn bounded<'s>(
    stored: &'s str,
    prefix: &str,
    name: &'static str,
    max_cost: u32,
) -> Result<&'s str, Unverifiable> {
    let hash = stored
        .strip_prefix(prefix)
        .ok_or(Unverifiable::Malformed(name))?;
    match cost(hash) {
        None => Err(Unverifiable::Malformed(name)),
        Some(cost) if cost > max_cost => Err(Unverifiable::BeyondLimits(name)),
        Some(_) => Ok(hash),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_is_read_from_the_bcrypt_string() {
        let cases = [
            ("$2b$12$abcdefghijklmnopqrstuu", Some(12), "2b, cost 12"),
            ("$2a$04$x", Some(4), "2a, cost 4"),
            ("$2b$4$x", None, "one digit"),
            ("$2b$xx$x", None, "not a number"),
            ("2b$12$x", None, "no leading dollar"),
            ("$2b", None, "truncated"),
            ("", None, "empty"),
        ];
        for (bcrypt, expected, case) in cases {
            assert_eq!(cost(bcrypt), expected, "{case}");
        }
    }

    #[test]
    fn a_cost_past_the_limit_is_refused_before_any_work() {
        let stored = "bcrypt$$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234";
        assert_eq!(
            verify_plain("x", stored, 16),
            Err(Unverifiable::BeyondLimits("bcrypt"))
        );
    }
}
