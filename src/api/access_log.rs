//! One log event per request under the target `keyward::access` (method, path, status,
//! duration). Off by default (`RUST_LOG` default is `info,keyward::access=warn`); enable with
//! `RUST_LOG=info,keyward::access=info`. When off it costs a filter check, nothing more.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !tracing::enabled!(target: "keyward::access", tracing::Level::INFO) {
        return next.call(req).await;
    }
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let res = next.call(req).await?;
    tracing::info!(
        target: "keyward::access",
        %method,
        path,
        status = res.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        peer,
    );
    Ok(res)
}
