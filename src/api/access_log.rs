//! One log event per request under the target `keyward::access` (method, path, status,
//! duration, client address and direct peer; they differ only behind a trusted proxy). Off by
//! default (`RUST_LOG` default is `info,keyward::access=warn`); enable with
//! `RUST_LOG=info,keyward::access=info`. When off it costs a filter check, nothing more.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::client::ClientView;

pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !tracing::enabled!(target: "keyward::access", tracing::Level::INFO) {
        return next.call(req).await;
    }
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let seen = ClientView::of(req.request());
    let show = |a: Option<std::net::IpAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let (client, peer) = (show(seen.address), show(seen.peer));
    let res = next.call(req).await?;
    tracing::info!(
        target: "keyward::access",
        %method,
        path,
        status = res.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        client,
        peer,
    );
    Ok(res)
}
