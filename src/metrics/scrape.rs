//! `GET /metrics` in Prometheus' text format, on a listener of its own (`metrics_bind`), never
//! on the application's. With `metrics_token` set a scrape must carry
//! `Authorization: Bearer <token>`, compared in constant time; anything else is a 401.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use prometheus::{Encoder, TEXT_FORMAT, TextEncoder};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Metrics;

/// The token scrapes must present, kept as its SHA-256 digest: comparing digests takes the
/// same time whatever the length or content of what was presented.
struct ScrapeToken(Option<[u8; 32]>);

impl ScrapeToken {
    fn new(token: Option<&SecretString>) -> Self {
        Self(token.map(|t| Sha256::digest(t.expose_secret().as_bytes()).into()))
    }

    fn admits(&self, req: &HttpRequest) -> bool {
        let Some(expected) = &self.0 else {
            return true;
        };
        let presented = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(presented).into();
        bool::from(digest.ct_eq(expected))
    }
}

/// Starts the metrics server on `listener`: one worker, `GET /metrics` and 404 for anything
/// else. It ignores signals: the application stops it when it stops itself.
pub fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    token: Option<&SecretString>,
) -> std::io::Result<Server> {
    let metrics = web::Data::from(metrics);
    let token = web::Data::new(ScrapeToken::new(token));
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(token.clone())
            .route("/metrics", web::get().to(scrape))
            .default_service(web::to(HttpResponse::NotFound))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

/// **Permissions:** the metrics token, when one is set. Every metric, as text.
async fn scrape(
    req: HttpRequest,
    metrics: web::Data<Metrics>,
    token: web::Data<ScrapeToken>,
) -> HttpResponse {
    if !token.admits(&req) {
        return HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .finish();
    }
    let mut text = Vec::with_capacity(16 * 1024);
    match TextEncoder::new().encode(&metrics.gather(), &mut text) {
        Ok(()) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, TEXT_FORMAT))
            .body(text),
        Err(err) => {
            tracing::error!(error = %err, "cannot encode the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}
