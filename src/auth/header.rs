//! The `Authorization` header as simplejwt reads it.

use crate::error::ApiError;

/// The token in `<scheme> <token>`, or `None` when the header is absent, empty or names a
/// scheme that is not ours (so another authenticator may answer). The scheme is compared
/// exactly; a header of our scheme with other than two parts is a 401.
pub fn bearer_token<'a>(
    header: Option<&'a [u8]>,
    schemes: &[String],
) -> Result<Option<&'a [u8]>, ApiError> {
    let Some(header) = header else {
        return Ok(None);
    };
    let mut parts = header
        .split(u8::is_ascii_whitespace)
        .filter(|p| !p.is_empty());
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !schemes.iter().any(|s| s.as_bytes() == scheme) {
        return Ok(None);
    }
    match (parts.next(), parts.next()) {
        (Some(token), None) => Ok(Some(token)),
        _ => Err(ApiError::AuthenticationCode {
            detail: "Authorization header must contain two space-delimited values".into(),
            code: "bad_authorization_header",
        }),
    }
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
