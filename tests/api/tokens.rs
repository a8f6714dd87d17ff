//! JWTs in tests: reading a token's parts, and minting tokens the way keyward does (or the
//! way a forger would) with a known key.

use keyward::config::Settings;
use serde_json::{Value, json};

use crate::helpers::INITIAL_STAMP;

/// The HMAC secret of apps built with [`with_signing_key`], so tests can forge tokens.
pub const SIGNING_KEY: &str = "keyward-test-signing-key-0123456789abcdef";

/// Settings hook: sign with [`SIGNING_KEY`] instead of a generated secret.
pub fn with_signing_key(settings: &mut Settings) {
    settings.signing_key = Some(secrecy::SecretString::from(SIGNING_KEY));
}

/// The decoded payload (middle part) of a JWT, without checking anything.
pub fn claims_of(token: &str) -> Value {
    decode_part(token, 1)
}

/// The decoded header (first part) of a JWT.
pub fn header_of(token: &str) -> Value {
    decode_part(token, 0)
}

fn decode_part(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let part = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("JWT part {index} is not base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT part {index} is not JSON: {e}"))
}

/// Signs `claims` with any algorithm and HMAC key, as a forger (or another issuer) would.
pub fn sign(algorithm: jsonwebtoken::Algorithm, key: &[u8], claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(key)
        .unwrap_or_else(|e| panic!("test signing key: {e}"));
    jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), claims, &key)
        .unwrap_or_else(|e| panic!("signing a test token: {e}"))
}

/// Signs `claims` the way apps built with [`with_signing_key`] do (HS256, [`SIGNING_KEY`]).
pub fn sign_valid(claims: &Value) -> String {
    sign(
        jsonwebtoken::Algorithm::HS256,
        SIGNING_KEY.as_bytes(),
        claims,
    )
}

/// An `alg: none` token: no signature at all.
pub fn unsigned(claims: &Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

/// A fresh 32-hex-digit token id.
pub fn new_jti() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The claims keyward itself writes into a token of `token_type` for `user_id`, issued at
/// `now` and living `lifetime` seconds (with the default claim names and stamp check).
pub fn keyward_claims(token_type: &str, user_id: i64, now: i64, lifetime: i64) -> Value {
    json!({
        "token_type": token_type,
        "exp": now + lifetime,
        "iat": now,
        "jti": new_jti(),
        "user_id": user_id.to_string(),
        "stamp": INITIAL_STAMP,
    })
}
