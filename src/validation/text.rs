//! NUL characters. PostgreSQL cannot store or compare them in text, and no stored value holds
//! one, so a value containing one is refused before it reaches the database (DRF's
//! `ProhibitNullCharactersValidator`, and its message).

/// DRF's message for a value containing `\0`.
pub const NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// Whether the text contains a NUL character.
pub fn has_null(text: &str) -> bool {
    text.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::has_null;

    #[test]
    fn only_the_nul_character_counts() {
        assert!(has_null("ad\0min"));
        assert!(has_null("\0"));
        assert!(!has_null("admin"));
        assert!(!has_null("\\0"));
    }
}
