//! What the limit server and its token minter share: the signing key, how a token is minted,
//! and the one table the refresh route writes.
//!
//! Tokens look like keyward's: HS256, `token_type`, `exp`, `iat`, `jti` (32 hex characters)
//! and a `user_id`, so the same wrk scripts drive both servers.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

/// Lifetime of the access tokens the refresh route mints (keyward's default).
pub const ACCESS_LIFETIME: i64 = 5 * 60;
/// Lifetime of refresh tokens (keyward's default).
pub const REFRESH_LIFETIME: i64 = 24 * 3600;

/// The refresh route's table: one row per refresh token minted, spent at most once.
/// `expires_at` is in epoch seconds.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS refresh_tokens (
    jti text PRIMARY KEY,
    user_id bigint,
    expires_at bigint NOT NULL,
    spent boolean NOT NULL DEFAULT false
)";

/// The HS256 key shared with keyward, from `LIMIT_SIGNING_KEY`.
pub struct Keys {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// HS256, `exp` required, no leeway.
    pub validation: Validation,
    header: Header,
}

impl Keys {
    pub fn from_env() -> Result<Self, String> {
        let secret = std::env::var("LIMIT_SIGNING_KEY").unwrap_or_default();
        if secret.len() < 32 {
            return Err("set LIMIT_SIGNING_KEY to the HS256 secret (32 bytes or more)".into());
        }
        let decoding = DecodingKey::from_secret(secret.as_bytes())
            .map_err(|e| format!("bad LIMIT_SIGNING_KEY: {e}"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let encoding = EncodingKey::from_secret(secret.as_bytes())
            .map_err(|e| format!("bad LIMIT_SIGNING_KEY: {e}"))?;
        Ok(Self {
            encoding,
            decoding,
            validation,
            header: Header::new(Algorithm::HS256),
        })
    }

    /// A signed token of `kind` carrying `claims` (user claims copied from its parent), with a
    /// new `jti` and times from `now`; the token, its jti and its `exp`.
    pub fn mint(
        &self,
        kind: &str,
        claims: &Map<String, Value>,
        now: i64,
        lifetime: i64,
    ) -> Result<(String, String, i64), String> {
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let exp = now + lifetime;
        let mut payload = Map::with_capacity(claims.len() + 4);
        payload.insert("token_type".into(), Value::from(kind));
        payload.insert("exp".into(), Value::from(exp));
        payload.insert("iat".into(), Value::from(now));
        payload.insert("jti".into(), Value::from(jti.as_str()));
        for (name, value) in claims {
            if !matches!(name.as_str(), "token_type" | "exp" | "iat" | "jti") {
                payload.insert(name.clone(), value.clone());
            }
        }
        let token = jsonwebtoken::encode(&self.header, &payload, &self.encoding)
            .map_err(|e| e.to_string())?;
        Ok((token, jti, exp))
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The PostgreSQL URL of the limit's own database, from `LIMIT_DATABASE_URL`.
pub fn database_url() -> Result<String, String> {
    std::env::var("LIMIT_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .ok_or_else(|| "set LIMIT_DATABASE_URL (postgres://...) for the refresh route".into())
}
