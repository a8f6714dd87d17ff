//! What kind of password hash a stored value is, read from its prefix as Django writes it
//! (`<algorithm>$...`). Used by password verification (which hasher to run, whether to rehash)
//! and by the Django import (which hashes to accept). Nothing here verifies a password.

/// The formats keyward recognises. `Legacy` formats are weak (fast, unsalted or both): the
/// import refuses them unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFormat {
    /// `bcrypt_sha256$$2b$<cost>$...`: keyward's own format (Django's `BCryptSHA256PasswordHasher`).
    BcryptSha256,
    /// `bcrypt$$2b$<cost>$...` (Django's `BCryptPasswordHasher`: no pre-hash).
    Bcrypt,
    /// `pbkdf2_sha256$<iterations>$<salt>$<hash>` (Django's default).
    Pbkdf2Sha256,
    /// `pbkdf2_sha1$<iterations>$<salt>$<hash>`.
    Pbkdf2Sha1,
    /// `argon2$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>` (or `argon2i`, with or without `v=`).
    Argon2,
    /// `scrypt$<n>$<salt>$<r>$<p>$<hash>`.
    Scrypt,
    /// `md5$`, `sha1$`, `unsalted_md5` (32 hex digits or `md5$$`), `unsalted_sha1` (`sha1$$`), `crypt$`.
    Legacy(LegacyFormat),
    /// Django's unusable password (`!` followed by anything) or an empty value: never matches.
    Unusable,
    /// Anything else: never matches.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyFormat {
    Md5,
    Sha1,
    UnsaltedMd5,
    UnsaltedSha1,
    Crypt,
}

impl HashFormat {
    /// Reads the format from a stored hash's prefix; never fails.
    pub fn of(stored: &str) -> Self {
        if stored.is_empty() || stored.starts_with('!') {
            return Self::Unusable;
        }
        if stored.len() == 32 && stored.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Self::Legacy(LegacyFormat::UnsaltedMd5);
        }
        let Some((algorithm, rest)) = stored.split_once('$') else {
            return Self::Unknown;
        };
        match algorithm {
            "bcrypt_sha256" => Self::BcryptSha256,
            "bcrypt" => Self::Bcrypt,
            "pbkdf2_sha256" => Self::Pbkdf2Sha256,
            "pbkdf2_sha1" => Self::Pbkdf2Sha1,
            "argon2" => Self::Argon2,
            "scrypt" => Self::Scrypt,
            "md5" if rest.starts_with('$') => Self::Legacy(LegacyFormat::UnsaltedMd5),
            "md5" => Self::Legacy(LegacyFormat::Md5),
            "sha1" if rest.starts_with('$') => Self::Legacy(LegacyFormat::UnsaltedSha1),
            "sha1" => Self::Legacy(LegacyFormat::Sha1),
            "unsalted_md5" => Self::Legacy(LegacyFormat::UnsaltedMd5),
            "unsalted_sha1" => Self::Legacy(LegacyFormat::UnsaltedSha1),
            "crypt" => Self::Legacy(LegacyFormat::Crypt),
            _ => Self::Unknown,
        }
    }

    /// The algorithm's name as Django's hashers call it (`pbkdf2_sha256`, `unsalted_md5`, ...).
    pub fn algorithm(self) -> &'static str {
        match self {
            Self::BcryptSha256 => "bcrypt_sha256",
            Self::Bcrypt => "bcrypt",
            Self::Pbkdf2Sha256 => "pbkdf2_sha256",
            Self::Pbkdf2Sha1 => "pbkdf2_sha1",
            Self::Argon2 => "argon2",
            Self::Scrypt => "scrypt",
            Self::Legacy(LegacyFormat::Md5) => "md5",
            Self::Legacy(LegacyFormat::Sha1) => "sha1",
            Self::Legacy(LegacyFormat::UnsaltedMd5) => "unsalted_md5",
            Self::Legacy(LegacyFormat::UnsaltedSha1) => "unsalted_sha1",
            Self::Legacy(LegacyFormat::Crypt) => "crypt",
            Self::Unusable => "unusable",
            Self::Unknown => "unknown",
        }
    }

    pub fn is_legacy(self) -> bool {
        matches!(self, Self::Legacy(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_django_prefix_is_recognised() {
        let cases = [
            ("bcrypt_sha256$$2b$12$abc", HashFormat::BcryptSha256),
            ("bcrypt$$2b$12$abc", HashFormat::Bcrypt),
            ("pbkdf2_sha256$870000$salt$hash=", HashFormat::Pbkdf2Sha256),
            ("pbkdf2_sha1$870000$salt$hash=", HashFormat::Pbkdf2Sha1),
            (
                "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
                HashFormat::Argon2,
            ),
            ("scrypt$16384$salt$8$1$hash=", HashFormat::Scrypt),
            ("md5$salt$0123", HashFormat::Legacy(LegacyFormat::Md5)),
            ("md5$$0123", HashFormat::Legacy(LegacyFormat::UnsaltedMd5)),
            ("sha1$salt$0123", HashFormat::Legacy(LegacyFormat::Sha1)),
            ("sha1$$0123", HashFormat::Legacy(LegacyFormat::UnsaltedSha1)),
            ("crypt$$ab0123", HashFormat::Legacy(LegacyFormat::Crypt)),
            (
                "5f4dcc3b5aa765d61d8327deb882cf99",
                HashFormat::Legacy(LegacyFormat::UnsaltedMd5),
            ),
            ("!Xk3kd9", HashFormat::Unusable),
            ("", HashFormat::Unusable),
            ("plain", HashFormat::Unknown),
            ("sha512$salt$hash", HashFormat::Unknown),
        ];
        for (stored, expected) in cases {
            assert_eq!(HashFormat::of(stored), expected, "{stored}");
        }
    }

    #[test]
    fn only_weak_formats_are_legacy() {
        assert!(HashFormat::of("md5$salt$0123").is_legacy());
        assert!(!HashFormat::of("pbkdf2_sha1$1$s$h").is_legacy());
        assert_eq!(HashFormat::of("sha1$$0").algorithm(), "unsalted_sha1");
    }
}
