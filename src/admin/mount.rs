//! Where the console is mounted (`paths.console`, `/admin` by default): its links, redirects
//! and cookies are all built from the mount, read from the app's paths.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};

use super::error::ConsoleError;
use crate::config::Paths;

/// The mount when the app registered no paths (keyward's default).
pub const DEFAULT_ROOT: &str = "/admin";

/// The console's mount, without a trailing slash (`/admin`).
pub fn root(req: &HttpRequest) -> String {
    req.app_data::<web::Data<Paths>>()
        .map_or(DEFAULT_ROOT, |paths| paths.console_root())
        .to_owned()
}

/// Renders the console's failures (the sign-in redirect, the error pages) with links under
/// the mount: a failure is first rendered without the request at hand, under
/// [`DEFAULT_ROOT`].
pub async fn mounted_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let root = root(req.request());
    let res = next.call(req).await?;
    if root == DEFAULT_ROOT {
        return Ok(res.map_into_boxed_body());
    }
    let mounted = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ConsoleError>())
        .map(|e| e.response_at(&root));
    Ok(match mounted {
        Some(response) => res.into_response(response),
        None => res.map_into_boxed_body(),
    })
}
