//! Signing and verifying keys for the one configured algorithm.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::ExposeSecret;
use sha2::{Sha256, Sha384, Sha512};

use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "Unrecognized algorithm type '{0}' (use HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 or EdDSA)"
    )]
    UnknownAlgorithm(String),
    #[error(
        "signing_key is {len} bytes; {algorithm} needs at least {min} random bytes (set a longer key, or unset it to have keyward generate one)"
    )]
    WeakSecret {
        algorithm: String,
        len: usize,
        min: usize,
    },
    #[error("{algorithm} needs {what} (a PEM file): set {setting} or {setting}_file")]
    MissingKey {
        algorithm: String,
        what: &'static str,
        setting: &'static str,
    },
    #[error("set {0} or {0}_file, not both")]
    BothSet(&'static str),
    #[error("cannot read {setting}_file {path}: {cause}")]
    Unreadable {
        setting: &'static str,
        path: String,
        cause: String,
    },
    #[error("{setting} is not a valid {algorithm} key: {cause}")]
    BadKey {
        setting: &'static str,
        algorithm: String,
        cause: String,
    },
    #[error(
        "signing_key and verifying_key do not belong together: a token signed with one does not verify with the other"
    )]
    Mismatch,
}

/// Maps the setting to an algorithm, exactly (case-sensitive, as PyJWT).
pub fn parse_algorithm(name: &str) -> Result<Algorithm, KeyError> {
    Ok(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => return Err(KeyError::UnknownAlgorithm(other.to_owned())),
    })
}

fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// RFC 7518 3.2: an HMAC key at least as long as the hash output.
pub fn min_hmac_key_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

/// True when the algorithm is HMAC and no key is configured: keyward then generates one.
pub fn needs_generated_secret(settings: &Settings) -> bool {
    parse_algorithm(&settings.algorithm).is_ok_and(is_hmac)
        && settings.signing_key.is_none()
        && settings.signing_key_file.is_none()
}

/// The key pair, checked to sign and verify a probe token.
pub struct SigningKeys {
    pub algorithm: Algorithm,
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    /// The HMAC key set up once (HS256/384/512), so a check hashes only the token.
    hmac: Option<HmacKey>,
}

