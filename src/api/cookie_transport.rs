//! How the token endpoints hand out and take back the refresh token (`token_transport`).
//!
//! With `body` (the default) this is simplejwt's wire: tokens in the JSON bodies. With
//! `cookie`, answers that carry a refresh token (sign-in, refresh, password change) put it in
//! an HttpOnly cookie instead, set once per path that reads it (refresh and logout; sliding
//! tokens: sliding refresh), and the body keeps only the access token, for the page to hold in
//! memory. Refresh and logout then read the cookie, from a trusted page only
//! ([`super::origin_check`]); a request without the cookie may still send the token in its
//! body. A sliding token is its own access token, so it stays in the body as well. The cookie
//! expires with its token; logout removes it (whether or not the token was still good), and so
//! does any refusal of a cookie whose token no longer decodes (a changed signing key).

use actix_web::cookie::{Cookie, time::OffsetDateTime};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use base64::Engine;
use serde_json::Value;

use super::body;
use super::fields::{Fields, Trim};
use super::headers::token_answer;
use super::origin_check::{refuse_untrusted_origin, require_trusted_origin};
use crate::config::Paths;
use crate::config::browser::{AllowedOrigins, BrowserSettings, RefreshCookie, TokenTransport};
use crate::error::ApiError;
use crate::jwt::{Decoded, TokenCodec};

/// The token transport and the origins trusted with the cookie, as app data.
#[derive(Debug, Clone)]
pub struct Transport {
    kind: TokenTransport,
    origins: AllowedOrigins,
    /// The configured paths of refresh and logout, then of sliding refresh.
    pair_paths: [String; 2],
    sliding_paths: [String; 1],
}

/// Where a presented token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Body,
    Cookie,
}

/// Which token a request presents: a pair's refresh token (`refresh`, cookie at the refresh
/// and logout paths) or a sliding token (`token`, cookie at the sliding refresh path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pair,
    Sliding,
}

impl Kind {
    fn field(self) -> &'static str {
        match self {
            Self::Pair => "refresh",
            Self::Sliding => "token",
        }
    }
}

/// A token a request presented, decoded.
pub struct Presented {
    pub raw: String,
    pub token: Decoded,
    pub source: Source,
    pub kind: Kind,
}

impl Transport {
    pub fn new(browser: &BrowserSettings, paths: &Paths) -> Self {
        Self {
            kind: browser.transport.clone(),
            origins: browser.cors.origins.clone(),
            pair_paths: [paths.token_refresh.clone(), paths.token_blacklist.clone()],
            sliding_paths: [paths.token_sliding_refresh.clone()],
        }
    }

    /// The paths the cookie of `kind` is set for (refresh and logout; sliding refresh), as
    /// configured; the cookie's `Path` drops their trailing slash, so both spellings match.
    fn paths(&self, kind: Kind) -> &[String] {
        match kind {
            Kind::Pair => &self.pair_paths,
            Kind::Sliding => &self.sliding_paths,
        }
    }

    fn cookie(&self) -> Option<&RefreshCookie> {
        match &self.kind {
            TokenTransport::Body => None,
            TokenTransport::Cookie(cookie) => Some(cookie),
        }
    }

    /// Before a sign-in: with cookie transport, a page of an untrusted origin may not sign in
    /// (its answer would set the cookie: login CSRF).
    pub fn check_sign_in(&self, req: &HttpRequest) -> Result<(), ApiError> {
        match self.cookie() {
            Some(_) => refuse_untrusted_origin(req, &self.origins),
            None => Ok(()),
        }
    }

    /// The token a refresh or logout presents: the cookie when cookie transport is on and the
    /// request carries it (from a trusted page only), else the body's field. A cookie whose
    /// token does not decode is refused and removed.
    pub async fn presented(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        kind: Kind,
        codec: &TokenCodec,
        now: i64,
    ) -> Result<Presented, ApiError> {
        let from_cookie = self
            .cookie()
            .and_then(|c| req.cookie(&c.name))
            .map(|c| c.value().trim().to_owned())
            .filter(|value| !value.is_empty());
        let (raw, source) = match from_cookie {
            Some(raw) => {
                require_trusted_origin(req, &self.origins)?;
                (raw, Source::Cookie)
            }
            None => {
                let data = body::parse(req, payload).await?;
                let mut fields = Fields::new();
                let raw = fields.required(&data, kind.field(), Trim::Whitespace);
                fields.finish()?;
                (raw, Source::Body)
            }
        };
        let token = codec.decode(&raw, now).map_err(ApiError::InvalidToken);
        let token = self.settle(source, kind, token)?;
        Ok(Presented {
            raw,
            token,
            source,
            kind,
        })
    }

