//! The headers every console response carries: a strict content security policy (the pages
//! load only their own stylesheet and script, and no page may frame them), no sniffing, no
//! referrer outside the site, and no caching, so the Back button after sign-out does not show
//! a signed-in page. A handler's own header (the assets' `Cache-Control`) wins.

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use actix_web::middleware::DefaultHeaders;

pub const CONTENT_SECURITY: &str = "default-src 'self'; frame-ancestors 'none'";

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((CONTENT_SECURITY_POLICY, CONTENT_SECURITY))
        .add((X_FRAME_OPTIONS, "DENY"))
        .add((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((REFERRER_POLICY, "same-origin"))
        .add((CACHE_CONTROL, "no-store"))
}
