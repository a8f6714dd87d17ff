//! `GET /api/auth/check?permission=app.codename`: for other services and reverse proxies
//! (nginx `auth_request`, Traefik/Caddy forward auth). Every permission named is required.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::endpoint::{Meta, Routes};
use super::pagination::query_pairs;
use crate::auth::AuthUser;
use crate::auth::permissions::DEFAULT_DENIAL;
use crate::config::Paths;
use crate::error::ApiError;

static CHECK: Meta = Meta {
    name: "Auth Check",
    description: "200 when the bearer token is valid and grants every ?permission= named; 401 without a valid token; 403 naming the missing ones.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<AuthUser>(&paths.auth_check, &CHECK, |r| {
        r.route(web::get().to(check)).route(web::head().to(check))
    });
}

/// **Permissions:** authenticated, holding every `?permission=`. Answers with the user in the
/// body and in `X-Keyward-User` / `X-Keyward-User-Id` headers (for proxies to forward).
#[utoipa::path(
    get,
    path = "/api/auth/check",
    operation_id = "check_check",
    tag = "service",
    summary = "Check a token and permissions (for proxies)",
    security(("bearer" = [])),
    params(("permission" = Option<Vec<String>>, Query, description = "Permissions the user must hold (repeatable)")),
    responses(
        (status = 200, description = "Authenticated, holding every permission asked for", body = crate::api::openapi::bodies::Checked),
        crate::api::openapi::responses::NotPermitted
    )
)]
pub(super) async fn check(req: HttpRequest, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let mut wanted: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "permission")
        .map(|(_, v)| v.as_str())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let (granted, missing): (Vec<&str>, Vec<&str>) =
        wanted.into_iter().partition(|p| auth.user.has_perm(p));
    if !missing.is_empty() {
        return Ok(HttpResponse::Forbidden().json(
            json!({ "detail": DEFAULT_DENIAL, "code": "permission_denied", "missing": missing }),
        ));
    }
    Ok(HttpResponse::Ok()
        .insert_header(("X-Keyward-User", auth.user.username.clone()))
        .insert_header(("X-Keyward-User-Id", auth.user.id.to_string()))
        .json(json!({ "user_id": auth.user.id.to_string(), "username": auth.user.username, "granted": granted })))
}