    /// The answer of a sign-in, refresh or password change: `{"refresh", "access"}` (or only
    /// `access`). With cookie transport `refresh` moves to the cookie.
    pub fn pair(&self, mut body: Value) -> HttpResponse {
        let Some(cookie) = self.cookie() else {
            return token_answer(body);
        };
        let refresh = body
            .as_object_mut()
            .and_then(|fields| fields.remove("refresh"));
        let mut answer = token_answer(body);
        if let Some(Value::String(refresh)) = refresh {
            for path in self.paths(Kind::Pair) {
                add(&mut answer, set(cookie, path, &refresh));
            }
        }
        answer
    }

    /// The answer of a sliding sign-in or refresh, `{"token"}`. With cookie transport the token
    /// is also set in the cookie of the sliding refresh path.
    pub fn sliding(&self, body: Value) -> HttpResponse {
        let token = body["token"].as_str().map(str::to_owned);
        let mut answer = token_answer(body);
        if let (Some(cookie), Some(token)) = (self.cookie(), token) {
            for path in self.paths(Kind::Sliding) {
                add(&mut answer, set(cookie, path, &token));
            }
        }
        answer
    }

    /// A logout's outcome as an answer: `{}`, and the cookie removed; a refusal (401) of a
    /// token that came from the cookie removes it too, so a dead cookie is not sent again.
    pub fn logged_out(
        &self,
        presented: &Presented,
        outcome: Result<Value, ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let body = self.settle(presented.source, presented.kind, outcome)?;
        let mut answer = token_answer(body);
        if let Some(cookie) = self.cookie() {
            for path in self.paths(presented.kind) {
                add(&mut answer, removal(cookie, path));
            }
        }
        Ok(answer)
    }

    /// `outcome`, with the cookie's removal attached to a refusal (401) of a token that came
    /// from the cookie.
    fn settle<T>(
        &self,
        source: Source,
        kind: Kind,
        outcome: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        outcome.map_err(|error| match self.cookie() {
            Some(cookie)
                if source == Source::Cookie
                    && error.status_code() == actix_web::http::StatusCode::UNAUTHORIZED =>
            {
                ApiError::WithCookies {
                    error: Box::new(error),
                    cookies: self
                        .paths(kind)
                        .iter()
                        .map(|p| removal(cookie, p))
                        .collect(),
                }
            }
            _ => error,
        })
    }
}

fn add(answer: &mut HttpResponse, cookie: Cookie<'static>) {
    // A cookie built from checked settings and a JWT always encodes.
    let _ = answer.add_cookie(&cookie);
}

/// The refresh cookie holding `token` for `path`, expiring with the token.
fn set(settings: &RefreshCookie, path: &str, token: &str) -> Cookie<'static> {
    let mut cookie = base(settings, path, token.to_owned());
    if let Some(expires) = expiry(token) {
        cookie.set_expires(expires);
    }
    cookie
}

/// The cookie that removes the refresh cookie of `path`.
fn removal(settings: &RefreshCookie, path: &str) -> Cookie<'static> {
    let mut cookie = base(settings, path, String::new());
    cookie.make_removal();
    cookie
}

fn base(settings: &RefreshCookie, path: &str, value: String) -> Cookie<'static> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    Cookie::build(settings.name.clone(), value)
        .path(path.to_owned())
        .http_only(true)
        .secure(settings.secure)
        .same_site(settings.same_site)
        .finish()
}

/// The `exp` of a token keyward signed (read without checking: it was just minted).
fn expiry(token: &str) -> Option<OffsetDateTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    OffsetDateTime::from_unix_timestamp(claims["exp"].as_i64()?).ok()
}
