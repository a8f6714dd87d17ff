//! Django's `ScryptPasswordHasher` (Django 4.0+): `scrypt$<n>$<salt>$<r>$<p>$<hash>`, the hash
//! being 64 bytes of scrypt over the password and the salt's UTF-8 bytes, in standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::pbkdf2_hasher::count;
use super::{Unverifiable, limits, same};

const NAME: &str = "scrypt";
const MALFORMED: Unverifiable = Unverifiable::Malformed(NAME);

pub(super) fn verify(password: &str, stored: &str) -> Result<bool, Unverifiable> {
    let mut parts = stored.splitn(6, '$').skip(1);
    let (Some(n), Some(salt), Some(r), Some(p), Some(hash)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(MALFORMED);
    };
    let wide = u64::from(u32::MAX);
    let (n, r, p) = (
        count(n, u64::MAX, NAME)?,
        count(r, wide, NAME)?,
        count(p, wide, NAME)?,
    );
    if n < 2 || !n.is_power_of_two() {
        return Err(MALFORMED);
    }
    let memory = n.saturating_mul(r).saturating_mul(128);
    if memory > limits::SCRYPT_MAX_MEMORY
        || n.saturating_mul(r).saturating_mul(p) > limits::SCRYPT_MAX_WORK
    {
        return Err(Unverifiable::BeyondLimits(NAME));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| MALFORMED)?;
    let narrow = |v: u64| u32::try_from(v).map_err(|_| MALFORMED);
    let params = scrypt::Params::new(log_n, narrow(r)?, narrow(p)?).map_err(|_| MALFORMED)?;
    let mut computed = [0u8; 64];
    scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut computed)
        .map_err(|_| MALFORMED)?;
    Ok(same(STANDARD.encode(computed).as_bytes(), hash.as_bytes()))
}
