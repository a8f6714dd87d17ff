//! Minting and decoding with one pinned algorithm. Claim names come from settings; times are
//! whole epoch seconds handed in by the caller.

use jsonwebtoken::Header;
use serde_json::{Map, Value};

use super::{SigningKeys, TokenError, TokenKind};
use crate::config::Settings;
use crate::validation::has_null;

/// The configurable claim names.
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub user_id: String,
    pub token_type: String,
    pub jti: String,
    pub revoke: String,
    pub refresh_exp: String,
    pub session_id: String,
}

/// Who a token is minted for.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: i64,
    pub stamp: String,
    /// Extra claims (user fields), in order.
    pub claims: Vec<(String, Value)>,
}

/// The session a new token family starts: its id (the `sid` claim) and the deadline no token
/// of it outlives.
#[derive(Debug, Clone, Copy)]
pub struct SessionClaim<'a> {
    pub id: &'a str,
    pub deadline: i64,
}

/// A freshly signed token.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// The signed claims, from which derived tokens copy.
    pub payload: Map<String, Value>,
}

/// A token whose signature and times were checked.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub payload: Map<String, Value>,
    pub jti: String,
    pub exp: i64,
    /// The session the token belongs to (absent from tokens issued before sessions).
    pub session_id: Option<String>,
    token_type: Option<String>,
}

impl Decoded {
    /// simplejwt's `verify_token_type`.
    pub fn expect_kind(&self, kind: TokenKind) -> Result<(), TokenError> {
        match self.token_type.as_deref() {
            None => Err(TokenError::NoType),
            Some(t) if t == kind.as_str() => Ok(()),
            Some(_) => Err(TokenError::WrongType),
        }
    }

