//! Minting and decoding with one pinned algorithm. Claim names come from settings; times are
//! whole epoch seconds handed in by the caller.

use jsonwebtoken::Header;
use serde_json::{Map, Value};

use super::claims::{Claim, ClaimIndex, Picked};
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

/// A token whose signature and times were checked. The claims the checks read are picked
/// out when it is decoded; all of them ([`Decoded::claims`]) only when a token is derived.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The payload as signed (a JSON object).
    payload: Vec<u8>,
    pub jti: String,
    pub exp: i64,
    /// The session the token belongs to (absent from tokens issued before sessions).
    pub session_id: Option<String>,
    token_type: Option<String>,
    /// The user id claim, when present.
    user_id: Option<Value>,
    /// The security stamp claim: `None` when absent, `Some(None)` when not a string.
    stamp: Option<Option<String>>,
    /// `iat`, when an integer.
    issued_at: Option<i64>,
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
    pub fn user_id(&self) -> Option<i64> {
        match self.user_id.as_ref()? {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Whether the payload carries a user id claim at all.
    pub fn has_user_id(&self) -> bool {
        self.user_id.as_ref().is_some_and(|v| !v.is_null())
    }

    /// The security stamp claim, when a string.
    pub fn stamp(&self) -> Option<&str> {
        self.stamp.as_ref()?.as_deref()
    }

    /// Whether the token carries a stamp claim at all (of any type).
    pub fn has_stamp_claim(&self) -> bool {
        self.stamp.is_some()
    }

    /// `iat`, when it is an integer.
    pub fn issued_at(&self) -> Option<i64> {
        self.issued_at
    }

    /// Every claim, in the token's order.
    pub fn claims(&self) -> Map<String, Value> {
        // The payload parsed as a JSON object when the token was decoded.
        serde_json::from_slice(&self.payload).unwrap_or_default()
    }
}

/// Encodes and decodes every kind of token.
pub struct TokenCodec {
    keys: SigningKeys,
    header: Header,
    /// The header part of the tokens this codec signs (base64url): a token that carries it
    /// needs no header parsing.
    own_header: String,
    names: ClaimNames,
    /// The claims decoding reads, by name.
    claim_index: ClaimIndex,
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
        let header = Header::new(keys.algorithm);
        let names = ClaimNames {
            user_id: settings.user_id_claim.clone(),
            token_type: settings.token_type_claim.clone(),
            jti: settings.jti_claim.clone(),
            revoke: settings.revoke_token_claim.clone(),
            refresh_exp: settings.sliding_token_refresh_exp_claim.clone(),
            session_id: settings.session_id_claim.clone(),
        };
        Self {
            own_header: encoded_header(&header),
            header,
            keys,
            claim_index: ClaimIndex::new(&names),
            names,
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
        let claims = sliding.claims();
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
        payload.extend(self.copied(&claims));
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
        let token = self.keys.encode(&self.header, &self.own_header, &payload)?;
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
        let mut claims =
            Picked::from_json(&payload, &self.claim_index).ok_or(TokenError::Invalid)?;
        self.check_registered_claims(&claims, now)?;
        let exp = match claims.get(Claim::Exp) {
            None => return Err(TokenError::MissingClaim("exp".into())),
            Some(value) => epoch(value).ok_or(TokenError::Invalid)?,
        };
        if exp <= now - self.leeway {
            return Err(TokenError::Expired);
        }
        let jti = match claims.take(Claim::Id) {
            // No token of ours has one, and the id is looked up in the database.
            Some(Value::String(jti)) if has_null(&jti) => return Err(TokenError::Invalid),
            Some(Value::String(jti)) if !jti.is_empty() => jti,
            _ => return Err(TokenError::NoId),
        };
        let session_id = match claims.take(Claim::Session) {
            None => None,
            Some(Value::String(sid)) if !sid.is_empty() && !has_null(&sid) => Some(sid),
            Some(_) => return Err(TokenError::Invalid),
        };
        let text = |value: Option<Value>| match value {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        Ok(Decoded {
            issued_at: claims.get(Claim::IssuedAt).and_then(Value::as_i64),
            token_type: text(claims.take(Claim::Type)),
            user_id: claims.take(Claim::UserId),
            stamp: claims.take(Claim::Stamp).map(|v| text(Some(v))),
            payload,
            jti,
            exp,
            session_id,
        })
    }

    /// The payload (JSON) of a token whose header names the pinned algorithm and whose
    /// signature verifies (constant-time for HMAC).
    fn verified_payload(&self, token: &str) -> Result<Vec<u8>, TokenError> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let (message, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let (header, payload) = message.split_once('.').ok_or(TokenError::Invalid)?;
        // Our own header is known to name the pinned algorithm; any other is read.
        if header != self.own_header {
            let header = URL_SAFE_NO_PAD
                .decode(header)
                .map_err(|_| TokenError::Invalid)?;
            let header: Header =
                serde_json::from_slice(&header).map_err(|_| TokenError::Invalid)?;
            if header.alg != self.keys.algorithm {
                return Err(TokenError::Invalid);
            }
        }
        if !self.keys.verifies(message.as_bytes(), signature) {
            return Err(TokenError::Invalid);
        }
        URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)
    }

    /// PyJWT's checks that fail as "Token is invalid": `iat`/`nbf` in the future, audience,
    /// issuer, and the string-typed `jti`/`sub`.
    fn check_registered_claims(&self, claims: &Picked, now: i64) -> Result<(), TokenError> {
        for claim in [Claim::IssuedAt, Claim::NotBefore] {
            if let Some(value) = claims.get(claim) {
                let at = epoch(value).ok_or(TokenError::Invalid)?;
                if at > now + self.leeway {
                    return Err(TokenError::Invalid);
                }
            }
        }
        for claim in [Claim::Jti, Claim::Subject] {
            if claims.get(claim).is_some_and(|v| !v.is_string()) {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(expected) = &self.audience {
            let ok = match claims.get(Claim::Audience) {
                Some(Value::String(aud)) => aud == expected,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
                _ => false,
            };
            if !ok {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(expected) = &self.issuer
            && claims.get(Claim::Issuer).and_then(Value::as_str) != Some(expected)
        {
            return Err(TokenError::Invalid);
        }
        Ok(())
    }

    /// Checks a sliding token's refresh deadline.
    pub fn check_refresh_exp(&self, token: &Decoded, now: i64) -> Result<(), TokenError> {
        let name = &self.names.refresh_exp;
        let claims = token.claims();
        let deadline = claims
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

/// The header part of a token signed with `header`, as `jsonwebtoken::encode` writes it.
fn encoded_header(header: &Header) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    serde_json::to_vec(header)
        .map(|json| URL_SAFE_NO_PAD.encode(json))
        .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, EncodingKey};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "a-test-signing-key-of-at-least-sixty-four-bytes-for-hs512-tokens!";

    fn codec(algorithm: &str) -> TokenCodec {
        let settings = Settings {
            algorithm: algorithm.into(),
            signing_key: Some(SECRET.to_owned().into()),
            ..Settings::default()
        };
        let keys = SigningKeys::from_settings(&settings, None).unwrap_or_else(|e| panic!("{e}"));
        TokenCodec::new(&settings, keys)
    }

    fn subject() -> Subject {
        Subject {
            user_id: 7,
            stamp: "stamp".into(),
            claims: Vec::new(),
        }
    }

    fn access(codec: &TokenCodec, now: i64) -> Minted {
        let session = SessionClaim {
            id: "0123456789abcdef0123456789abcdef",
            deadline: now + 3600,
        };
        let refresh = codec
            .mint_refresh(&subject(), session, now)
            .unwrap_or_else(|e| panic!("{e}"));
        codec
            .access_for(&refresh.payload, now, None)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `claims` signed with the test secret under `header`.
    fn signed(header: &Header, claims: &Value) -> String {
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        jsonwebtoken::encode(header, claims, &key).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_hmac_algorithm_decodes_its_own_tokens_with_the_claims_they_carry() {
        let now = 1_800_000_000;
        for algorithm in ["HS256", "HS384", "HS512"] {
            let codec = codec(algorithm);
            let minted = access(&codec, now);
            assert!(minted.token.starts_with(&codec.own_header), "{algorithm}");
            let decoded = codec
                .decode(&minted.token, now)
                .unwrap_or_else(|e| panic!("{algorithm}: {e}"));
            assert_eq!(decoded.jti, minted.jti, "{algorithm}");
            assert_eq!(decoded.user_id(), Some(7), "{algorithm}");
            assert_eq!(decoded.stamp(), Some("stamp"), "{algorithm}");
            assert_eq!(decoded.issued_at(), Some(now), "{algorithm}");
            assert_eq!(decoded.claims(), minted.payload, "{algorithm}");
            assert!(
                decoded.expect_kind(TokenKind::Access).is_ok(),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn tokens_are_written_exactly_as_jsonwebtoken_writes_them() {
        let now = 1_800_000_000;
        for algorithm in ["HS256", "HS384", "HS512"] {
            let codec = codec(algorithm);
            let minted = access(&codec, now);
            let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let theirs = jsonwebtoken::encode(&codec.header, &minted.payload, &key)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(minted.token, theirs, "{algorithm}");
        }
    }

    #[test]
    fn a_header_of_another_shape_is_read_and_its_algorithm_checked() {
        let now = 1_800_000_000;
        let codec = codec("HS256");
        let claims = json!({"token_type": "access", "exp": now + 60, "jti": "abc", "user_id": 1});
        let mut with_kid = Header::new(Algorithm::HS256);
        with_kid.kid = Some("k1".into());
        let token = signed(&with_kid, &claims);
        assert!(!token.starts_with(&codec.own_header));
        assert!(
            codec.decode(&token, now).is_ok(),
            "same algorithm, other header"
        );
        let token = signed(&Header::new(Algorithm::HS512), &claims);
        assert!(
            matches!(codec.decode(&token, now), Err(TokenError::Invalid)),
            "another algorithm, same secret"
        );
    }

    #[test]
    fn the_keyed_hmac_accepts_exactly_the_signatures_jsonwebtoken_accepts() {
        let now = 1_800_000_000;
        let codec = codec("HS256");
        let minted = access(&codec, now);
        let (message, signature) = minted
            .token
            .rsplit_once('.')
            .unwrap_or_else(|| panic!("three parts"));
        let last = signature.len() - 1;
        let mut variants = vec![signature.to_owned(), format!("{signature}=")];
        // Every last character: only one encodes the MAC's last bits canonically.
        for c in "AEIMQUYcgkosw048BCDFGHJ-_".chars() {
            variants.push(format!("{}{c}", &signature[..last]));
        }
        variants.push(signature[..last].to_owned());
        variants.push(String::new());
        for variant in variants {
            let theirs = jsonwebtoken::crypto::verify(
                &variant,
                message.as_bytes(),
                &codec.keys.decoding,
                Algorithm::HS256,
            )
            .unwrap_or(false);
            assert_eq!(
                codec.keys.verifies(message.as_bytes(), &variant),
                theirs,
                "{variant}"
            );
            assert_eq!(
                codec.decode(&format!("{message}.{variant}"), now).is_ok(),
                theirs,
                "{variant}"
            );
        }
    }
}
