//! Django's `PBKDF2PasswordHasher` and `PBKDF2SHA1PasswordHasher`:
//! `pbkdf2_sha256$<iterations>$<salt>$<hash>`, the hash being PBKDF2-HMAC of the password with
//! the salt's UTF-8 bytes, as long as the digest, in standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::Sha256;

use super::{Unverifiable, limits, same};

pub(super) fn verify(password: &str, stored: &str) -> Result<bool, Unverifiable> {
    let sha1 = stored.starts_with("pbkdf2_sha1$");
    let name = if sha1 { "pbkdf2_sha1" } else { "pbkdf2_sha256" };
    let mut parts = stored.splitn(4, '$').skip(1);
    let (Some(iterations), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Unverifiable::Malformed(name));
    };
    let iterations = count(iterations, limits::PBKDF2_MAX_ITERATIONS.into(), name)?;
    let iterations = u32::try_from(iterations).map_err(|_| Unverifiable::BeyondLimits(name))?;
    let (password, salt) = (password.as_bytes(), salt.as_bytes());
    let computed = if sha1 {
        let mut out = [0u8; 20];
        pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
        STANDARD.encode(out)
    } else {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
        STANDARD.encode(out)
    };
    Ok(same(computed.as_bytes(), hash.as_bytes()))
}

/// A positive decimal work factor of at most `max`: malformed unless it is all digits and not
/// zero, beyond the limits when larger (however many digits).
pub(super) fn count(text: &str, max: u64, name: &'static str) -> Result<u64, Unverifiable> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Unverifiable::Malformed(name));
    }
    match text.parse::<u64>() {
        Ok(0) => Err(Unverifiable::Malformed(name)),
        Ok(n) if n <= max => Ok(n),
        _ => Err(Unverifiable::BeyondLimits(name)),
    }
}
