//! The `Authorization` header as simplejwt reads it.

use crate::error::ApiError;

/// The token in `<scheme> <token>`, or `None` when the header is absent, empty or names a
/// scheme that is not ours (so another authenticator may answer). The scheme is compared
/// exactly; a header of our scheme with other than two parts is a 401.
pub fn bearer_token<'a>(
    header: Option<&'a [u8]>,
    schemes: &[String],
) -> Result<Option<&'a [u8]>, ApiError> {
    let Some((scheme, rest)) = header.and_then(next_part) else {
        return Ok(None);
    };
    if !schemes.iter().any(|s| s.as_bytes() == scheme) {
        return Ok(None);
    }
    match next_part(rest) {
        Some((token, rest)) if next_part(rest).is_none() => Ok(Some(token)),
        _ => Err(ApiError::AuthenticationCode {
            detail: "Authorization header must contain two space-delimited values".into(),
            code: "bad_authorization_header",
        }),
    }
}

/// The first whitespace-delimited part of `bytes`, and what follows it.
fn next_part(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..];
    Some(rest.split_at(first_whitespace(rest)))
}

/// Where the first ASCII whitespace byte of `bytes` is (its length when there is none). A
/// token is long and has none: eight bytes are checked at a time for any byte up to `b' '`
/// (every ASCII whitespace byte is), and only such a group is looked at byte by byte.
fn first_whitespace(bytes: &[u8]) -> usize {
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const BELOW: u64 = u64::from_ne_bytes([b' ' + 1; 8]);
    let mut at = 0;
    for group in bytes.chunks_exact(8) {
        let word = group.try_into().map(u64::from_ne_bytes).unwrap_or(u64::MAX);
        // Non-zero exactly when some byte is below `b' ' + 1` (bytes of 0x80 and above are
        // masked out by `!word`; a borrow only ever starts at such a byte).
        if word.wrapping_sub(BELOW) & !word & HIGHS != 0 {
            break;
        }
        at += 8;
    }
    // From the first group with a hit (or the last few bytes) on, exactly.
    bytes[at..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(bytes.len(), |offset| at + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(header: Option<&str>) -> Result<Option<String>, ()> {
        let schemes = vec!["Bearer".to_owned()];
        bearer_token(header.map(str::as_bytes), &schemes)
            .map(|t| t.map(|t| String::from_utf8_lossy(t).into_owned()))
            .map_err(|_| ())
    }

    #[test]
    fn whitespace_is_found_wherever_it_is_in_a_long_token() {
        let token = "a".repeat(40);
        assert_eq!(first_whitespace(token.as_bytes()), 40);
        for at in 0..40 {
            for ws in [b' ', b'\t', b'\n', b'\r', 0x0c] {
                let mut bytes = token.clone().into_bytes();
                bytes[at] = ws;
                assert_eq!(first_whitespace(&bytes), at, "{ws:#x} at {at}");
            }
            // Control characters and bytes of 0x80 and above are not whitespace.
            for other in [0x01, 0x0b, 0x1f, 0x7f, 0x80, 0xa0, 0xff] {
                let mut bytes = token.clone().into_bytes();
                bytes[at] = other;
                assert_eq!(first_whitespace(&bytes), 40, "{other:#x} at {at}");
            }
        }
    }

    #[test]
    fn simplejwt_header_table() {
        assert_eq!(read(None), Ok(None), "absent");
        assert_eq!(read(Some("")), Ok(None), "empty");
        assert_eq!(
            read(Some("bearer tok")),
            Ok(None),
            "scheme is case-sensitive"
        );
        assert_eq!(read(Some("Wrong tok")), Ok(None), "other scheme");
        assert_eq!(read(Some("Bearer tok")), Ok(Some("tok".into())));
        assert_eq!(
            read(Some("Bearer  \ttok ")),
            Ok(Some("tok".into())),
            "any whitespace"
        );
        assert_eq!(read(Some("Bearer")), Err(()), "one part");
        assert_eq!(read(Some("Bearer a b")), Err(()), "three parts");
    }
}
