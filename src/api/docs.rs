//! The browsable API: the OpenAPI description at `paths.schema` (`/api/schema/`) and Swagger
//! UI at `paths.docs` (`/api/docs/`), whose "Try it out" sends a pasted access token. Swagger
//! UI's files are built into the binary (the `utoipa-swagger-ui` crate's vendored copy) and
//! served beside the page, under the console's content security policy: nothing is loaded
//! from elsewhere, and the page works offline. Swagger UI needs two additions to that policy:
//! its stylesheet's icons are `data:` images, and its script adds one `<style>` element, allowed
//! by its hash alone (a new Swagger UI that changes it is caught by the browser test).

use std::sync::Arc;

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_FRAME_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_swagger_ui::Config;

use super::endpoint::{Anyone, Meta, Routes};
use crate::admin::CONTENT_SECURITY;
use crate::config::{Paths, Settings};
use crate::error::ApiError;

static SCHEMA: Meta = Meta {
    name: "Schema",
    description: "The OpenAPI 3.1 description of this API.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};
static DOCS: Meta = Meta {
    name: "Docs",
    description: "The API, browsable (Swagger UI).",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};

/// The hash of the one `<style>` element Swagger UI's script adds (its vendored version's).
const SWAGGER_STYLE: &str = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/// The description, serialized once at start, and Swagger UI's settings, as app data.
pub struct ApiDocs {
    schema: String,
    /// The console's policy with Swagger UI's two additions.
    policy: String,
    swagger: Arc<Config<'static>>,
    /// Where the page's files are served (`/api/docs/`).
    base: String,
}

impl ApiDocs {
    pub fn new(mounts: &super::Mounts, settings: &Settings) -> Result<Self, String> {
        let document = super::openapi::describe(mounts, settings);
        let schema = document
            .to_pretty_json()
            .map_err(|e| format!("cannot serialize the OpenAPI description: {e}"))?;
        let swagger = Config::new([mounts.paths.schema.clone()])
            .try_it_out_enabled(true)
            .validator_url("none")
            .display_request_duration(true);
        Ok(Self {
            schema,
            policy: format!(
                "{CONTENT_SECURITY}; img-src 'self' data:; style-src 'self' {SWAGGER_STYLE}"
            ),
            swagger: Arc::new(swagger),
            base: mounts.paths.docs.clone(),
        })
    }
}

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<Anyone>(&paths.schema, &SCHEMA, |r| {
        r.route(web::get().to(schema)).route(web::head().to(schema))
    });
    cfg.serve::<Anyone>(&paths.docs, &DOCS, |r| {
        r.route(web::get().to(page)).route(web::head().to(page))
    });
}

/// Swagger UI's files, beside the page (`/api/docs/swagger-ui.css`, ...).
pub fn assets(cfg: &mut web::ServiceConfig, paths: &Paths) {
    cfg.service(
        web::resource(format!("{}{{file}}", paths.docs))
            .route(web::get().to(asset))
            .route(web::head().to(asset)),
    );
}

/// The OpenAPI 3.1 description of this API, with this instance's paths.
#[utoipa::path(
    get,
    path = "/api/schema/",
    operation_id = "docs_schema",
    tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 description", content_type = "application/json"))
)]
pub(super) async fn schema(docs: web::Data<ApiDocs>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(docs.schema.clone())
}

/// The API, browsable: Swagger UI over the description. Authorize takes an access token.
#[utoipa::path(
    get,
    path = "/api/docs/",
    operation_id = "docs_page",
    tag = "service",
    responses((status = 200, description = "Swagger UI", content_type = "text/html"))
)]
pub(super) async fn page(
    req: HttpRequest,
    docs: web::Data<ApiDocs>,
) -> Result<HttpResponse, ApiError> {
    if !req.path().ends_with('/') {
        // Its files are named relative to the page.
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header((LOCATION, docs.base.clone()))
            .finish());
    }
    file(&docs, "index.html")
}

async fn asset(
    file_name: web::Path<String>,
    docs: web::Data<ApiDocs>,
) -> Result<HttpResponse, ApiError> {
    file(&docs, &file_name)
}

/// One of Swagger UI's files, under the console's security headers.
fn file(docs: &ApiDocs, name: &str) -> Result<HttpResponse, ApiError> {
    let found = utoipa_swagger_ui::serve(name, Arc::clone(&docs.swagger))
        .map_err(|e| ApiError::Internal(format!("Swagger UI file {name}: {e}")))?;
    let Some(found) = found else {
        return Err(ApiError::NotFound);
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, found.content_type))
        .insert_header((CONTENT_SECURITY_POLICY, docs.policy.clone()))
        .insert_header((X_FRAME_OPTIONS, "DENY"))
        .insert_header((REFERRER_POLICY, "same-origin"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(found.bytes.into_owned()))
}
