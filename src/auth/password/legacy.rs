//! Django's weak hashers, kept so that users imported with `--allow-legacy-hashes` can sign in
//! once and be rehashed: `md5$<salt>$<hex>` and `sha1$<salt>$<hex>` (the digest of salt then
//! password), unsalted MD5 (32 hex digits, or `md5$$<hex>`) and unsalted SHA-1
//! (`sha1$$<hex>`). `crypt` is refused before this (see the module above).

use md5::Md5;
use sha1::Sha1;
use sha2::Digest;

use super::{Unverifiable, same};
use crate::auth::hash_format::LegacyFormat;

pub(super) fn verify(
    format: LegacyFormat,
    password: &str,
    stored: &str,
) -> Result<bool, Unverifiable> {
    let (expected, computed) = match format {
        LegacyFormat::Md5 => {
            let (salt, hex) = salted(stored, "md5$", "md5")?;
            (hex, digest::<Md5>(salt, password))
        }
        LegacyFormat::Sha1 => {
            let (salt, hex) = salted(stored, "sha1$", "sha1")?;
            (hex, digest::<Sha1>(salt, password))
        }
        LegacyFormat::UnsaltedMd5 => {
            let hex = stored.strip_prefix("md5$$").unwrap_or(stored);
            (hex, digest::<Md5>("", password))
        }
        LegacyFormat::UnsaltedSha1 => {
            let hex = stored
                .strip_prefix("sha1$$")
                .ok_or(Unverifiable::Malformed("unsalted_sha1"))?;
            (hex, digest::<Sha1>("", password))
        }
        LegacyFormat::Crypt => return Err(Unverifiable::Unsupported("crypt")),
    };
    Ok(same(computed.as_bytes(), expected.as_bytes()))
}

/// The salt and hex digest of `<prefix><salt>$<hex>`; the salt is not empty.
fn salted<'s>(
    stored: &'s str,
    prefix: &str,
    name: &'static str,
) -> Result<(&'s str, &'s str), Unverifiable> {
    stored
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_once('$'))
        .filter(|(salt, _)| !salt.is_empty())
        .ok_or(Unverifiable::Malformed(name))
}

/// The lowercase hex digest of the salt followed by the password, as Django computes it.
fn digest<D: Digest>(salt: &str, password: &str) -> String {
    let mut hasher = D::new();
    hasher.update(salt.as_bytes());
    hasher.update(password.as_bytes());
    hex::encode(hasher.finalize())
}
