//! The security stamp check (`check_revoke_token`): a token names the stamp its user had when
//! it was issued, and is refused once the stamp has changed (a password change, a
//! deactivation, "revoke all"). A rehash to keyward's format keeps the stamp: it is the same
//! password.
//!
//! Tokens issued by Django carry no stamp. A user imported from Django keeps one of two stamps
//! until their password changes, chosen by how the Django project was set up:
//! - [`UNSTAMPED`] (empty) when Django ran with `CHECK_REVOKE_TOKEN = False`: a token without
//!   the stamp claim then counts as carrying the empty stamp, so Django's tokens are accepted
//!   while the stamp is still the imported one, and refused once it is renewed;
//! - [`django_revoke_claim`] of the Django password hash when Django ran with
//!   `CHECK_REVOKE_TOKEN = True` (with keyward's `revoke_token_claim` set to Django's
//!   `REVOKE_TOKEN_CLAIM`, `hash_password` by default): the value Django put in its tokens.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use super::UserSnapshot;
use crate::jwt::Decoded;

/// The stamp of an imported user whose Django tokens carry none.
pub const UNSTAMPED: &str = "";

/// simplejwt's `REVOKE_TOKEN_CLAIM` value for a user: the upper-case hex MD5 of the stored
/// password hash (`get_md5_hash_password`).
pub fn django_revoke_claim(django_password_hash: &str) -> String {
    hex::encode_upper(Md5::digest(django_password_hash.as_bytes()))
}

/// Whether the token carries the user's current security stamp (compared in constant time). A
/// token without the stamp claim carries [`UNSTAMPED`]; one whose claim is not a string never
/// matches.
pub fn stamp_matches(user: &UserSnapshot, token: &Decoded) -> bool {
    let presented = match (token.has_stamp_claim(), token.stamp()) {
        (false, _) => UNSTAMPED,
        (true, Some(stamp)) => stamp,
        (true, None) => return false,
    };
    bool::from(presented.as_bytes().ct_eq(user.security_stamp.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_django_claim_is_the_upper_case_md5_of_the_hash() {
        // hashlib.md5(hash.encode()).hexdigest().upper(), as simplejwt computes it.
        let cases = [
            ("", "D41D8CD98F00B204E9800998ECF8427E", "an empty hash"),
            (
                "pbkdf2_sha256$1$a$b",
                "D189514B36275B5C49334DB961F35162",
                "a pbkdf2 hash",
            ),
        ];
        for (hash, claim, case) in cases {
            assert_eq!(django_revoke_claim(hash), claim, "{case}");
        }
    }
}
