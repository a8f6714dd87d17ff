//! Tokens: what each kind carries, the keys, and one pinned encode/decode path. Decoding follows
//! simplejwt's checks and messages, in its order, with the clock passed in.

mod claims;
mod codec;
mod error;
mod keys;

pub use codec::{ClaimNames, Decoded, Minted, SessionClaim, Subject, TokenCodec, new_session_id};
pub use error::TokenError;
pub use keys::{KeyError, SigningKeys, min_hmac_key_len, needs_generated_secret, parse_algorithm};

/// User fields that `token_user_claims` may copy into tokens.
pub const USER_CLAIM_FIELDS: [&str; 6] = [
    "username",
    "email",
    "first_name",
    "last_name",
    "is_staff",
    "is_superuser",
];

/// What a token is for; written to the `token_type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Access,
    Refresh,
    Sliding,
}

impl TokenKind {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Sliding => "sliding",
        }
    }

    /// simplejwt's class name, used in the `messages` of a 401 on protected routes.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Access => "AccessToken",
            Self::Refresh => "RefreshToken",
            Self::Sliding => "SlidingToken",
        }
    }
}
