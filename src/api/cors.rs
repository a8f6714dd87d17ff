//! Cross-origin requests from the pages of `cors_allowed_origins`, through `actix-cors`.
//!
//! A listed origin gets `Access-Control-Allow-Origin` (its own origin echoed, or `*` for
//! `["*"]`), the allowed methods and headers and `Access-Control-Max-Age` on preflights, and
//! `Access-Control-Allow-Credentials: true` when the refresh token travels in a cookie. A
//! request from any other origin, or with no `Origin`, never reaches `actix-cors`: it gets no
//! CORS header and is served exactly as without CORS (a preflight reaches keyward's own
//! `OPTIONS` answer, and the browser then refuses to send the request), plus `Vary: Origin`
//! so that no cache hands its answer to a listed origin. With no origin listed the layer is
//! not there at all.

use std::rc::Rc;

use actix_cors::{Cors, CorsMiddleware};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderValue, ORIGIN, RETRY_AFTER, VARY, WWW_AUTHENTICATE};
use futures_util::future::LocalBoxFuture;

use crate::config::browser::{AllowedOrigins, CorsPolicy};

/// The CORS layer for `policy` (one per worker: `actix-cors` is not `Send`).
pub fn cors(policy: &CorsPolicy) -> BrowserCors {
    if policy.origins.is_empty() {
        return BrowserCors {
            cors: None,
            origins: Rc::new(policy.origins.clone()),
        };
    }
    let mut cors = Cors::default()
        .allowed_methods(policy.methods.iter().cloned())
        .allowed_headers(policy.headers.iter().cloned())
        .expose_headers([WWW_AUTHENTICATE, RETRY_AFTER])
        .max_age(usize::try_from(policy.max_age.as_secs()).ok());
    cors = match &policy.origins {
        AllowedOrigins::Any => cors.allow_any_origin().send_wildcard(),
        AllowedOrigins::Listed(origins) => origins
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin)),
    };
    if policy.credentials {
        cors = cors.supports_credentials();
    }
    BrowserCors {
        cors: Some(Rc::new(cors)),
        origins: Rc::new(policy.origins.clone()),
    }
}

/// The middleware factory [`cors`] returns.
pub struct BrowserCors {
    cors: Option<Rc<Cors>>,
    origins: Rc<AllowedOrigins>,
}

impl<S, B> Transform<S, ServiceRequest> for BrowserCors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = BrowserCorsMiddleware<S>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let service = Rc::new(service);
        let cors = self
            .cors
            .as_ref()
            .map(|cors| cors.new_transform(Rc::clone(&service)));
        let origins = Rc::clone(&self.origins);
        Box::pin(async move {
            let cors = match cors {
                Some(pending) => Some(pending.await?),
                None => None,
            };
            Ok(BrowserCorsMiddleware {
                service,
                cors,
                origins,
            })
        })
    }
}

/// The middleware: `actix-cors` for listed origins, the application as it is for others.
pub struct BrowserCorsMiddleware<S> {
    service: Rc<S>,
    cors: Option<CorsMiddleware<Rc<S>>>,
    origins: Rc<AllowedOrigins>,
}

impl<S> BrowserCorsMiddleware<S> {
    /// Whether the request comes from a page of a listed origin.
    fn listed(&self, req: &ServiceRequest) -> bool {
        req.headers()
            .get(ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|origin| self.origins.allows(origin))
    }
}

impl<S, B> Service<ServiceRequest> for BrowserCorsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match &self.cors {
            Some(cors) if self.listed(&req) => cors.call(req),
            Some(_) => {
                let answer = self.service.call(req);
                Box::pin(async move {
                    let mut answer = answer.await?;
                    let headers = answer.headers_mut();
                    headers.append(VARY, HeaderValue::from_static("Origin"));
                    Ok(answer.map_into_left_body())
                })
            }
            None => {
                let answer = self.service.call(req);
                Box::pin(async move { answer.await.map(ServiceResponse::map_into_left_body) })
            }
        }
    }
}
