//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::endpoint::{Anyone, Meta, Routes};
use crate::config::Paths;
use crate::db::DbPool;
use crate::propagation::Propagation;

static LIVE: Meta = Meta {
    name: "Health",
    description: "The process is up.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};
static READY: Meta = Meta {
    name: "Readiness",
    description: "The database answers; how changes made by other instances arrive.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<Anyone>(&paths.health, &LIVE, |r| {
        r.route(web::get().to(live)).route(web::head().to(live))
    });
    cfg.serve::<Anyone>(&paths.health_ready, &READY, |r| {
        r.route(web::get().to(ready)).route(web::head().to(ready))
    });
}

/// **Permissions:** anyone.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health_live",
    tag = "service",
    summary = "Liveness",
    responses(
        (status = 200, description = "The process is up", body = crate::api::openapi::bodies::Live)
    )
)]
pub(super) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// **Permissions:** anyone. 200 when a pooled connection answers a query, else 503.
/// `propagation` says how changes made by other instances arrive: `listening` (at once),
/// `polling` (the change listener is down: within `blacklist_sync_interval` and
/// `user_cache_ttl`; the instance stays ready) or `single-instance` (SQLite).
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "health_ready",
    tag = "service",
    summary = "Readiness",
    responses(
        (status = 200, description = "The database answers", body = crate::api::openapi::bodies::Ready),
        (status = 503, description = "The database is unreachable", body = crate::api::openapi::bodies::Ready)
    )
)]
pub(super) async fn ready(
    pool: web::Data<DbPool>,
    propagation: web::Data<Propagation>,
) -> HttpResponse {
    let pool = pool.get_ref().clone();
    let ping = web::block(move || crate::db::ping(&pool)).await;
    let propagation = propagation.state();
    match ping {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "database": "ok",
            "propagation": propagation,
        })),
        Ok(Err(err)) => unavailable(&err.to_string(), propagation),
        Err(err) => unavailable(&err.to_string(), propagation),
    }
}

fn unavailable(cause: &str, propagation: &str) -> HttpResponse {
    tracing::warn!(cause, "readiness check failed");
    HttpResponse::ServiceUnavailable().json(json!({
        "status": "unavailable",
        "database": "unreachable",
        "propagation": propagation,
    }))
}
