//! The password policy for signup and password changes, with Django's messages.

use std::collections::HashSet;
use std::sync::LazyLock;

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::to_lowercase)
        .collect()
});

/// Every rule the password breaks; empty when it is acceptable.
pub fn violations(password: &str, username: &str, email: &str, min_length: usize) -> Vec<String> {
    let mut out = Vec::new();
    if password.chars().count() < min_length {
        out.push(format!(
            "This password is too short. It must contain at least {min_length} character{}.",
            if min_length == 1 { "" } else { "s" }
        ));
    }
    if too_similar(password, username, email) {
        out.push(TOO_SIMILAR.into());
    }
    let lowered = password.to_lowercase();
    if COMMON.contains(&lowered) {
        out.push("This password is too common.".into());
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        out.push("This password is entirely numeric.".into());
    }
    out
}

pub const TOO_SIMILAR: &str = "The password is too similar to the username.";

/// Whether the password is too close to the username or the local part of the email.
pub fn too_similar(password: &str, username: &str, email: &str) -> bool {
    let lowered = password.to_lowercase();
    let email_local = email.split('@').next().unwrap_or_default();
    [username, email_local]
        .iter()
        .any(|attr| similar(&lowered, &attr.to_lowercase()))
}

/// The password is the attribute, contains it, or is contained in it (attributes of three
/// characters or more).
fn similar(password: &str, attribute: &str) -> bool {
    attribute.chars().count() >= 3 && (password.contains(attribute) || attribute.contains(password))
}

#[cfg(test)]
mod tests {
    use super::violations;

    #[test]
    fn each_rule_names_itself() {
        let cases = [
            ("short", "too short"),
            ("alice-secret-9", "too similar"),
            ("password123", "too common"),
            ("83920174659", "entirely numeric"),
        ];
        for (password, expected) in cases {
            let found = violations(password, "alice", "alice@example.com", 8);
            assert!(
                found.iter().any(|v| v.contains(expected)),
                "{password}: {found:?}"
            );
        }
    }

    #[test]
    fn a_good_password_passes() {
        assert!(violations("tangerine-voyage-41", "alice", "alice@example.com", 8).is_empty());
    }
}
