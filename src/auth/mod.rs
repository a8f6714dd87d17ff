//! Who is calling: the Authorization header, password hashing and policy, the cached user
//! state, and the request extractors built on them.

mod extractor;
mod guard;
mod hash_format;
mod header;
mod password;
pub mod permissions;
pub mod policy;
mod stamp;
pub mod throttle;
mod token_classes;
mod user_cache;

pub use extractor::{
    AuthSettings, AuthUser, authenticate, check_user, find_user, no_user_id, token_user,
};
pub use guard::{Acting, Allowed, StaffUser, SuperUser};
pub use hash_format::{HashFormat, LegacyFormat};
pub use header::bearer_token;
pub use password::{HashError, PasswordHasher, Unverifiable, limits as password_limits};
pub use permissions::{
    AllowAny, And, Caller, IsAdminUser, IsAuthenticated, IsAuthenticatedOrReadOnly, IsSuperUser,
    Model, ModelPermissions, Not, Or, PermissionList, Policy, RequirePermissions,
};
pub use stamp::{UNSTAMPED, django_revoke_claim, stamp_matches};
pub use token_classes::{TOKEN_CLASS_NAMES, token_classes};
pub use user_cache::{Rendered, UserCache, UserSnapshot};

/// A random URL-safe string of `bytes` random bytes (base64url, no padding).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
