//! Resources that answer like DRF views: the allowed methods, `OPTIONS` metadata, and a JSON
//! 405 with `Allow` for every other method.

use actix_web::http::Method;
use actix_web::http::header::ALLOW;
use actix_web::{HttpRequest, HttpResponse, Resource, web};
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// What `OPTIONS` describes.
pub struct Meta {
    pub name: &'static str,
    pub description: &'static str,
    /// Writable fields: (name, label).
    pub fields: &'static [(&'static str, &'static str)],
    pub allow: &'static str,
}

/// Registers `path` (and the same path without its trailing slash) with the routes `routes`
/// adds, `OPTIONS`, and a 405 for other methods. Each spelling is its own single-pattern
/// resource: the router matches static paths by comparison, with no regex on the hot path.
pub fn serve(
    cfg: &mut web::ServiceConfig,
    path: &'static str,
    meta: &'static Meta,
    routes: impl Fn(Resource) -> Resource,
) {
    cfg.service(routes(resource(path, meta)));
    let bare = path.trim_end_matches('/');
    if bare != path && !bare.is_empty() {
        cfg.service(routes(resource(bare, meta)));
    }
}

/// A resource at `path` with `OPTIONS` and a 405 default.
fn resource(path: &'static str, meta: &'static Meta) -> Resource {
    web::resource(path)
        .route(
            web::route()
                .method(Method::OPTIONS)
                .to(move || options(meta)),
        )
        .default_service(web::to(move |req: HttpRequest| {
            not_allowed(req, meta.allow)
        }))
}

async fn not_allowed(req: HttpRequest, allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    })
}

async fn options(meta: &'static Meta) -> HttpResponse {
    let mut body = Map::new();
    body.insert("name".into(), json!(meta.name));
    body.insert("description".into(), json!(meta.description));
    body.insert("renders".into(), json!(["application/json"]));
    body.insert(
        "parses".into(),
        json!([
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data"
        ]),
    );
    if meta.allow.contains("POST") && !meta.fields.is_empty() {
        let fields: Map<String, Value> = meta
            .fields
            .iter()
            .map(|(name, label)| {
                (
                    (*name).to_owned(),
                    json!({"type": "string", "required": true, "read_only": false, "label": label}),
                )
            })
            .collect();
        body.insert("actions".into(), json!({ "POST": fields }));
    }
    HttpResponse::Ok()
        .insert_header((ALLOW, meta.allow))
        .json(body)
}