/// An HMAC keyed with the secret: each check starts from a copy of this state instead of
/// hashing the key again (what `jsonwebtoken::crypto::verify` does every time).
#[derive(Clone)]
enum HmacKey {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl HmacKey {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
        Some(match algorithm {
            Algorithm::HS256 => Self::Hs256(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HS384 => Self::Hs384(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HS512 => Self::Hs512(Hmac::new_from_slice(secret).ok()?),
            _ => return None,
        })
    }

    /// The MAC of `message`.
    fn tag(&self, message: &[u8]) -> Vec<u8> {
        fn tag<M: Mac + Clone>(keyed: &M, message: &[u8]) -> Vec<u8> {
            let mut mac = keyed.clone();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::Hs256(keyed) => tag(keyed, message),
            Self::Hs384(keyed) => tag(keyed, message),
            Self::Hs512(keyed) => tag(keyed, message),
        }
    }

    /// Whether `tag` is the MAC of `message` (compared in constant time).
    fn verifies(&self, message: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + Clone>(keyed: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut mac = keyed.clone();
            mac.update(message);
            mac.verify_slice(tag).is_ok()
        }
        match self {
            Self::Hs256(keyed) => check(keyed, message, tag),
            Self::Hs384(keyed) => check(keyed, message, tag),
            Self::Hs512(keyed) => check(keyed, message, tag),
        }
    }
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Builds the keys from settings; `generated` is the stored secret used when none is set.
    pub fn from_settings(settings: &Settings, generated: Option<&[u8]>) -> Result<Self, KeyError> {
        let algorithm = parse_algorithm(&settings.algorithm)?;
        let name = settings.algorithm.clone();
        let signing = read_material(
            settings
                .signing_key
                .as_ref()
                .map(|s| s.expose_secret().as_bytes().to_vec()),
            settings.signing_key_file.as_deref(),
            "signing_key",
        )?;
        let keys = if is_hmac(algorithm) {
            let secret = signing
                .or_else(|| generated.map(<[u8]>::to_vec))
                .ok_or_else(|| KeyError::MissingKey {
                    algorithm: name.clone(),
                    what: "a secret",
                    setting: "signing_key",
                })?;
            let min = min_hmac_key_len(algorithm);
            if secret.len() < min {
                return Err(KeyError::WeakSecret {
                    algorithm: name,
                    len: secret.len(),
                    min,
                });
            }
            let bad = |e: jsonwebtoken::errors::Error| KeyError::BadKey {
                setting: "signing_key",
                algorithm: name.clone(),
                cause: e.to_string(),
            };
            Self {
                algorithm,
                encoding: EncodingKey::from_secret(&secret).map_err(bad)?,
                decoding: DecodingKey::from_secret(&secret).map_err(bad)?,
                hmac: HmacKey::new(algorithm, &secret),
            }
        } else {
            let private = signing.ok_or_else(|| KeyError::MissingKey {
                algorithm: name.clone(),
                what: "a private key",
                setting: "signing_key",
            })?;
            let public = read_material(
                settings
                    .verifying_key
                    .as_ref()
                    .map(|s| s.as_bytes().to_vec()),
                settings.verifying_key_file.as_deref(),
                "verifying_key",
            )?
            .ok_or_else(|| KeyError::MissingKey {
                algorithm: name.clone(),
                what: "a public key",
                setting: "verifying_key",
            })?;
            Self {
                algorithm,
                encoding: pem_encoding_key(algorithm, &private).map_err(|e| KeyError::BadKey {
                    setting: "signing_key",
                    algorithm: name.clone(),
                    cause: e.to_string(),
                })?,
                decoding: pem_decoding_key(algorithm, &public).map_err(|e| KeyError::BadKey {
                    setting: "verifying_key",
                    algorithm: name.clone(),
                    cause: e.to_string(),
                })?,
                hmac: None,
            }
        };
        keys.probe()?;
        Ok(keys)
    }

    /// The token of `claims` under `header`, as `jsonwebtoken::encode` writes it; with an
    /// HMAC key, `encoded_header` (`header` as base64url JSON, written once) is used as it is
    /// and the key is not set up again for each token.
    pub(super) fn encode(
        &self,
        header: &jsonwebtoken::Header,
        encoded_header: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, String> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let Some(hmac) = self.hmac.as_ref().filter(|_| header.alg == self.algorithm) else {
            return jsonwebtoken::encode(header, claims, &self.encoding).map_err(|e| e.to_string());
        };
        let claims = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
        let mut token = String::with_capacity(encoded_header.len() + claims.len() * 4 / 3 + 90);
        token.push_str(encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let tag = hmac.tag(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        Ok(token)
    }

    /// Whether `signature` (base64url, as in a token) signs `message` with this key and
    /// algorithm; what `jsonwebtoken::crypto::verify` answers, without setting the HMAC key
    /// up again for each token.
    pub(super) fn verifies(&self, message: &[u8], signature: &str) -> bool {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        match &self.hmac {
            Some(hmac) => URL_SAFE_NO_PAD
                .decode(signature)
                .is_ok_and(|tag| hmac.verifies(message, &tag)),
            None => {
                jsonwebtoken::crypto::verify(signature, message, &self.decoding, self.algorithm)
                    .unwrap_or(false)
            }
        }
    }

    /// Signs and verifies one token, so a mismatched pair stops the server at start.
    fn probe(&self) -> Result<(), KeyError> {
        let header = jsonwebtoken::Header::new(self.algorithm);
        let claims = serde_json::json!({ "probe": true });
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| {
            KeyError::BadKey {
                setting: "signing_key",
                algorithm: format!("{:?}", self.algorithm),
                cause: e.to_string(),
            }
        })?;
        let mut validation = jsonwebtoken::Validation::new(self.algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&token, &self.decoding, &validation)
            .map_err(|_| KeyError::Mismatch)?;
        let (message, signature) = token.rsplit_once('.').ok_or(KeyError::Mismatch)?;
        if !self.verifies(message.as_bytes(), signature) {
            return Err(KeyError::Mismatch);
        }
        Ok(())
    }
}

fn read_material(
    inline: Option<Vec<u8>>,
    file: Option<&std::path::Path>,
    setting: &'static str,
) -> Result<Option<Vec<u8>>, KeyError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(KeyError::BothSet(setting)),
        (Some(bytes), None) => Ok(Some(bytes)),
        (None, Some(path)) => std::fs::read(path)
            .map(Some)
            .map_err(|e| KeyError::Unreadable {
                setting,
                path: path.display().to_string(),
                cause: e.to_string(),
            }),
        (None, None) => Ok(None),
    }
}

fn pem_encoding_key(alg: Algorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    }
}

fn pem_decoding_key(alg: Algorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<DecodingKey> {
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
        _ => DecodingKey::from_rsa_pem(pem),
    }
}
