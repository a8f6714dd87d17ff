//! The `auth_token_classes` setting, simplejwt's `AUTH_TOKEN_CLASSES`: which token types
//! protected routes (and the check endpoint) accept, tried in order. It is apart from
//! `sliding_tokens`, which only mounts the sliding endpoints: as in simplejwt, a deployment may
//! serve the sliding views and still accept only access tokens.

use crate::jwt::TokenKind;

/// The names `auth_token_classes` accepts.
pub const TOKEN_CLASS_NAMES: [&str; 2] = ["access", "sliding"];

/// The kinds accepted, in order. Unset: `access`, plus `sliding` when the sliding endpoints
/// are served (`sliding_tokens`), as before the setting existed. Set: exactly that list, which
/// must be non-empty, known names, each once.
pub fn token_classes(
    configured: Option<&[String]>,
    sliding_tokens: bool,
) -> Result<Vec<TokenKind>, String> {
    let Some(names) = configured else {
        let mut kinds = vec![TokenKind::Access];
        if sliding_tokens {
            kinds.push(TokenKind::Sliding);
        }
        return Ok(kinds);
    };
    if names.is_empty() {
        return Err(format!(
            "auth_token_classes must name at least one of {}",
            TOKEN_CLASS_NAMES.join(", ")
        ));
    }
    let mut kinds = Vec::with_capacity(names.len());
    for name in names {
        let kind = match name.as_str() {
            "access" => TokenKind::Access,
            "sliding" => TokenKind::Sliding,
            _ => {
                return Err(format!(
                    "auth_token_classes: unknown token class {name:?} (known: {})",
                    TOKEN_CLASS_NAMES.join(", ")
                ));
            }
        };
        if kinds.contains(&kind) {
            return Err(format!("auth_token_classes names {name:?} twice"));
        }
        kinds.push(kind);
    }
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(names: Option<&[&str]>, sliding: bool) -> Result<Vec<TokenKind>, String> {
        let owned: Option<Vec<String>> = names.map(|n| n.iter().map(|s| (*s).to_owned()).collect());
        token_classes(owned.as_deref(), sliding)
    }

    #[test]
    fn unset_follows_the_sliding_endpoints_and_a_list_is_taken_as_it_is() {
        use TokenKind::{Access, Sliding};
        type Case<'a> = (Option<&'a [&'a str]>, bool, Vec<TokenKind>);
        let cases: [Case<'_>; 6] = [
            (None, false, vec![Access]),
            (None, true, vec![Access, Sliding]),
            (Some(&["access"]), true, vec![Access]),
            (Some(&["sliding"]), false, vec![Sliding]),
            (Some(&["sliding", "access"]), true, vec![Sliding, Access]),
            (Some(&["access", "sliding"]), false, vec![Access, Sliding]),
        ];
        for (names, sliding, expected) in cases {
            assert_eq!(classes(names, sliding), Ok(expected), "{names:?} {sliding}");
        }
    }

    #[test]
    fn an_empty_list_an_unknown_name_or_a_repeat_is_refused_with_a_reason() {
        let cases: [(&[&str], &str); 5] = [
            (
                &[],
                "auth_token_classes must name at least one of access, sliding",
            ),
            (&["refresh"], "unknown token class \"refresh\""),
            (&["AccessToken"], "unknown token class \"AccessToken\""),
            (&[""], "unknown token class \"\""),
            (&["access", "access"], "names \"access\" twice"),
        ];
        for (names, expected) in cases {
            let err = classes(Some(names), true).err().unwrap_or_default();
            assert!(err.contains(expected), "{names:?}: {err}");
        }
    }
}
