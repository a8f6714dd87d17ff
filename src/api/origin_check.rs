//! The cross-site request check of cookie transport: a request that uses the refresh cookie
//! must come from a page of a trusted origin, keyward's own or one of `cors_allowed_origins`.
//!
//! Browsers send `Origin` with every cross-origin request and every `POST`, and a page
//! cannot forge it; a request without one (no `Origin`, no `Referer`) cannot be told apart
//! from a forged one, so a request reading the cookie needs one. Refusals answer as DRF's
//! CSRF failures do, with a code: `403 {"detail":"CSRF Failed: Origin checking failed -
//! https://evil.example does not match any trusted origins.","code":"csrf_failed"}`.

use actix_web::HttpRequest;
use actix_web::http::header::{ORIGIN, REFERER};

use crate::client::ClientView;
use crate::config::browser::AllowedOrigins;
use crate::error::ApiError;

/// The code of a refused cross-site request.
pub const CSRF_FAILED: &str = "csrf_failed";

/// Whether the request may use the refresh cookie: its `Origin` (or, without one, its
/// `Referer`'s origin) is keyward's own or a listed one.
pub fn require_trusted_origin(req: &HttpRequest, listed: &AllowedOrigins) -> Result<(), ApiError> {
    match claimed_origin(req) {
        Some(origin) => judge(req, listed, &origin),
        None => Err(refusal(
            "Origin checking failed - no Origin or Referer header.",
        )),
    }
}

/// As [`require_trusted_origin`], but a request without `Origin` (not sent by a page: a script
/// or a mobile app) passes. For requests that set the cookie without reading it (sign-in).
pub fn refuse_untrusted_origin(req: &HttpRequest, listed: &AllowedOrigins) -> Result<(), ApiError> {
    match header(req, ORIGIN.as_str()) {
        Some(origin) => judge(req, listed, origin),
        None => Ok(()),
    }
}

fn judge(req: &HttpRequest, listed: &AllowedOrigins, origin: &str) -> Result<(), ApiError> {
    let origin = without_default_port(origin);
    let own = ClientView::of(req);
    let own = without_default_port(&format!(
        "{}://{}",
        own.scheme,
        own.host.to_ascii_lowercase()
    ));
    let trusted = match listed {
        // `*` lets any page read answers, not send the cookie: the setting is refused with
        // cookie transport, and here it trusts nobody but keyward itself.
        AllowedOrigins::Any => false,
        AllowedOrigins::Listed(_) => listed.allows(&origin),
    };
    if trusted || origin == own {
        return Ok(());
    }
    Err(refusal(&format!(
        "Origin checking failed - {origin} does not match any trusted origins."
    )))
}

/// The origin the request claims: its `Origin`, or the scheme, host and port of its
/// `Referer`.
fn claimed_origin(req: &HttpRequest) -> Option<String> {
    if let Some(origin) = header(req, ORIGIN.as_str()) {
        return Some(origin.to_owned());
    }
    let referer = header(req, REFERER.as_str())?;
    let (scheme, rest) = referer.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `https://host:443` and `http://host:80` are `https://host` and `http://host`.
fn without_default_port(origin: &str) -> String {
    origin
        .strip_suffix(":443")
        .filter(|_| origin.starts_with("https://"))
        .or_else(|| {
            origin
                .strip_suffix(":80")
                .filter(|_| origin.starts_with("http://"))
        })
        .unwrap_or(origin)
        .to_owned()
}

fn refusal(reason: &str) -> ApiError {
    ApiError::Forbidden {
        detail: format!("CSRF Failed: {reason}"),
        code: CSRF_FAILED,
    }
}
