//! `AuthUer`: simplejwt's `JWTAuthentication` as an extractor. The hot path stays in memory:
//! signature and claims, the revocation list (sliding tokens) and the cached user; the user
//! manager is asked only when the cache misses.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::stamp::stamp_matches;
use super::{UserCache, UserSnapshot, bearer_token};
use crate::actors::ASK_TIMEOUT;
use crate::actors::ended_sessions::EndedSessions;
use crate::actors::revoked::RevokedSet;
use crate::actors::user_manager::{LoadUser, UserReader};
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{ApiError, TokenClassMessage};
use crate::jwt::{Decoded, TokenCodec, TokenError, TokenKind};
use crate::metrics::{Mailbox, timed};
use actix_web::dev::Payload;
use actix_web::http::header::HeaderName;
use actix_web::{FromRequest, HttpRequest, web};

/// How protected routes read credentials.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub header_name: HeaderName,
    pub header_types: Vec<String>,
    /// simplejwt's `AUTH_TOKEN_CLASSES` (`auth_token_classes`), tried in order.
    pub token_kinds: Vec<TokenKind>,
    pub check_user_is_active: bool,
}

impl AuthSettings {
    /// The settings' view for the extractors. `auth_token_classes` is assumed validated
    /// ([`Settings::validate`]); an invalid list would accept access tokens only.
    pub fn from_settings(settings: &Settings) -> Self {
        let token_kinds = settings
            .auth_token_kinds()
            .unwrap_or_else(|_| vec![TokenKind::Access]);
        Self {
            header_name: HeaderName::try_from(settings.auth_header_name.as_str())
                .unwrap_or(actix_web::http::header::AUTHORIZATION),
            header_types: settings.auth_header_types.clone(),
            token_kinds,
            check_user_is_active: settings.check_user_is_active,
        }
    }

    /// The `WWW-Authenticate` value of a 401.
    pub fn challenge(&self) -> String {
        format!(
            "{} realm=\"api\"",
            self.header_types.first().map_or("Bearer", String::as_str)
        )
    }
}

/// An authenticated caller: the user as currently known, and the token they presented.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: Arc<UserSnapshot>,
    pub token: Decoded,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await?.ok_or(ApiError::NotAuthenticated) })
    }
}

fn data<T: 'static>(req: &HttpRequest) -> Result<&web::Data<T>, ApiError> {
    req.app_data::<web::Data<T>>().ok_or_else(|| {
        ApiError::Internal(format!("{} is not registered", std::any::type_name::<T>()))
    })
}

/// `Ok(None)` when the request carries no credentials of ours (anonymous).
pub async fn authenticate(req: &HttpRequest) -> Result<Option<AuthUser>, ApiError> {
    let settings = data::<AuthSettings>(req)?;
    let header = req
        .headers()
        .get(&settings.header_name)
        .map(|v| v.as_bytes());
    let Some(raw) = bearer_token(header, &settings.header_types)? else {
        return Ok(None);
    };
    let codec = data::<TokenCodec>(req)?;
    let now = data::<Clock>(req)?.now().unix_timestamp();
    let (token, kind) = validated_token(
        raw,
        codec,
        data::<RevokedSet>(req)?,
        &settings.token_kinds,
        now,
    )?;

    let user = token_user(req, &token, codec, settings.check_user_is_active).await?;
    // After the user checks, so a deactivated user or a changed password is named as such.
    if data::<EndedSessions>(req)?.holds(&token) {
        return Err(ApiError::NoValidTokenType(vec![TokenClassMessage {
            token_class: kind.class_name(),
            token_type: kind.as_str(),
            message: TokenError::Blacklisted.to_string(),
        }]));
    }
    Ok(Some(AuthUser { user, token }))
}

/// The user a valid token stands for, if a protected route would accept them: the token names
/// a user, who still exists, is active (when `check_active`) and has the token's stamp.
pub async fn token_user(
    req: &HttpRequest,
    token: &Decoded,
    codec: &TokenCodec,
    check_active: bool,
) -> Result<Arc<UserSnapshot>, ApiError> {
    if !token.has_user_id() {
        return Err(no_user_id());
    }
    let user = match token.user_id() {
        Some(id) => find_user(req, id).await?,
        None => None,
    };
    let user = user.ok_or(ApiError::AuthenticationCode {
        detail: "User not found".into(),
        code: "user_not_found",
    })?;
    check_user(&user, token, codec, check_active)?;
    Ok(user)
}

/// simplejwt's answer to a token without the user id claim.
pub fn no_user_id() -> ApiError {
    ApiError::AuthenticationCode {
        detail: "Token contained no recognizable user identification".into(),
        code: "token_not_valid",
    }
}

/// Tries each accepted kind in order; all failing is one 401 listing every reason.
fn validated_token(
    raw: &[u8],
    codec: &TokenCodec,
    revoked: &RevokedSet,
    kinds: &[TokenKind],
    now: i64,
) -> Result<(Decoded, TokenKind), ApiError> {
    let decoded = std::str::from_utf8(raw)
        .map_err(|_| TokenError::Invalid)
        .and_then(|t| codec.decode(t, now));
    let mut messages = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        let verdict = decoded.as_ref().map_err(Clone::clone).and_then(|token| {
            if kind == TokenKind::Sliding && revoked.contains(&token.jti) {
                return Err(TokenError::Blacklisted);
            }
            token.expect_kind(kind)
        });
        match verdict {
            Ok(()) => {
                return decoded
                    .map(|token| (token, kind))
                    .map_err(|_| ApiError::Internal("decoded token vanished".into()));
            }
            Err(err) => messages.push(TokenClassMessage {
                token_class: kind.class_name(),
                token_type: kind.as_str(),
                message: err.to_string(),
            }),
        }
    }
    Err(ApiError::NoValidTokenType(messages))
}

pub async fn find_user(req: &HttpRequest, id: i64) -> Result<Option<Arc<UserSnapshot>>, ApiError> {
    if let Some(hit) = data::<UserCache>(req)?.get(id) {
        return Ok(Some(hit));
    }
    let readers = data::<UserReader>(req)?;
    let call = readers.0.send(LoadUser(id)).timeout(ASK_TIMEOUT);
    let loaded = timed(req, Mailbox::UserReader, call).await?;
    loaded.map_err(crate::api::user_error)
}

/// The checks on the user behind a valid token: active, and the stamp still current.
pub fn check_user(
    user: &UserSnapshot,
    token: &Decoded,
    codec: &TokenCodec,
    check_active: bool,
) -> Result<(), ApiError> {
    if check_active && !user.is_active {
        return Err(ApiError::AuthenticationCode {
            detail: "User is inactive".into(),
            code: "user_inactive",
        });
    }
    if codec.check_revoke() && !stamp_matches(user, token) {
        return Err(ApiError::AuthenticationCode {
            detail: "The user's password has been changed.".into(),
            code: "password_changed",
        });
    }
    Ok(())
}
