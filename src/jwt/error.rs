/// Why a token was refused; the text is simplejwt's `detail`, clients compare it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token is invalid")]
    Invalid,
    #[error("Token is expired")]
    Expired,
    #[error("Token is blacklisted")]
    Blacklisted,
    #[error("Token has no '{0}' claim")]
    MissingClaim(String),
    #[error("Token '{0}' claim has expired")]
    ClaimExpired(String),
    #[error("Token has no id")]
    NoId,
    #[error("Token has no type")]
    NoType,
    #[error("Token has wrong type")]
    WrongType,
}
