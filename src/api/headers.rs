//! Headers of the API's answers: no content sniffing on any of them, and no caching of an
//! answer that carries or judges a token (RFC 6749 section 5.1).

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA, X_CONTENT_TYPE_OPTIONS};
use actix_web::middleware::DefaultHeaders;

/// For the whole application: `X-Content-Type-Options: nosniff` unless a handler set it.
pub fn nosniff() -> DefaultHeaders {
    DefaultHeaders::new().add((X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// A `200` JSON answer of a token endpoint, with `Cache-Control: no-store` and
/// `Pragma: no-cache`.
pub fn token_answer(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
        .json(body)
}