    /// The user id claim, as a string or a number.
    pub fn user_id(&self, names: &ClaimNames) -> Option<i64> {
        match self.payload.get(&names.user_id)? {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Whether the payload carries a user id claim at all.
    pub fn has_user_id(&self, names: &ClaimNames) -> bool {
        self.payload
            .get(&names.user_id)
            .is_some_and(|v| !v.is_null())
    }

    pub fn stamp(&self, names: &ClaimNames) -> Option<&str> {
        self.payload.get(&names.revoke)?.as_str()
    }
}

/// Encodes and decodes every kind of token.
pub struct TokenCodec {
    keys: SigningKeys,
    header: Header,
    names: ClaimNames,
    access_lifetime: i64,
    refresh_lifetime: i64,
    sliding_lifetime: i64,
    sliding_refresh_lifetime: i64,
    audience: Option<String>,
    issuer: Option<String>,
    leeway: i64,
    check_revoke: bool,
    user_claims: Vec<String>,
    groups_claim: Option<String>,
    permissions_claim: Option<String>,
}

/// Claims a derived token never copies from its parent (simplejwt's `no_copy_claims`).
fn is_copied(names: &ClaimNames, key: &str) -> bool {
    key != names.token_type
        && key != names.jti
        && !matches!(key, "exp" | "iat" | "jti" | "aud" | "iss")
}

impl TokenCodec {
    pub fn new(settings: &Settings, keys: SigningKeys) -> Self {
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4);
        Self {
            header: Header::new(keys.algorithm),
            keys,
            names: ClaimNames {
                user_id: settings.user_id_claim.clone(),
                token_type: settings.token_type_claim.clone(),
                jti: settings.jti_claim.clone(),
                revoke: settings.revoke_token_claim.clone(),
                refresh_exp: settings.sliding_token_refresh_exp_claim.clone(),
                session_id: settings.session_id_claim.clone(),
            },
            access_lifetime: secs(settings.access_token_lifetime),
            refresh_lifetime: secs(settings.refresh_token_lifetime),
            sliding_lifetime: secs(settings.sliding_token_lifetime),
            sliding_refresh_lifetime: secs(settings.sliding_token_refresh_lifetime),
            audience: settings.audience.clone(),
            issuer: settings.issuer.clone(),
            leeway: secs(settings.leeway),
            check_revoke: settings.check_revoke_token,
            user_claims: settings.token_user_claims.clone(),
            groups_claim: settings.token_groups_claim.clone(),
            permissions_claim: settings.token_permissions_claim.clone(),
        }
    }

    pub fn names(&self) -> &ClaimNames {
        &self.names
    }

    pub fn check_revoke(&self) -> bool {
        self.check_revoke
    }

    /// The user fields (`token_user_claims`) copied into new tokens.
    pub fn user_claims(&self) -> &[String] {
        &self.user_claims
    }

    /// The claim names for group names and permissions, when roles go into tokens.
    pub fn role_claims(&self) -> (Option<&str>, Option<&str>) {
        (
            self.groups_claim.as_deref(),
            self.permissions_claim.as_deref(),
        )
    }

    /// A refresh token for the subject, starting a session.
    pub fn mint_refresh(
        &self,
        subject: &Subject,
        session: SessionClaim<'_>,
        now: i64,
    ) -> Result<Minted, String> {
        let mut claims = subject_claims(self, subject);
        claims.insert(self.names.session_id.clone(), Value::from(session.id));
        let exp = (now + self.refresh_lifetime).min(session.deadline);
        self.sign(self.fresh(TokenKind::Refresh, exp, now, claims), now)
    }

    /// A sliding token for the subject, starting a session.
    pub fn mint_sliding(
        &self,
        subject: &Subject,
        session: SessionClaim<'_>,
        now: i64,
    ) -> Result<Minted, String> {
        let mut claims = Map::new();
        claims.insert(
            self.names.refresh_exp.clone(),
            Value::from((now + self.sliding_refresh_lifetime).min(session.deadline)),
        );
        claims.extend(subject_claims(self, subject));
        claims.insert(self.names.session_id.clone(), Value::from(session.id));
        let exp = (now + self.sliding_lifetime).min(session.deadline);
        self.sign(self.fresh(TokenKind::Sliding, exp, now, claims), now)
    }

    /// The access token a refresh token grants: its claims, a new id and times, expiring no
    /// later than `deadline` (the session's) when there is one.
    pub fn access_for(
        &self,
        refresh: &Map<String, Value>,
        now: i64,
        deadline: Option<i64>,
    ) -> Result<Minted, String> {
        let exp = capped(now + self.access_lifetime, deadline);
        self.sign(
            self.fresh(TokenKind::Access, exp, now, self.copied(refresh)),
            now,
        )
    }

    /// The successor of a rotated refresh token: same claims, new id and times, expiring no
    /// later than the session's deadline.
    pub fn rotated(
        &self,
        refresh: &Map<String, Value>,
        jti: &str,
        now: i64,
        deadline: Option<i64>,
    ) -> Result<Minted, String> {
        let exp = capped(now + self.refresh_lifetime, deadline);
        let mut payload = self.fresh(TokenKind::Refresh, exp, now, self.copied(refresh));
        payload.insert(self.names.jti.clone(), Value::from(jti));
        self.sign(payload, now)
    }

    /// A fresh token id, for a successor minted later.
    pub fn new_id(&self) -> String {
        new_jti()
    }

    /// A sliding token renewed: same id and `refresh_exp`, new `exp` and `iat` (no later than
    /// the session's deadline).
    pub fn slid(
        &self,
        sliding: &Decoded,
        now: i64,
        deadline: Option<i64>,
    ) -> Result<Minted, String> {
        let mut payload = Map::new();
        payload.insert(
            self.names.token_type.clone(),
            Value::from(TokenKind::Sliding.as_str()),
        );
        payload.insert(
            "exp".into(),
            Value::from(capped(now + self.sliding_lifetime, deadline)),
        );
        payload.insert("iat".into(), Value::from(now));
        payload.insert(self.names.jti.clone(), Value::from(sliding.jti.clone()));
        payload.extend(self.copied(&sliding.payload));
        self.sign(payload, now)
    }

    fn copied(&self, parent: &Map<String, Value>) -> Map<String, Value> {
        parent
            .iter()
            .filter(|(k, _)| is_copied(&self.names, k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// simplejwt's key order: type, exp, iat, jti, then the rest.
    fn fresh(
        &self,
        kind: TokenKind,
        exp: i64,
        now: i64,
        rest: Map<String, Value>,
    ) -> Map<String, Value> {
        let mut payload = Map::new();
        payload.insert(self.names.token_type.clone(), Value::from(kind.as_str()));
        payload.insert("exp".into(), Value::from(exp));
        payload.insert("iat".into(), Value::from(now));
        payload.insert(self.names.jti.clone(), Value::from(new_jti()));
        payload.extend(rest);
        payload
    }

    fn sign(&self, mut payload: Map<String, Value>, now: i64) -> Result<Minted, String> {
        if let Some(aud) = &self.audience {
            payload.insert("aud".into(), Value::from(aud.clone()));
        }
        if let Some(iss) = &self.issuer {
            payload.insert("iss".into(), Value::from(iss.clone()));
        }
        let jti = payload
            .get(&self.names.jti)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let exp = payload.get("exp").and_then(Value::as_i64).unwrap_or(now);
        let token = jsonwebtoken::encode(&self.header, &payload, &self.keys.encoding)
            .map_err(|e| e.to_string())?;
        Ok(Minted {
            token,
            jti,
            iat: now,
            exp,
            payload,
        })
    }

    /// Verifies signature, algorithm and times, then the presence of `exp` and the id, in
    /// simplejwt's order. The type is checked by the caller with [`Decoded::expect_kind`],
    /// after the blacklist where that applies.
    pub fn decode(&self, token: &str, now: i64) -> Result<Decoded, TokenError> {
        let payload = self.verified_payload(token)?;
        self.check_registered_claims(&payload, now)?;
        let exp = match payload.get("exp") {
            None => return Err(TokenError::MissingClaim("exp".into())),
            Some(value) => epoch(value).ok_or(TokenError::Invalid)?,
        };
        if exp <= now - self.leeway {
            return Err(TokenError::Expired);
        }
        let jti = match payload.get(&self.names.jti) {
            // No token of ours has one, and the id is looked up in the database.
            Some(Value::String(jti)) if has_null(jti) => return Err(TokenError::Invalid),
            Some(Value::String(jti)) if !jti.is_empty() => jti.clone(),
            _ => return Err(TokenError::NoId),
        };
        let session_id = match payload.get(&self.names.session_id) {
            None => None,
            Some(Value::String(sid)) if !sid.is_empty() && !has_null(sid) => Some(sid.clone()),
            Some(_) => return Err(TokenError::Invalid),
        };
        let token_type = payload
            .get(&self.names.token_type)
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Decoded {
            payload,
            jti,
            exp,
            session_id,
            token_type,
        })
    }

    /// The payload of a token whose header names the pinned algorithm and whose signature
    /// verifies (constant-time for HMAC). The payload is parsed once.
    fn verified_payload(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let (message, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let (header, payload) = message.split_once('.').ok_or(TokenError::Invalid)?;
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Invalid)?;
        let header: Header = serde_json::from_slice(&header).map_err(|_| TokenError::Invalid)?;
        if header.alg != self.keys.algorithm {
            return Err(TokenError::Invalid);
        }
        let valid = jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &self.keys.decoding,
            self.keys.algorithm,
        )
        .map_err(|_| TokenError::Invalid)?;
        if !valid {
            return Err(TokenError::Invalid);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)
    }

    /// PyJWT's checks that fail as "Token is invalid": `iat`/`nbf` in the future, audience,
    /// issuer, and the string-typed `jti`/`sub`.
    fn check_registered_claims(
        &self,
        payload: &Map<String, Value>,
        now: i64,
    ) -> Result<(), TokenError> {
        for claim in ["iat", "nbf"] {
            if let Some(value) = payload.get(claim) {
                let at = epoch(value).ok_or(TokenError::Invalid)?;
                if at > now + self.leeway {
                    return Err(TokenError::Invalid);
                }
            }
        }
        for claim in ["jti", "sub"] {
            if payload.get(claim).is_some_and(|v| !v.is_string()) {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(expected) = &self.audience {
            let ok = match payload.get("aud") {
                Some(Value::String(aud)) => aud == expected,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
                _ => false,
            };
            if !ok {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(expected) = &self.issuer
            && payload.get("iss").and_then(Value::as_str) != Some(expected)
        {
            return Err(TokenError::Invalid);
        }
        Ok(())
    }

    /// Checks a sliding token's refresh deadline.
    pub fn check_refresh_exp(&self, token: &Decoded, now: i64) -> Result<(), TokenError> {
        let name = &self.names.refresh_exp;
        let deadline = token
            .payload
            .get(name)
            .ok_or_else(|| TokenError::MissingClaim(name.clone()))?;
        let deadline = epoch(deadline).ok_or(TokenError::Invalid)?;
        if deadline <= now - self.leeway {
            return Err(TokenError::ClaimExpired(name.clone()));
        }
        Ok(())
    }
}

fn subject_claims(codec: &TokenCodec, subject: &Subject) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert(
        codec.names.user_id.clone(),
        Value::from(subject.user_id.to_string()),
    );
    if codec.check_revoke {
        claims.insert(
            codec.names.revoke.clone(),
            Value::from(subject.stamp.clone()),
        );
    }
    for (name, value) in &subject.claims {
        claims.insert(name.clone(), value.clone());
    }
    claims
}

fn capped(exp: i64, deadline: Option<i64>) -> i64 {
    deadline.map_or(exp, |deadline| exp.min(deadline))
}

/// A new session id: 32 lowercase hex characters of randomness.
pub fn new_session_id() -> String {
    new_jti()
}

/// A number of seconds since the epoch; fractions are dropped, as simplejwt does.
fn epoch(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    }
}

/// 32 lowercase hex characters, as simplejwt's `uuid4().hex`.
fn new_jti() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
