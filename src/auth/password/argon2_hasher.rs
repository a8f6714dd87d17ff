//! Django's `Argon2PasswordHasher`: `argon2` followed by the PHC string argon2-cffi writes,
//! `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` (salt and hash in standard base64
//! without padding). Django before 1.10.1 wrote `argon2i` and, with argon2-cffi before 16, no
//! `v=` (version 0x10); argon2-cffi verifies every variant, and so does this.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::pbkdf2_hasher::count;
use super::{Unverifiable, limits, same};

const NAME: &str = "argon2";
const MALFORMED: Unverifiable = Unverifiable::Malformed(NAME);

/// What the PHC string says.
struct Encoded {
    algorithm: Algorithm,
    version: Version,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

pub(super) fn verify(password: &str, stored: &str) -> Result<bool, Unverifiable> {
    let encoded = parse(stored)?;
    let params = Params::new(
        encoded.memory_kib,
        encoded.passes,
        encoded.lanes,
        Some(encoded.hash.len()),
    )
    .map_err(|_| MALFORMED)?;
    let mut computed = vec![0u8; encoded.hash.len()];
    Argon2::new(encoded.algorithm, encoded.version, params)
        .hash_password_into(password.as_bytes(), &encoded.salt, &mut computed)
        .map_err(|_| MALFORMED)?;
    Ok(same(&computed, &encoded.hash))
}

fn parse(stored: &str) -> Result<Encoded, Unverifiable> {
    let rest = stored.strip_prefix("argon2$").ok_or(MALFORMED)?;
    let parts: Vec<&str> = rest.split('$').collect();
    let (variant, version, params, salt, hash) = match parts.as_slice() {
        [variant, version, params, salt, hash] => (*variant, Some(*version), *params, *salt, *hash),
        [variant, params, salt, hash] => (*variant, None, *params, *salt, *hash),
        _ => return Err(MALFORMED),
    };
    let algorithm = match variant {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return Err(MALFORMED),
    };
    let version = match version {
        None | Some("v=16") => Version::V0x10,
        Some("v=19") => Version::V0x13,
        Some(_) => return Err(MALFORMED),
    };
    let (memory_kib, passes, lanes) = work(params)?;
    let decode = |text: &str| STANDARD_NO_PAD.decode(text).map_err(|_| MALFORMED);
    let (salt, hash) = (decode(salt)?, decode(hash)?);
    if !(8..=64).contains(&salt.len()) || !(4..=64).contains(&hash.len()) {
        return Err(MALFORMED);
    }
    Ok(Encoded {
        algorithm,
        version,
        memory_kib,
        passes,
        lanes,
        salt,
        hash,
    })
}

/// `m=<KiB>,t=<passes>,p=<lanes>`, each once, checked against the limits.
fn work(params: &str) -> Result<(u32, u32, u32), Unverifiable> {
    let (mut memory, mut passes, mut lanes) = (None, None, None);
    for pair in params.split(',') {
        let (key, value) = pair.split_once('=').ok_or(MALFORMED)?;
        let slot = match key {
            "m" => &mut memory,
            "t" => &mut passes,
            "p" => &mut lanes,
            _ => return Err(MALFORMED),
        };
        if slot.is_some() {
            return Err(MALFORMED);
        }
        *slot = Some(count(value, u64::from(u32::MAX), NAME)?);
    }
    let (Some(memory), Some(passes), Some(lanes)) = (memory, passes, lanes) else {
        return Err(MALFORMED);
    };
    let beyond = memory > u64::from(limits::ARGON2_MAX_MEMORY_KIB)
        || memory.saturating_mul(passes) > limits::ARGON2_MAX_WORK
        || lanes > u64::from(limits::ARGON2_MAX_LANES);
    if beyond {
        return Err(Unverifiable::BeyondLimits(NAME));
    }
    let narrow = |n: u64| u32::try_from(n).map_err(|_| MALFORMED);
    Ok((narrow(memory)?, narrow(passes)?, narrow(lanes)?))
}
