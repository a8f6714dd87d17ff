//! Usernames as Django keeps them: NFKC-normalised (`AbstractBaseUser.normalize_username`)
//! before they are checked, stored or looked up, so `ａｄｍｉｎ` (fullwidth) and `admin` are one
//! name; then Django's `UnicodeUsernameValidator` and `max_length=150`.

use unicode_normalization::UnicodeNormalization;

pub const INVALID_USERNAME: &str = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
pub const USERNAME_TOO_LONG: &str = "Ensure this field has no more than 150 characters.";

/// The NFKC form of a username.
pub fn normalize_username(username: &str) -> String {
    username.nfkc().collect()
}

/// Why a (normalised, non-empty) username is refused, if it is.
pub fn username_problem(username: &str) -> Option<&'static str> {
    if username.chars().count() > 150 {
        Some(USERNAME_TOO_LONG)
    } else if !username
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        Some(INVALID_USERNAME)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_become_one_name() {
        assert_eq!(normalize_username("ａｄｍｉｎ"), "admin");
        assert_eq!(normalize_username("ﬁle"), "file");
        assert_eq!(normalize_username("admin"), "admin");
    }

    #[test]
    fn the_validator_sees_the_normalised_name() {
        // U+2474 is a letter-like number; its NFKC form has parentheses.
        assert_eq!(username_problem("⑴"), None);
        assert_eq!(
            username_problem(&normalize_username("⑴")),
            Some(INVALID_USERNAME)
        );
        assert_eq!(username_problem(&"a".repeat(151)), Some(USERNAME_TOO_LONG));
        assert_eq!(username_problem("a b"), Some(INVALID_USERNAME));
        assert_eq!(username_problem("a\0b"), Some(INVALID_USERNAME));
    }
}
