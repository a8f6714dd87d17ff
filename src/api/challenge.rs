//! Every 401 names the scheme to use, as DRF does: `WWW-Authenticate: Bearer realm="api"`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::web;

use crate::auth::AuthSettings;

pub async fn add_challenge(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    if res.status() == StatusCode::UNAUTHORIZED && !res.headers().contains_key(WWW_AUTHENTICATE) {
        let challenge = res
            .request()
            .app_data::<web::Data<AuthSettings>>()
            .and_then(|s| HeaderValue::from_str(&s.challenge()).ok())
            .unwrap_or(HeaderValue::from_static("Bearer realm=\"api\""));
        res.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    Ok(res)
}
